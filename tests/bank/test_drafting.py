"""Drafting replies from the core: format one compared figure by figure, format two filled in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from bank_adapter.core_rows import BalanceRow
from bank_adapter.core_sql import CoreBank
from bank_adapter.drafting import MATCH_KEYS, Draft, answer_item, draft_reply
from node_gateway.protocol.documents import (
    ConfirmationLetter,
    Difference,
    DifferenceReason,
    ItemKey,
    ItemStatus,
    LetterFormat,
    OtherMatter,
)
from node_gateway.protocol.samples import sample_letter


def _draft(core: CoreBank, letter: ConfirmationLetter) -> Draft:
    return draft_reply(letter, core.snapshot(letter.auditee.registration_code, letter.reference_date))


def _change(
    letter: ConfirmationLetter, item: str, entries: list[Any] | None = None, **item_values: Any
) -> ConfirmationLetter:
    """The letter with one item's entries (or other item fields) replaced."""
    values = letter.items.model_dump()
    values[item] = ({"entries": entries} if entries is not None else {}) | item_values
    return letter.model_copy(update={"items": type(letter.items).model_validate(values)})


def _reasons(draft: Draft, item: str) -> list[tuple[DifferenceReason, int | None, str | None]]:
    answer = getattr(draft.items, item)
    return [(d.reason, d.entry, d.field) for d in answer.differences]


def test_matching_figures_are_confirmed(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    draft = _draft(sample_core, letter)
    statuses = {key.value: item.status for key, item in draft.items.by_key()}
    assert statuses == {
        key.value: ItemStatus.NOT_APPLICABLE if item.not_applicable else ItemStatus.CONFIRMED
        for key, item in letter.items.by_key()
    }
    assert draft.exceptions == 0
    assert draft.attention == ()
    assert all(not item.entries for _, item in draft.items.by_key())


def test_a_changed_balance_is_a_difference(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    deposits = list(letter.items.deposits.entries)
    deposits[1] = deposits[1].model_copy(update={"balance": Decimal("255900.00")})
    draft = _draft(sample_core, _change(letter, "deposits", deposits))
    assert draft.items.deposits.differences == (
        Difference(
            reason=DifferenceReason.DIFFERENT_VALUE,
            entry=1,
            field="balance",
            reference=deposits[1].account_no,
            currency="USD",
            auditor_value="255900.00",
            bank_value="256000.00",
        ),
    )
    assert draft.items.loans.status is ItemStatus.CONFIRMED


def test_every_stated_value_is_compared_but_not_prose(
    sample_core: CoreBank, letter: ConfirmationLetter
) -> None:
    (loan,) = letter.items.loans.entries
    changed = loan.model_copy(
        update={
            "interest_rate": Decimal("3.85"),
            "maturity_date": date(2025, 12, 27),
            "security_note": "信用",
        }
    )
    draft = _draft(sample_core, _change(letter, "loans", [changed]))
    assert {
        (field, d.auditor_value, d.bank_value)
        for (_, _, field), d in zip(_reasons(draft, "loans"), draft.items.loans.differences, strict=True)
    } == {
        ("interest_rate", "3.85", "3.45"),
        ("maturity_date", "2025-12-27", "2025-06-27"),
    }


def test_an_account_the_bank_does_not_know(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    deposits = [
        *letter.items.deposits.entries,
        letter.items.deposits.entries[0].model_copy(update={"account_no": "999"}),
    ]
    draft = _draft(sample_core, _change(letter, "deposits", deposits))
    assert _reasons(draft, "deposits") == [(DifferenceReason.UNKNOWN_TO_BANK, 5, None)]
    assert draft.items.deposits.entries == ()


def test_an_account_the_auditor_did_not_list_comes_with_the_banks_entry(
    sample_core: CoreBank, letter: ConfirmationLetter
) -> None:
    deposits = letter.items.deposits.entries
    draft = _draft(sample_core, _change(letter, "deposits", list(deposits[1:])))
    assert _reasons(draft, "deposits") == [(DifferenceReason.NOT_LISTED_BY_AUDITOR, None, None)]
    assert draft.items.deposits.entries == (deposits[0],)
    assert draft.items.deposits.differences[0].note == f"entries[0]: {deposits[0].account_no} CNY"


def test_an_item_marked_not_applicable_that_the_bank_has(
    sample_core: CoreBank, letter: ConfirmationLetter
) -> None:
    draft = _draft(sample_core, _change(letter, "wealth_products", not_applicable=True))
    assert _reasons(draft, "wealth_products") == [(DifferenceReason.NOT_LISTED_BY_AUDITOR, None, None)]
    assert draft.items.wealth_products.entries == letter.items.wealth_products.entries


def test_a_closed_account_listed_as_a_deposit(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    (closed,) = letter.items.closed_accounts.entries
    listed = letter.items.deposits.entries[4].model_copy(update={"account_no": closed.account_no})
    draft = _draft(sample_core, _change(letter, "deposits", [*letter.items.deposits.entries[:4], listed]))
    (difference, unlisted) = draft.items.deposits.differences
    assert (difference.reason, difference.entry, difference.bank_value) == (
        DifferenceReason.CLOSED_ACCOUNT,
        4,
        "2024-08-20",
    )
    assert unlisted.reason is DifferenceReason.NOT_LISTED_BY_AUDITOR  # the real 5th account


def test_closed_accounts_are_checked_both_ways(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    (closed,) = letter.items.closed_accounts.entries
    open_one = letter.items.deposits.entries[0]
    listed = [
        closed.model_copy(update={"closed_on": date(2024, 9, 1)}),
        closed.model_copy(update={"account_no": open_one.account_no, "closed_on": date(2024, 5, 1)}),
    ]
    draft = _draft(sample_core, _change(letter, "closed_accounts", listed))
    assert [(d.reason, d.entry, d.field, d.bank_value) for d in draft.items.closed_accounts.differences] == [
        (DifferenceReason.DIFFERENT_VALUE, 0, "closed_on", "2024-08-20"),
        (DifferenceReason.DIFFERENT_VALUE, 1, "closed_on", "not closed"),
    ]
    # Not listing the account closed in the period is an exception too.
    draft = _draft(sample_core, _change(letter, "closed_accounts", not_applicable=True))
    assert draft.items.closed_accounts.entries == (closed,)


def test_names_compare_without_full_width_forms_case_or_spaces(
    sample_core: CoreBank, letter: ConfirmationLetter
) -> None:
    (lc,) = letter.items.letters_of_credit.entries
    respelled = lc.model_copy(update={"beneficiary_name": " müller  PRÄZISIONSTECHNIK gmbh"})
    assert _draft(sample_core, _change(letter, "letters_of_credit", [respelled])).exceptions == 0


def test_a_guarantee_found_by_its_parties_when_the_contract_number_differs(
    sample_core: CoreBank, letter: ConfirmationLetter
) -> None:
    (guarantee,) = letter.items.guarantees.entries
    draft = _draft(
        sample_core, _change(letter, "guarantees", [guarantee.model_copy(update={"contract_no": "X-1"})])
    )
    assert [(d.field, d.auditor_value, d.bank_value) for d in draft.items.guarantees.differences] == [
        ("contract_no", "X-1", guarantee.contract_no)
    ]


def test_other_matters_wait_for_a_person(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    draft = _draft(sample_core, _change(letter, "other", [OtherMatter(description="是否存在未披露的质押")]))
    assert _reasons(draft, "other") == [(DifferenceReason.OTHER, 0, None)]
    assert draft.attention == ("other[0]: answer by hand",)


def test_another_auditee_name_needs_attention(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    renamed = letter.model_copy(update={"auditee": letter.auditee.model_copy(update={"name": "别的公司"})})
    assert len(_draft(sample_core, renamed).attention) == 1


def test_a_format_two_letter_is_filled_in(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    blank = sample_letter(
        letter_format=LetterFormat.TWO, auditee=letter.auditee, reference_date=letter.reference_date
    )
    draft = _draft(sample_core, blank)
    assert draft.exceptions == 0
    for key, item in letter.items.by_key():
        answer = getattr(draft.items, key.value)
        if key.value == "other" or item.not_applicable:
            assert answer.status is ItemStatus.NOT_APPLICABLE, key
        else:
            assert answer.status is ItemStatus.CONFIRMED, key
            assert sorted(map(repr, answer.entries)) == sorted(map(repr, item.entries)), key
    balances = {d.account_no: d.balance for d in draft.items.deposits.entries}
    assert balances["31050161373600001234"] == Decimal("12345678.90")
    assert balances["31050161373600007890"] == Decimal("0.00")  # zero balances are reported


def test_a_format_two_letter_listing_an_unknown_account(
    sample_core: CoreBank, letter: ConfirmationLetter
) -> None:
    blank = sample_letter(
        letter_format=LetterFormat.TWO, auditee=letter.auditee, reference_date=letter.reference_date
    )
    stranger = blank.items.deposits.entries[0].model_copy(update={"account_no": "999"})
    draft = _draft(sample_core, _change(blank, "deposits", [*blank.items.deposits.entries, stranger]))
    assert _reasons(draft, "deposits") == [(DifferenceReason.UNKNOWN_TO_BANK, 5, None)]
    assert len(draft.items.deposits.entries) == 5


def test_a_snapshot_of_another_date_is_refused(sample_core: CoreBank, letter: ConfirmationLetter) -> None:
    snapshot = sample_core.snapshot(letter.auditee.registration_code, date(2024, 11, 30))
    with pytest.raises(ValueError, match="reference date"):
        draft_reply(letter, snapshot)


def test_a_balance_booked_after_the_reference_date_does_not_count(
    sample_core: CoreBank, letter: ConfirmationLetter
) -> None:
    first = letter.items.deposits.entries[0]
    sample_core.load(
        {
            "balances": [
                BalanceRow(
                    account_no=first.account_no, currency="CNY", as_of=date(2025, 1, 2), balance=Decimal(1)
                )
            ]
        }
    )
    assert _draft(sample_core, letter).exceptions == 0


def test_each_record_answers_one_entry_found_by_its_key_as_compared() -> None:
    """An entry finds the first record not yet taken whose key holds its values as compared
    (full-width forms, case, spaces); a second entry with the same key, with no such record left,
    is unknown to the bank, and the records no entry took are reported as not listed."""
    (first, *_) = sample_letter().items.deposits.entries
    listed = first.model_copy(update={"account_no": "X" + first.account_no})
    item = sample_letter().items.deposits.model_copy(update={"entries": (listed, listed)})
    other = first.model_copy(update={"account_no": "9" + first.account_no})
    bank = (first.model_copy(update={"account_no": " ｘ" + first.account_no}), other, first)
    answer = answer_item(item, bank, MATCH_KEYS[ItemKey.DEPOSITS], letter_format=LetterFormat.ONE)
    assert [(d.reason, d.entry, d.bank_entry) for d in answer.differences] == [
        (DifferenceReason.UNKNOWN_TO_BANK, 1, None),  # the one record of its key went to entry 0
        (DifferenceReason.NOT_LISTED_BY_AUDITOR, None, 0),
        (DifferenceReason.NOT_LISTED_BY_AUDITOR, None, 1),
    ]
    assert answer.entries == (other, first)
