"""A queue's worker knows its own retries: after an idle round it asks the database when the next
is due only at start, when a retry it remembers has come, and once a fallback interval (for rows
it cannot know of); otherwise it answers from what it set itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from confirmnet.launcher import wait_until
from node_gateway.services.next_retry import NextRetry
from node_gateway.services.outbox import enqueue_step
from node_gateway.storage.db import Database
from node_gateway.storage.models import OutboxTransaction, utcnow

HOUR = 3600.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'gateway.db'}")
    database.migrate()
    yield database
    database.engine.dispose()


class _Statements:
    """Counts the SQL statements the database runs."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


def _queue_retry(db: Database, key: str, in_s: float) -> None:
    """A step put off by ``in_s`` seconds, as another process (or this one before a restart) left it."""
    with db.session() as session:
        enqueue_step(session, key=key, step="admit", payload={"key": key})
    with db.session() as session:
        row = session.scalars(select(OutboxTransaction).where(OutboxTransaction.key == key)).one()
        row.next_attempt_at = utcnow() + timedelta(seconds=in_s)


def test_at_start_it_looks_for_a_restarts_retries(db: Database) -> None:
    _queue_retry(db, "before the restart", 30)
    assert 25 < NextRetry(db, OutboxTransaction).idle_s(HOUR) <= 30


def test_its_own_retries_need_no_query_until_one_comes(db: Database) -> None:
    next_retry = NextRetry(db, OutboxTransaction)
    statements = _Statements(db)
    assert next_retry.idle_s(HOUR) == HOUR  # nothing queued
    looked = statements.count
    assert looked > 0

    next_retry.retry_at(utcnow() + timedelta(seconds=20))
    next_retry.retry_at(utcnow() + timedelta(seconds=40))  # a later one changes nothing
    assert 15 < next_retry.idle_s(HOUR) <= 20
    assert 15 < next_retry.idle_s(HOUR) <= 20
    assert statements.count == looked

    # The remembered retry has come (its row settled since): what is left is asked for.
    _queue_retry(db, "left", 50)
    next_retry.retry_at(utcnow() - timedelta(seconds=1))
    looked = statements.count
    assert 45 < next_retry.idle_s(HOUR) <= 50
    assert statements.count > looked


def test_once_a_fallback_interval_it_looks_for_rows_it_cannot_know_of(db: Database) -> None:
    fallback_s = 0.2
    next_retry = NextRetry(db, OutboxTransaction)
    assert next_retry.idle_s(fallback_s) == fallback_s
    _queue_retry(db, "another process's", 30)
    statements = _Statements(db)

    started = time.monotonic()
    wait_until(lambda: next_retry.idle_s(fallback_s) and statements.count > 0, 60, "a look at the queue")
    assert time.monotonic() - started >= fallback_s  # not before its interval
    assert 25 < next_retry.idle_s(HOUR) <= 30  # learnt from that look, with no query now
    assert statements.count == 1
