"""The letter's own rules of issue 12, each on documents read through the public parser: what every
letter names (the firm's 函证经办人, the audit period, item 3's period), the minimum of a format-two
letter (its scope, the fee account; a blank one is refused), and the stable code of each refusal
(the error's ``type``, which clients and the pages tell the rules apart by)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from node_gateway.protocol import InvalidDocument, parse_letter
from node_gateway.protocol.documents import CONFIRMATION_NO_PATTERN, LetterFormat, format_confirmation_no
from node_gateway.protocol.hashing import canonical_bytes
from node_gateway.protocol.samples import sample_letter


def _data(letter_format: LetterFormat = LetterFormat.ONE) -> dict[str, Any]:
    return sample_letter(letter_format=letter_format).model_dump(mode="json", by_alias=True)


def _refusal(data: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidDocument) as refused:
        parse_letter(data)
    return [error["type"] for error in refused.value.details]


def test_every_letter_names_the_firm_s_contact_with_a_way_to_reach_them() -> None:
    data = _data()
    del data["firm_contact"]
    assert _refusal(data) == ["missing"]
    data["firm_contact"] = {"name": "赵敏"}
    assert _refusal(data) == ["contact_unreachable"]
    data["firm_contact"] = {"name": "赵敏", "email": "zhaomin@mingjian-cpa.example"}
    assert parse_letter(data).firm_contact.email == "zhaomin@mingjian-cpa.example"


def test_every_letter_states_the_audit_period() -> None:
    data = _data()
    del data["audit_period"], data["closed_accounts_period"]
    assert "missing" in _refusal(data)
    data["audit_period"] = {"start": "2024-12-31", "end": "2024-01-01"}
    # A period that ends before it starts (item 3's, taken from it, too).
    assert set(_refusal(data)) == {"value_error"}


def test_item_3_s_period_is_the_audit_period_unless_the_auditor_chooses_another() -> None:
    data = _data()
    del data["closed_accounts_period"]
    letter = parse_letter(data)
    assert letter.closed_accounts_period == letter.audit_period
    # Stated in the document itself, so the bank drafts from it and the hash covers it.
    assert b'"closed_accounts_period":{"end":"2024-12-31","start":"2024-01-01"}' in canonical_bytes(letter)
    data["closed_accounts_period"] = {"start": "2023-07-01", "end": "2024-12-31"}
    assert parse_letter(data).closed_accounts_period.start == date(2023, 7, 1)
    data["closed_accounts_period"] = {"start": "2024-01-01", "end": "2025-01-05"}
    assert _refusal(data) == ["closed_accounts_period_after_reference_date"]


def test_format_two_names_its_scope_and_the_fee_account_and_a_blank_one_is_refused() -> None:
    letter = parse_letter(_data(LetterFormat.TWO))
    assert letter.items.deposits.entries  # the accounts the auditor knows, without figures
    assert letter.items.loans.blank  # for the bank to fill in
    assert letter.fee_account is not None
    no_fee = _data(LetterFormat.TWO) | {"fee_account": None}
    assert _refusal(no_fee) == ["fee_account_missing"]
    blank = _data(LetterFormat.TWO)
    blank["items"] = {key: {} for key in blank["items"]}
    assert _refusal(blank) == ["format_two_blank"]
    # Marking items not applicable is no scope either: the letter still lists what it asks about.
    blank["items"] = {key: {"not_applicable": True} for key in blank["items"]}
    assert _refusal(blank) == ["format_two_blank"]


def test_format_one_refusals_have_their_codes() -> None:
    data = _data()
    data["items"]["custody"] = {}
    assert _refusal(data) == ["item_blank"]
    data = _data()
    del data["items"]["deposits"]["entries"][0]["balance"]
    assert _refusal(data) == ["figure_blank"]
    assert _data()["fee_account"] is not None
    assert (
        parse_letter(_data() | {"fee_account": None}).fee_account is None
    )  # format one: where the bank charges


def test_the_confirmation_no_is_prefix_year_sequence() -> None:
    assert format_confirmation_no("MJ", 2025, 17) == "MJ-2025-000017"
    assert parse_letter(_data() | {"confirmation_no": "MJ-2025-000017"}).confirmation_no == "MJ-2025-000017"
    assert parse_letter(_data()).confirmation_no is None  # a draft: the firm's gateway numbers it
    for wrong in ("mj-2025-000017", "MJ-25-17", "MJ 2025 000017", "-2025-000017"):
        assert _refusal(_data() | {"confirmation_no": wrong}) == ["string_pattern_mismatch"], wrong
    assert CONFIRMATION_NO_PATTERN.startswith("^")
