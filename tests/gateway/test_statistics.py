"""The regulator's statistics over a hand-made history of chain events, checked number by number.

Every letter is requested at T, Wednesday 15 November 2023 06:13 in Beijing; one authorised then
has its notice due on Monday 20 November (3 working days) and its reply on Wednesday 29 November
(10 working days). NOW is Tuesday 5 December.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from node_gateway.protocol.calendar import OfficialYear, WorkingCalendar
from node_gateway.protocol.documents import CHINA_TIME
from node_gateway.services import statistics
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
NOW = T + 20 * DAY
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


def history(letter: str, bank: int, *, due: int, reason: int = 1, **steps: int) -> list[ChainEventRow]:
    """A letter requested at T and the later steps at T + offset, e.g. ``LetterReplied=1100``; a
    rejection gives ``reason``."""
    rows = [event("LetterRequested", letter, bank, T, dueAt=due, letterHash="0x" + "11" * 32)]
    return rows + [
        event(name, letter, bank, T + offset, **({"reason": reason} if name == "LetterRejected" else {}))
        for name, offset in steps.items()
    ]


def scenario() -> list[ChainEventRow]:
    """Fresh rows for each test's database (a row object belongs to one session)."""
    return [
        # Bank 3: four replies (1000 s, 3000 s, 13 days and 15 days after authorisation).
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
        # Replied on 28 November, within the statute, though long after the firm's own dueAt.
        *history("L3", 3, due=T + 1000, LetterAuthorised=100, LetterAccepted=200, LetterReplied=13 * DAY),
        # Replied on 30 November: a day late.
        *history(
            "L12", 3, due=T + 40 * DAY, LetterAuthorised=100, LetterAccepted=200, LetterReplied=15 * DAY
        ),
        # accepted, not replied by 29 November, followed up: overdue at NOW
        *history(
            "L4",
            3,
            due=T + 40 * DAY,
            LetterAuthorised=100,
            LetterAccepted=200,
            LetterFollowedUp=6 * DAY,
        ),
        # The firm's dueAt passed long ago, but the auditee authorised it on 1 December: the bank
        # has until 15 December, so it is awaiting the bank and not overdue.
        *history("L5", 3, due=T + 1000, LetterAuthorised=16 * DAY),
        # never authorised, past the firm's dueAt: the auditee's delay, not the bank's
        *history("L6", 3, due=T + 5 * DAY),
        *history("L7", 3, due=T + 5 * DAY, AuthorisationRefused=100),
        # Rejected the same day (on time, incomplete) and on 21 November (late, other).
        *history("L8", 3, due=T + 5 * DAY, LetterAuthorised=100, LetterRejected=200),
        *history("L11", 3, due=T + 5 * DAY, reason=99, LetterAuthorised=100, LetterRejected=6 * DAY),
        *history("L9", 3, due=T + 5 * DAY, LetterAuthorised=100, LetterWithdrawn=300),
        *history("L10", 3, due=T + 5 * DAY, LetterWithdrawn=100),
        # Bank 4: one reply after 2000 s, one letter awaiting the auditee past the firm's dueAt.
        *history("M1", 4, due=T + 5 * DAY, LetterAuthorised=10, LetterAccepted=20, LetterReplied=2010),
        *history("M2", 4, due=T + 5 * DAY),
        # Bank 5: one letter never accepted nor rejected: its 10 days run from the authorisation,
        # and it is overdue though the firm's dueAt is still ahead.
        *history("N1", 5, due=T + 40 * DAY, LetterAuthorised=10),
        # Not letters, or a letter whose request was never indexed: ignored.
        event("MandateRegistered", None, 3, T, auditeeRef="0x" + "22" * 32),
        event("LetterReplied", "Z1", 3, T + 10, replyHash="0x" + "33" * 32),
    ]


BANK_3 = BankStatistics(
    bank=3,
    letters_received=12,
    authorised=9,
    accepted=5,
    rejected=2,
    replied=4,
    withdrawn=2,
    refused=1,
    awaiting=2,
    overdue=1,
    replied_late=1,
    reply_rate=4 / (4 + 2 + 1),  # replied / (replied + rejected + overdue)
    notices_on_time=1,
    notices_late=1,
    notice_timeliness=0.5,
    rejection_reasons={"incomplete": 1, "other": 1},
    median_reply_seconds=3000,
    p95_reply_seconds=15 * DAY - 100,
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
BANK_5 = BankStatistics(bank=5, letters_received=1, authorised=1, awaiting=1, overdue=1, reply_rate=0.0)


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


def test_overdue_follows_the_statute_in_beijing_days(session: Session) -> None:
    (early,) = bank_statistics(session, now=T + DAY, bank=3)
    # L4 is not yet due; L3's and L5's dueAt have passed, which the regulator does not count.
    assert (early.overdue, early.awaiting) == (0, 2)
    assert early.reply_rate == 4 / (4 + 2)
    (on_due_day,) = bank_statistics(session, now=T + 14 * DAY, bank=3)  # Wednesday 29 November
    assert on_due_day.overdue == 0
    (day_after,) = bank_statistics(session, now=T + 15 * DAY, bank=3)
    assert day_after.overdue == 1
    assert day_after.provisional == 0


def test_network_summary(session: Session) -> None:
    summary = network_summary(session, now=NOW)
    assert summary.model_dump() == {
        "banks": 3,
        "letters_received": 15,
        "authorised": 11,
        "accepted": 6,
        "rejected": 2,
        "replied": 5,
        "withdrawn": 2,
        "refused": 1,
        "awaiting": 3,
        "overdue": 2,
        "replied_late": 1,
        "reply_rate": 5 / 9,
        "notices_on_time": 1,
        "notices_late": 1,
        "notice_timeliness": 0.5,
        "rejection_reasons": {"incomplete": 1, "other": 1},
        "provisional": 0,
        # over all letters' times, not an average of the banks'
        "median_reply_seconds": 3000,
        "p95_reply_seconds": 15 * DAY - 100,
        "median_end_to_end_seconds": 3050,
    }


def _beijing_noon(day: date) -> int:
    return int(datetime.combine(day, time(12), CHINA_TIME).timestamp())


def test_a_deadline_in_a_year_without_its_calendar_is_provisional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accepted on Monday 28 December 2026: without 2027's calendar its 10 days are counted as
    weekdays (due Monday 11 January) and marked provisional; with the (test) file, exact."""
    db = Database(f"sqlite:///{tmp_path / 'provisional.db'}")
    db.migrate()
    accepted = _beijing_noon(date(2026, 12, 28))
    rows = [
        event("LetterRequested", "P1", 3, accepted, dueAt=accepted, letterHash="0x" + "11" * 32),
        event("LetterAuthorised", "P1", 3, accepted),
        event("LetterAccepted", "P1", 3, accepted),
        event("LetterRejected", "P2", 3, accepted, reason=7),
    ]
    monkeypatch.setattr(statistics, "CALENDAR", WorkingCalendar())
    with db.session() as session:
        session.add_all(rows)
        session.flush()
        (weekdays,) = bank_statistics(session, now=_beijing_noon(date(2027, 1, 12)))
        assert (weekdays.overdue, weekdays.provisional) == (1, 1)
        assert weekdays.rejection_reasons == {}  # P2's request was never indexed
        official = OfficialYear.read(
            (Path(__file__).parent / "data" / "calendar-2027.test.json").read_bytes()
        )
        monkeypatch.setattr(statistics, "CALENDAR", WorkingCalendar([official]))
        # 1 January 2027 is a holiday in the file: due Tuesday 12 January, not yet overdue.
        (exact,) = bank_statistics(session, now=_beijing_noon(date(2027, 1, 12)))
        assert (exact.overdue, exact.provisional) == (0, 0)
    db.dispose()


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
    assert network_summary(session, now=NOW, since=T, until=T + 1).letters_received == 15


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
