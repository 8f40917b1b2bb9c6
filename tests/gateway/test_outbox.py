"""The transaction outbox against the in-process chain: steps to the ConfirmationRegistry that are
due together share one Multicall transaction; steps to the MemberRegistry, which has none, go one
transaction each; a bundle with a step that would revert is sent again one step at a time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import select

from node_gateway.api.app import create_app
from node_gateway.chain.contracts import LetterStatus, Role
from node_gateway.node import Node
from node_gateway.services.outbox import STUCK_ATTEMPTS, TransactionOutbox, enqueue_steps
from node_gateway.storage.models import OutboxTransaction

from .conftest import gateway_node

if TYPE_CHECKING:
    from conftest import Chain


def _steps(node: Node) -> list[tuple[str, str | None]]:
    with node.db.session() as session:
        rows = session.scalars(select(OutboxTransaction).order_by(OutboxTransaction.id)).all()
        return [(row.state, row.transaction_hash) for row in rows]


def test_member_registry_steps_go_one_transaction_each(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path)
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
    node = gateway_node(deployment, deployment.firm, tmp_path)
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


def _member_step(step: str, member_id: int, generation: int = 0) -> tuple[str, str, dict[str, object], None]:
    return f"{step}:{member_id}:{generation}", step, {"member_id": member_id}, None


def _rows(node: Node) -> list[tuple[str, str, str | None]]:
    with node.db.session() as session:
        rows = session.scalars(select(OutboxTransaction).order_by(OutboxTransaction.id)).all()
        return [(row.step, row.state, row.error_code) for row in rows]


def test_a_step_that_cannot_succeed_fails_with_its_reason_and_blocks_nothing(
    in_process: Chain, tmp_path: Path
) -> None:
    # A reinstatement of a member that does not exist reverts, and so does the check whether it
    # is done; a negative id cannot even be encoded. Neither may keep the real suspension behind
    # them from the chain.
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path)
    bank = deployment.bank.member_id
    with node.db.session() as session:
        enqueue_steps(
            session,
            [_member_step("reinstate", 999), _member_step("suspend", -1), _member_step("suspend", bank)],
        )
    outbox = TransactionOutbox(node)
    for _ in range(3):
        outbox.run_once()
    assert _rows(node) == [
        ("reinstate", "failed", "MemberRegistryUnknownMember"),
        ("suspend", "failed", "unencodable_step"),
        ("suspend", "done", None),
    ]
    assert deployment.members.get_member(bank).status.name == "SUSPENDED"


def test_health_reports_a_stuck_outbox(in_process: Chain, tmp_path: Path) -> None:
    deployment = in_process.deploy()
    node = gateway_node(deployment, deployment.operator, tmp_path)
    client = TestClient(create_app(node, run_workers=False))
    with node.db.session() as session:
        enqueue_steps(session, [_member_step("suspend", deployment.bank.member_id)])
    assert client.get("/health").json()["status"] == "ok"  # pending, but not for long
    with node.db.session() as session:
        session.scalars(select(OutboxTransaction)).one().attempts = STUCK_ATTEMPTS
    health = client.get("/health").json()
    assert (health["status"], health["problems"], health["stuck_transactions"]) == (
        "degraded",
        ["outbox_stuck"],
        1,
    )
