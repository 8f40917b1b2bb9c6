"""The ceiling: complete letters per second one client can push straight into the node.

The same contract calls the gateways make, bundled the same way (Multicall, one transaction per
party and round), pre-signed with explicit nonces and gas, sent raw by a single client. No
gateway, no database, no HTTP between members: what is left is the node and JSON-RPC.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3

from node_gateway.chain.authorisation import (
    LetterLeaf,
    RequestsTree,
    authorisation_typed_data,
    sign_typed_data,
)
from node_gateway.chain.contracts import Authorisation, Role
from node_gateway.chain.network import Network, deploy_network
from node_gateway.chain.transactions import Call, TransactionSender

BATCH = 64  # as the gateways' outbox bundles steps
T = TypeVar("T")


@dataclass(frozen=True)
class CeilingResult:
    letters: int
    seconds: float
    transactions: int
    gas_per_letter: int

    @property
    def letters_per_second(self) -> float:
        return self.letters / self.seconds


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def measure_ceiling(w3: Web3, letters: int, *, batch: int = BATCH) -> CeilingResult:
    operator, firm, bank, signer = (Account.create() for _ in range(4))
    network = _setup(w3, operator, firm, bank, signer)
    firm_sender, bank_sender = TransactionSender(w3, firm), TransactionSender(w3, bank)
    registry = network.confirmations
    now = int(w3.eth.get_block("latest")["timestamp"])
    auditee_ref = secrets.token_bytes(32)
    bank_sender.send(registry.register_mandate(auditee_ref, signer.address, now + 86400 * 365))
    ids = [secrets.token_bytes(32) for _ in range(letters)]
    hashes = [secrets.token_bytes(32) for _ in range(letters)]
    requests = [
        registry.request(letter_id=i, bank=3, letter_hash=h, due_at=now + 86400 * 14)
        for i, h in zip(ids, hashes, strict=True)
    ]
    phases: list[tuple[TransactionSender, list[Call]]] = [(firm_sender, requests)]
    authorisations: list[Call] = []
    for group in _chunks(list(range(letters)), batch):
        tree = RequestsTree([LetterLeaf(ids[i], hashes[i], 3) for i in group])
        auth = Authorisation(tree.root, 2, now + 86400 * 180, secrets.randbits(128))
        typed = authorisation_typed_data(auth, chain_id=w3.eth.chain_id, registry=registry.address)
        signature = sign_typed_data(signer, typed)
        authorisations += [
            registry.authorise(ids[i], auth, auditee_ref, signer.address, signature, tree.proof(ids[i]))
            for i in group
        ]
    phases.append((firm_sender, authorisations))
    phases.append(
        (
            bank_sender,
            [
                c
                for i in range(letters)
                for c in (registry.accept(ids[i]), registry.reply(ids[i], secrets.token_bytes(32)))
            ],
        )
    )
    phases.append((firm_sender, [registry.close(i) for i in ids]))
    signed: list[HexBytes] = []
    # Gas per bundle from its size: measured per step on a first bundle would need the state.
    per_step_gas = {0: 140_000, 1: 70_000, 2: 70_000, 3: 50_000}
    for phase, (sender, calls) in enumerate(phases):
        step_batch = batch * 2 if phase == 2 else batch
        for bundle in _chunks(calls, step_batch):
            call = registry.multicall(bundle)
            signed.append(sender.sign(call, gas=per_step_gas[phase] * len(bundle) + 50_000))
    started = time.perf_counter()
    hashes_sent = [w3.eth.send_raw_transaction(raw) for raw in signed]
    receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=600, poll_latency=0.01) for h in hashes_sent]
    elapsed = time.perf_counter() - started
    failed = [r for r in receipts if r["status"] != 1]
    if failed:
        raise RuntimeError(f"{len(failed)} ceiling transactions reverted")
    gas = sum(r["gasUsed"] for r in receipts)
    return CeilingResult(
        letters=letters, seconds=elapsed, transactions=len(signed), gas_per_letter=gas // letters
    )


def _setup(
    w3: Web3, operator: LocalAccount, firm: LocalAccount, bank: LocalAccount, signer: LocalAccount
) -> Network:
    operator_sender = TransactionSender(w3, operator)
    network = deploy_network(operator_sender, operator_org_id=b"\x01" * 32, operator_name="bench operator")
    operator_sender.send(
        network.members.admit(
            account=firm.address, role=Role.AUDIT_FIRM, org_id=b"\x02" * 32, display_name="bench firm"
        )
    )
    operator_sender.send(
        network.members.admit(
            account=bank.address, role=Role.BANK, org_id=b"\x03" * 32, display_name="bench bank"
        )
    )
    return network
