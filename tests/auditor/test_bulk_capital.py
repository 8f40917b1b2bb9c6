"""验资 letters from a sheet: ``letter_format`` ``capital`` (or ``验资``), one row per contribution."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from node_gateway.protocol.documents import ItemKey, LetterFormat
from node_gateway.protocol.workbook import plan_file, template_rows

from .test_bulk import FIRM, TODAY, write_csv

LETTER_COLUMNS = {
    column: value
    for column, value in template_rows()[0].items()
    if column
    not in ("item", "account_no", "account_type", "deposit_type", "balance", "account_name", "currency")
}


def _contribution(payer: str, amount: str, **extra: str) -> dict[str, str]:
    return {
        **LETTER_COLUMNS,
        "letter_format": "验资",
        "item": "验资",
        "payer_name": payer,
        "paid_on": "2024-12-18",
        "account_no": "31050161373600006688",
        "currency": "CNY",
        "amount": amount,
        "purpose": "投资款",
        **extra,
    }


def test_a_capital_letter_is_planned_from_its_contribution_rows(tmp_path: Path) -> None:
    rows = [
        _contribution("江南控股集团有限公司", "30000000.00"),
        _contribution("上海浦江创业投资合伙企业(有限合伙)", "12500000.00"),
    ]
    plan = plan_file(write_csv(tmp_path / "capital.csv", rows), audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    (planned,) = plan.letters
    letter = planned.letter
    assert letter.format is LetterFormat.CAPITAL
    assert [(key, [e.amount for e in item.entries]) for key, item in letter.items.by_key()] == [
        (ItemKey.CAPITAL_CONTRIBUTIONS, [Decimal("30000000.00"), Decimal("12500000.00")])
    ]
    assert letter.items.capital_contributions.entries[0].paid_on == date(2024, 12, 18)


def test_a_capital_letter_without_contributions_or_with_a_standard_item_is_refused(tmp_path: Path) -> None:
    marked = [{**_contribution("x", ""), "payer_name": "", "paid_on": "", "account_no": "", "currency": ""}]
    marked[0] |= {"amount": "", "purpose": "", "not_applicable": "yes"}
    plan = plan_file(write_csv(tmp_path / "blank.csv", marked), audit_firm=FIRM, today=TODAY)
    assert not plan.ok
    assert any("lists the contributions" in issue.message for issue in plan.issues), plan.issues

    deposit = {**template_rows()[0], "letter_format": "验资"}
    rows = [_contribution("江南控股集团有限公司", "30000000.00"), deposit]
    plan = plan_file(write_csv(tmp_path / "mixed.csv", rows), audit_firm=FIRM, today=TODAY)
    assert [(i.row, i.column) for i in plan.issues] == [(3, "item")]
    assert "is not on a capital letter" in plan.issues[0].message
    english = [{**row, "letter_format": "capital"} for row in rows[:1]]
    plan = plan_file(write_csv(tmp_path / "english.csv", english), audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    assert plan.letters[0].letter.format is LetterFormat.CAPITAL


def test_a_contribution_row_on_a_standard_letter_is_refused(tmp_path: Path) -> None:
    rows = [
        *template_rows(),
        {**_contribution("江南控股集团有限公司", "30000000.00"), "letter_format": "one"},
    ]
    plan = plan_file(write_csv(tmp_path / "standard.csv", rows), audit_firm=FIRM, today=TODAY)
    assert [(i.row, i.column) for i in plan.issues] == [(len(rows) + 1, "item")]
    assert "is not on a one letter" in plan.issues[0].message
