"""Item 3 (期内注销账户) is drafted from the period the letter states (自…起至…, the auditor's
choice), never from a year the bank assumes: an audit period of eighteen months reaches back past
the calendar year, a shorter one leaves earlier closings out."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from bank_adapter.core_rows import AccountRow, CustomerRow
from bank_adapter.core_sql import CoreBank
from bank_adapter.drafting import draft_reply
from node_gateway.protocol import parse_letter
from node_gateway.protocol.documents import AccountType, DepositType, DifferenceReason, ItemStatus
from node_gateway.protocol.samples import AUDITEE, sample_letter

AS_OF = date(2024, 12, 31)


def _account(number: str, closed_on: date | None) -> AccountRow:
    return AccountRow(
        account_no=number,
        currency="CNY",
        customer_code=AUDITEE.registration_code,
        account_name=AUDITEE.name,
        account_type=AccountType.GENERAL,
        deposit_type=DepositType.DEMAND,
        opened_on=date(2020, 1, 1),
        closed_on=closed_on,
    )


def _core(tmp_path: Path) -> CoreBank:
    core = CoreBank(f"sqlite:///{tmp_path / 'core.db'}")
    core.load(
        {
            "customers": [CustomerRow(registration_code=AUDITEE.registration_code, name=AUDITEE.name)],
            "accounts": [
                _account("C2023", date(2023, 8, 20)),  # before the calendar year
                _account("C2024", date(2024, 3, 1)),
                _account("C2024B", date(2024, 11, 30)),
            ],
        }
    )
    return core


def _letter(closed_period: dict[str, str], entries: list[dict[str, Any]]) -> dict[str, Any]:
    data = sample_letter(reference_date=AS_OF).model_dump(mode="json", by_alias=True)
    data["audit_period"] = closed_period
    data["closed_accounts_period"] = closed_period
    data["items"] = {key: {"not_applicable": True} for key in data["items"]}
    data["items"]["closed_accounts"] = {"entries": entries} if entries else {"not_applicable": True}
    return data


def _closed(number: str, on: str) -> dict[str, Any]:
    return {"account_no": number, "account_name": AUDITEE.name, "currency": "CNY", "closed_on": on}


def test_the_bank_drafts_item_3_from_the_letter_s_period(tmp_path: Path) -> None:
    core = _core(tmp_path)
    try:
        snapshot = core.snapshot(AUDITEE.registration_code, AS_OF)
        eighteen_months = _letter(
            {"start": "2023-07-01", "end": "2024-12-31"},
            [_closed("C2023", "2023-08-20"), _closed("C2024", "2024-03-01"), _closed("C2024B", "2024-11-30")],
        )
        answer = draft_reply(parse_letter(eighteen_months), snapshot).items.closed_accounts
        assert answer.status is ItemStatus.CONFIRMED, answer.differences  # 2023's closing is in it

        second_half = _letter({"start": "2024-07-01", "end": "2024-12-31"}, [_closed("C2024B", "2024-11-30")])
        answer = draft_reply(parse_letter(second_half), snapshot).items.closed_accounts
        assert answer.status is ItemStatus.CONFIRMED, answer.differences  # March's closing is not

        # Listing nothing for the eighteen months leaves the bank three closings to report.
        nothing = _letter({"start": "2023-07-01", "end": "2024-12-31"}, [])
        answer = draft_reply(parse_letter(nothing), snapshot).items.closed_accounts
        assert answer.status is ItemStatus.EXCEPTION
        assert [d.reason for d in answer.differences] == [DifferenceReason.NOT_LISTED_BY_AUDITOR] * 3
        assert sorted(e.account_no for e in answer.entries) == ["C2023", "C2024", "C2024B"]
    finally:
        core.dispose()
