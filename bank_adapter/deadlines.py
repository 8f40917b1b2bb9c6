"""Deadlines in official Chinese working days (工作日).

The rules count in working days of the official calendar: weekends and public holidays are off,
and the make-up working days (调休, a Saturday or Sunday worked before or after a long holiday)
count. A bank tells the auditor within 3 working days if a letter is not compliant, and replies
within 10 working days of a compliant letter. Days are counted from the day after receipt, in
China's time (UTC+8, no daylight saving): a letter received on Friday evening before the Spring
Festival is due on the 3rd and 10th working days after that Friday.

The calendar is the network's (``node_gateway.protocol.calendar``): ``chinese-calendar``'s years and
the official years the operator has published. A deadline reaching into a year known from neither
is provisional (``official`` is False for that year), never silently counted in weekdays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from node_gateway.protocol.calendar import CALENDAR
from node_gateway.protocol.documents import CHINA_TIME

COMPLIANCE_WORKING_DAYS = 3
REPLY_WORKING_DAYS = 10
NEAR_DUE_WORKING_DAYS = 2


def official(day: date) -> bool:
    """Whether the deadlines of a letter received on ``day`` are exact: the official calendar is
    known through its reply deadline (in late December that reaches into the next year)."""
    return not CALENDAR.deadline(day, REPLY_WORKING_DAYS).provisional


def working_days_between(start: date, end: date) -> int:
    """How many working days come after ``start`` up to and including ``end`` (0 if none)."""
    return CALENDAR.working_days_between(start, end)


def period_start(reference_date: date) -> date:
    """The first day of the year that ends on ``reference_date`` (the audit period)."""
    try:
        year_before = reference_date.replace(year=reference_date.year - 1)
    except ValueError:  # 29 February
        year_before = reference_date.replace(year=reference_date.year - 1, day=28)
    return year_before + timedelta(days=1)


def business_date(moment: datetime) -> date:
    """The date in China of an aware ``moment``."""
    return moment.astimezone(CHINA_TIME).date()


def today() -> date:
    return business_date(datetime.now(UTC))


class Urgency(StrEnum):
    ON_TIME = "on_time"
    NEAR_DUE = "near_due"  # due today or within the next few working days
    OVERDUE = "overdue"  # the due day has passed


def urgency(due: date, on: date, *, near_days: int = NEAR_DUE_WORKING_DAYS) -> Urgency:
    """How pressing a deadline ``due`` is on day ``on``."""
    if on > due:
        return Urgency.OVERDUE
    if working_days_between(on, due) <= near_days:
        return Urgency.NEAR_DUE
    return Urgency.ON_TIME


@dataclass(frozen=True)
class Deadlines:
    """The bank's two deadlines for a letter received on ``received_on``."""

    received_on: date
    compliance_due: date  # tell the auditor why the letter is not compliant by then
    reply_due: date  # reply by then

    @classmethod
    def for_receipt(cls, received_at: datetime) -> Deadlines:
        received_on = business_date(received_at)
        return cls(
            received_on=received_on,
            compliance_due=CALENDAR.add_working_days(received_on, COMPLIANCE_WORKING_DAYS),
            reply_due=CALENDAR.add_working_days(received_on, REPLY_WORKING_DAYS),
        )
