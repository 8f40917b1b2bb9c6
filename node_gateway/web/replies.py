"""A bank's reply in words, for the pages of the firm and of the bank.

The conclusion (结论) as the reply states it, each difference as one line naming the item, the
account (or contract, bill, product) number, the currency and the field, with the auditor's
value against the bank's; who signed the reply off, by name and title, or the automated control
that approved it and the person accountable for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from node_gateway.protocol.documents import (
    AMOUNT_FIELDS as AMOUNT_FIELDS,  # the schema's money fields, re-exported
)
from node_gateway.protocol.documents import (
    CONCLUSION_TITLES,
    AutomatedControl,
    ConfirmationReply,
    Difference,
    Officer,
    Person,
    ReplyItems,
    conclusion_of,
)

Translate = Callable[..., str]


def value_words(t: Translate, name: str | None, value: Any) -> str:
    """A value in words: coded values translated (``value.…``), amounts grouped by thousands."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        value = "yes" if value else "no"
    elif isinstance(value, Enum):
        value = value.value
    if name in AMOUNT_FIELDS:
        try:
            return f"{Decimal(str(value)):,}"
        except InvalidOperation:  # "not recorded" and the like
            pass
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    text = str(value)
    words = t(f"value.{text}")
    return text if words == f"value.{text}" else words


def difference_line(t: Translate, item: str, d: Difference, *, reasons: str = "firm.diff") -> str:
    """One difference as a line: 「1 银行存款 · 账号/编号 3105… · USD · 余额:银行记录的数值不同;
    函证所列 255,900.00,银行记录 256,000.00(note)」. ``reasons``: the prefix of the reasons'
    words in the page's voice (the firm's ``firm.diff``, the bank's ``diff``)."""
    parts = [t(f"item.{item}")]
    if d.reference is not None:
        parts.append(t("reply.reference", reference=d.reference))
    if d.currency is not None:
        parts.append(d.currency)
    if d.field is not None:
        parts.append(t(f"field.{item}.{d.field}"))
    if d.auditor_value is not None or d.bank_value is not None:
        said = t(
            "reply.values",
            auditor=value_words(t, d.field, d.auditor_value),
            bank=value_words(t, d.field, d.bank_value),
        )
        said = f"{t(f'{reasons}.{d.reason.value}')};{said}"
    else:
        said = t(f"{reasons}.{d.reason.value}")
    line = f"{' · '.join(parts)}:{said}"
    return f"{line}({d.note})" if d.note else line


def difference_lines(t: Translate, items: ReplyItems, *, reasons: str = "firm.diff") -> list[tuple[str, str]]:
    """Every difference the answers state, in letter order, as (item key, line)."""
    return [
        (key.value, difference_line(t, key.value, d, reasons=reasons))
        for key, item in items.by_key()
        for d in item.differences
    ]


def conclusion_words(items: ReplyItems) -> str:
    """The 结论 the answers make: 信息证明无误 or 信息不符."""
    return CONCLUSION_TITLES[conclusion_of(items)]


def person_words(person: Officer | Person) -> str:
    """Someone by name and title: 「刘建国(运营主管)」."""
    return f"{person.name}({person.title})" if person.title else person.name


def control_words(t: Translate, control: AutomatedControl) -> str:
    """The automated control that approved a reply, and who answers for it."""
    return t("reply.automated", control=control.name, accountable=person_words(control.accountable))


@dataclass(frozen=True)
class ReplyWords:
    """What a page says of a reply: its conclusion, its differences, who signed it off."""

    conclusion: str
    differences: list[tuple[str, str]]  # (item key, line)
    preparer: str
    reviewer: str
    control: str | None  # the automated control that approved it, if one did


def reply_words(t: Translate, reply: ConfirmationReply, *, reasons: str = "firm.diff") -> ReplyWords:
    control = reply.automated_control
    return ReplyWords(
        conclusion=CONCLUSION_TITLES[reply.conclusion],
        differences=difference_lines(t, reply.items, reasons=reasons),
        preparer=person_words(reply.preparer),
        reviewer=person_words(reply.reviewer),
        control=None if control is None else control_words(t, control),
    )
