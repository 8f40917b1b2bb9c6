"""The transaction outbox against the in-process chain: steps to the ConfirmationRegistry that are
due together share one Multicall transaction; steps to the MemberRegistry, which has none, go one
transaction each; a bundle with a step that would revert is sent again one step at a time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account import Account
from sqlalchemy import select

from node_gateway.chain.contracts import LetterStatus, Role
from node_gateway.chain.network import NetworkFile
from node_gateway.core.config import GatewaySettings
from node_gateway.core.keys import MemberKeys
from node_gateway.node import Node
from node_gateway.protocol.envelopes import DEFAULT_SUITE, EncryptionKeyPair
from node_gateway.services.outbox import TransactionOutbox, enqueue_steps
from node_gateway.storage.db import Database
from node_gateway.storage.models import OutboxTransaction

if TYPE_CHECKING:
    from conftest import Chain, Deployment, Party


def _node(deployment: Deployment, party: Party, tmp_path: Path) -> Node:
    network = deployment.network
    network_file = NetworkFile(
        chain_id=deployment.chain.chain_id,
        rpc_url="in-process",
        member_registry=network.members.address,
        confirmation_registry=network.confirmations.address,
        deployment_block=network.deployment_block,
    )
    settings = GatewaySettings(
        role="operator" if party.role == Role.OPERATOR else "audit_firm",
        display_name=party.name,
        registration_code="91310000MA1FL0TE5Q",
        data_dir=tmp_path,
        network_file=tmp_path / "network.json",
    )
    db = Database(f"sqlite:///{tmp_path / 'gateway.db'}")
    db.migrate()
    keys = MemberKeys(party.sender.account, (EncryptionKeyPair.generate(DEFAULT_SUITE),), os.urandom(32))
    node = Node(
        settings=settings, keys=keys, db=db, w3=deployment.w3, network=network, network_file=network_file
    )
    node.sender = party.sender  # one nonce counter per account: the tests' and the node's
    return node


def _steps(node: Node) -> list[tuple[str, str | None]]:
    with node.db.session() as session:
        rows = session.scalars(select(OutboxTransaction).order_by(OutboxTransaction.id)).all()
        return [(row.state, row.transaction_hash) for row in rows]


def test_member_registry_steps_go_one_transaction_each(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = _node(deployment, deployment.operator, tmp_path)
    accounts = [Account.create().address for _ in range(2)]
    with node.db.session() as session:
        enqueue_steps(
            session,
            [
                (
                    f"admit:{account}",
                    "admit",
                    {"account": account, "role": int(Role.BANK), "org_id": "0x" + os.urandom(32).hex(),
                     "display_name": "银行", "endpoint": "", "encryption_keys": "0x"},
                    None,
                )
                for account in accounts
            ],
        )  # fmt: skip
    assert TransactionOutbox(node).run_once() == 2
    steps = _steps(node)
    assert [state for state, _ in steps] == ["done", "done"]
    assert len({tx for _, tx in steps}) == 2
    assert all(deployment.members.member_id_of(account) > 0 for account in accounts)


def test_letter_steps_share_a_transaction_and_a_reverting_one_goes_alone(
    in_process: Chain, tmp_path: Path
) -> None:
    deployment = in_process.deploy()
    node = _node(deployment, deployment.firm, tmp_path)
    good = [deployment.plan_letter() for _ in range(2)]
    late = deployment.plan_letter()
    now = deployment.now()

    def request(letter_id: bytes, due_at: int) -> tuple[str, str, dict[str, object], str]:
        lid = "0x" + letter_id.hex()
        payload = {"letter_id": lid, "bank": deployment.bank.member_id,
                   "auditee_ref": "0x" + deployment.auditee_ref.hex(), "letter_hash": "0x" + os.urandom(32).hex(),
                   "due_at": due_at}  # fmt: skip
        return f"request:{lid}", "request", payload, lid

    with node.db.session() as session:
        enqueue_steps(session, [request(x.letter_id, now + 86400) for x in good])
    outbox = TransactionOutbox(node)
    assert outbox.run_once() == 2
    first = _steps(node)
    assert [state for state, _ in first] == ["done", "done"]
    assert first[0][1] == first[1][1]  # one Multicall
    with node.db.session() as session:
        enqueue_steps(session, [request(os.urandom(32), now + 86400), request(late.letter_id, now - 10)])
    assert outbox.run_once() == 2
    states = [state for state, _ in _steps(node)[2:]]
    assert states == ["done", "failed"]
    assert all(deployment.status(x) == LetterStatus.REQUESTED for x in good)
