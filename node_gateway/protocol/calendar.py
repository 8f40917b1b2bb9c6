"""The official working-day calendar (工作日), one for every member: the bank's deadlines and the
regulator's statistics count in it.

Weekends and public holidays are off; the make-up working days (调休, a Saturday or Sunday worked
before or after a long holiday) count. Each year comes from the State Council's notice: the years
the ``chinese-calendar`` package knows, and after them the official calendar files the operator
publishes to the network (an :class:`OfficialYear` as JSON, its SHA-256 recorded in the network
file: see ``NetworkFile.calendars`` and docs/OPERATIONS.md). A day in a year known from neither is
counted as a weekday would be, and every deadline reaching into such a year is ``provisional``:
shown as such, never passed off as exact.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from node_gateway.protocol.errors import DocumentHashMismatch, InvalidDocument

log = logging.getLogger(__name__)

SATURDAY = 5


class OfficialYear(BaseModel):
    """One year's days off and make-up working days, as the State Council's notice sets them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=2000, le=2200)
    notice: str = Field(min_length=1, description="The notice it transcribes, e.g. 国办发明电〔…〕…号")
    holidays: frozenset[date] = Field(description="Days off that would otherwise be working days")
    workdays: frozenset[date] = Field(description="Make-up working days: a Saturday or Sunday worked")

    @model_validator(mode="after")
    def _consistent(self) -> OfficialYear:
        if any(day.year != self.year for day in self.holidays | self.workdays):
            raise ValueError(f"every day must fall in {self.year}")
        if self.holidays & self.workdays:
            raise ValueError("a day cannot be both a holiday and a make-up working day")
        if any(day.weekday() < SATURDAY for day in self.workdays):
            raise ValueError("a make-up working day falls on a Saturday or Sunday")
        return self

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < SATURDAY and day not in self.holidays)

    @classmethod
    def read(cls, data: bytes, *, sha256: str | None = None) -> OfficialYear:
        """The calendar in ``data``; refused if it is not the file whose hash the network recorded
        (DocumentHashMismatch) or not a calendar (InvalidDocument)."""
        if sha256 is not None and calendar_hash(data) != sha256.lower():
            raise DocumentHashMismatch(
                f"the calendar file's SHA-256 is {calendar_hash(data)}, the network recorded {sha256}"
            )
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise InvalidDocument(f"not an official calendar file: {exc}", exc.errors()) from exc  # type: ignore[arg-type]


def calendar_hash(data: bytes) -> str:
    """The SHA-256 (hex) that names a calendar file's exact bytes in the network file."""
    return hashlib.sha256(data).hexdigest()


def _library_working_day(day: date) -> bool | None:
    """What ``chinese-calendar`` says of ``day``, None for a year it does not know."""
    import chinese_calendar  # the gateway extra; the auditor's tools never count working days

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class Deadline:
    """A due day; ``provisional`` if a day up to it lies in a year whose calendar is not known."""

    due: date
    provisional: bool


class WorkingCalendar:
    """Working days from ``chinese-calendar`` and the official years given (these take precedence:
    they are what the network agreed on)."""

    def __init__(self, published: Iterable[OfficialYear] = ()) -> None:
        self._published: dict[int, OfficialYear] = {}
        self._warned: set[int] = set()
        self.adopt(*published)

    def adopt(self, *years: OfficialYear) -> None:
        for official_year in years:
            self._published[official_year.year] = official_year

    @property
    def published_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._published))

    def knows(self, year: int) -> bool:
        """Whether ``year``'s official calendar is known (else its deadlines are provisional)."""
        return year in self._published or _library_working_day(date(year, 1, 1)) is not None

    def is_working_day(self, day: date) -> bool:
        if day.year in self._published:
            return self._published[day.year].is_working_day(day)
        known = _library_working_day(day)
        if known is not None:
            return known
        if day.year not in self._warned:
            self._warned.add(day.year)
            log.warning("no official calendar for %d yet: its deadlines are provisional", day.year)
        return day.weekday() < SATURDAY

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        if days < 1:
            raise ValueError("count at least one working day")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def deadline(self, start: date, days: int) -> Deadline:
        """The ``days``-th working day after ``start``, provisional if it was counted through a
        year whose calendar is not known."""
        due = self.add_working_days(start, days)
        provisional = not all(self.knows(year) for year in range(start.year, due.year + 1))
        return Deadline(due, provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days come after ``start`` up to and including ``end`` (0 if none)."""
        return sum(self.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))


# The calendar of this process: the gateway adopts the network's published years when it starts.
CALENDAR = WorkingCalendar()
