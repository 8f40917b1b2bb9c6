"""Import core-banking data from CSV and Excel files: every row checked first, then all or nothing.

A CSV file holds one table, named by the file (``accounts.csv``) or by the caller; an Excel
workbook holds one table per sheet, named by the sheet. The first row names the columns, in any
order, with the field names of ``core_rows`` (``account_no``, ``balance``…). Every row is checked
(types, codes, dates, the rules of its entry, duplicates, references to customers and accounts
in the files or already in the core) before anything is written; if any row is wrong, the import
is refused with each bad row's file, line and reason, and the core is left as it was.

CSV files may be UTF-8 (with or without the BOM Excel writes) or GB18030, as Chinese spreadsheet
software saves them. Excel numbers are read through their shortest decimal form; a number too long
for Excel to keep (an account number typed as a number) is refused rather than silently rounded.
"""

from __future__ import annotations

import csv
import io
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bank_adapter.core_rows import (
    ROW_TYPE_BY_TABLE,
    ROW_TYPES,
    AccountRow,
    BalanceRow,
    CoreDataset,
    CoreRow,
    LoanRow,
)
from bank_adapter.core_sql import CoreBank
from bank_adapter.errors import BankAdapterError

ModelT = TypeVar("ModelT", bound=BaseModel)

_EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number
_YES_NO = {"是": "true", "否": "false"}


@dataclass(frozen=True)
class ImportProblem:
    """What is wrong with one line of one file (line 1 is the header; 0 the file as a whole)."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


class ImportRejected(BankAdapterError):
    """The files hold bad rows; nothing was imported."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"{len(self.problems)} problem(s), nothing imported:\n{shown}{more}")


@dataclass(frozen=True)
class RawRow:
    line: int
    values: dict[str, Any]


@dataclass
class RawTable:
    """A table as read from a file: its name, where it came from, its header and rows."""

    name: str
    source: str
    columns: list[str]
    rows: list[RawRow] = field(default_factory=list)


def _column(name: object) -> str:
    return str(name or "").strip().lower().replace(" ", "_")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _csv_table(path: Path, name: str) -> RawTable:
    reader = csv.reader(io.StringIO(_decode(path.read_bytes()), newline=""))
    table = RawTable(name=name, source=path.name, columns=[])
    line = 1
    for record in reader:
        if not table.columns:
            table.columns = [_column(c) for c in record]
        elif any(cell.strip() for cell in record):
            table.rows.append(RawRow(line, dict(zip(table.columns, record, strict=False))))
        line = reader.line_num + 1  # a quoted cell may span lines: count from where the record starts
    return table


def _excel_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, bool | date | str) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 10**_EXCEL_DIGITS:
            raise ValueError(
                f"the number {value:.0f} has more digits than Excel keeps; format the column as text"
            )
        return repr(value)
    return str(value)


def _excel_tables(path: Path) -> Iterator[RawTable | ImportProblem]:
    import openpyxl  # only when an Excel file is imported

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        yield ImportProblem(path.name, 0, f"not an Excel workbook: {exc}")
        return
    try:
        for sheet in workbook.worksheets:
            table = RawTable(name=_column(sheet.title), source=f"{path.name}[{sheet.title}]", columns=[])
            for line, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                if not table.columns:
                    table.columns = [_column(c) for c in cells]
                    continue
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                try:
                    values = {k: _excel_value(v) for k, v in zip(table.columns, cells, strict=False) if k}
                except ValueError as exc:
                    yield ImportProblem(table.source, line, str(exc))
                    continue
                table.rows.append(RawRow(line, values))
            yield table
    finally:
        workbook.close()


def read_tables(
    paths: Iterable[Path], *, table: str | None = None
) -> tuple[list[RawTable], list[ImportProblem]]:
    """The tables in the files (CSV or .xlsx), and what could not be read."""
    tables: list[RawTable] = []
    problems: list[ImportProblem] = []
    for path in paths:
        if not path.is_file():
            problems.append(ImportProblem(str(path), 0, "no such file"))
        elif path.suffix.lower() in (".xlsx", ".xlsm"):
            for found in _excel_tables(path):
                if isinstance(found, ImportProblem):
                    problems.append(found)
                else:
                    tables.append(
                        found if table is None else RawTable(table, found.source, found.columns, found.rows)
                    )
        elif path.suffix.lower() in (".csv", ".txt"):
            tables.append(_csv_table(path, table or _column(path.stem)))
        else:
            problems.append(ImportProblem(path.name, 0, "neither CSV nor Excel (.xlsx)"))
    return tables, problems


def _is_bool(annotation: Any) -> bool:
    return annotation is bool or bool in typing.get_args(annotation)


def parse_rows(table: RawTable, model: type[ModelT]) -> tuple[list[tuple[int, ModelT]], list[ImportProblem]]:
    """Validates a table's rows as ``model``; returns the good rows with their lines and the problems."""
    fields = model.model_fields
    unknown = [c for c in table.columns if c and c not in fields]
    missing = [name for name, f in fields.items() if f.is_required() and name not in table.columns]
    if unknown or missing:
        parts = [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        parts += [f"missing column(s) {', '.join(missing)}"] if missing else []
        expected = ", ".join(fields)
        return [], [ImportProblem(table.source, 1, f"{'; '.join(parts)} (the columns are: {expected})")]
    good: list[tuple[int, ModelT]] = []
    problems: list[ImportProblem] = []
    for row in table.rows:
        values: dict[str, Any] = {}
        for name, value in row.values.items():
            if not name or value is None or (isinstance(value, str) and not value.strip()):
                continue  # an empty cell: the field's default, or "missing" if it has none
            if _is_bool(fields[name].annotation) and isinstance(value, str):
                value = _YES_NO.get(value.strip(), value)
            values[name] = value
        try:
            good.append((row.line, model.model_validate(values)))
        except ValidationError as exc:
            problems.append(ImportProblem(table.source, row.line, _describe(exc)))
    return good, problems


def _describe(exc: ValidationError) -> str:
    reasons = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        reasons.append(f"{where}: {message}" if where else message)
    return "; ".join(reasons)


# --- the core's tables ---------------------------------------------------------------------------

Lookup = Callable[[type[CoreRow], Iterable[tuple[Any, ...]]], dict[tuple[Any, ...], CoreRow]]
"""The rows of a kind the core already holds, among the given keys (``CoreBank.existing``)."""


@dataclass
class _Checked:
    rows: dict[str, list[tuple[int, str, CoreRow]]] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)

    def of(self, row_type: type[CoreRow]) -> list[tuple[int, str, CoreRow]]:
        return self.rows.get(row_type.table, [])


def validate(tables: Sequence[RawTable], existing: Lookup) -> CoreDataset:
    """The rows of ``tables`` as a dataset, or ``ImportRejected`` with every problem found."""
    checked = _Checked()
    for table in tables:
        row_type = ROW_TYPE_BY_TABLE.get(table.name)
        if row_type is None:
            tables_known = ", ".join(t.table for t in ROW_TYPES)
            checked.problems.append(
                ImportProblem(table.source, 0, f"no table {table.name!r} (tables: {tables_known})")
            )
            continue
        good, problems = parse_rows(table, row_type)
        checked.problems += problems
        checked.rows.setdefault(row_type.table, []).extend((line, table.source, row) for line, row in good)
    _check_duplicates(checked)
    _check_references(checked, existing)
    if checked.problems:
        raise ImportRejected(_in_order(checked.problems, [t.source for t in tables]))
    return {name: [row for _, _, row in rows] for name, rows in checked.rows.items()}


def _in_order(problems: Iterable[ImportProblem], sources: Sequence[str]) -> list[ImportProblem]:
    """The problems file by file in the order given (a workbook's sheets with it), line by line."""

    def rank(problem: ImportProblem) -> tuple[int, str, int]:
        file = problem.source.split("[", 1)[0]
        position = next((i for i, s in enumerate(sources) if s.split("[", 1)[0] == file), len(sources))
        return position, problem.source, problem.line

    return sorted(problems, key=rank)


def _check_duplicates(checked: _Checked) -> None:
    for rows in checked.rows.values():
        first: dict[tuple[Any, ...], tuple[str, int]] = {}
        for line, source, row in rows:
            key = row.key_value()
            if key in first:
                where = first[key]
                checked.problems.append(
                    ImportProblem(source, line, f"the same {', '.join(row.key)} as {where[0]}:{where[1]}")
                )
            else:
                first[key] = (source, line)


def _check_references(checked: _Checked, existing: Lookup) -> None:
    def known(row_type: type[CoreRow], keys: set[tuple[Any, ...]]) -> dict[tuple[Any, ...], CoreRow]:
        imported = {row.key_value(): row for _, _, row in checked.of(row_type)}
        missing = keys - imported.keys()
        return imported | (existing(row_type, missing) if missing else {})

    for name, rows in checked.rows.items():
        for column, target in ROW_TYPE_BY_TABLE[name].references:
            found = known(ROW_TYPE_BY_TABLE[target], {(getattr(row, column),) for _, _, row in rows})
            for line, source, row in rows:
                value = getattr(row, column)
                if (value,) not in found:
                    message = f"{column}: {value} is in neither these files' {target} nor the core's"
                    checked.problems.append(ImportProblem(source, line, message))
    balances = checked.of(BalanceRow)
    accounts = known(
        AccountRow, {(r.account_no, r.currency) for _, _, r in balances if isinstance(r, BalanceRow)}
    )
    loans = known(LoanRow, {(r.account_no,) for _, _, r in balances if isinstance(r, BalanceRow)})
    for line, source, row in balances:
        assert isinstance(row, BalanceRow)
        loan = loans.get((row.account_no,))
        if (row.account_no, row.currency) in accounts:
            continue
        if isinstance(loan, LoanRow) and loan.currency == row.currency:
            if row.balance < 0:
                checked.problems.append(
                    ImportProblem(source, line, "balance: a loan's outstanding principal is not negative")
                )
            continue
        checked.problems.append(
            ImportProblem(source, line, f"no account or loan {row.account_no} in {row.currency}")
        )


def import_files(
    core: CoreBank, paths: Sequence[Path], *, table: str | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Checks the files and, unless ``dry_run``, loads them in one transaction; counts by table."""
    tables, problems = read_tables(paths, table=table)
    try:
        dataset = validate(tables, core.existing)
    except ImportRejected as exc:
        problems += exc.problems
    if problems:
        sources = [str(path) if not path.is_file() else path.name for path in paths]
        raise ImportRejected(_in_order(problems, sources))
    if dry_run:
        return {name: len(rows) for name, rows in dataset.items()}
    return core.load(dataset)


# --- writing the same format ----------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def export_csv(dataset: CoreDataset, directory: Path) -> list[Path]:
    """Writes one UTF-8 CSV per table, in the import format; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for row_type in ROW_TYPES:
        rows = dataset.get(row_type.table)
        if not rows:
            continue
        path = directory / f"{row_type.table}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(row_type.model_fields)
            for row in rows:
                writer.writerow(
                    ["" if (v := getattr(row, n)) is None else _cell(v) for n in row_type.model_fields]
                )
        written.append(path)
    return written


def export_xlsx(dataset: CoreDataset, path: Path) -> Path:
    """Writes one sheet per table, in the import format; text cells keep long numbers intact."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    for row_type in ROW_TYPES:
        rows = dataset.get(row_type.table)
        if not rows:
            continue
        sheet = workbook.create_sheet(row_type.table)
        sheet.append(list(row_type.model_fields))
        for row in rows:
            sheet.append([_cell(getattr(row, name)) for name in row_type.model_fields])
    workbook.save(path)
    return path
