"""Are a network's contracts, on this node, the committed build? (``confirmnet verify contracts``,
the offline verifier's network checks, and the regulator's page.)

The trust anchor is what the caller already holds (its network file, or addresses pinned by hand):
the chain id and the two contracts' addresses. :func:`check_deployment` asks the node and answers
with named checks, stopping where a later check would mean nothing:

- ``chain_id``: the node is the anchor's chain;
- ``contract.MemberRegistry``, ``contract.ConfirmationRegistry``: the code at each address is the
  committed runtime build (``chain/build``) byte for byte, but for its immutables, each of which
  holds the value the deployment must have written on this network (:func:`compare_code`);
- ``contract.ERC7913P256Verifier`` and the other signature verifiers, where the anchor names them
  (a network file from before them does not): OpenZeppelin's stateless verifiers, byte for byte;
- ``registry_link``: the ConfirmationRegistry uses this MemberRegistry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from node_gateway.chain.artifacts import load_artifact
from node_gateway.chain.authorisation import DOMAIN_NAME, DOMAIN_VERSION
from node_gateway.chain.contracts import ConfirmationRegistry
from node_gateway.chain.errors import ChainError, NodeRejected
from node_gateway.chain.signers import SignatureVerifiers, SignerKind
from node_gateway.chain.transactions import wire_batch
from node_gateway.protocol import from_hex, to_hex


@dataclass(frozen=True)
class DeploymentCheck:
    name: str
    ok: bool
    detail: str


_Add = Callable[[str, bool, str], bool]  # records a check, answers whether it passed


@cache
def immutable_layout(name: str) -> dict[str, list[tuple[int, int]]]:
    """Where the committed runtime build of ``name`` holds each immutable, by ``Contract.variable``:
    solc's ``immutableReferences`` (byte ranges, zero in the build), named from the AST by
    ``make contracts`` (``tools/compile_contracts.py``)."""
    artifact = load_artifact(name)
    references, names = artifact.immutable_references, artifact.immutable_names
    if references is None or names is None:
        raise ChainError(f"the {name} artifact lists no immutables: rebuild it (make contracts)")
    return {
        names[ast_id]: [(int(r["start"]), int(r["length"])) for r in ranges]
        for ast_id, ranges in references.items()
    }


def immutable_values(*, chain_id: int, address: str, member_registry: str) -> dict[str, bytes]:
    """What the deployment of the contract at ``address`` must have written into each immutable on
    this network, by ``Contract.variable`` (OpenZeppelin's EIP712 domain and our own)."""

    def word(value: int | bytes) -> bytes:
        return value.to_bytes(32, "big") if isinstance(value, int) else value.rjust(32, b"\0")

    def short_string(text: str) -> bytes:  # OpenZeppelin ShortStrings: the bytes, then the length
        raw = text.encode()
        return raw.ljust(31, b"\0") + bytes([len(raw)]) if len(raw) < 32 else word(0xFF)  # else in storage

    this = word(from_hex(address))
    hashed_name, hashed_version = keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION)
    type_hash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    return {
        "ConfirmationRegistry._memberRegistry": word(from_hex(member_registry)),
        "EIP712._cachedDomainSeparator": keccak(
            type_hash + hashed_name + hashed_version + word(chain_id) + this
        ),
        "EIP712._cachedChainId": word(chain_id),
        "EIP712._cachedThis": this,
        "EIP712._hashedName": hashed_name,
        "EIP712._hashedVersion": hashed_version,
        "EIP712._name": short_string(DOMAIN_NAME),
        "EIP712._version": short_string(DOMAIN_VERSION),
    }


def compare_code(name: str, deployed: bytes, *, immutables: Mapping[str, bytes]) -> str | None:
    """None if ``deployed`` is the committed runtime build of ``name`` with each immutable holding
    its own value in ``immutables``; else what differs."""
    build = from_hex(load_artifact(name).deployed_bytecode)
    layout = immutable_layout(name)
    if not deployed:
        return "there is no contract at the address"
    if len(deployed) != len(build):
        return f"the code is {len(deployed)} bytes, the committed build {len(build)}"
    unknown = sorted(set(layout) - set(immutables))
    if unknown:
        return f"the build has immutables this verifier knows no value for: {', '.join(unknown)}"
    patched = bytearray(build)  # the build with the deployed immutables: every other byte must match
    for ranges in layout.values():
        for start, length in ranges:
            patched[start : start + length] = deployed[start : start + length]
    if bytes(patched) != deployed:
        first = next(i for i, (a, b) in enumerate(zip(patched, deployed, strict=True)) if a != b)
        return f"the code differs from the committed build from byte {first} on"
    wrong = sorted(
        variable
        for variable, ranges in layout.items()
        if any(deployed[start : start + length] != immutables[variable] for start, length in ranges)
    )
    if wrong:
        return f"immutables not this network's values: {', '.join(wrong)}"
    return None


def check_deployment(
    w3: Web3,
    *,
    chain_id: int,
    member_registry: str,
    confirmation_registry: str,
    verifiers: SignatureVerifiers | None = None,
) -> list[DeploymentCheck]:
    """The checks of the module's docstring, in order, up to the first stage that fails. A node
    that does not answer raises NodeUnavailable, one that refuses the chain id NodeRejected."""
    found: list[DeploymentCheck] = []

    def add(name: str, ok: bool, detail: str) -> bool:
        found.append(DeploymentCheck(name, ok, detail))
        return ok

    node_chain = wire_batch(w3, [("eth_chainId", [])])[0]
    if isinstance(node_chain, NodeRejected):
        raise node_chain
    node_chain_id = int(node_chain, 16)
    if not add(
        "chain_id",
        node_chain_id == chain_id,
        f"the node is chain {node_chain_id}, the trusted anchor says {chain_id}",
    ):
        return found
    addresses = {"MemberRegistry": member_registry, "ConfirmationRegistry": confirmation_registry}
    if verifiers is not None:
        addresses |= {name: verifiers.address_of(kind) for name, kind in _VERIFIER_KINDS.items()}
    if _check_contracts(w3, chain_id, member_registry, addresses, add):
        registry = ConfirmationRegistry(w3, confirmation_registry)
        call = {"to": registry.address, "data": to_hex(registry.encode_call("memberRegistry"))}
        raw = wire_batch(w3, [("eth_call", [call, "latest"])])[0]
        data = b"" if isinstance(raw, NodeRejected) or raw is None else bytes(HexBytes(raw))
        linked_to = str(registry.decode_result("memberRegistry", data)[0]).lower() if data else "nothing"
        add(
            "registry_link",
            linked_to == member_registry.lower(),
            f"the ConfirmationRegistry uses the MemberRegistry at {linked_to}",
        )
    return found


_VERIFIER_KINDS = {
    "ERC7913P256Verifier": SignerKind.P256,
    "ERC7913WebAuthnVerifier": SignerKind.WEBAUTHN,
    "ERC7913RSAVerifier": SignerKind.RSA,
}


def _check_contracts(
    w3: Web3, chain_id: int, member_registry: str, addresses: Mapping[str, str], add: _Add
) -> bool:
    bad = [name for name, address in addresses.items() if not Web3.is_address(address)]
    if bad:
        for name in bad:
            add(f"contract.{name}", False, f"{addresses[name]!r} is not an address")
        return False
    codes = wire_batch(w3, [("eth_getCode", [address, "latest"]) for address in addresses.values()])
    ok = True
    for (name, address), code in zip(addresses.items(), codes, strict=True):
        immutables = immutable_values(chain_id=chain_id, address=address, member_registry=member_registry)
        problem = (
            "the node does not say"
            if isinstance(code, NodeRejected)
            else compare_code(name, bytes(HexBytes(code)), immutables=immutables)
        )
        ok &= add(
            f"contract.{name}",
            problem is None,
            f"{name} at {address}: "
            + (problem or "the committed build, each immutable its own value on this network"),
        )
    return ok
