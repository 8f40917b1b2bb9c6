"""The items of a letter as tables: their columns, headings and values in the template's words.

The columns are built from the entry models (``node_gateway.protocol.documents``): every field of
an entry is a column, in the template's order where ``ITEM_COLUMNS`` gives one, labelled with its
official heading (``COLUMN_LABELS``), so a new field shows up without a change here (under its
field name until it gets a heading; a test holds every column to a Chinese one).
"""

from __future__ import annotations

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
    ITEM_TITLES,
    STANDARD_ITEMS,
    Entry,
    ItemKey,
    ItemStatus,
    LetterItems,
)
from node_gateway.protocol.printing.page import ALERT_SHADE, CONTENT_WIDTH, FONT, escape, grid

# --- words: headings, values --------------------------------------------------------------------

COLUMN_LABELS: dict[str, str] = {
    "account_no": "银行账号",
    "account_name": "账户名称",
    "currency": "币种",
    "interest_rate": "利率（%）",
    "account_type": "账户类型",
    "deposit_type": "存款种类",
    "balance": "余额",
    "start_date": "起始日期",
    "end_date": "终止日期",
    "restricted": "是否用于担保或存在其他使用限制",
    "restriction_note": "使用限制说明",
    "cash_pooled": "是否属于资金归集账户",
    "borrower_name": "借款人名称",
    "principal": "本金余额",
    "accrued_interest": "应计利息",
    "maturity_date": "到期日期",
    "contract_no": "合同编号",
    "security_note": "抵（质）押品/担保人",
    "lender_name": "资金借出方",
    "closed_on": "注销账户日",
    "kind": "类别",
    "counterparty_name": "被担保人/受益人",
    "method": "担保方式",
    "amount": "金额",
    "purpose": "担保事由",
    "bill_no": "汇票号码",
    "settlement_account_no": "结算账号",
    "face_amount": "票面金额",
    "issued_on": "出票日",
    "due_on": "到期日",
    "acceptor_name": "承兑人",
    "discounted_on": "贴现日",
    "discount_rate": "贴现率（%）",
    "discount_interest": "贴现利息",
    "net_amount": "贴现净额",
    "lc_no": "信用证号码",
    "beneficiary_name": "受益人",
    "unused_amount": "未使用金额",
    "expires_on": "到期日",
    "bought_currency": "买入币种",
    "bought_amount": "买入金额",
    "sold_currency": "卖出币种",
    "sold_amount": "卖出金额",
    "rate": "汇率",
    "settlement_date": "交收日期",
    "name": "名称",
    "document_no": "号码/产权文件编号",
    "quantity": "数量",
    "product_code": "产品代码",
    "product_name": "产品名称",
    "product_type": "产品类型",
    "units": "持有份额",
    "net_value": "产品净值",
    "purchased_on": "购买日",
    "matures_on": "到期日",
    "principal_protected": "是否保本",
    "description": "内容",
    "provider_name": "资金提供机构名称",
    "provider_account_no": "资金提供机构账号",
    "user_name": "资金使用机构名称",
    "user_account_no": "资金使用机构账号",
    "note": "备注",
}
"""Each entry field's column heading on the printed letter (the template's, where it has one)."""

Merged = tuple[str, str, str]
"""Two fields printed in one column, with the column's heading: (heading, first, second)."""

ITEM_COLUMNS: dict[ItemKey, tuple[str | Merged, ...]] = {
    ItemKey.DEPOSITS: (
        "account_name",
        "account_no",
        "currency",
        "interest_rate",
        "account_type",
        "deposit_type",
        "balance",
        ("起止日期", "start_date", "end_date"),
        ("是否用于担保或存在其他使用限制", "restricted", "restriction_note"),
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
        ("贷款起止日期", "start_date", "maturity_date"),
    ),
    ItemKey.ENTRUSTED_LOANS_TAKEN: (
        "account_name",
        "account_no",
        "lender_name",
        "currency",
        "interest_rate",
        "principal",
        ("贷款起止日期", "start_date", "maturity_date"),
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
        ("是否用于担保或存在其他使用限制", "restricted", "restriction_note"),
    ),
}
"""The columns of an item in the order of the template's table, where it differs from the entry
model's order. The fields not named here follow in the model's order, and 备注 comes last."""

_ITEM_COLUMN_LABELS: dict[ItemKey, dict[str, str]] = {
    ItemKey.LOANS: {"principal": "余额（本金）", "start_date": "借款日期"},
    ItemKey.ENTRUSTED_LOANS_GIVEN: {
        "account_no": "银行结算账号",
        "borrower_name": "资金借入方",
        "principal": "余额",
    },
    ItemKey.ENTRUSTED_LOANS_TAKEN: {"account_no": "银行结算账号", "principal": "余额"},
    ItemKey.GUARANTEES: {"amount": "担保余额/金额", "end_date": "担保到期日", "contract_no": "担保合同编号"},
    ItemKey.LETTERS_OF_CREDIT: {"amount": "信用证金额"},
    ItemKey.CASH_POOLING: {
        "balance": "截至基准日拨入或拨出资金余额（拨出为正，拨入为负）",
        "provider_account_no": "其账号",
        "user_account_no": "其账号",
    },
    ItemKey.BANK_ACCEPTANCES: {"acceptor_name": "承兑银行", "security_note": "抵（质）押品"},
}
"""Where an item's template names a field otherwise than the others do."""

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
    return _ITEM_COLUMN_LABELS.get(key, {}).get(field) or COLUMN_LABELS.get(field, field)


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
        heading, *names = spec if isinstance(spec, tuple) else (column_label(key, spec), spec)
        present = tuple(name for name in names if name in fields)
        if present:
            columns.append(Column(heading, present))
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


def item_extras(item: BaseModel) -> list[str]:
    """Fields an item carries besides its entries (a period, say), in words."""
    lines = []
    for name in type(item).model_fields:
        if name in ("not_applicable", "entries"):
            continue
        value = getattr(item, name)
        if value is not None:
            lines.append(f"{COLUMN_LABELS.get(name, name)}:{show_value(value)}")
    return lines
