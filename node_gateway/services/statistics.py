"""The regulator's statistics per bank, from the chain events the indexer stored and nothing else.

One SQL query folds the events into one row per letter (when each step first happened, and the
due time); the counting and the percentiles then run over those rows in Python. Definitions,
all at the instant ``now``:

- ``letters_received``: letters requested to the bank; the other counters count letters among
  them that reached each step (``authorised``, ``accepted``, ``rejected``, ``replied``,
  ``withdrawn``, ``refused``), whatever happened after.
- ``awaiting``: letters awaiting the bank: authorised, not yet replied, rejected or withdrawn.
- ``overdue``: letters awaiting the auditee or the bank past their due time, as the contract's
  ``isOverdue`` has it; ``overdue_at_bank`` only those awaiting the bank, the bank's own delay.
- ``reply_rate``: replied / (replied + rejected + overdue at the bank). The denominator holds the
  letters that reached the bank, were not withdrawn, and on which the bank's answer is due: a
  letter still within its due time is left out, so a bank is not marked down for letters it
  still has time to answer (counting them would depress every busy bank's rate). A rejection
  counts against the rate: it is not a reply. None when the denominator is zero.
- ``*_reply_seconds``: from LetterAuthorised to LetterReplied, the time the bank had the letter;
  ``median_end_to_end_seconds``: from LetterRequested to LetterReplied. Percentiles are
  nearest-rank (the smallest value with at least p % of the values at or below it), so they are
  always observed values; the median of an even count is the lower middle value.

A letter counts only if its LetterRequested event is stored (the indexer starts at the
deployment block, so that is every letter). A period (``since``, ``until``: unix seconds, the
latter excluded; ``period`` makes them of Beijing dates) keeps the letters requested in it, each
counted with every step it has reached by ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, ColumnElement, case, cast, func, select
from sqlalchemy.orm import Session

from node_gateway.protocol.documents import CHINA_TIME
from node_gateway.storage.models import ChainEventRow

REQUESTED = "LetterRequested"
AUTHORISED = "LetterAuthorised"
REFUSED = "AuthorisationRefused"
ACCEPTED = "LetterAccepted"
REJECTED = "LetterRejected"
REPLIED = "LetterReplied"
CLOSED = "LetterClosed"
WITHDRAWN = "LetterWithdrawn"
LETTER_EVENTS = (REQUESTED, AUTHORISED, REFUSED, ACCEPTED, REJECTED, REPLIED, CLOSED, WITHDRAWN)


class LetterStatistics(BaseModel):
    """Counts and reply times over a set of letters (see the module docstring for definitions)."""

    model_config = ConfigDict(frozen=True)

    letters_received: int = 0
    authorised: int = 0
    accepted: int = 0
    rejected: int = 0
    replied: int = 0
    withdrawn: int = 0
    refused: int = 0
    awaiting: int = 0
    overdue: int = 0
    overdue_at_bank: int = 0
    reply_rate: float | None = None
    median_reply_seconds: int | None = None
    p95_reply_seconds: int | None = None
    median_end_to_end_seconds: int | None = None


class BankStatistics(LetterStatistics):
    """The statistics of the letters addressed to one bank."""

    bank: int


class NetworkSummary(LetterStatistics):
    """The statistics of all letters of the network; ``banks`` is how many banks received any."""

    banks: int = 0


@dataclass(frozen=True)
class _Letter:
    """When each step of one letter first happened (block timestamps), None if it has not."""

    bank: int
    due_at: int
    requested_at: int
    authorised_at: int | None
    refused_at: int | None
    accepted_at: int | None
    rejected_at: int | None
    replied_at: int | None
    withdrawn_at: int | None

    @property
    def awaiting_bank(self) -> bool:
        ended = (self.replied_at, self.rejected_at, self.withdrawn_at)
        return self.authorised_at is not None and all(at is None for at in ended)

    @property
    def awaiting_auditee(self) -> bool:
        return self.authorised_at is None and self.refused_at is None and self.withdrawn_at is None

    def overdue(self, now: int) -> bool:
        # Strictly after the due time, as the contract's isOverdue.
        return (self.awaiting_bank or self.awaiting_auditee) and now > self.due_at


def _first(name: str) -> ColumnElement[Any]:
    return func.min(case((ChainEventRow.name == name, ChainEventRow.block_timestamp)))


def period(first: date | None, last: date | None) -> tuple[int | None, int | None]:
    """``since`` and ``until`` (unix seconds) of the days ``first`` to ``last``, both included, in
    Beijing time; None where a bound is not given."""
    since = None if first is None else int(datetime.combine(first, time(), CHINA_TIME).timestamp())
    after = None if last is None else last + timedelta(days=1)
    until = None if after is None else int(datetime.combine(after, time(), CHINA_TIME).timestamp())
    return since, until


def _letters(
    session: Session, bank: int | None, since: int | None = None, until: int | None = None
) -> list[_Letter]:
    """One row per letter (requested in ``since`` ≤ t < ``until``), from one grouped query over the
    letter events."""
    due_at = cast(ChainEventRow.args["dueAt"].as_string(), BigInteger)
    requested_at = _first(REQUESTED)
    query = (
        select(
            func.max(ChainEventRow.bank),
            func.max(case((ChainEventRow.name == REQUESTED, due_at))),
            requested_at,
            *(_first(name) for name in (AUTHORISED, REFUSED, ACCEPTED, REJECTED, REPLIED, WITHDRAWN)),
        )
        .where(ChainEventRow.letter_id.is_not(None), ChainEventRow.name.in_(LETTER_EVENTS))
        .group_by(ChainEventRow.letter_id)
        .having(requested_at.is_not(None))
    )
    if bank is not None:
        query = query.where(ChainEventRow.bank == bank)
    if since is not None:
        query = query.having(requested_at >= since)
    if until is not None:
        query = query.having(requested_at < until)
    return [_Letter(*row) for row in session.execute(query)]


def percentile(values: Sequence[int], p: float) -> int | None:
    """The nearest-rank ``p``-th percentile (0 < p ≤ 100) of ``values``; None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(p/100 · n), at least the first value
    return ordered[int(rank) - 1]


def _tally(letters: Iterable[_Letter], now: int) -> dict[str, Any]:
    letters = list(letters)
    reply_seconds = [
        x.replied_at - x.authorised_at
        for x in letters
        if x.replied_at is not None and x.authorised_at is not None
    ]
    end_to_end = [x.replied_at - x.requested_at for x in letters if x.replied_at is not None]
    replied = sum(x.replied_at is not None for x in letters)
    rejected = sum(x.rejected_at is not None for x in letters)
    overdue_at_bank = sum(x.awaiting_bank and x.overdue(now) for x in letters)
    answer_due = replied + rejected + overdue_at_bank
    return {
        "letters_received": len(letters),
        "authorised": sum(x.authorised_at is not None for x in letters),
        "accepted": sum(x.accepted_at is not None for x in letters),
        "rejected": rejected,
        "replied": replied,
        "withdrawn": sum(x.withdrawn_at is not None for x in letters),
        "refused": sum(x.refused_at is not None for x in letters),
        "awaiting": sum(x.awaiting_bank for x in letters),
        "overdue": sum(x.overdue(now) for x in letters),
        "overdue_at_bank": overdue_at_bank,
        "reply_rate": replied / answer_due if answer_due else None,
        "median_reply_seconds": percentile(reply_seconds, 50),
        "p95_reply_seconds": percentile(reply_seconds, 95),
        "median_end_to_end_seconds": percentile(end_to_end, 50),
    }


def bank_statistics(
    session: Session,
    *,
    now: int,
    bank: int | None = None,
    since: int | None = None,
    until: int | None = None,
) -> list[BankStatistics]:
    """The statistics of every bank that received a letter (or only of ``bank``), by bank number,
    over the letters requested from ``since`` to before ``until`` (unix seconds; None: unbounded).

    ``now`` (unix seconds) decides which letters are overdue.
    """
    by_bank = attrgetter("bank")
    letters = sorted(_letters(session, bank, since, until), key=by_bank)
    return [BankStatistics(bank=number, **_tally(group, now)) for number, group in groupby(letters, by_bank)]


def network_summary(
    session: Session, *, now: int, since: int | None = None, until: int | None = None
) -> NetworkSummary:
    """The statistics of all letters together (rates and percentiles over letters, not banks),
    those requested from ``since`` to before ``until`` as in :func:`bank_statistics`."""
    letters = _letters(session, None, since, until)
    return NetworkSummary(banks=len({x.bank for x in letters}), **_tally(letters, now))
