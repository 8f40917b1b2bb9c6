"""The bank worker's rounds: a round's letters share one database transaction; when one letter
fails, the round is done again one letter per transaction, and only that letter waits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bank_adapter.approval import ApprovalPolicy
from bank_adapter.models import ComplianceCheckRow, DraftRow
from bank_adapter.workflow import PASSED, REJECTED, BankWorkflow
from node_gateway.chain.contracts import LetterStatus
from node_gateway.node import Node
from node_gateway.storage.db import Database
from node_gateway.storage.models import IndexerCursor, LetterRow


class _Node:
    """What a round uses of the node: its database, and waking the other workers."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.woken = 0

    def notify(self) -> None:
        self.woken += 1


def _workflow(db: Database) -> tuple[BankWorkflow, _Node]:
    node = _Node(db)
    return BankWorkflow(node=cast(Node, node), core_url="sqlite://", policy=ApprovalPolicy()), node


def _stored(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(IndexerCursor.name)))


def test_a_round_is_one_transaction(database: Database) -> None:
    workflow, node = _workflow(database)
    sessions: list[Session] = []

    def work(session: Session, letter_ids: Sequence[str]) -> int:
        sessions.append(session)
        session.add_all(IndexerCursor(name=letter_id, next_block=1) for letter_id in letter_ids)
        return sum(letter_id != "c" for letter_id in letter_ids)  # c: nothing to do yet

    assert workflow._each(["a", "b", "c"], "test", work) == 2
    assert len({id(s) for s in sessions}) == 1
    assert _stored(database) == {"a", "b", "c"}
    assert node.woken == 1


def test_a_failing_letter_is_retried_alone_and_waits(database: Database) -> None:
    workflow, node = _workflow(database)
    calls: list[str] = []

    def work(session: Session, letter_ids: Sequence[str]) -> int:
        for letter_id in letter_ids:
            calls.append(letter_id)
            session.add(IndexerCursor(name=letter_id, next_block=1))
            if letter_id == "b":
                raise RuntimeError("the core bank is down")
        return len(letter_ids)

    assert workflow._each(["a", "b", "c"], "test", work) == 2
    # The round rolled back at b, then each letter in its own transaction.
    assert calls == ["a", "b", "a", "b", "c"]
    assert _stored(database) == {"a", "c"}
    assert set(workflow._pause) == {"b"}
    calls.clear()
    assert workflow._each(["b", "d"], "test", work) == 1  # b waits out its pause
    assert calls == ["d"]
    assert node.woken == 2


class _Bank(_Node):
    """A bank's node as the round's queries of awaiting letters use it."""

    def member_id(self) -> int:
        return _BANK


_BANK = 7


def _letter(letter_id: str, status: LetterStatus, minute: int) -> LetterRow:
    return LetterRow(
        letter_id=letter_id,
        firm=3,
        bank=_BANK,
        auditee_ref="0x" + "ab" * 32,
        letter_hash="0x" + "cd" * 32,
        due_at=0,
        status=status.name,
        letter_sealed=b"sealed",
        received_at=datetime(2026, 1, 5, 9, minute, tzinfo=UTC),
    )


def _check(letter_id: str, outcome: str) -> ComplianceCheckRow:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return ComplianceCheckRow(
        letter_id=letter_id,
        received_at=at,
        compliance_due=date(2026, 1, 6),
        reply_due=date(2026, 1, 12),
        outcome=outcome,
        detail="",
        decided_by="system:compliance",
        checked_at=at,
    )


def _draft(letter_id: str) -> DraftRow:
    return DraftRow(
        letter_id=letter_id,
        version=1,
        status="approved",
        letter_hash="0x" + "cd" * 32,
        bank_member_no=_BANK,
        content_sealed=b"sealed",
        exceptions=0,
        attention=0,
        preparer_id="system:drafter",
        preparer_name="drafter",
    )


def test_awaiting_letters_are_found_by_key_however_many_were_answered(database: Database) -> None:
    """The round's letters to check and to draft come from the open letters in one query, each
    looked up by key in the checks and drafts; the letters answered before (closed, checked,
    drafted) are never read through, so a round's query stays the same size as the database grows."""
    with database.session() as session:
        for n in range(300):  # the history: letters checked, drafted and closed long ago
            old = f"0xold{n:04}"
            session.add_all([_letter(old, LetterStatus.CLOSED, 0), _check(old, PASSED), _draft(old)])
        session.add_all(
            [
                _letter("0xunchecked", LetterStatus.AUTHORISED, 3),
                _letter("0xhand", LetterStatus.ACCEPTED, 1),  # accepted by an officer, unchecked
                _letter("0xpassed", LetterStatus.ACCEPTED, 2),
                _check("0xpassed", PASSED),
                _letter("0xrejected", LetterStatus.AUTHORISED, 4),  # its reject not yet on chain
                _check("0xrejected", REJECTED),
                _letter("0xdrafted", LetterStatus.ACCEPTED, 5),
                _check("0xdrafted", PASSED),
                _draft("0xdrafted"),
            ]
        )
    workflow = BankWorkflow(node=cast(Node, _Bank(database)), core_url="sqlite://", policy=ApprovalPolicy())
    statements: list[tuple[str, Sequence[object]]] = []

    def seen(conn: object, cursor: object, statement: str, parameters: Sequence[object], *_: object) -> None:
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        awaiting = workflow._awaiting()
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    # To check (unchecked, accepted by hand or not) and to draft (passed, no draft), in one query,
    # the earliest received first; the rejected and the drafted letters are left.
    assert awaiting == ["0xhand", "0xpassed", "0xunchecked"]
    assert len(statements) == 1
    if database.engine.dialect.name != "sqlite":
        return
    with database.engine.connect() as connection:
        for statement, parameters in statements:
            plan = " / ".join(
                row[-1]
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters))
            )
            assert "SCAN bank_compliance_checks" not in plan, plan
            assert "SCAN bank_drafts" not in plan, plan
