"""验资: the bank drafts its answer to a capital-verification letter from the credits its core
booked to the capital account the letter names, within the letter's audit period, on each backend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bank_adapter.core_rows import CapitalCreditRow, CoreDataset, rows_of
from bank_adapter.core_sql import CoreBank
from bank_adapter.drafting import draft_reply
from bank_adapter.generator import dataset_from_letter
from bank_adapter.workflow import no_relationship_draft
from node_gateway.protocol.documents import DifferenceReason, ItemKey, ItemStatus, LetterFormat
from node_gateway.protocol.samples import AUDITEE, sample_letter

LETTER = sample_letter(letter_format=LetterFormat.CAPITAL)
CAPITAL_ACCOUNT = LETTER.items.capital_contributions.entries[0].account_no


def _credit(number: str, **values: object) -> CapitalCreditRow:
    base: dict[str, object] = {
        "credit_no": number,
        "customer_code": AUDITEE.registration_code,
        "account_no": CAPITAL_ACCOUNT,
        "currency": "CNY",
        "payer_name": "苏州工业园区引导基金",
        "paid_on": date(2024, 12, 27),
        "amount": Decimal("5000000.00"),
        "purpose": "投资款",
    }
    return CapitalCreditRow.model_validate(base | values)


def _with(dataset: CoreDataset, *credits: CapitalCreditRow) -> CoreDataset:
    return dataset | {CapitalCreditRow.table: [*dataset[CapitalCreditRow.table], *credits]}


def test_contributions_as_the_bank_booked_them_are_confirmed(core: CoreBank) -> None:
    core.load(
        _with(
            dataset_from_letter(LETTER),
            _credit("EARLIER", paid_on=date(2023, 6, 30)),  # an earlier capital round: outside the period
            _credit("ELSEWHERE", account_no="31050161373600001234"),  # not the capital account asked about
        )
    )
    draft = draft_reply(LETTER, core.snapshot(AUDITEE.registration_code, LETTER.reference_date))
    assert [(key, answer.status) for key, answer in draft.items.by_key()] == [
        (ItemKey.CAPITAL_CONTRIBUTIONS, ItemStatus.CONFIRMED)
    ]
    assert draft.exceptions == 0


def test_a_differing_contribution_and_an_unlisted_credit_are_exceptions(core: CoreBank) -> None:
    dataset = dataset_from_letter(LETTER)
    first, second = rows_of(dataset, CapitalCreditRow)
    # The bank booked the second investor's money as less, and as paid for goods (货款), not capital.
    short = second.model_copy(update={"amount": Decimal("12000000.00"), "purpose": "货款"})
    unlisted = _credit("LATE")
    core.load(dataset | {CapitalCreditRow.table: [first, short, unlisted]})

    answer = draft_reply(LETTER, core.snapshot(AUDITEE.registration_code, LETTER.reference_date)).items
    capital = answer.capital_contributions
    assert capital.status is ItemStatus.EXCEPTION
    stated = [(d.reason, d.entry, d.field, d.auditor_value, d.bank_value) for d in capital.differences]
    assert stated[:2] == [
        (DifferenceReason.DIFFERENT_VALUE, 1, "amount", "12500000.00", "12000000.00"),
        (DifferenceReason.DIFFERENT_VALUE, 1, "purpose", "投资款", "货款"),
    ]
    assert all((d.reference, d.currency) == (CAPITAL_ACCOUNT, "CNY") for d in capital.differences)
    not_listed = capital.differences[2]
    assert not_listed.reason is DifferenceReason.NOT_LISTED_BY_AUDITOR
    assert not_listed.bank_entry is not None
    assert capital.entries[not_listed.bank_entry].payer_name == "苏州工业园区引导基金"


def test_a_contribution_the_bank_never_received_is_unknown_to_it(core: CoreBank) -> None:
    dataset = dataset_from_letter(LETTER)
    first, _ = rows_of(dataset, CapitalCreditRow)
    core.load(dataset | {CapitalCreditRow.table: [first]})
    capital = draft_reply(
        LETTER, core.snapshot(AUDITEE.registration_code, LETTER.reference_date)
    ).items.capital_contributions
    assert [(d.reason, d.entry) for d in capital.differences] == [(DifferenceReason.UNKNOWN_TO_BANK, 1)]


def test_a_standard_letter_is_not_answered_with_capital_credits(core: CoreBank) -> None:
    standard = sample_letter()
    core.load(_with(dataset_from_letter(standard) | {CapitalCreditRow.table: []}, _credit("ANY")))
    draft = draft_reply(standard, core.snapshot(AUDITEE.registration_code, standard.reference_date))
    assert draft.exceptions == 0
    assert ItemKey.CAPITAL_CONTRIBUTIONS not in dict(draft.items.by_key())
    assert draft.items.capital_contributions.status is ItemStatus.NOT_APPLICABLE


def test_a_bank_without_relationship_states_every_contribution_unknown() -> None:
    draft = no_relationship_draft(LETTER)
    capital = draft.items.capital_contributions
    assert draft.no_relationship
    assert [(d.reason, d.entry) for d in capital.differences] == [
        (DifferenceReason.UNKNOWN_TO_BANK, 0),
        (DifferenceReason.UNKNOWN_TO_BANK, 1),
    ]
    assert [key for key, _ in draft.items.by_key()] == [ItemKey.CAPITAL_CONTRIBUTIONS]
