"""Hypothesis strategies that build valid letters and replies.

Entries of the kinds that matter most (deposits, loans, closed accounts, FX, other, cash pooling)
are random; the remaining items are either not applicable or the sample letter's entries.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from node_gateway.protocol.documents import (
    AccountType,
    ConfirmationLetter,
    ConfirmationReply,
    DepositType,
    DifferenceReason,
    ItemKey,
    ItemStatus,
    LetterFormat,
    fx_rate,
)
from node_gateway.protocol.samples import sample_letter

_SAMPLE = sample_letter(letter_id="0x" + "11" * 32)

names = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=24)
references = st.from_regex(r"[0-9A-Za-z][0-9A-Za-z\-/.]{0,24}", fullmatch=True)
currencies = st.sampled_from(["CNY", "USD", "EUR", "HKD", "JPY", "GBP"])
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
letter_ids = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
member_numbers = st.integers(min_value=1, max_value=0xFFFF_FFFF)
amounts = st.decimals(min_value=0, max_value=Decimal(10) ** 15, places=2).map(str)
signed_amounts = st.decimals(min_value=-(Decimal(10) ** 15), max_value=Decimal(10) ** 15, places=2).map(str)
rates = st.decimals(min_value=Decimal("-1"), max_value=Decimal("30"), places=4).map(str)
registration_codes = st.from_regex(r"[0-9A-Z]{18}", fullmatch=True)
confirmation_nos = st.from_regex(r"[0-9A-Z]{1,16}-[0-9]{4}-[0-9]{6}", fullmatch=True)


def _maybe(strategy: st.SearchStrategy[Any], *, figures: bool) -> st.SearchStrategy[Any]:
    """A figure: always present in format one, perhaps left for the bank in format two."""
    return strategy if figures else st.none() | strategy


@st.composite
def _date_pair(draw: st.DrawFn) -> tuple[date, date]:
    first, second = sorted((draw(dates), draw(dates)))
    return first, second


@st.composite
def deposits(draw: st.DrawFn, *, figures: bool = True) -> dict[str, Any]:
    restricted = draw(st.booleans())
    entry: dict[str, Any] = {
        "account_no": draw(references),
        "account_name": draw(names),
        "currency": draw(currencies),
        "account_type": draw(st.sampled_from(list(AccountType))),
        "deposit_type": draw(st.sampled_from(list(DepositType))),
        "balance": draw(_maybe(signed_amounts, figures=figures)),
        "cash_pooled": draw(st.booleans()),
        "interest_rate": draw(st.none() | rates),
        "restricted": restricted,
        "restriction_note": draw(names) if restricted else None,
    }
    if draw(st.booleans()):
        entry["start_date"], entry["end_date"] = draw(_date_pair())
    return entry


@st.composite
def loans(draw: st.DrawFn, *, figures: bool = True) -> dict[str, Any]:
    start, maturity = draw(_date_pair())
    return {
        "borrower_name": draw(_maybe(names, figures=figures)),
        "account_no": draw(references),
        "contract_no": draw(st.none() | references),
        "currency": draw(currencies),
        "principal": draw(_maybe(amounts, figures=figures)),
        "accrued_interest": draw(_maybe(amounts, figures=figures)),
        "start_date": start,
        "maturity_date": maturity,
        "interest_rate": draw(st.none() | rates),
        "security_note": draw(st.none() | names),
    }


@st.composite
def closed_accounts(draw: st.DrawFn, *, figures: bool = True) -> dict[str, Any]:
    return {
        "account_no": draw(references),
        "account_name": draw(names),
        "currency": draw(currencies),
        "closed_on": draw(_maybe(dates, figures=figures)),
    }


@st.composite
def fx_contracts(draw: st.DrawFn, *, figures: bool = True) -> dict[str, Any]:
    bought, sold = draw(st.lists(currencies, min_size=2, max_size=2, unique=True))
    sold_amount = draw(st.decimals(min_value=1, max_value=Decimal(10) ** 12, places=2))
    rate = draw(st.decimals(min_value="0.0001", max_value=1000, places=4))
    # The contract's amounts follow its rate, in the one direction: bought = sold × rate.
    bought_amount = max((sold_amount * rate).quantize(Decimal("0.01")), Decimal("0.01"))
    return {
        "contract_no": draw(references),
        "bought_currency": bought,
        "bought_amount": draw(_maybe(st.just(str(bought_amount)), figures=figures)),
        "sold_currency": sold,
        "sold_amount": draw(_maybe(st.just(str(sold_amount)), figures=figures)),
        "rate": draw(_maybe(st.just(str(fx_rate(bought_amount, sold_amount))), figures=figures)),
        "settlement_date": draw(_maybe(dates, figures=figures)),
    }


@st.composite
def other_matters(draw: st.DrawFn, *, figures: bool = True) -> dict[str, Any]:
    with_amount = draw(st.booleans())
    return {
        "description": draw(names),
        "currency": draw(currencies) if with_amount else None,
        "amount": draw(signed_amounts) if with_amount else None,
    }


@st.composite
def cash_pool_accounts(draw: st.DrawFn, *, figures: bool = True) -> dict[str, Any]:
    return {
        "provider_name": draw(names),
        "provider_account_no": draw(references),
        "user_name": draw(names),
        "user_account_no": draw(references),
        "currency": draw(currencies),
        "balance": draw(_maybe(signed_amounts, figures=figures)),
    }


@st.composite
def capital_contributions(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "payer_name": draw(names),
        "paid_on": draw(dates),
        "account_no": draw(references),
        "currency": draw(currencies),
        "amount": draw(amounts),
        "purpose": draw(st.none() | names),
    }


_RANDOM_ENTRIES = {
    ItemKey.DEPOSITS: deposits,
    ItemKey.LOANS: loans,
    ItemKey.CLOSED_ACCOUNTS: closed_accounts,
    ItemKey.FX_CONTRACTS: fx_contracts,
    ItemKey.OTHER: other_matters,
    ItemKey.CASH_POOLING: cash_pool_accounts,
}


@st.composite
def letters(draw: st.DrawFn) -> ConfirmationLetter:
    """A valid letter of any format, built as JSON data and validated like a received one; a 验资
    letter lists its contributions and leaves the standard items out (not applicable)."""
    letter_format = draw(st.sampled_from(list(LetterFormat)))
    figures = letter_format is not LetterFormat.TWO
    reference_date = draw(dates)
    items: dict[str, Any] = {}
    if letter_format is LetterFormat.CAPITAL:
        contributions = draw(st.lists(capital_contributions(), min_size=1, max_size=3))
        items["capital_contributions"] = {"entries": contributions}
    for key, sample_item in _SAMPLE.items.by_key() if letter_format is not LetterFormat.CAPITAL else ():
        kinds = ["not_applicable", "entries"] + ([] if figures else ["blank"])
        # Format two lists at least the accounts the auditor knows.
        kind = "entries" if key is ItemKey.DEPOSITS and not figures else draw(st.sampled_from(kinds))
        if kind == "not_applicable":
            items[key.value] = {"not_applicable": True}
        elif kind == "blank":
            items[key.value] = {}
        elif key in _RANDOM_ENTRIES:
            entries = draw(st.lists(_RANDOM_ENTRIES[key](figures=figures), min_size=1, max_size=3))
            items[key.value] = {"entries": entries}
        elif sample_item.entries:
            items[key.value] = sample_item.model_dump(mode="json")
        else:
            items[key.value] = {"not_applicable": True}
    period_start = draw(st.dates(min_value=date(1999, 1, 1), max_value=reference_date))
    period = {"start": period_start, "end": reference_date}
    return ConfirmationLetter.model_validate(
        {
            "letter_id": draw(letter_ids),
            "confirmation_no": draw(st.none() | confirmation_nos),
            "format": letter_format,
            "reference_date": reference_date,
            "issued_on": draw(st.dates(min_value=reference_date, max_value=date(2100, 12, 31))),
            "audit_period": period,
            "closed_accounts_period": draw(st.none() | st.just(period)),
            "audit_firm": {"member_no": draw(member_numbers), "name": draw(names)},
            "firm_contact": {"name": draw(names), "email": "auditor@firm.example"},
            "fee_account": None
            if figures and draw(st.booleans())
            else {"account_no": draw(references), "account_name": draw(names)},
            "bank": {
                "member_no": draw(member_numbers),
                "name": draw(names),
                "branch": draw(st.none() | names),
            },
            "auditee": {"name": draw(names), "registration_code": draw(registration_codes)},
            "items": items,
        }
    )


@st.composite
def replies(draw: st.DrawFn, letter: ConfirmationLetter | None = None) -> ConfirmationReply:
    """A valid reply to ``letter`` (or to a random letter), with random statuses and differences."""
    letter = letter or draw(letters())
    items: dict[str, Any] = {}
    for key, item in letter.items.by_key():
        if item.not_applicable:
            items[key.value] = {"status": ItemStatus.NOT_APPLICABLE}
        elif len(item.entries) > 0 and draw(st.booleans()):
            entry = draw(st.integers(min_value=0, max_value=len(item.entries) - 1))
            reason = draw(
                st.sampled_from([DifferenceReason.UNKNOWN_TO_BANK, DifferenceReason.CLOSED_ACCOUNT])
            )
            items[key.value] = {
                "status": ItemStatus.EXCEPTION,
                "differences": [{"reason": reason, "entry": entry, "note": draw(st.none() | names)}],
            }
        else:
            items[key.value] = {"status": ItemStatus.CONFIRMED}
    preparer, reviewer = draw(st.lists(references, min_size=2, max_size=2, unique_by=str.casefold))
    exceptions = any(item["status"] is ItemStatus.EXCEPTION for item in items.values())
    return ConfirmationReply.model_validate(
        {
            "letter_id": letter.letter_id,
            "confirmation_no": draw(references),
            "letter_hash": draw(letter_ids),
            "bank_member_no": letter.bank.member_no,
            "replied_on": draw(dates),
            "conclusion": "exceptions" if exceptions else "confirmed",
            "items": items,
            "preparer": {"officer_id": preparer, "name": draw(names), "title": draw(names)},
            "reviewer": {"officer_id": reviewer, "name": draw(names), "title": draw(names)},
        }
    )
