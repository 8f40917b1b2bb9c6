"""The official working-day calendar: chinese-calendar's years, and the years the operator publishes
as a file whose SHA-256 the network file records. The 2027 file here is test data (the State
Council's notice for 2027 is not transcribed in this repository)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from node_gateway.chain.network import NetworkFile, calendar_path, publish_calendar
from node_gateway.gateway_cli import network_app
from node_gateway.protocol.calendar import OfficialYear, WorkingCalendar, calendar_hash
from node_gateway.protocol.documents import CHINA_TIME
from node_gateway.protocol.errors import DocumentHashMismatch, InvalidDocument

TEST_2027 = Path(__file__).parent / "data" / "calendar-2027.test.json"


@pytest.fixture
def network_file(tmp_path: Path) -> Path:
    path = tmp_path / "network" / "network.json"
    NetworkFile(
        chain_id=31337,
        rpc_url="http://127.0.0.1:8545",
        member_registry="0x" + "11" * 20,
        confirmation_registry="0x" + "22" * 20,
        deployment_block=1,
    ).save(path)
    return path


def test_2026_from_the_library_holiday_and_make_up_day() -> None:
    calendar = WorkingCalendar()
    assert calendar.knows(2026)
    assert not calendar.is_working_day(date(2026, 2, 17))  # Spring Festival, a Tuesday off
    assert calendar.is_working_day(date(2026, 2, 14))  # Saturday, worked before it
    assert not calendar.is_working_day(date(2026, 10, 1))  # National Day
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday, worked after it
    # Received Friday 13 February 2026: the make-up Saturday is day 1, then the holiday to the 23rd.
    assert calendar.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)


def test_2027_is_provisional_without_the_file_and_exact_with_it() -> None:
    # Thursday 31 December 2026 + 3 working days: weekdays give Mon 4 January 2027, provisionally.
    without = WorkingCalendar().deadline(date(2026, 12, 31), 3)
    assert without.provisional
    assert without.due == date(2027, 1, 5)  # Fri 1 January counted as a weekday would be
    with_file = WorkingCalendar([OfficialYear.read(TEST_2027.read_bytes())])
    exact = with_file.deadline(date(2026, 12, 31), 3)
    assert not exact.provisional
    assert exact.due == date(2027, 1, 6)  # 1 January is a holiday in the file
    assert with_file.is_working_day(date(2027, 2, 20))  # its make-up Saturday
    assert not with_file.is_working_day(date(2027, 2, 10))
    assert not WorkingCalendar().deadline(date(2026, 3, 2), 10).provisional


def test_the_operator_publishes_and_a_gateway_adopts_only_the_recorded_file(network_file: Path) -> None:
    data = TEST_2027.read_bytes()
    result = CliRunner().invoke(
        network_app, ["publish-calendar", str(TEST_2027), "--network-file", str(network_file)]
    )
    assert result.exit_code == 0, result.output
    assert calendar_hash(data) in result.output
    described = NetworkFile.load(network_file)
    assert described.calendars == {2027: calendar_hash(data)}
    assert calendar_path(network_file, 2027).read_bytes() == data
    assert [y.year for y in described.official_years(network_file)] == [2027]

    # A member whose copy differs by one byte refuses it: every member counts in the same days.
    calendar_path(network_file, 2027).write_bytes(data.replace(b"2027-02-20", b"2027-02-27"))
    with pytest.raises(DocumentHashMismatch, match="network recorded"):
        described.official_years(network_file)
    calendar_path(network_file, 2027).unlink()
    with pytest.raises(InvalidDocument, match="is missing"):
        described.official_years(network_file)


def test_a_network_file_without_calendars_reads_as_before(network_file: Path) -> None:
    assert "calendars" not in json.loads(network_file.read_text(encoding="utf-8"))
    assert NetworkFile.load(network_file).official_years(network_file) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workdays": ["2027-02-22"]}, "Saturday or Sunday"),  # a Monday as a make-up day
        ({"holidays": ["2028-01-03"]}, "fall in 2027"),
        ({"holidays": ["2027-02-20"]}, "both"),
        ({"notice": ""}, "notice"),
    ],
)
def test_a_file_that_is_no_calendar_is_refused(
    network_file: Path, change: dict[str, object], message: str
) -> None:
    bad = json.loads(TEST_2027.read_text(encoding="utf-8")) | change
    with pytest.raises(InvalidDocument, match=message):
        publish_calendar(network_file, json.dumps(bad).encode())
    assert NetworkFile.load(network_file).calendars == {}


def test_the_bank_counts_in_the_published_years(monkeypatch: pytest.MonkeyPatch) -> None:
    """A letter received on 28 December 2026: provisional until 2027 is published, then exact,
    with 1 January 2027 off as the file says."""
    from bank_adapter import deadlines

    monkeypatch.setattr(deadlines, "CALENDAR", WorkingCalendar())
    assert not deadlines.official(date(2026, 12, 28))
    monkeypatch.setattr(deadlines, "CALENDAR", WorkingCalendar([OfficialYear.read(TEST_2027.read_bytes())]))
    assert deadlines.official(date(2026, 12, 28))
    received = datetime(2026, 12, 28, 9, tzinfo=CHINA_TIME)
    assert deadlines.Deadlines.for_receipt(received).compliance_due == date(2026, 12, 31)
    assert deadlines.Deadlines.for_receipt(received).reply_due == date(2027, 1, 12)


def test_the_command_refuses_a_file_that_is_no_calendar(network_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "calendar-2027.json"
    bad.write_text(
        TEST_2027.read_text(encoding="utf-8").replace("2027-02-20", "2027-02-22"), encoding="utf-8"
    )
    result = CliRunner().invoke(
        network_app, ["publish-calendar", str(bad), "--network-file", str(network_file)]
    )
    assert result.exit_code == 2
    assert "Saturday or Sunday" in result.output
    assert not calendar_path(network_file, 2027).exists()


def test_a_gateway_adopts_the_recorded_calendar_and_no_other(
    network_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node_gateway import node
    from node_gateway.core.config import GatewaySettings, MemberRole
    from node_gateway.node import attach_network

    publish_calendar(network_file, TEST_2027.read_bytes())
    settings = GatewaySettings(
        role=MemberRole.REGULATOR,
        display_name="监管",
        registration_code="11100000000000000X",
        data_dir=tmp_path / "gateway",
        network_file=network_file,
    )
    adopted = WorkingCalendar()
    monkeypatch.setattr(node, "CALENDAR", adopted)
    attach_network(settings)  # the recorded file: adopted
    assert adopted.knows(2027)
    assert not adopted.is_working_day(date(2027, 1, 1))

    calendar_path(network_file, 2027).write_text("{}", encoding="utf-8")
    with pytest.raises(DocumentHashMismatch):
        attach_network(settings)
