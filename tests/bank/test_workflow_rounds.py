"""The bank worker's rounds: a round's letters share one database transaction; when one letter
fails, the round is done again one letter per transaction, and only that letter waits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank_adapter.approval import ApprovalPolicy
from bank_adapter.workflow import BankWorkflow
from node_gateway.node import Node
from node_gateway.storage.db import Database
from node_gateway.storage.models import IndexerCursor


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
