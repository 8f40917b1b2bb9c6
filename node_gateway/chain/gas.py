"""Gas limits from what each step is known to cost, instead of asking the node every time.

``eth_estimateGas`` runs a transaction over and over in a binary search: 31 ms of anvil's CPU for
a 64-step bundle, against 7 ms for one ``eth_call`` of it. The registry's steps each cost a known
most, so the outbox takes a transaction's limit from a table: per function, the execution gas of
the step alone in its transaction (every account and slot cold, the dearest it gets; in a bundle
the later steps find them warm) with half again as headroom, for an authorisation by the kind of
its signer (docs/BENCHMARKS.md, "Gas per auditee signer"). To that come the base cost, the
calldata's cost and, for a bundle, the Multicall's own work. ``tests/gateway/test_gas_bounds.py``
measures every step on the contracts as built and fails when one outgrows its bound.

Calls the table does not know (the member registry's, a deployment, a key for a verifier this
network does not deploy) get no bound: they are estimated. A bound that proves too low costs a
retry, never a step: the transaction reverts, the outbox tries its steps again, and a step sent
again is estimated (``node_gateway.services.outbox``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from node_gateway.chain.artifacts import load_artifact
from node_gateway.chain.contracts import abi_type
from node_gateway.chain.network import Network
from node_gateway.chain.signers import ADDRESS_LENGTH, SignerKind
from node_gateway.chain.transactions import Call

TRANSACTION_BASE_GAS = 21_000
# Calldata: 4 gas a zero byte, 16 any other; from Prague (EIP-7623) a transaction pays at least
# 10 gas a token (a zero byte one token, any other four).
ZERO_BYTE_GAS, NONZERO_BYTE_GAS, FLOOR_TOKEN_GAS = 4, 16, 10

# The execution gas of each ConfirmationRegistry step alone in a transaction, measured (in
# comments, on the in-process chain) and bounded at about 1.5 times that.
STEP_GAS: dict[str, int] = {
    "request": 90_000,  # 59,786: the letter's new slots (hash, status) and the member checks
    "accept": 25_000,  # 16,371
    "reject": 26_000,  # 16,743
    "reply": 60_000,  # 38,781: one new slot, the reply hash
    "close": 25_000,  # 16,350
    "withdraw": 25_000,  # 16,292
    "followUp": 21_000,  # 13,399
    "registerMandate": 56_000,  # 33,939 (an account) to 36,913 (an RSA key)
    "revokeMandate": 25_000,  # 11,477 after its refund
}

# An authorisation or a refusal, by the kind of its signer: the same work but for the signature.
ACCOUNT_KEY = "account"  # a 20-byte signer with a 65-byte signature: an ordinary key
CONTRACT_ACCOUNT = "contract account"  # a 20-byte signer with any other: ERC-1271
AUTHORISATION_GAS: dict[str, int] = {
    ACCOUNT_KEY: 70_000,  # 46,269
    # 56,277 for a 2-of-3 multisig; a contract's check is its own code, so more room (and above
    # it, an estimate after the retry).
    CONTRACT_ACCOUNT: 120_000,
    SignerKind.P256: 420_000,  # 280,398: P-256 in Solidity; about 60,000 with the precompile
    SignerKind.WEBAUTHN: 440_000,  # 290,762
    # 72,481 for a 2048-bit key; Osaka reprices the modular exponentiation (EIP-7883): 100,000.
    SignerKind.RSA: 150_000,
}
AUTHORISATIONS = ("authorise", "refuseAuthorisation")
ECDSA_SIGNATURE_LENGTH = 65
RSA_2048_SIGNER_LENGTH = ADDRESS_LENGTH + 4 * 32 + 32 + 256  # verifier, abi.encode(bytes e, bytes n)
PROOF_NODE_GAS = 500  # a Merkle proof's node: its hash and the loop (the test's letters have none)

# A bundle: the Multicall's dispatch of each step, and the memory of its own frame, which holds
# every step's calldata and result (each step runs in a frame, and memory, of its own).
MULTICALL_BASE_GAS = 10_000
MULTICALL_STEP_GAS = 3_000
MEMORY_WORD_GAS = 3


def transaction_gas(network: Network, calls: Sequence[Call], data: bytes) -> int | None:
    """A gas limit for one transaction of ``calls`` (one call, or a Multicall of them, whose
    calldata is ``data``); None if one of them has no bound."""
    bounds = [step_gas(network, call) for call in calls]
    if any(bound is None for bound in bounds):
        return None
    execution = sum(bound for bound in bounds if bound is not None)
    if len(calls) > 1:
        words = 2 * (len(data) + 31) // 32 + 4 * len(calls)
        execution += MULTICALL_BASE_GAS + MULTICALL_STEP_GAS * len(calls)
        execution += MEMORY_WORD_GAS * words + words * words // 512
        # A frame passes on at most 63/64 of its gas (EIP-150).
        execution += execution // 63
    zeros = data.count(0)
    standard = zeros * ZERO_BYTE_GAS + (len(data) - zeros) * NONZERO_BYTE_GAS
    floor = (zeros + 4 * (len(data) - zeros)) * FLOOR_TOKEN_GAS
    return TRANSACTION_BASE_GAS + max(standard + execution, floor)


def step_gas(network: Network, call: Call) -> int | None:
    """The most execution gas ``call`` takes, if it is a step the table knows."""
    if call.to is None or call.to != network.confirmations.address:
        return None
    function = _registry_functions().get(bytes(call.data[:4]))
    if function is None:
        return None
    if function.name in STEP_GAS:
        return STEP_GAS[function.name]
    if function.name not in AUTHORISATIONS:
        return None
    try:
        values = abi_decode(list(function.types), bytes(call.data[4:]))
    except DecodingError:
        return None
    args = dict(zip(function.arguments, values, strict=True))
    signer, signature, proof = bytes(args["signer"]), bytes(args["signature"]), list(args["proof"])
    kind = _signer_kind(network, signer, signature)
    if kind is None:
        return None
    bound = AUTHORISATION_GAS[kind]
    if kind == SignerKind.RSA:
        # Modular exponentiation costs with the square of the modulus.
        bound = int(bound * max(1.0, (len(signer) / RSA_2048_SIGNER_LENGTH) ** 2))
    return bound + PROOF_NODE_GAS * len(proof)


def _signer_kind(network: Network, signer: bytes, signature: bytes) -> str | None:
    if len(signer) == ADDRESS_LENGTH:
        return ACCOUNT_KEY if len(signature) == ECDSA_SIGNATURE_LENGTH else CONTRACT_ACCOUNT
    if network.verifiers is None:
        return None
    return network.verifiers.kind_of(signer)


@dataclass(frozen=True)
class _Function:
    name: str
    types: tuple[str, ...]
    arguments: tuple[str, ...]  # their names


@functools.cache
def _registry_functions() -> dict[bytes, _Function]:
    """The ConfirmationRegistry's functions by selector."""
    functions = [
        _Function(
            item["name"], tuple(abi_type(i) for i in item["inputs"]), tuple(i["name"] for i in item["inputs"])
        )
        for item in load_artifact("ConfirmationRegistry").abi
        if item["type"] == "function"
    ]
    return {keccak(text=f"{f.name}({','.join(f.types)})")[:4]: f for f in functions}
