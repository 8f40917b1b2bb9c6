"""The items of a letter as tables: their columns, headings and values in the template's words.

The columns are built from the entry models (``node_gateway.protocol.documents``): every field of
an entry is a column, in the template's order where ``ITEM_COLUMNS`` gives one, headed by its
title in that item on the standard letter (``documents.FIELD_TITLES``, the one source of the
columns' words for the printouts and the pages), so a new field shows up without a change here
(under its field name until it gets a title; a test holds every column to a Chinese one).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Paragraph,
    Table,
    TableStyle,
)

from node_gateway.protocol.documents import (
    FIELD_TITLES,
    ITEM_TITLES,
    STANDARD_ITEMS,
    Entry,
    ItemKey,
    ItemStatus,
    LetterItems,
    Percent,
)
from node_gateway.protocol.printing.page import ALERT_SHADE, CONTENT_WIDTH, FONT, escape, grid

# --- words: headings, values --------------------------------------------------------------------

Merged = tuple[str, str]
"""Two fields printed in one column: a period's start and end, or a yes/no and what it is when yes."""

ITEM_COLUMNS: dict[ItemKey, tuple[str | Merged, ...]] = {
    ItemKey.DEPOSITS: (
        "account_name",
        "account_no",
        "currency",
        "interest_rate",
        "account_type",
        "deposit_type",
        "balance",
        ("start_date", "end_date"),
        ("restricted", "restriction_note"),
        "cash_pooled",
    ),
    ItemKey.LOANS: (
        "borrower_name",
        "account_no",
        "currency",
        "principal",
        "accrued_interest",
        "start_date",
        "maturity_date",
        "interest_rate",
        "security_note",
        "contract_no",
    ),
    ItemKey.CLOSED_ACCOUNTS: ("account_name", "account_no", "currency", "closed_on"),
    ItemKey.ENTRUSTED_LOANS_GIVEN: (
        "account_name",
        "account_no",
        "borrower_name",
        "currency",
        "interest_rate",
        "principal",
        ("start_date", "maturity_date"),
    ),
    ItemKey.ENTRUSTED_LOANS_TAKEN: (
        "account_name",
        "account_no",
        "lender_name",
        "currency",
        "interest_rate",
        "principal",
        ("start_date", "maturity_date"),
    ),
    ItemKey.GUARANTEES: (
        "kind",
        "counterparty_name",
        "method",
        "currency",
        "amount",
        "end_date",
        "contract_no",
        "start_date",
        "purpose",
    ),
    ItemKey.WEALTH_PRODUCTS: (
        "product_name",
        "product_code",
        "product_type",
        "currency",
        "units",
        "net_value",
        "purchased_on",
        "matures_on",
        ("restricted", "restriction_note"),
    ),
}
"""The columns of an item in the order of the template's table, where it differs from the entry
model's order. The fields not named here follow in the model's order, and 备注 comes last."""

VALUE_LABELS: dict[str, str] = {
    "basic": "基本存款账户",
    "general": "一般存款账户",
    "special": "专用存款账户",
    "temporary": "临时存款账户",
    "demand": "活期",
    "time": "定期",
    "call": "通知存款",
    "margin": "保证金",
    "structured": "结构性存款",
    "other": "其他",
    "by_auditee": "为他人担保（贵行为担保受益人）",
    "by_bank": "贵行为本公司提供担保（保函等）",
    "suretyship": "保证",
    "mortgage": "抵押",
    "pledge": "质押",
    "letter_of_guarantee": "保函",
    "closed_end": "封闭式",
    "open_end": "开放式",
}
"""Coded values (the documents' enums) in the template's words."""

ITEM_STATUS_LABELS: dict[ItemStatus, str] = {
    ItemStatus.CONFIRMED: "相符",
    ItemStatus.EXCEPTION: "不符",
    ItemStatus.NOT_APPLICABLE: "不适用",
}

DIFFERENCE_LABELS: dict[str, str] = {
    "different_value": "数值不符",
    "unknown_to_bank": "本行无此记录",
    "not_listed_by_auditor": "本行有记录，询证函未列示",
    "closed_account": "该账户已注销",
    "other": "其他差异",
}

CLOSING_WORDS: dict[ItemKey, str] = {
    ItemKey.DEPOSITS: "除上述列示的银行存款（包括余额为零的存款账户）外，本公司并无在贵行的其他存款。",
    ItemKey.LOANS: "除上述列示的银行借款外，本公司并无自贵行的其他借款。",
    ItemKey.CLOSED_ACCOUNTS: "除上述列示的注销账户外，本公司在此期间并未在贵行注销其他账户。",
}
"""The sentence the template prints under an item that lists entries."""


def item_heading(key: ItemKey) -> str:
    """The item's heading as the letter numbers it ("3. 期内注销账户"), the annex "附表 资金归集(资金池)";
    the 验资 letter's one table, unnumbered."""
    if key is ItemKey.CASH_POOLING:
        return f"附表 {ITEM_TITLES[key]}"
    if key not in STANDARD_ITEMS:
        return ITEM_TITLES[key]
    return f"{STANDARD_ITEMS.index(key) + 1}. {ITEM_TITLES[key]}"


def column_label(key: ItemKey, field: str) -> str:
    """The field's column heading in item ``key``: the standard letter's title
    (``documents.FIELD_TITLES``), with the unit where the field is a rate in per cent."""
    title = FIELD_TITLES[key].get(field, field)
    annotation = entry_model(key).model_fields[field].annotation if field in FIELD_TITLES[key] else None
    return f"{title}(%)" if Percent in get_args(annotation) else title


def merged_heading(key: ItemKey, merged: Merged) -> str:
    """The heading of two fields in one column: a yes/no's own title; a period's, the two dates'
    common words around 起止 (起始日期 and 终止日期: 起止日期; 贷款起始日期 and 贷款到期日期: 贷款起止日期)."""
    first, second = (column_label(key, name) for name in merged)
    if entry_model(key).model_fields[merged[0]].annotation is bool:
        return first
    prefix, suffix = _shared_start(first, second), _shared_start(first[::-1], second[::-1])[::-1]
    return f"{prefix}起止{suffix}"


def _shared_start(one: str, other: str) -> str:
    return "".join(
        a for a, _ in itertools.takewhile(lambda pair: pair[0] == pair[1], zip(one, other, strict=False))
    )


def show_value(value: object) -> str:
    """A field's value as the letter prints it: amounts with thousands separators, dates as
    YYYY-MM-DD, yes/no as 是/否, coded values in words, nothing as "—"."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        exponent = value.normalize().as_tuple().exponent
        places = max(2, -exponent if isinstance(exponent, int) else 0)
        return f"{value:,.{places}f}"
    if isinstance(value, Enum):
        return VALUE_LABELS.get(str(value.value), str(value.value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return " ".join(show_value(v) for v in value.model_dump().values() if v is not None)
    return str(value)


def _is_decimal(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return _is_decimal(get_args(annotation)[0])
    return annotation is Decimal or any(_is_decimal(a) for a in get_args(annotation))


def stated_value(key: ItemKey, field: str | None, text: str | None) -> str:
    """A value a difference states (as text): a number in a numeric field printed as the item's
    tables print it, anything else as written."""
    if text is None:
        return "—"
    info = entry_model(key).model_fields.get(field or "")
    if info is not None and _is_decimal(info.annotation):
        try:
            return show_value(Decimal(text))
        except ArithmeticError:
            return text
    return text


def entry_reference(entry: Entry) -> str | None:
    """The number that names an entry on the letter: its account, bill, contract or product number."""
    for name in type(entry).model_fields:
        if re.fullmatch(r"(.+_)?(no|code)", name):
            value = getattr(entry, name)
            if value is not None:
                return str(value)
    return None


def entry_currency(entry: Entry) -> str | None:
    value = getattr(entry, "currency", None)
    return None if value is None else str(value)


# --- the item tables -----------------------------------------------------------------------------


def _text_width(text: str, font_size: float) -> float:
    return max(float(pdfmetrics.stringWidth(line, FONT, font_size)) for line in text.split("\n"))


def _unbreakable(text: str) -> bool:
    # Amounts, dates, rates and numbers up to an account number's length read badly when broken.
    def whole(line: str) -> bool:
        wide = sum(ord(c) > 0x2E80 for c in line)
        return len(line) <= 6 or (wide <= 1 and len(line) <= 22)

    return all(whole(line) for line in text.split("\n"))


_NUMBER = re.compile(r"-?[0-9][0-9,]*(\.[0-9]+)?")


def _cell(text: str, style: ParagraphStyle, number_style: ParagraphStyle) -> Paragraph:
    """A table cell: amounts and rates right-aligned, line breaks kept."""
    amount = _NUMBER.fullmatch(text) is not None and ("," in text or "." in text)  # not a bare account number
    return Paragraph(escape(text).replace("\n", "<br/>"), number_style if amount else style)


_SIZES = (7.5, 7.0, 6.5, 6.0)  # a table with many columns is set smaller before numbers break


def _column_widths(headers: list[str], rows: list[list[str]], total: float) -> tuple[list[float], float]:
    """Widths that keep numbers and dates on one line, let text and headings wrap, and fill
    ``total``, and the font size that lets them: each column gets its minimum, then the rest of
    the page in proportion to how much more its longest cell wants."""
    pad = 6.0
    for size in _SIZES:
        least, wanted = [], []
        for index, heading in enumerate(headers):
            cells = [row[index] for row in rows]
            whole = [_text_width(c, size) for c in cells if _unbreakable(c)]
            floor = max([*whole, _text_width(heading[:4], size), 9 * mm - pad]) + pad
            longest = max([_text_width(c, size) for c in cells] + [_text_width(heading, size) / 2]) + pad
            least.append(floor)
            wanted.append(max(floor, min(longest, 48 * mm)))
        if sum(least) <= total:
            break
    if sum(least) >= total:
        return [w * total / sum(least) for w in least], size
    spare, more = total - sum(least), [w - f for w, f in zip(wanted, least, strict=True)]
    if sum(more) <= spare:
        return [w * total / sum(wanted) for w in wanted], size
    return [f + m * spare / sum(more) for f, m in zip(least, more, strict=True)], size


@dataclass(frozen=True)
class Column:
    """A column of an item's table: its heading and the entry fields it shows (one, or two merged)."""

    heading: str
    fields: tuple[str, ...]

    def cell(self, entry: Entry) -> str:
        values = [getattr(entry, name, None) for name in self.fields]
        if len(values) == 1:
            return show_value(values[0])
        first, second = values
        if isinstance(first, bool):  # yes or no, and what it is when yes
            return show_value(first) + (f":{show_value(second)}" if first and second is not None else "")
        if first is None and second is None:
            return "—"
        return f"{show_value(first)}\n至 {show_value(second)}"


def item_columns(key: ItemKey) -> list[Column]:
    """The columns of item ``key``: those ``ITEM_COLUMNS`` orders, then the entry model's other
    fields in its order, 备注 last."""
    fields = list(entry_model(key).model_fields)
    columns: list[Column] = []
    for spec in ITEM_COLUMNS.get(key, ()):
        names = spec if isinstance(spec, tuple) else (spec,)
        present = tuple(name for name in names if name in fields)
        if present == names:
            heading = merged_heading(key, spec) if isinstance(spec, tuple) else column_label(key, spec)
            columns.append(Column(heading, present))
        elif present:
            columns += [Column(column_label(key, name), (name,)) for name in present]
    shown = {name for column in columns for name in column.fields}
    rest = [name for name in fields if name not in shown and name != "note"] + ["note"] * ("note" in fields)
    return columns + [Column(column_label(key, name), (name,)) for name in rest]


def entry_model(key: ItemKey) -> type[Entry]:
    """The entry model of item ``key`` (from the letter's schema)."""
    item = LetterItems.model_fields[key.value].annotation
    entries = item.model_fields["entries"].annotation  # type: ignore[union-attr]
    model: type[Entry] = entries.__args__[0]
    return model


@dataclass(frozen=True)
class Row:
    cells: list[str]
    highlight: bool = False


def item_table(
    key: ItemKey, rows: Sequence[Row], s: dict[str, ParagraphStyle], *, spanning: str | None = None
) -> Table:
    """Item ``key``'s table with ``rows``, or with one row across saying ``spanning``."""
    columns = item_columns(key)
    headers = [column.heading for column in columns]
    widths, size = _column_widths(headers, [row.cells for row in rows], CONTENT_WIDTH)
    cell, number, head = (
        ParagraphStyle(f"{name}_{size}", parent=s[name], fontSize=size, leading=size * 1.27)
        for name in ("cell", "number_cell", "head")
    )
    cells: list[list[Any]] = [[Paragraph(escape(h), head) for h in headers]]
    cells += [[_cell(text, cell, number) for text in row.cells] for row in rows]
    if spanning is not None:
        cells.append([Paragraph(escape(spanning), s["head"])] + [""] * (len(columns) - 1))
    table = grid(cells, widths)
    if spanning is not None:
        table.setStyle(TableStyle([("SPAN", (0, -1), (-1, -1))]))
    for index, row in enumerate(rows, start=1):
        if row.highlight:
            table.setStyle(TableStyle([("BACKGROUND", (0, index), (-1, index), ALERT_SHADE)]))
    return table


def item_rows(key: ItemKey, entries: Sequence[Entry], highlighted: set[int] | None = None) -> list[Row]:
    columns = item_columns(key)
    return [
        Row([column.cell(entry) for column in columns], highlight=index in (highlighted or set()))
        for index, entry in enumerate(entries)
    ]
