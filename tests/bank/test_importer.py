"""Importing core data from CSV and Excel: round trips, and bad files refused whole with each bad
row's line and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from bank_adapter.core_rows import ROW_TYPES, CustomerRow, rows_of
from bank_adapter.core_sql import TABLES, CoreBank
from bank_adapter.generator import dataset_from_letter, generate
from bank_adapter.importer import ImportProblem, ImportRejected, export_csv, export_xlsx, import_files
from node_gateway.protocol.documents import ConfirmationLetter, uscc

AS_OF = date(2024, 12, 31)
CODE = uscc("91310115MA1H7Q3K9")
HEADER = "account_no,currency,customer_code,account_name,account_type,deposit_type,opened_on,closed_on\n"


def _counts(core: CoreBank) -> dict[str, int]:
    with core.engine.connect() as connection:
        return {
            t.table: connection.scalar(select(func.count()).select_from(TABLES[t])) or 0 for t in ROW_TYPES
        }


def _problems(core: CoreBank, files: list[Path]) -> list[tuple[str, int, str]]:
    before = _counts(core)
    with pytest.raises(ImportRejected) as rejected:
        import_files(core, files)
    assert _counts(core) == before, "a refused import changed the core"
    return [(p.source, p.line, p.message) for p in rejected.value.problems]


def test_csv_round_trip(core: CoreBank, tmp_path: Path) -> None:
    dataset = generate(customers=15, seed=2, reference_date=AS_OF)
    files = export_csv(dataset, tmp_path)
    counts = import_files(core, files)
    assert counts == {name: len(rows) for name, rows in dataset.items()}
    code = rows_of(dataset, CustomerRow)[4].registration_code
    direct = CoreBank(f"sqlite:///{tmp_path / 'direct.db'}")
    direct.load(dataset)
    assert core.snapshot(code, AS_OF) == direct.snapshot(code, AS_OF)
    direct.dispose()


def test_excel_round_trip(core: CoreBank, tmp_path: Path, letter: ConfirmationLetter) -> None:
    dataset = dataset_from_letter(letter)
    workbook = export_xlsx(dataset, tmp_path / "core.xlsx")
    import_files(core, [workbook])
    direct = CoreBank(f"sqlite:///{tmp_path / 'direct.db'}")
    direct.load(dataset)
    code = letter.auditee.registration_code
    assert core.snapshot(code, letter.reference_date) == direct.snapshot(code, letter.reference_date)
    direct.dispose()


def test_bad_rows_are_each_reported_and_nothing_is_imported(core: CoreBank, tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text(f"registration_code,name\n{CODE},测试公司\nbad code!,坏公司\n", encoding="utf-8")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        HEADER
        + f"A1,CNY,{CODE},测试公司,basic,demand,2020-01-01,\n"
        + f"A2,US$,{CODE},测试公司,basic,demand,2020-01-01,\n"
        + f"A3,CNY,{CODE},测试公司,basic,savings,2020-01-01,\n"
        + f"A4,CNY,{CODE},测试公司,basic,demand,2020-01-01,2019-05-01\n"
        + f"A1,CNY,{CODE},测试公司,basic,demand,2020-01-01,\n"
        + f"A5,CNY,{uscc('91310115MA1H7Q3K2')},别家公司,basic,demand,2020-01-01,\n"
        + f'"A6",CNY,{CODE},"多行\n名称",basic,demand,not a date,\n',
        encoding="utf-8",
    )
    balances = tmp_path / "balances.csv"
    balances.write_text(
        "account_no,currency,as_of,balance\nA1,CNY,2024-12-31,100.00\nZZ,CNY,2024-12-31,1\nA1,CNY,2024-12-30,1.234\n"
    )
    problems = _problems(core, [customers, accounts, balances])
    lines = [(source, line) for source, line, _ in problems]
    assert lines == [
        ("customers.csv", 3),
        ("accounts.csv", 3),
        ("accounts.csv", 4),
        ("accounts.csv", 5),
        ("accounts.csv", 6),
        ("accounts.csv", 7),
        ("accounts.csv", 8),
        ("balances.csv", 3),
        ("balances.csv", 4),
    ]
    reasons = {(source, line): message for source, line, message in problems}
    assert "currency" in reasons[("accounts.csv", 3)]
    assert "deposit_type" in reasons[("accounts.csv", 4)]
    assert "closed_on is before opened_on" in reasons[("accounts.csv", 5)]
    assert "the same account_no, currency as accounts.csv:2" in reasons[("accounts.csv", 6)]
    assert "customer_code" in reasons[("accounts.csv", 7)]
    assert "opened_on" in reasons[("accounts.csv", 8)]  # the record that starts on line 8 spans two
    assert "no account or loan ZZ in CNY" in reasons[("balances.csv", 3)]
    assert "decimal places" in reasons[("balances.csv", 4)]
    assert "registration code" in reasons[("customers.csv", 3)]


def test_columns_are_checked_once(core: CoreBank, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("registration_code,nam,size\nX,Y,Z\n")
    ((source, line, message),) = _problems(core, [path])
    assert (source, line) == ("customers.csv", 1)
    assert "unknown column(s) nam, size" in message
    assert "missing column(s) name" in message


def test_unknown_tables_and_files(core: CoreBank, tmp_path: Path) -> None:
    (tmp_path / "mortgages.csv").write_text("a\n1\n")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    problems = _problems(core, [tmp_path / "mortgages.csv", tmp_path / "notes.pdf", tmp_path / "missing.csv"])
    assert [(s, line) for s, line, _ in problems] == [
        ("mortgages.csv", 0),
        ("notes.pdf", 0),
        (str(tmp_path / "missing.csv"), 0),
    ]


def test_references_may_name_what_the_core_already_holds(core: CoreBank, tmp_path: Path) -> None:
    core.load({"customers": [CustomerRow(registration_code=CODE, name="测试公司")]})
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(HEADER + f"A1,CNY,{CODE.lower()},测试公司,basic,demand,2020-01-01,\n")
    assert import_files(core, [accounts]) == {"accounts": 1}


def test_gb18030_csv_and_yes_no_in_chinese(core: CoreBank, tmp_path: Path) -> None:
    path = tmp_path / "accounts.csv"
    text = (
        f"registration_code,name\n{CODE},测试公司\n",
        HEADER.replace("\n", ",restricted,restriction_note\n")
        + f"A1,CNY,{CODE},测试公司,special,margin,2020-01-01,,是,保证金\n",
    )
    (tmp_path / "customers.csv").write_bytes(text[0].encode("gb18030"))
    path.write_bytes(text[1].encode("gb18030"))
    import_files(core, [tmp_path / "customers.csv", path])
    (deposit,) = core.snapshot(CODE, AS_OF).deposits
    assert (deposit.account_name, deposit.restricted) == ("测试公司", True)


def test_excel_numbers_that_lost_digits_are_refused(core: CoreBank, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "balances"
    sheet.append(["account_no", "currency", "as_of", "balance"])
    sheet.append([31050161373600001234, "CNY", date(2024, 12, 31), 12.5])
    workbook.save(tmp_path / "core.xlsx")
    ((source, line, message),) = _problems(core, [tmp_path / "core.xlsx"])
    assert (source, line) == ("core.xlsx[balances]", 2)
    assert "format the column as text" in message


def test_a_dry_run_imports_nothing(core: CoreBank, tmp_path: Path) -> None:
    files = export_csv(generate(customers=3, seed=1, reference_date=AS_OF), tmp_path)
    counts = import_files(core, files, dry_run=True)
    assert counts["customers"] == 3
    assert _counts(core)["customers"] == 0


def test_a_problem_reads_like_a_compiler_error() -> None:
    assert str(ImportProblem("accounts.csv", 7, "currency: bad")) == "accounts.csv:7: currency: bad"
    assert "1 problem(s), nothing imported" in str(ImportRejected([ImportProblem("a.csv", 2, "x")]))
