"""The compliance check on arrival: each rule, and the reason code it rejects with."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from bank_adapter.compliance import ComplianceResult, LetterFacts, check_letter, incompleteness
from node_gateway.protocol.documents import ConfirmationLetter, LetterFormat, RejectionReason
from node_gateway.protocol.samples import sample_letter

REF = "0x" + "ab" * 32
NOW = 1_737_000_000  # 16 January 2025
FACTS = LetterFacts(
    bank_member_no=3,
    requested_by=2,
    requester_is_active_firm=True,
    auditee_ref=REF,
    bank_auditee_ref=REF,
    customer_known=True,
    signer="0x0000000000000000000000000000000000000001",
    mandate_valid_until=NOW + 86400,
    mandate_revoked=False,
    now=NOW,
    today=date(2025, 1, 16),
)


def _check(letter: ConfirmationLetter | None = None, **facts: Any) -> ComplianceResult:
    return check_letter(letter or sample_letter(), dataclasses.replace(FACTS, **facts))


def _deposits(letter: ConfirmationLetter, index: int, **values: Any) -> ConfirmationLetter:
    deposits = list(letter.items.deposits.entries)
    deposits[index] = deposits[index].model_copy(update=values)
    items = letter.items.model_dump() | {"deposits": {"entries": deposits}}
    return letter.model_copy(update={"items": type(letter.items).model_validate(items)})


def test_a_compliant_letter_passes() -> None:
    result = _check()
    assert result.passed
    assert result.reason is None


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"requester_is_active_firm": False}, RejectionReason.NOT_FROM_AUDIT_FIRM),
        ({"requested_by": 7}, RejectionReason.NOT_FROM_AUDIT_FIRM),
        ({"bank_member_no": 9}, RejectionReason.OTHER),
        ({"today": date(2024, 12, 30)}, RejectionReason.REFERENCE_DATE_INVALID),  # before the reference date
        ({"today": date(2028, 1, 2)}, RejectionReason.REFERENCE_DATE_INVALID),  # more than 3 years on
        ({"bank_auditee_ref": "0x" + "cd" * 32}, RejectionReason.UNKNOWN_CUSTOMER),
        ({"mandate_valid_until": NOW - 1}, RejectionReason.AUTHORISATION_INVALID),
        ({"mandate_valid_until": 0}, RejectionReason.AUTHORISATION_INVALID),
        ({"mandate_revoked": True}, RejectionReason.AUTHORISATION_INVALID),
    ],
)
def test_each_rule_has_its_reason(facts: dict[str, Any], reason: RejectionReason) -> None:
    result = _check(**facts)
    assert (result.passed, result.reason) == (False, reason)


def test_a_letter_authorised_under_another_customer_s_reference_is_rejected() -> None:
    """The signer holds this bank's mandate for another customer (the reference on chain is that
    customer's), the letter names this one: rejected, and the detail says why, even where the
    core does not know the auditee named."""
    for known in (True, False):
        result = _check(auditee_ref="0x" + "cd" * 32, customer_known=known)
        assert result.reason is RejectionReason.UNKNOWN_CUSTOMER
        assert "another customer's reference" in result.detail
    assert _check(auditee_ref=None).reason is RejectionReason.UNKNOWN_CUSTOMER  # none recorded


def test_no_relationship_is_answered_not_rejected() -> None:
    """A bank with no relationship with the auditee says so in a reply (操作指引): no rejection."""
    result = _check(customer_known=False)
    assert result.passed
    assert "no customer" in result.detail
    # A letter that fails another rule is still rejected for it.
    assert _check(customer_known=False, mandate_revoked=True).reason is RejectionReason.AUTHORISATION_INVALID


def test_reference_dates() -> None:
    issued_before = sample_letter(reference_date=date(2025, 1, 10), issued_on=date(2025, 1, 6))
    assert _check(issued_before).reason is RejectionReason.REFERENCE_DATE_INVALID
    from_the_future = sample_letter(issued_on=date(2025, 1, 20))
    assert "dated in the future" in _check(from_the_future).detail
    assert _check(sample_letter(issued_on=date(2025, 1, 17))).passed  # a day's grace for time zones


def test_a_time_deposit_without_its_dates_is_incomplete() -> None:
    letter = _deposits(sample_letter(), 2, start_date=None, end_date=None)
    result = _check(letter)
    assert result.reason is RejectionReason.INCOMPLETE
    assert result.detail == "deposits[2]: a time deposit states its start and end dates"
    # The letter's data never appears in the reason.
    assert letter.items.deposits.entries[2].account_no not in result.detail


def test_a_loan_without_its_rate_is_incomplete() -> None:
    letter = sample_letter()
    (loan,) = letter.items.loans.entries
    items = letter.items.model_dump() | {
        "loans": {"entries": [loan.model_copy(update={"interest_rate": None})]}
    }
    letter = letter.model_copy(update={"items": type(letter.items).model_validate(items)})
    assert incompleteness(letter) == ["loans[0]: the interest rate is not stated"]


def test_a_format_two_letter_leaves_figures_to_the_bank() -> None:
    assert incompleteness(sample_letter(letter_format=LetterFormat.TWO)) == []


def test_the_first_failing_rule_decides() -> None:
    letter = _deposits(sample_letter(), 2, start_date=None, end_date=None)
    assert _check(letter, customer_known=False).reason is RejectionReason.INCOMPLETE
    assert _check(letter, requester_is_active_firm=False).reason is RejectionReason.NOT_FROM_AUDIT_FIRM


def test_a_format_the_bank_s_published_rules_do_not_accept_is_rejected() -> None:
    capital = sample_letter(letter_format=LetterFormat.CAPITAL)
    result = _check(capital, formats_accepted=(LetterFormat.ONE, LetterFormat.TWO))
    assert (result.passed, result.reason) == (False, RejectionReason.FORMAT_NOT_ACCEPTED)
    assert result.detail == (
        "a letter in 验资 (capital); this bank's published rules accept 格式一 (one), 格式二 (two) only"
    )
    assert _check(capital, formats_accepted=(LetterFormat.CAPITAL,)).passed
    assert _check(capital).passed  # no rules published: every format
    # Before completeness: a format the bank does not take is answered by that, not by its gaps.
    incomplete = _deposits(sample_letter(), 2, start_date=None, end_date=None)
    assert (
        _check(incomplete, formats_accepted=(LetterFormat.TWO,)).reason is RejectionReason.FORMAT_NOT_ACCEPTED
    )
