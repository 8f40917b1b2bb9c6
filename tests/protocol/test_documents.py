"""The letter and reply schemas: what they accept, what they refuse, and their JSON form."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from node_gateway.protocol import InvalidDocument, parse_letter, parse_reply
from node_gateway.protocol.documents import (
    ITEM_TITLES,
    STANDARD_ITEMS,
    ConfirmationLetter,
    ConfirmationReply,
    DepositAccount,
    DepositType,
    Difference,
    FxContract,
    Item,
    ItemKey,
    ItemReply,
    ItemStatus,
    LetterFormat,
    LetterItems,
    Loan,
    RefusalReason,
    RejectionReason,
    ReplyItems,
    normalise_registration_code,
    uscc,
)
from node_gateway.protocol.samples import AUDITEE_CODE, sample_letter, sample_reply

from .strategies import letters, replies

LETTER_ID = "0x" + "ab" * 32
HASH = b"\x42" * 32


def _letter_data(**changes: Any) -> dict[str, Any]:
    data = sample_letter(letter_id=LETTER_ID).model_dump(mode="json")
    data.update(changes)
    return data


def _deposit(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account_no": "31050161373600001234",
        "account_name": "上海江南精密机械股份有限公司",
        "currency": "CNY",
        "account_type": "basic",
        "deposit_type": "demand",
        "balance": "100.00",
    }
    return data | changes


def test_sample_letters_are_valid_in_both_formats() -> None:
    one = sample_letter()
    two = sample_letter(letter_format=LetterFormat.TWO)
    assert one.format is LetterFormat.ONE
    assert two.items.deposits.entries[0].balance is None
    assert two.items.loans.blank
    assert one.letter_id != two.letter_id


def test_items_follow_the_standard_letter_order() -> None:
    assert list(LetterItems.model_fields) == [key.value for key in ItemKey]
    assert list(ReplyItems.model_fields) == [key.value for key in ItemKey]
    assert list(ITEM_TITLES) == list(ItemKey)
    assert len(STANDARD_ITEMS) == 15  # 14 items and the cash-pooling annex
    assert [key for key in ItemKey if key not in STANDARD_ITEMS] == [ItemKey.CAPITAL_CONTRIBUTIONS]  # 验资


def test_every_item_must_be_given_explicitly() -> None:
    data = _letter_data()
    del data["items"]["custody"]
    with pytest.raises(ValidationError, match="custody"):
        ConfirmationLetter.model_validate(data)


def test_item_cannot_be_both_not_applicable_and_have_entries() -> None:
    with pytest.raises(ValidationError, match="not applicable cannot have entries"):
        Item[DepositAccount].model_validate({"not_applicable": True, "entries": [_deposit()]})


def test_format_one_refuses_blank_items_and_missing_figures() -> None:
    data = _letter_data()
    data["items"]["loans"] = {}
    with pytest.raises(ValidationError, match="item loans is blank"):
        ConfirmationLetter.model_validate(data)
    data = _letter_data()
    data["items"]["deposits"]["entries"][1]["balance"] = None
    with pytest.raises(ValidationError, match=r"deposits\[1\] leaves balance blank"):
        ConfirmationLetter.model_validate(data)


def test_format_two_leaves_figures_and_items_to_the_bank() -> None:
    data = _letter_data(format="two")
    data["items"]["loans"] = {}
    data["items"]["deposits"]["entries"][1]["balance"] = None
    letter = ConfirmationLetter.model_validate(data)
    assert letter.items.loans.blank


@pytest.mark.parametrize("currency", ["cny", "CN", "RMB1", "人民币", ""])
def test_bad_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValidationError, match="currency"):
        DepositAccount.model_validate(_deposit(currency=currency))


@pytest.mark.parametrize(
    ("given", "canonical"),
    [("100", "100.00"), ("100.5", "100.50"), ("1.230", "1.23"), ("-0.00", "0.00"), (7, "7.00")],
)
def test_amounts_have_two_decimal_places_as_strings(given: object, canonical: str) -> None:
    entry = DepositAccount.model_validate(_deposit(balance=given))
    assert entry.model_dump(mode="json")["balance"] == canonical


@pytest.mark.parametrize("amount", ["1.001", "NaN", "Infinity", "1e18", 1.5, True])
def test_bad_amounts_are_refused(amount: object) -> None:
    with pytest.raises(ValidationError, match="balance"):
        DepositAccount.model_validate(_deposit(balance=amount))


def test_principal_cannot_be_negative_but_a_balance_can() -> None:
    assert DepositAccount.model_validate(_deposit(balance="-12.30")).balance == Decimal("-12.30")
    with pytest.raises(ValidationError, match="must not be negative"):
        Loan(account_no="1", currency="CNY", principal=Decimal("-1"))


def test_rates_serialise_in_their_shortest_form() -> None:
    a = DepositAccount.model_validate(_deposit(interest_rate="1.350"))
    b = DepositAccount.model_validate(_deposit(interest_rate="1.35"))
    assert a.model_dump(mode="json")["interest_rate"] == "1.35"
    assert a.model_dump_json() == b.model_dump_json()
    big = DepositAccount.model_validate(_deposit(interest_rate="100"))
    assert big.model_dump(mode="json")["interest_rate"] == "100"


def test_restricted_account_needs_a_note() -> None:
    with pytest.raises(ValidationError, match="restriction_note"):
        DepositAccount.model_validate(_deposit(restricted=True))
    with pytest.raises(ValidationError, match="restriction_note"):
        DepositAccount.model_validate(_deposit(restriction_note="冻结"))


def test_entry_dates_must_be_in_order() -> None:
    with pytest.raises(ValidationError, match="start_date is after end_date"):
        DepositAccount.model_validate(
            _deposit(deposit_type=DepositType.TIME, start_date="2025-03-15", end_date="2024-03-15")
        )


def test_fx_contract_needs_two_currencies() -> None:
    with pytest.raises(ValidationError, match="one currency and sells another"):
        FxContract(contract_no="FX1", bought_currency="USD", sold_currency="USD")


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        ConfirmationLetter.model_validate(_letter_data(remark="hidden"))
    with pytest.raises(ValidationError, match="Extra inputs"):
        DepositAccount.model_validate(_deposit(iban="x"))


def test_documents_are_frozen() -> None:
    letter = sample_letter()
    with pytest.raises(ValidationError, match="frozen"):
        letter.issued_on = date(2025, 2, 1)  # type: ignore[misc]


def test_schema_and_version_are_in_the_json() -> None:
    data = sample_letter().model_dump(mode="json")
    assert (data["schema"], data["version"]) == ("confirmnet.letter", 1)
    with pytest.raises(ValidationError, match="schema"):
        ConfirmationLetter.model_validate(data | {"schema": "confirmnet.reply"})
    with pytest.raises(ValidationError, match="version"):
        ConfirmationLetter.model_validate(data | {"version": 2})


def test_letter_id_is_32_bytes_hex_and_lower_cased() -> None:
    letter = ConfirmationLetter.model_validate(_letter_data(letter_id=LETTER_ID.upper().replace("0X", "0x")))
    assert letter.letter_id == LETTER_ID
    for bad in ["0x" + "ab" * 31, "ab" * 32, "0x" + "zz" * 32]:
        with pytest.raises(ValidationError, match="letter_id"):
            ConfirmationLetter.model_validate(_letter_data(letter_id=bad))


def test_registration_code_is_normalised() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in AUDITEE_CODE.lower())
    assert normalise_registration_code(f" {full_width} ") == AUDITEE_CODE
    assert normalise_registration_code("9131-0115 ma1h7q3k2c") == "91310115MA1H7Q3K2C"
    with pytest.raises(ValueError, match="8 to 32"):
        normalise_registration_code("91-31")
    letter = ConfirmationLetter.model_validate(
        _letter_data(auditee={"name": "江南精密", "registration_code": AUDITEE_CODE.lower()})
    )
    assert letter.auditee.registration_code == AUDITEE_CODE


def test_sample_codes_have_valid_check_characters() -> None:
    assert uscc("91350100M000100Y4") == "91350100M000100Y43"  # a published example code


def test_reviewer_must_differ_from_preparer() -> None:
    letter = sample_letter()
    reply = sample_reply(letter, letter_hash=HASH)
    data = reply.model_dump(mode="json")
    data["reviewer"] = {"officer_id": reply.preparer.officer_id.lower(), "name": "另一个名字"}
    with pytest.raises(ValidationError, match="reviewer must be another officer"):
        ConfirmationReply.model_validate(data)


def test_reply_binds_the_letter() -> None:
    letter = sample_letter()
    reply = sample_reply(letter, letter_hash=HASH, with_exception=True)
    assert reply.letter_id == letter.letter_id
    assert reply.letter_hash == "0x" + HASH.hex()
    assert reply.has_exceptions
    assert reply.items.custody.status is ItemStatus.NOT_APPLICABLE
    assert not sample_reply(letter, letter_hash=HASH).has_exceptions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "exception"}, "at least one difference"),
        (
            {"status": "confirmed", "differences": [{"reason": "unknown_to_bank", "entry": 0}]},
            "confirmed item states no differences",
        ),
        ({"status": "not_applicable", "entries": [_deposit()]}, "has no entries"),
    ],
)
def test_item_reply_is_consistent_with_its_status(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ItemReply[DepositAccount].model_validate(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "different_value", "entry": 0, "bank_value": "1.00"}, "names the field"),
        ({"reason": "different_value", "entry": 0, "field": "balance"}, "names the field"),
        (
            {
                "reason": "different_value",
                "entry": 0,
                "field": "balance",
                "auditor_value": "1",
                "bank_value": "1",
            },
            "are the same",
        ),
        ({"reason": "unknown_to_bank"}, "names the entry"),
        ({"reason": "closed_account"}, "names the entry"),
        ({"reason": "not_listed_by_auditor", "entry": 1}, "names no entry"),
        ({"reason": "other"}, "needs a note"),
        ({"reason": "unknown_to_bank", "entry": -1}, "greater than or equal"),
    ],
)
def test_difference_is_complete_for_its_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Difference.model_validate(data)


def test_bank_may_add_an_entry_the_auditor_did_not_list() -> None:
    answer = ItemReply[DepositAccount].model_validate(
        {
            "status": "exception",
            "differences": [{"reason": "not_listed_by_auditor", "bank_value": "31050161373600009999"}],
            "entries": [_deposit(account_no="31050161373600009999")],
        }
    )
    assert answer.entries[0].account_no == "31050161373600009999"


def test_parse_functions_raise_invalid_document_with_a_code() -> None:
    with pytest.raises(InvalidDocument) as caught:
        parse_letter(b'{"schema": "confirmnet.letter"')
    assert caught.value.code == "invalid_document"
    with pytest.raises(InvalidDocument) as caught:
        parse_reply({"schema": "confirmnet.reply", "letter_id": "nope"})
    assert any(error["loc"] == ["letter_id"] for error in caught.value.errors)


def test_reason_codes_are_stable_uint16() -> None:
    assert {r.name: r.value for r in RejectionReason} == {
        "INCOMPLETE": 1,
        "REFERENCE_DATE_INVALID": 2,
        "UNKNOWN_CUSTOMER": 3,
        "AUTHORISATION_INVALID": 4,
        "NOT_FROM_AUDIT_FIRM": 5,
        "UNPAID_FEES": 6,
        "FORMAT_NOT_ACCEPTED": 7,
        "OTHER": 99,
    }
    assert {r.name: r.value for r in RefusalReason} == {"NOT_OUR_AUDITOR": 1, "WRONG_CONTENT": 2, "OTHER": 99}
    assert all(0 < r < 2**16 for r in [*RejectionReason, *RefusalReason])


@settings(max_examples=40, deadline=None)
@given(letters())
def test_random_letters_survive_a_json_round_trip(letter: ConfirmationLetter) -> None:
    text = letter.model_dump_json()
    assert parse_letter(text) == letter
    assert parse_letter(json.loads(text)) == letter


@settings(max_examples=25, deadline=None)
@given(replies())
def test_random_replies_survive_a_json_round_trip(reply: ConfirmationReply) -> None:
    assert parse_reply(reply.model_dump_json()) == reply
