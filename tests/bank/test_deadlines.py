"""Working-day deadlines on the official calendar, with fixed dates across the 2025 Spring Festival
(holiday 28 January – 4 February, make-up working days Sunday 26 January and Saturday 8 February)
and National Day (holiday 1–8 October, make-up working days Sunday 28 September and Saturday
11 October)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bank_adapter.deadlines import (
    Deadlines,
    Urgency,
    business_date,
    official,
    period_start,
    urgency,
    working_days_between,
)
from node_gateway.protocol.calendar import CALENDAR


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 25), False),  # Saturday
        (date(2025, 1, 26), True),  # Sunday, worked before the Spring Festival
        (date(2025, 1, 28), False),  # New Year's Eve: the holiday begins
        (date(2025, 2, 4), False),  # the last day off
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday, worked after it
        (date(2025, 9, 28), True),  # Sunday, worked before National Day
        (date(2025, 10, 1), False),
        (date(2025, 10, 8), False),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),  # Saturday, worked after it
        (date(2025, 10, 12), False),
    ],
)
def test_the_official_calendar(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        # Friday before the Spring Festival: Sun 26 and Mon 27 are days 1 and 2, then 5 February.
        (date(2025, 1, 24), 3, date(2025, 2, 5)),
        # …and the 10th: 5, 6, 7, Sat 8 (make-up), 10, 11, 12, 13 February.
        (date(2025, 1, 24), 10, date(2025, 2, 13)),
        # Received on the make-up Sunday itself: that day does not count.
        (date(2025, 1, 26), 3, date(2025, 2, 6)),
        # Received during the holiday: counting starts when work does.
        (date(2025, 1, 30), 3, date(2025, 2, 7)),
        (date(2025, 1, 30), 10, date(2025, 2, 17)),
        # Before National Day: Sun 28 September counts, then 29 and 30.
        (date(2025, 9, 26), 3, date(2025, 9, 30)),
        (date(2025, 9, 26), 10, date(2025, 10, 16)),
        # The day before it: 9, 10 and the make-up Saturday 11 October.
        (date(2025, 9, 30), 3, date(2025, 10, 11)),
        (date(2025, 9, 30), 10, date(2025, 10, 21)),
    ],
)
def test_due_dates_skip_holidays_and_count_make_up_days(received: date, days: int, due: date) -> None:
    assert CALENDAR.add_working_days(received, days) == due


def test_deadlines_of_a_letter_received_in_the_evening_count_from_china_s_date() -> None:
    # 23 January 2025, 17:30 UTC is already Friday the 24th in China.
    deadlines = Deadlines.for_receipt(datetime(2025, 1, 23, 17, 30, tzinfo=UTC))
    assert deadlines == Deadlines(date(2025, 1, 24), date(2025, 2, 5), date(2025, 2, 13))
    assert business_date(datetime(2025, 1, 23, 15, 59, tzinfo=UTC)) == date(2025, 1, 23)


def test_working_days_between() -> None:
    assert working_days_between(date(2025, 1, 24), date(2025, 2, 5)) == 3
    assert working_days_between(date(2025, 10, 1), date(2025, 10, 8)) == 0
    assert working_days_between(date(2025, 2, 5), date(2025, 2, 5)) == 0


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (date(2025, 2, 13), Urgency.NEAR_DUE),  # due today
        (date(2025, 2, 11), Urgency.NEAR_DUE),  # two working days left
        (date(2025, 2, 10), Urgency.ON_TIME),  # three
        (date(2025, 2, 14), Urgency.OVERDUE),
    ],
)
def test_urgency(on: date, expected: Urgency) -> None:
    assert urgency(date(2025, 2, 13), on) is expected


def test_near_due_spans_a_holiday() -> None:
    # On the last working day before National Day, a letter due right after it is near due.
    assert urgency(date(2025, 10, 9), date(2025, 9, 30), near_days=1) is Urgency.NEAR_DUE


def test_a_year_without_an_official_calendar_counts_weekdays() -> None:
    assert not official(date(2099, 1, 1))
    assert official(date(2025, 1, 1))
    # chinese-calendar 1.11.0 knows 2026, not 2027: a letter received on 28 December 2026 is due
    # in January 2027, so its deadlines are provisional until the operator publishes 2027.
    assert official(date(2026, 11, 30))
    assert not official(date(2026, 12, 28))
    assert CALENDAR.add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)  # Friday → Monday


def test_count_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least one"):
        CALENDAR.add_working_days(date(2025, 1, 1), 0)


@pytest.mark.parametrize(
    ("reference", "start"),
    [
        (date(2024, 12, 31), date(2024, 1, 1)),
        (date(2025, 6, 30), date(2024, 7, 1)),
        (date(2024, 2, 29), date(2023, 3, 1)),
    ],
)
def test_the_audit_period_is_the_year_to_the_reference_date(reference: date, start: date) -> None:
    assert period_start(reference) == start
