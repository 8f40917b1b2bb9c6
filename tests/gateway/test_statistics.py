"""The regulator's statistics over a hand-made history of chain events, checked number by number."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from node_gateway.services.statistics import (
    BankStatistics,
    bank_statistics,
    network_summary,
    percentile,
    period,
)
from node_gateway.storage.db import Database
from node_gateway.storage.models import ChainEventRow

DAY = 86_400
T = 1_700_000_000  # when every letter is requested
NOW = T + 10 * DAY
FIRM = 2

_positions = itertools.count(1)


def letter_id(name: str) -> str:
    return "0x" + name.encode().hex().ljust(64, "0")


def event(name: str, letter: str | None, bank: int, at: int, **args: Any) -> ChainEventRow:
    block = next(_positions)
    if letter is not None:
        args = {"letterId": letter_id(letter), "firm": FIRM, "bank": bank, **args}
    return ChainEventRow(
        block_number=block,
        log_index=0,
        transaction_hash="0x" + f"{block:064x}",
        block_timestamp=at,
        name=name,
        letter_id=letter_id(letter) if letter is not None else None,
        firm=FIRM if letter is not None else None,
        bank=bank,
        args=args,
    )


def history(letter: str, bank: int, *, due: int, **steps: int) -> list[ChainEventRow]:
    """A letter requested at T and the later steps at T + offset, e.g. ``LetterReplied=1100``."""
    rows = [event("LetterRequested", letter, bank, T, dueAt=due, letterHash="0x" + "11" * 32)]
    return rows + [event(name, letter, bank, T + offset) for name, offset in steps.items()]


def scenario() -> list[ChainEventRow]:
    """Fresh rows for each test's database (a row object belongs to one session)."""
    return [
        # Bank 3: three replies (1000, 3000 and 5000 s after authorisation; L3's after its due time).
        *history(
            "L1",
            3,
            due=T + 5 * DAY,
            LetterAuthorised=100,
            LetterAccepted=200,
            LetterReplied=1100,
            LetterClosed=1200,
        ),
        *history("L2", 3, due=T + 5 * DAY, LetterAuthorised=50, LetterAccepted=3050, LetterReplied=3050),
        *history("L3", 3, due=T + 1000, LetterAuthorised=100, LetterAccepted=200, LetterReplied=5100),
        # accepted, past due at NOW, followed up: awaiting the bank and overdue
        *history(
            "L4",
            3,
            due=T + 5 * DAY,
            LetterAuthorised=100,
            LetterAccepted=200,
            LetterFollowedUp=6 * DAY,
        ),
        # authorised, due after NOW: awaiting the bank, not overdue
        *history("L5", 3, due=T + 20 * DAY, LetterAuthorised=100),
        # never authorised, past due: overdue while awaiting the auditee
        *history("L6", 3, due=T + 5 * DAY),
        *history("L7", 3, due=T + 5 * DAY, AuthorisationRefused=100),
        *history("L8", 3, due=T + 5 * DAY, LetterAuthorised=100, LetterRejected=200),
        *history("L9", 3, due=T + 5 * DAY, LetterAuthorised=100, LetterWithdrawn=300),
        *history("L10", 3, due=T + 5 * DAY, LetterWithdrawn=100),
        # Bank 4: one reply after 2000 s, one letter awaiting the auditee within its time.
        *history("M1", 4, due=T + 5 * DAY, LetterAuthorised=10, LetterAccepted=20, LetterReplied=2010),
        *history("M2", 4, due=T + 20 * DAY),
        # Bank 5: one letter awaiting the bank within its time; nothing to rate yet.
        *history("N1", 5, due=T + 20 * DAY, LetterAuthorised=10),
        # Not letters, or a letter whose request was never indexed: ignored.
        event("MandateRegistered", None, 3, T, auditeeRef="0x" + "22" * 32),
        event("LetterReplied", "Z1", 3, T + 10, replyHash="0x" + "33" * 32),
    ]


BANK_3 = BankStatistics(
    bank=3,
    letters_received=10,
    authorised=7,
    accepted=4,
    rejected=1,
    replied=3,
    withdrawn=2,
    refused=1,
    awaiting=2,
    overdue=2,
    overdue_at_bank=1,
    reply_rate=3 / (3 + 1 + 1),  # replied / (replied + rejected + overdue at the bank)
    median_reply_seconds=3000,
    p95_reply_seconds=5000,
    median_end_to_end_seconds=3050,
)
BANK_4 = BankStatistics(
    bank=4,
    letters_received=2,
    authorised=1,
    accepted=1,
    replied=1,
    reply_rate=1.0,
    median_reply_seconds=2000,
    p95_reply_seconds=2000,
    median_end_to_end_seconds=2010,
)
BANK_5 = BankStatistics(bank=5, letters_received=1, authorised=1, awaiting=1)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    db = Database(f"sqlite:///{tmp_path / 'regulator.db'}")
    db.migrate()
    with db.session() as session:
        session.add_all(scenario())
        session.flush()
        yield session
    db.dispose()


def test_statistics_per_bank(session: Session) -> None:
    assert bank_statistics(session, now=NOW) == [BANK_3, BANK_4, BANK_5]


def test_statistics_of_one_bank(session: Session) -> None:
    assert bank_statistics(session, now=NOW, bank=4) == [BANK_4]
    assert bank_statistics(session, now=NOW, bank=9) == []


def test_overdue_depends_on_now(session: Session) -> None:
    (early,) = bank_statistics(session, now=T + DAY, bank=3)
    # L4 and L6 are not yet due; L3 was due at T + 1000 but was replied, so it never counts.
    assert (early.overdue, early.overdue_at_bank, early.awaiting) == (0, 0, 2)
    assert early.reply_rate == 3 / (3 + 1)
    (at_due,) = bank_statistics(session, now=T + 5 * DAY, bank=3)
    assert at_due.overdue == 0  # overdue strictly after the due time, as the contract's isOverdue


def test_network_summary(session: Session) -> None:
    summary = network_summary(session, now=NOW)
    assert summary.model_dump() == {
        "banks": 3,
        "letters_received": 13,
        "authorised": 9,
        "accepted": 5,
        "rejected": 1,
        "replied": 4,
        "withdrawn": 2,
        "refused": 1,
        "awaiting": 3,
        "overdue": 2,
        "overdue_at_bank": 1,
        "reply_rate": 4 / 6,
        # over all letters' times [1000, 2000, 3000, 5000], not an average of the banks'
        "median_reply_seconds": 2000,
        "p95_reply_seconds": 5000,
        "median_end_to_end_seconds": 2010,
    }


def test_a_period_keeps_the_letters_requested_in_it_by_beijing_date(session: Session) -> None:
    # T is 2023-11-14 22:13:20 UTC: in Beijing already the 15th.
    day = date(2023, 11, 15)
    assert period(day, day) == (T - 22_400, T - 22_400 + DAY)
    assert period(None, None) == (None, None)
    assert bank_statistics(session, now=NOW, since=period(day, None)[0]) == [BANK_3, BANK_4, BANK_5]
    assert bank_statistics(session, now=NOW, until=period(None, day)[1]) == [BANK_3, BANK_4, BANK_5]
    before = period(date(2023, 11, 1), date(2023, 11, 14))
    assert bank_statistics(session, now=NOW, since=before[0], until=before[1]) == []
    assert network_summary(session, now=NOW, since=T + 1).letters_received == 0
    assert network_summary(session, now=NOW, since=T, until=T + 1).letters_received == 13


def test_no_events_no_statistics(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    db.migrate()
    with db.session() as session:
        assert bank_statistics(session, now=NOW) == []
        summary = network_summary(session, now=NOW)
    assert (summary.banks, summary.letters_received, summary.reply_rate, summary.median_reply_seconds) == (
        0,
        0,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7], 50, 7),
        ([7], 95, 7),
        ([3, 1, 2], 50, 2),
        ([4, 1, 3, 2], 50, 2),  # the lower middle value of an even count
        (list(range(1, 11)), 95, 10),
        (list(range(1, 21)), 95, 19),
        (list(range(1, 101)), 95, 95),
        (list(range(1, 101)), 100, 100),
    ],
)
def test_nearest_rank_percentile(values: list[int], p: float, expected: int | None) -> None:
    assert percentile(values, p) == expected
