"""The regulator's statistics per bank, from the chain events the indexer stored and nothing else.

One SQL query folds the events into one row per letter (when each step first happened, and the
rejection's reason); the counting and the percentiles then run over those rows in Python.

Deadlines are the statutory ones, in working days of the official calendar
(``node_gateway.protocol.calendar``), counted from the Beijing dates of the chain's block times:
never the ``dueAt`` the firm put in its request, which a firm could set to make a bank look late.
The letter reaches the bank when the auditee authorises it (LetterAuthorised). The bank tells the
auditor within 3 working days if the letter is not compliant (the notice: LetterRejected), and
replies within 10 working days of accepting it (LetterAccepted); a letter the bank has neither
accepted nor rejected counts its 10 days from its authorisation, so a bank gains no time by
leaving a letter undecided. A day is late once the due day has passed in Beijing. Definitions,
all at the instant ``now``:

- ``letters_received``: letters requested to the bank; the other counters count letters among
  them that reached each step (``authorised``, ``accepted``, ``rejected``, ``replied``,
  ``withdrawn``, ``refused``), whatever happened after.
- ``awaiting``: letters awaiting the bank: authorised, not yet replied, rejected or withdrawn.
- ``overdue``: letters awaiting the bank past their statutory reply deadline.
- ``replied_late``: replies given after their statutory reply deadline.
- ``reply_rate``: replied / (replied + rejected + overdue). The denominator holds the letters
  that reached the bank, were not withdrawn, and on which the bank's answer is due: a letter
  still within its statutory time is left out, so a bank is not marked down for letters it still
  has time to answer. A rejection counts against the rate: it is not a reply. None when the
  denominator is zero.
- ``notices_on_time`` / ``notices_late``: rejections (non-compliance notices) given within / after
  3 working days of the authorisation; ``notice_timeliness`` the share on time (None: no notice).
- ``rejection_reasons``: rejections per reason (``RejectionReason`` names, lower case; a code the
  protocol does not know by its number).
- ``provisional``: letters counted above whose deadline reaches into a year without an official
  calendar yet (weekdays stood in for its working days): those figures are provisional.
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

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Integer, case, cast, func, select
from sqlalchemy.orm import Session

from node_gateway.protocol.calendar import CALENDAR, Deadline
from node_gateway.protocol.documents import CHINA_TIME, RejectionReason
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
    overdue: int = Field(0, description="Awaiting the bank past the statutory reply deadline")
    replied_late: int = Field(0, description="Replied after the statutory reply deadline")
    reply_rate: float | None = Field(None, description="replied / (replied + rejected + overdue)")
    notices_on_time: int = Field(0, description="Rejections within 3 working days of the authorisation")
    notices_late: int = Field(0, description="Rejections after 3 working days of the authorisation")
    notice_timeliness: float | None = Field(None, description="notices_on_time / all rejections")
    rejection_reasons: dict[str, int] = Field(
        default_factory=dict, description="Rejections per reason (RejectionReason, lower case)"
    )
    provisional: int = Field(
        0, description="Letters whose deadline reaches into a year without a published official calendar"
    )
    median_reply_seconds: int | None = None
    p95_reply_seconds: int | None = None
    median_end_to_end_seconds: int | None = None


class BankStatistics(LetterStatistics):
    """The statistics of the letters addressed to one bank."""

    bank: int


class NetworkSummary(LetterStatistics):
    """The statistics of all letters of the network; ``banks`` is how many banks received any."""

    banks: int = 0


# The statutory periods, in working days (DOMAIN.md, Rules).
NOTICE_WORKING_DAYS = 3
REPLY_WORKING_DAYS = 10


def _beijing(moment: int) -> date:
    return datetime.fromtimestamp(moment, CHINA_TIME).date()


@dataclass
class _Statute:
    """The statutory deadlines, each counted once per start day and period."""

    known: dict[tuple[date, int], Deadline] = field(default_factory=dict)

    def deadline(self, start: int, days: int) -> Deadline:
        key = (_beijing(start), days)
        if key not in self.known:
            self.known[key] = CALENDAR.deadline(*key)
        return self.known[key]


@dataclass(frozen=True)
class _Letter:
    """When each step of one letter first happened (block timestamps), None if it has not."""

    bank: int
    requested_at: int
    authorised_at: int | None
    refused_at: int | None
    accepted_at: int | None
    rejected_at: int | None
    rejection_reason: int | None
    replied_at: int | None
    withdrawn_at: int | None

    @property
    def awaiting_bank(self) -> bool:
        ended = (self.replied_at, self.rejected_at, self.withdrawn_at)
        return self.authorised_at is not None and all(at is None for at in ended)

    def reply_deadline(self, statute: _Statute) -> Deadline | None:
        return reply_deadline(self.authorised_at, self.accepted_at, statute)

    def notice_deadline(self, statute: _Statute) -> Deadline | None:
        return notice_deadline(self.authorised_at, statute)


def reply_deadline(
    authorised_at: int | None, accepted_at: int | None, statute: _Statute | None = None
) -> Deadline | None:
    """The bank's statutory reply deadline of a letter authorised and accepted at these block times:
    10 working days from the acceptance, or from the authorisation while the bank has not decided;
    None until the letter reaches the bank."""
    start = accepted_at if accepted_at is not None else authorised_at
    return None if start is None else (statute or _Statute()).deadline(start, REPLY_WORKING_DAYS)


def notice_deadline(authorised_at: int | None, statute: _Statute | None = None) -> Deadline | None:
    """The bank's statutory deadline for a non-compliance notice (its rejection): 3 working days
    from the authorisation; None until the letter reaches the bank."""
    if authorised_at is None:
        return None
    return (statute or _Statute()).deadline(authorised_at, NOTICE_WORKING_DAYS)


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
    reason = cast(ChainEventRow.args["reason"].as_string(), Integer)
    requested_at = _first(REQUESTED)
    query = (
        select(
            func.max(ChainEventRow.bank),
            requested_at,
            *(_first(name) for name in (AUTHORISED, REFUSED, ACCEPTED, REJECTED)),
            func.min(case((ChainEventRow.name == REJECTED, reason))),
            *(_first(name) for name in (REPLIED, WITHDRAWN)),
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


def _reason_name(code: int) -> str:
    known = RejectionReason._value2member_map_.get(code)
    return known.name.lower() if isinstance(known, RejectionReason) else str(code)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _tally(letters: Iterable[_Letter], now: int) -> dict[str, Any]:
    letters = list(letters)
    today = _beijing(now)
    statute = _Statute()
    reply_seconds = [
        x.replied_at - x.authorised_at
        for x in letters
        if x.replied_at is not None and x.authorised_at is not None
    ]
    end_to_end = [x.replied_at - x.requested_at for x in letters if x.replied_at is not None]
    judged: list[Deadline] = []  # every deadline a figure below rests on

    def past(at: int | None, deadline: Deadline | None) -> bool:
        """Whether ``at`` (else today) is after ``deadline``; recorded as a deadline judged."""
        if deadline is None:
            return False
        judged.append(deadline)
        return (today if at is None else _beijing(at)) > deadline.due

    overdue = sum(x.awaiting_bank and past(None, x.reply_deadline(statute)) for x in letters)
    replied_late = sum(
        x.replied_at is not None and past(x.replied_at, x.reply_deadline(statute)) for x in letters
    )
    rejected = [x for x in letters if x.rejected_at is not None]
    notices_late = sum(past(x.rejected_at, x.notice_deadline(statute)) for x in rejected)
    notices = sum(x.authorised_at is not None for x in rejected)
    reasons = Counter(_reason_name(x.rejection_reason) for x in rejected if x.rejection_reason is not None)
    replied = sum(x.replied_at is not None for x in letters)
    return {
        "letters_received": len(letters),
        "authorised": sum(x.authorised_at is not None for x in letters),
        "accepted": sum(x.accepted_at is not None for x in letters),
        "rejected": len(rejected),
        "replied": replied,
        "withdrawn": sum(x.withdrawn_at is not None for x in letters),
        "refused": sum(x.refused_at is not None for x in letters),
        "awaiting": sum(x.awaiting_bank for x in letters),
        "overdue": overdue,
        "replied_late": replied_late,
        "reply_rate": _share(replied, replied + len(rejected) + overdue),
        "notices_on_time": notices - notices_late,
        "notices_late": notices_late,
        "notice_timeliness": _share(notices - notices_late, notices),
        "rejection_reasons": dict(sorted(reasons.items())),
        "provisional": sum(deadline.provisional for deadline in judged),
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

    ``now`` (unix seconds) decides which letters are overdue (by its Beijing date).
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
