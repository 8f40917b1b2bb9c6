"""Letters in bulk from a CSV or Excel sheet: one row per account or item entry.

The layout (documented with examples in ``docs/AUDITOR_CLIENT.md``):

- letter columns: ``letter_key`` (optional), ``letter_format`` (``one``/``two``, or ``capital``
  (``验资``) for the capital-verification letter; default one),
  ``reference_date``, ``letter_date`` (default today), ``reply_due`` (optional date),
  ``audit_period_start`` and ``audit_period_end`` (审计期间), ``closed_period_start`` and
  ``closed_period_end`` (item 3's period, default the audit period), ``bank_member_no``,
  ``bank_name``, ``bank_branch``, ``auditee_code``, ``auditee_name``, ``contact_name``, ``contact_phone``, ``contact_email`` (the auditee's contact),
  ``firm_contact_name``, ``firm_contact_phone``, ``firm_contact_email`` (the firm's 函证经办人, with a
  phone or an email), ``fee_account_no`` and ``fee_account_name`` (扣费账户; format two needs it);
- ``item``: which of the 14 items (and the annex) the row belongs to, by key (``deposits``),
  number (``1``…``14``, ``15`` or ``annex`` for cash pooling) or Chinese title (``银行存款``); a
  验资 letter's rows are its contributions (``capital_contributions``, ``投资者缴款`` or ``验资``);
- ``not_applicable``: ``yes`` on a row with no entry columns marks the item not applicable;
- entry columns: the field names of the item's entries (``account_no``, ``balance``, …), the
  union over all items; a row fills only those of its own item.

No salt: the auditee's signer supplies its reference at authorisation and the bank checks on
arrival that it is the auditee's. A sheet made from an older template still loads: its
``auditee_salt`` column is ignored (the plan's notices say so), never used.

Rows belong to one letter when they share ``letter_key`` or, without it, the auditee code, the
bank, the reference date and the format. Letter columns must agree between the rows of a letter
(a blank cell inherits). In format one every item needs a row: its entries, or a row marking it
``not_applicable``; an item no row mentions is an error, never "not applicable" by omission. In
format two an item no row mentions is left for the bank to fill in. A 验资 letter lists its
contributions and nothing else (its standard items are not applicable by its format).

Every row is checked and every letter assembled before anything is sent: the plan holds either
letters ready to upload or the issues, row by row, and never both. Given a way to look members up
on the network, the check includes that each letter's bank is an active bank member.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import functools
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from node_gateway.protocol.documents import (
    CHINA_TIME,
    ITEM_TITLES,
    STANDARD_ITEMS,
    AuditFirm,
    ConfirmationLetter,
    Entry,
    Item,
    ItemKey,
    LetterFormat,
    format_items,
    new_letter_id,
    normalise_registration_code,
)
from node_gateway.protocol.documents import (
    ENTRY_MODELS as ENTRY_MODELS,  # each item's entry class, for the sheet's columns
)
from node_gateway.protocol.errors import ProtocolError
from node_gateway.protocol.wire import LetterDraft

MAX_ROWS = 200_000

KEY_COLUMNS = ("auditee_code", "bank_member_no", "reference_date", "letter_format")
LETTER_COLUMNS = (
    "letter_key",
    "letter_format",
    "reference_date",
    "letter_date",
    "reply_due",
    "audit_period_start",
    "audit_period_end",
    "closed_period_start",
    "closed_period_end",
    "bank_member_no",
    "bank_name",
    "bank_branch",
    "auditee_code",
    "auditee_name",
    "contact_name",
    "contact_phone",
    "contact_email",
    "firm_contact_name",
    "firm_contact_phone",
    "firm_contact_email",
    "fee_account_no",
    "fee_account_name",
)
REQUIRED_COLUMNS = (
    "reference_date",
    "audit_period_start",
    "audit_period_end",
    "firm_contact_name",
    "bank_member_no",
    "bank_name",
    "auditee_code",
    "auditee_name",
    "item",
)
ROW_COLUMNS = ("item", "not_applicable")
# Columns of older templates, read past and never used, each with why.
IGNORED_COLUMNS = {
    "auditee_salt": "ignored: the auditor gives no salt (the auditee's signer supplies its reference "
    "when it authorises, and the bank checks it is the auditee's)",
}


ENTRY_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(name for model in ENTRY_MODELS.values() for name in model.model_fields)
)
COLUMNS: tuple[str, ...] = LETTER_COLUMNS + ROW_COLUMNS + ENTRY_COLUMNS
assert not set(ENTRY_COLUMNS) & set(LETTER_COLUMNS + ROW_COLUMNS), "an entry field shadows a letter column"

_ITEM_NAMES: dict[str, ItemKey] = {
    **{key.value: key for key in ItemKey},
    **{str(number): key for number, key in enumerate(STANDARD_ITEMS, start=1)},
    **{title: key for key, title in ITEM_TITLES.items()},
    "annex": ItemKey.CASH_POOLING,
    "验资": ItemKey.CAPITAL_CONTRIBUTIONS,
}
_FORMATS = {"one": LetterFormat.ONE, "1": LetterFormat.ONE, "格式一": LetterFormat.ONE}
_FORMATS |= {"two": LetterFormat.TWO, "2": LetterFormat.TWO, "格式二": LetterFormat.TWO}
_FORMATS |= {"capital": LetterFormat.CAPITAL, "验资": LetterFormat.CAPITAL}
_TRUE = {"yes", "y", "true", "1", "是", "x"}
_FALSE = {"no", "n", "false", "0", "否", ""}
_YES_NO = {"是": "yes", "否": "no", "x": "yes", "X": "yes"}


@dataclass(frozen=True)
class MemberInfo:
    """A member as the network's member registry holds it."""

    role: str  # operator | audit_firm | bank | regulator
    status: str  # active | suspended | revoked
    name: str


MemberLookup = Callable[[int], MemberInfo | None]
"""A member by its number; None if the network has no such member."""

_ROLE_NAMES = {
    "operator": "the consortium operator",
    "audit_firm": "an audit firm",
    "regulator": "a regulator",
}
_MAX_MEMBER_NO = 0xFFFF_FFFF


def bank_problem(number: int, member: MemberInfo | None) -> str | None:
    """Why member ``number`` cannot receive letters, if it cannot."""
    if member is None:
        return f"the network has no member {number}"
    if member.role != "bank":
        return f"member {number} ({member.name}) is {_ROLE_NAMES.get(member.role, member.role)}, not a bank"
    if member.status != "active":
        return f"bank {number} ({member.name}) is {member.status}: it receives no letters"
    return None


@dataclass(frozen=True)
class RowIssue:
    """Something wrong with one row (``row`` as the spreadsheet numbers it; 1 is the header)."""

    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class SheetRow:
    number: int
    cells: dict[str, str]
    item: ItemKey | None = None
    entry: Entry | None = None
    not_applicable: bool = False
    letter_key: str = ""


@dataclass(frozen=True)
class PlannedLetter:
    """A letter assembled from its rows, ready to send."""

    key: str
    rows: tuple[int, ...]
    letter: ConfirmationLetter
    due_at: int | None

    def draft(self) -> LetterDraft:
        return LetterDraft(letter=self.letter, due_at=self.due_at)


@dataclass
class BulkPlan:
    """The outcome of reading a sheet: letters to send, or the issues that stop them all."""

    source: str
    rows: list[SheetRow] = field(default_factory=list)
    letters: list[PlannedLetter] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    notices: list[RowIssue] = field(default_factory=list)  # worth saying, stopping nothing

    @property
    def ok(self) -> bool:
        return not self.issues and bool(self.letters)

    def issues_by_row(self) -> dict[int, list[RowIssue]]:
        found: dict[int, list[RowIssue]] = {}
        for issue in self.issues:
            found.setdefault(issue.row, []).append(issue)
        return found

    def drafts(self) -> list[LetterDraft]:
        if not self.ok:
            raise ValueError("the sheet has issues; nothing may be sent")
        return [planned.draft() for planned in self.letters]


# --- reading sheets ----------------------------------------------------------------------------


class SheetError(ProtocolError):
    """The file cannot be read as a sheet of letters at all (format, encoding, header)."""

    code: ClassVar[str] = "sheet_unreadable"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # A spreadsheet number: its shortest decimal spelling (1234.5, not 1234.4999999…).
        return str(Decimal(repr(value))) if value != int(value) else str(int(value))
    return str(value).strip()


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")  # what Excel writes on Chinese Windows


def read_rows(path: Path, *, sheet: str | None = None) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header and the numbered rows of a CSV file or an Excel workbook."""
    return read_sheet(path.read_bytes, str(path), sheet=sheet)


def read_sheet(
    data: bytes | Callable[[], bytes], name: str, *, sheet: str | None = None
) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header and the numbered rows of a CSV file or an Excel workbook given as its bytes (or
    how to read them, once its kind is known); ``name`` (a file name) says which kind by its
    suffix, and names the file in errors."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv", ".txt"):
        raise SheetError(f"{name}: give a .csv or .xlsx file")
    raw = data() if callable(data) else data
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException…
            raise SheetError(f"{name} is not a readable Excel workbook: {exc}") from exc
        if sheet is not None and sheet not in workbook.sheetnames:
            raise SheetError(f"{name} has no sheet {sheet!r} (it has {', '.join(workbook.sheetnames)})")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        values = enumerate((list(row) for row in worksheet.iter_rows(values_only=True)), start=1)
    else:
        values = enumerate(csv.reader(io.StringIO(_decode(raw), newline="")), start=1)
    first = next(values, None)
    if first is None:
        raise SheetError(f"{name} is empty")
    header = [_cell(v).lower() for v in first[1]]
    return header, ((number, row) for number, row in values)


def _check_header(header: Sequence[str]) -> list[RowIssue]:
    issues = []
    seen: set[str] = set()
    for name in header:
        if not name or name in IGNORED_COLUMNS:
            continue
        if name not in COLUMNS:
            close = difflib.get_close_matches(name.replace(" ", "_"), COLUMNS, n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]}?)" if close else ""
            issues.append(RowIssue(1, name, f"unknown column{hint}"))
        if name in seen:
            issues.append(RowIssue(1, name, "the column appears twice"))
        seen.add(name)
    issues += [RowIssue(1, name, "required column missing") for name in REQUIRED_COLUMNS if name not in seen]
    return issues


# --- checking rows -----------------------------------------------------------------------------


def _pydantic_issues(row: int, exc: ValidationError, *, prefix: str = "") -> list[RowIssue]:
    issues = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        column = loc[0] if loc else None
        message = error["msg"].removeprefix("Value error, ")
        issues.append(RowIssue(row, column, prefix + message))
    return issues


def _bool(row: SheetRow, column: str, issues: list[RowIssue]) -> bool:
    value = row.cells.get(column, "").lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        issues.append(RowIssue(row.number, column, f"{value!r} is not yes or no"))
    return False


def _entry_fields(model: type[BaseModel], cells: Mapping[str, str]) -> dict[str, Any]:
    # Strings all: the model parses dates, amounts (never through a float) and yes/no itself.
    return {name: _YES_NO.get(cells[name], cells[name]) for name in model.model_fields if cells.get(name)}


def _check_row(row: SheetRow, letter_format: LetterFormat | None) -> list[RowIssue]:
    issues: list[RowIssue] = []
    item_text = row.cells.get("item", "")
    row.item = _ITEM_NAMES.get(item_text.lower()) or _ITEM_NAMES.get(item_text)
    if row.item is None:
        issues.append(
            RowIssue(row.number, "item", f"{item_text!r} is not an item (deposits, loans, … or 1–14)")
        )
        return issues
    row.not_applicable = _bool(row, "not_applicable", issues)
    model = ENTRY_MODELS[row.item]
    filled = [c for c in ENTRY_COLUMNS if row.cells.get(c)]
    title = f"{row.item.value} ({ITEM_TITLES[row.item]})"
    if row.not_applicable:
        if filled:
            issues.append(
                RowIssue(row.number, filled[0], f"a row marking {title} not applicable has no entry values")
            )
        return issues
    foreign = [c for c in filled if c not in model.model_fields]
    issues += [RowIssue(row.number, c, f"does not belong to item {title}") for c in foreign]
    if foreign:
        return issues
    try:
        row.entry = model.model_validate(_entry_fields(model, row.cells))
    except ValidationError as exc:
        return issues + _pydantic_issues(row.number, exc)
    if letter_format is LetterFormat.ONE and (missing := row.entry.missing_figures()):
        issues += [
            RowIssue(row.number, name, "format one states every figure; this one is blank")
            for name in missing
        ]
    return issues


def _letter_format(row: SheetRow, issues: list[RowIssue]) -> LetterFormat | None:
    text = row.cells.get("letter_format", "") or "one"
    found = _FORMATS.get(text.lower())
    if found is None:
        issues.append(RowIssue(row.number, "letter_format", f"{text!r} is not one, two or capital (验资)"))
    return found


def _letter_key(row: SheetRow) -> str:
    if row.cells.get("letter_key"):
        return row.cells["letter_key"]
    cells = dict(row.cells)
    with contextlib.suppress(ValueError):  # reported by the letter's own checks
        cells["auditee_code"] = normalise_registration_code(cells.get("auditee_code", ""))
    cells["letter_format"] = (cells.get("letter_format") or "one").lower()
    return "|".join(cells.get(column, "") for column in KEY_COLUMNS)


def _date(text: str) -> date:
    return date.fromisoformat(text.replace("/", "-"))


def _letter_values(rows: Sequence[SheetRow], issues: list[RowIssue]) -> dict[str, str]:
    """Each letter column's value over a letter's rows; a blank cell inherits, a different one is wrong."""
    values: dict[str, tuple[str, int]] = {}
    for row in rows:
        for column in LETTER_COLUMNS:
            text = row.cells.get(column, "")
            if not text:
                continue
            if column not in values:
                values[column] = (text, row.number)
            elif values[column][0] != text:
                first, where = values[column]
                issues.append(
                    RowIssue(
                        row.number, column, f"{text!r} here but {first!r} in row {where} of the same letter"
                    )
                )
    return {column: text for column, (text, _) in values.items()}


def _due_at(text: str, today: date) -> int:
    due = _date(text)
    if due <= today:
        raise ValueError("the reply due date must be after today")
    return int(datetime.combine(due, time(23, 59, 59), CHINA_TIME).timestamp())


def _assemble(
    key: str, rows: Sequence[SheetRow], audit_firm: AuditFirm, today: date, members: MemberLookup | None
) -> tuple[PlannedLetter | None, list[RowIssue]]:
    issues: list[RowIssue] = []
    values = _letter_values(rows, issues)
    first = rows[0].number
    issues += [
        RowIssue(first, column, "required for the letter")
        for column in REQUIRED_COLUMNS
        if column != "item" and column not in values
    ]
    letter_format = _FORMATS.get(values.get("letter_format", "one").lower(), LetterFormat.ONE)

    def parse(column: str, parser: Any) -> Any:
        text = values.get(column, "")
        if not text:
            return None
        try:
            return parser(text)
        except ValueError as exc:
            issues.append(RowIssue(first, column, str(exc) or f"{text!r} is not valid"))
            return None

    due_at = parse("reply_due", lambda text: _due_at(text, today))
    reference_date = parse("reference_date", _date)
    issued_on = parse("letter_date", _date) or today
    bank_member_no = parse("bank_member_no", int)
    # A number out of range is no member's: the letter's own check says so (member_no).
    addressable = bank_member_no is not None and 1 <= bank_member_no <= _MAX_MEMBER_NO
    if (
        members is not None
        and addressable
        and (problem := bank_problem(bank_member_no, members(bank_member_no)))
    ):
        issues.append(RowIssue(first, "bank_member_no", problem))
    if reference_date is not None and reference_date > issued_on:
        issues.append(RowIssue(first, "reference_date", "the reference date is after the letter's date"))
    by_item: dict[ItemKey, list[SheetRow]] = {}
    for row in rows:
        if row.item is not None:
            by_item.setdefault(row.item, []).append(row)
    carried = format_items(letter_format)
    # The items the format does not carry are not applicable by the format, not by omission.
    items: dict[str, Item[Any]] = {
        key.value: Item(not_applicable=True) for key in ItemKey if key not in carried
    }
    issues += [
        RowIssue(
            item_rows[0].number,
            "item",
            f"item {item_key.value} ({ITEM_TITLES[item_key]}) is not on a {letter_format.value} letter",
        )
        for item_key, item_rows in by_item.items()
        # A row marking another format's item not applicable says what the format says anyway.
        if item_key not in carried and not all(r.not_applicable for r in item_rows)
    ]
    for item_key in carried:
        item_rows = by_item.get(item_key, [])
        marked = [r for r in item_rows if r.not_applicable]
        entries = [r.entry for r in item_rows if r.entry is not None]
        if marked and len(marked) != len(item_rows):
            issues.append(
                RowIssue(
                    marked[0].number,
                    "not_applicable",
                    f"{item_key.value} is marked not applicable but has entries",
                )
            )
        if item_rows:
            items[item_key.value] = Item(not_applicable=bool(marked) and not entries, entries=tuple(entries))
        elif letter_format is not LetterFormat.TWO:
            issues.append(
                RowIssue(
                    first,
                    "item",
                    f"no row mentions item {item_key.value} ({ITEM_TITLES[item_key]}): format one lists its "
                    "entries or marks it not_applicable in a row of its own",
                )
            )
        else:
            items[item_key.value] = Item()  # for the bank to fill in
    if issues or any(r.item is None or (r.entry is None and not r.not_applicable) for r in rows):
        return None, issues
    contact = None
    if values.get("contact_name"):
        contact = {
            "name": values["contact_name"],
            "phone": values.get("contact_phone"),
            "email": values.get("contact_email"),
        }
    elif values.get("contact_phone") or values.get("contact_email"):
        issues.append(RowIssue(first, "contact_name", "a contact's phone or email needs the contact's name"))
        return None, issues
    audit_period = {"start": values.get("audit_period_start"), "end": values.get("audit_period_end")}
    closed_period = None
    if values.get("closed_period_start") or values.get("closed_period_end"):
        closed_period = {"start": values.get("closed_period_start"), "end": values.get("closed_period_end")}
    fee_account = None
    if values.get("fee_account_no") or values.get("fee_account_name"):
        fee_account = {
            "account_no": values.get("fee_account_no"),
            "account_name": values.get("fee_account_name"),
        }
    try:
        letter = ConfirmationLetter.model_validate(
            {
                "letter_id": new_letter_id(),
                "format": letter_format,
                "reference_date": reference_date,
                "issued_on": issued_on,
                "audit_period": audit_period,
                "closed_accounts_period": closed_period,
                "audit_firm": audit_firm,
                "firm_contact": {
                    "name": values.get("firm_contact_name"),
                    "phone": values.get("firm_contact_phone"),
                    "email": values.get("firm_contact_email"),
                },
                "fee_account": fee_account,
                "bank": {
                    "member_no": bank_member_no,
                    "name": values.get("bank_name"),
                    "branch": values.get("bank_branch"),
                },
                "auditee": {
                    "name": values.get("auditee_name"),
                    "registration_code": values.get("auditee_code"),
                    "contact": contact,
                },
                "items": items,
            }
        )
    except ValidationError as exc:
        for error in exc.errors():
            column = _RULE_COLUMNS.get(error["type"]) or _sheet_column(error["loc"])
            issues.append(RowIssue(first, column, error["msg"].removeprefix("Value error, ")))
        return None, issues
    rows_used = tuple(r.number for r in rows)
    return PlannedLetter(key, rows_used, letter, due_at), issues


_DOCUMENT_COLUMNS: dict[tuple[str, str], str] = {
    ("bank", "member_no"): "bank_member_no",
    ("bank", "name"): "bank_name",
    ("bank", "branch"): "bank_branch",
    ("auditee", "name"): "auditee_name",
    ("auditee", "registration_code"): "auditee_code",
    ("auditee", "contact"): "contact_name",
    ("audit_period", "start"): "audit_period_start",
    ("audit_period", "end"): "audit_period_end",
    ("closed_accounts_period", "start"): "closed_period_start",
    ("closed_accounts_period", "end"): "closed_period_end",
    ("firm_contact", "name"): "firm_contact_name",
    ("firm_contact", "phone"): "firm_contact_phone",
    ("firm_contact", "email"): "firm_contact_email",
    ("fee_account", "account_no"): "fee_account_no",
    ("fee_account", "account_name"): "fee_account_name",
}
_DOCUMENT_PARTS = {
    "audit_period": "audit_period_start",
    "closed_accounts_period": "closed_period_start",
    "firm_contact": "firm_contact_name",
    "fee_account": "fee_account_no",
    "items": "item",
}


# The letter's own rules (their error types) by the column that states what they are about.
_RULE_COLUMNS = {
    "closed_accounts_period_after_reference_date": "closed_period_end",
    "fee_account_missing": "fee_account_no",
    "format_two_blank": "item",
    "capital_contributions_blank": "item",
    "capital_item_outside_capital_format": "item",
    "standard_item_in_capital_letter": "item",
}


def _sheet_column(loc: Sequence[int | str]) -> str | None:
    """The sheet's column for a place in the letter document that a rule found wrong."""
    parts = [str(part) for part in loc]
    if not parts:
        return None
    nested = _DOCUMENT_COLUMNS.get((parts[0], parts[1])) if len(parts) > 1 else None
    return nested or _DOCUMENT_PARTS.get(parts[0], parts[0])


def plan_rows(
    header: Sequence[str],
    rows: Iterable[tuple[int, Sequence[Any]]],
    *,
    audit_firm: AuditFirm,
    source: str = "sheet",
    today: date | None = None,
    members: MemberLookup | None = None,
) -> BulkPlan:
    """Checks every row and assembles the letters; issues leave the plan without letters. With
    ``members``, each letter's bank must be an active bank member of the network."""
    today = today or datetime.now(UTC).astimezone(CHINA_TIME).date()
    lookup = functools.cache(members) if members is not None else None  # once per bank
    plan = BulkPlan(source=source, issues=_check_header(header))
    plan.notices = [RowIssue(1, name, why) for name, why in IGNORED_COLUMNS.items() if name in header]
    for number, values in rows:
        cells = {
            name: _cell(value)
            for name, value in zip(header, values, strict=False)
            if name and name not in IGNORED_COLUMNS
        }
        if not any(cells.values()):
            continue
        if len(plan.rows) >= MAX_ROWS:
            plan.issues.append(RowIssue(number, None, f"more than {MAX_ROWS} rows; split the file"))
            break
        extra = [_cell(v) for v in values[len(header) :] if _cell(v)]
        if extra:
            plan.issues.append(RowIssue(number, None, f"{len(extra)} value(s) beyond the last column"))
        plan.rows.append(SheetRow(number, cells))
    if not plan.rows and not plan.issues:
        plan.issues.append(RowIssue(2, None, "the sheet has no rows of letters"))
    if any(issue.row == 1 for issue in plan.issues):
        return plan  # a header that is wrong makes every row meaningless
    groups: dict[str, list[SheetRow]] = {}
    for row in plan.rows:
        row_issues: list[RowIssue] = []
        for column in REQUIRED_COLUMNS:
            if not row.cells.get(column) and not (column != "item" and row.cells.get("letter_key")):
                row_issues.append(RowIssue(row.number, column, "required"))
        letter_format = _letter_format(row, row_issues)
        if not row_issues:
            row_issues = _check_row(row, letter_format)
        plan.issues += row_issues
        row.letter_key = _letter_key(row)
        groups.setdefault(row.letter_key, []).append(row)
    for key, group in groups.items():
        planned, issues = _assemble(key, group, audit_firm, today, lookup)
        plan.issues += issues
        if planned is not None:
            plan.letters.append(planned)
    plan.issues.sort(key=lambda issue: issue.row)
    if plan.issues:
        plan.letters = []
    return plan


def plan_file(
    path: Path,
    *,
    audit_firm: AuditFirm,
    sheet: str | None = None,
    today: date | None = None,
    members: MemberLookup | None = None,
) -> BulkPlan:
    """Reads and checks a CSV or Excel file of letters (see the module's docstring for the layout)."""
    header, rows = read_rows(path, sheet=sheet)
    return plan_rows(header, rows, audit_firm=audit_firm, source=str(path), today=today, members=members)


def template_rows() -> list[dict[str, str]]:
    """Example rows of one format-one letter: a row for every item, its entries or ``not_applicable``
    (an item no row mentions is an error); the header is :data:`COLUMNS`."""
    letter = {
        "reference_date": "2024-12-31",
        "audit_period_start": "2024-01-01",
        "audit_period_end": "2024-12-31",
        "bank_member_no": "3",
        "bank_name": "东海银行股份有限公司",
        "bank_branch": "上海浦东支行",
        "auditee_code": "91310115MA1H7Q3K2X",
        "auditee_name": "上海江南精密机械股份有限公司",
        "contact_name": "王丽华",
        "firm_contact_name": "赵敏",
        "firm_contact_phone": "+86 21 6350 8800",
        "fee_account_no": "31050161373600001234",
        "fee_account_name": "上海江南精密机械股份有限公司",
    }
    account = {"account_name": "上海江南精密机械股份有限公司", "currency": "CNY"}
    listed = [
        {
            **letter,
            "item": "deposits",
            "account_no": "31050161373600001234",
            "account_type": "basic",
            "deposit_type": "demand",
            "balance": "12345678.90",
            **account,
        },
        {
            **letter,
            "item": "deposits",
            "account_no": "31050161373600007890",
            "account_type": "general",
            "deposit_type": "demand",
            "balance": "0.00",
            "note": "零余额账户",
            **account,
        },
        {
            **letter,
            "item": "loans",
            "borrower_name": "上海江南精密机械股份有限公司",
            "account_no": "31050161373600088001",
            "currency": "CNY",
            "principal": "30000000.00",
            "accrued_interest": "31625.00",
            "start_date": "2024-06-28",
            "maturity_date": "2025-06-27",
            "interest_rate": "3.45",
        },
    ]
    mentioned = {row["item"] for row in listed}
    return listed + [
        {**letter, "item": key.value, "not_applicable": "yes"}
        for key in STANDARD_ITEMS
        if key.value not in mentioned
    ]


def write_template(path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(template_rows())


def safe_filename(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", text)[:80] or "letter"
