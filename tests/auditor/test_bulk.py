"""Letters from CSV and Excel: the layout, grouping, and a row-by-row report that stops everything."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from node_gateway.protocol.documents import AuditFirm, ItemKey, LetterFormat, uscc
from node_gateway.protocol.workbook import (
    COLUMNS,
    MemberInfo,
    SheetError,
    plan_file,
    template_rows,
    write_template,
)

FIRM = AuditFirm(member_no=2, name="明鉴会计师事务所")
TODAY = date(2025, 1, 6)


def write_csv(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8-sig") -> Path:
    columns = list(dict.fromkeys(c for row in rows for c in row))
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def letter_rows(code: str = uscc("91310115MA1H7Q3K2"), **extra: str) -> list[dict[str, str]]:
    return [{**row, "auditee_code": code, **extra} for row in template_rows()]


def test_the_template_is_one_valid_letter(tmp_path: Path) -> None:
    path = tmp_path / "template.csv"
    write_template(path)
    with path.open(encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle))
    assert header == list(COLUMNS)
    assert not [column for column in header if "salt" in column]  # the auditor gives no salt
    plan = plan_file(path, audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    assert plan.notices == []
    (planned,) = plan.letters
    letter = planned.letter
    assert planned.rows == tuple(range(2, 2 + len(template_rows())))
    assert [e.balance for e in letter.items.deposits.entries] == [Decimal("12345678.90"), Decimal("0.00")]
    assert [e.account_type.value for e in letter.items.deposits.entries] == ["basic", "general"]
    (loan,) = letter.items.loans.entries
    assert (loan.interest_rate, loan.principal, loan.accrued_interest) == (
        Decimal("3.45"),
        Decimal("30000000.00"),
        Decimal("31625.00"),
    )
    assert letter.items.guarantees.not_applicable
    assert letter.items.custody.not_applicable  # its own row says so
    assert (letter.audit_firm, letter.reference_date, letter.issued_on) == (FIRM, date(2024, 12, 31), TODAY)
    assert (letter.audit_period.start, letter.audit_period.end) == (date(2024, 1, 1), date(2024, 12, 31))
    # Item 3's period: the audit period unless given.
    assert letter.closed_accounts_period == letter.audit_period
    assert (letter.firm_contact.name, letter.firm_contact.phone) == ("赵敏", "+86 21 6350 8800")
    assert letter.fee_account is not None
    assert letter.fee_account.account_no == "31050161373600001234"
    assert letter.confirmation_no is None  # the firm's gateway numbers the letter when it creates it


def test_format_one_item_no_row_mentions_is_an_error_not_a_not_applicable(tmp_path: Path) -> None:
    rows = [row for row in letter_rows() if row["item"] != "custody"]
    plan = plan_file(write_csv(tmp_path / "omitted.csv", rows), audit_firm=FIRM, today=TODAY)
    assert not plan.ok
    assert plan.letters == []
    ((issue),) = plan.issues
    assert (issue.row, issue.column) == (2, "item")
    for words in ("custody", "托管证券或其他产权文件", "not_applicable"):
        assert words in issue.message
    # Format two leaves an item nobody mentions to the bank; it still lists the accounts it knows.
    two = [{**row, "letter_format": "two"} for row in rows if row["item"] in ("deposits", "loans")]
    plan = plan_file(write_csv(tmp_path / "two.csv", two), audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    assert plan.letters[0].letter.items.custody.blank


def test_item_3_period_is_the_auditors(tmp_path: Path) -> None:
    rows = letter_rows(closed_period_start="2024-07-01", closed_period_end="2024-12-31")
    plan = plan_file(write_csv(tmp_path / "period.csv", rows), audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    period = plan.letters[0].letter.closed_accounts_period
    assert (period.start, period.end) == (date(2024, 7, 1), date(2024, 12, 31))
    late = letter_rows(closed_period_start="2024-07-01", closed_period_end="2025-01-05")
    plan = plan_file(write_csv(tmp_path / "late.csv", late), audit_firm=FIRM, today=TODAY)
    assert [(i.row, i.column) for i in plan.issues] == [(2, "closed_period_end")]
    assert "ends after the reference date" in plan.issues[0].message


def test_the_firm_s_contact_and_format_two_s_fee_account_are_checked(tmp_path: Path) -> None:
    unreachable = letter_rows(firm_contact_phone="")
    for row in unreachable:
        row["firm_contact_phone"] = ""
    plan = plan_file(write_csv(tmp_path / "contact.csv", unreachable), audit_firm=FIRM, today=TODAY)
    assert [(i.row, i.column) for i in plan.issues] == [(2, "firm_contact_name")]
    assert "phone or an email" in plan.issues[0].message
    no_fee = [
        {**row, "letter_format": "two", "fee_account_no": "", "fee_account_name": "", "balance": ""}
        for row in letter_rows()
        if row["item"] == "deposits"
    ]
    plan = plan_file(write_csv(tmp_path / "fee.csv", no_fee), audit_firm=FIRM, today=TODAY)
    assert [(i.row, i.column) for i in plan.issues] == [(2, "fee_account_no")]
    assert "fee" in plan.issues[0].message


def test_rows_group_into_letters_by_auditee_bank_date_and_format(tmp_path: Path) -> None:
    second = uscc("91310000MA1G00007")
    rows = letter_rows() + letter_rows(second) + letter_rows(letter_format="two", auditee_name="x公司")[:1]
    rows[-1]["balance"] = ""
    plan = plan_file(write_csv(tmp_path / "three.csv", rows), audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    assert len(plan.letters) == 3
    assert {p.letter.auditee.registration_code for p in plan.letters} == {
        letter_rows()[0]["auditee_code"],
        second,
    }
    two = next(p.letter for p in plan.letters if p.letter.format is LetterFormat.TWO)
    assert two.items.loans.blank  # format two leaves unlisted items for the bank
    assert len({p.letter.letter_id for p in plan.letters}) == 3


def test_letter_key_splits_otherwise_identical_letters(tmp_path: Path) -> None:
    rows = letter_rows(letter_key="A") + letter_rows(letter_key="B")
    plan = plan_file(write_csv(tmp_path / "keys.csv", rows), audit_firm=FIRM, today=TODAY)
    assert [p.key for p in plan.letters] == ["A", "B"]


def test_bad_rows_are_reported_one_by_one_and_no_letter_is_planned(tmp_path: Path) -> None:
    rows = letter_rows()
    rows[0]["balance"] = "12,345.6"  # row 2: not an amount
    rows[1]["deposit_type"] = "savings"  # row 3: not a deposit product
    rows[2]["closed_on"] = "2024-03-01"  # row 4: a column of another item
    rows[3]["item"] = "99"  # row 5: no such item
    last = len(rows) + 1
    rows.append({**letter_rows()[0], "balance": ""})  # format one leaves a figure blank
    rows.append({**letter_rows()[0], "bank_name": "另一家银行"})  # disagrees with its letter
    plan = plan_file(write_csv(tmp_path / "bad.csv", rows), audit_firm=FIRM, today=TODAY)
    assert not plan.ok
    assert plan.letters == []
    with pytest.raises(ValueError, match="nothing may be sent"):
        plan.drafts()
    issues = {(i.row, i.column) for i in plan.issues}
    assert {
        (2, "balance"),
        (3, "deposit_type"),
        (4, "closed_on"),
        (5, "item"),
        (last + 1, "balance"),
        (last + 2, "bank_name"),
    } <= issues
    assert set(plan.issues_by_row()) == {2, 3, 4, 5, last + 1, last + 2}


def test_header_problems_stop_before_the_rows(tmp_path: Path) -> None:
    rows = [{**row, "acount_no": "1"} for row in letter_rows()]
    for row in rows:
        del row["auditee_name"]
    plan = plan_file(write_csv(tmp_path / "header.csv", rows), audit_firm=FIRM, today=TODAY)
    assert {(i.row, i.column) for i in plan.issues} == {(1, "acount_no"), (1, "auditee_name")}
    assert "did you mean account_no" in str(plan.issues[0]) or "did you mean" in str(plan.issues[1])


def test_letter_level_rules(tmp_path: Path) -> None:
    rows = letter_rows(reply_due="2024-12-01")
    rows.append({**letter_rows()[3], "account_no": "1"})  # not applicable with an entry value
    plan = plan_file(write_csv(tmp_path / "rules.csv", rows), audit_firm=FIRM, today=TODAY)
    columns = {i.column for i in plan.issues}
    assert {"reply_due", "account_no"} <= columns


def test_an_old_template_s_salt_column_is_ignored_and_said_so(tmp_path: Path) -> None:
    """A sheet made from the template of before, with its auditee_salt column (a salt in one row,
    garbage in another, blank elsewhere): the letter is planned as without it, nothing of the
    column reaches the draft, and the plan's notices name the column."""
    rows = [{"auditee_salt": "", **row} for row in letter_rows()]
    rows[0]["auditee_salt"], rows[1]["auditee_salt"] = "0x" + "ab" * 32, "not a salt"
    plan = plan_file(write_csv(tmp_path / "old.csv", rows), audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    ((notice),) = plan.notices
    assert (notice.row, notice.column) == (1, "auditee_salt")
    assert "ignored" in notice.message
    assert all("auditee_salt" not in row.cells for row in plan.rows)
    (draft,) = plan.drafts()
    assert set(draft.model_dump()) == {"letter", "due_at"}
    fresh = plan_file(write_csv(tmp_path / "new.csv", letter_rows()), audit_firm=FIRM, today=TODAY)
    assert fresh.letters[0].letter.model_dump(exclude={"letter_id"}) == draft.letter.model_dump(
        exclude={"letter_id"}
    )


def test_excel_with_numbers_and_dates_as_cells(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "函证"
    columns = list(COLUMNS)
    sheet.append(columns)
    for row in letter_rows():
        values: list[object] = [row.get(c) or None for c in columns]
        values[columns.index("reference_date")] = date(2024, 12, 31)
        values[columns.index("bank_member_no")] = 3
        if row.get("balance"):
            values[columns.index("balance")] = float(row["balance"])
        sheet.append(values)
    path = tmp_path / "letters.xlsx"
    workbook.save(path)
    plan = plan_file(path, audit_firm=FIRM, sheet="函证", today=TODAY)
    assert plan.ok, plan.issues
    assert plan.letters[0].letter.items.deposits.entries[0].balance == Decimal("12345678.90")
    with pytest.raises(SheetError, match="no sheet"):
        plan_file(path, audit_firm=FIRM, sheet="missing")


def test_a_csv_saved_by_chinese_excel_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", letter_rows(), encoding="gb18030")
    plan = plan_file(path, audit_firm=FIRM, today=TODAY)
    assert plan.ok, plan.issues
    assert plan.letters[0].letter.items.by_key()[0][0] is ItemKey.DEPOSITS
    assert plan.letters[0].letter.auditee.name == "上海江南精密机械股份有限公司"


def test_files_that_are_no_sheet(tmp_path: Path) -> None:
    with pytest.raises(SheetError):
        plan_file(tmp_path.joinpath("x.json"), audit_firm=FIRM)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SheetError, match="empty"):
        plan_file(empty, audit_firm=FIRM)


def test_each_letter_s_bank_must_be_an_active_bank_member(tmp_path: Path) -> None:
    network = {
        2: MemberInfo("audit_firm", "active", "明鉴会计师事务所"),
        3: MemberInfo("bank", "active", "东海银行"),
        4: MemberInfo("bank", "revoked", "南湖银行"),
    }
    asked: list[int] = []

    def members(number: int) -> MemberInfo | None:
        asked.append(number)
        return network.get(number)

    size = len(template_rows())
    b, c, d = (2 + size * n for n in (1, 2, 3))  # the first rows of letters B, C and D
    rows = (
        letter_rows(letter_key="A", bank_member_no="3")  # fine
        + letter_rows(letter_key="B", bank_member_no="4")  # a revoked bank
        + letter_rows(letter_key="C", bank_member_no="2")  # an audit firm
        + letter_rows(letter_key="D", bank_member_no="8")  # nobody
        + letter_rows(letter_key="E", bank_member_no="3")  # fine, the same bank again
    )
    rows[1]["balance"] = "12,345.6"  # row 3: reported too, with the banks
    plan = plan_file(write_csv(tmp_path / "banks.csv", rows), audit_firm=FIRM, today=TODAY, members=members)
    assert plan.letters == []
    found = {(i.row, i.column): i.message for i in plan.issues}
    assert set(found) == {(3, "balance"), (b, "bank_member_no"), (c, "bank_member_no"), (d, "bank_member_no")}
    assert found[(b, "bank_member_no")] == "bank 4 (南湖银行) is revoked: it receives no letters"
    assert found[(c, "bank_member_no")] == "member 2 (明鉴会计师事务所) is an audit firm, not a bank"
    assert found[(d, "bank_member_no")] == "the network has no member 8"
    assert sorted(asked) == [2, 3, 4, 8]  # each bank looked up once

    fine = plan_file(
        write_csv(tmp_path / "fine.csv", letter_rows(bank_member_no="3")),
        audit_firm=FIRM,
        today=TODAY,
        members=members,
    )
    assert fine.ok, fine.issues
