"""The capital-verification letter (银行询证函(验资), 操作指引 附3): the third format's rules, each
on a letter parsed as a received one."""

from __future__ import annotations

from typing import Any

import pytest

from node_gateway.protocol import InvalidDocument, parse_letter, parse_reply
from node_gateway.protocol.documents import STANDARD_ITEMS, ItemKey, ItemStatus, LetterFormat
from node_gateway.protocol.hashing import canonical_bytes
from node_gateway.protocol.samples import sample_letter, sample_reply


def _capital_data() -> dict[str, Any]:
    return sample_letter(letter_format=LetterFormat.CAPITAL).model_dump(mode="json", by_alias=True)


def _refused(data: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidDocument) as refused:
        parse_letter(data)
    return [e["type"] for e in refused.value.details]


def test_a_capital_letter_lists_its_contributions_and_carries_no_standard_item() -> None:
    data = _capital_data()
    data["items"] = {"capital_contributions": data["items"]["capital_contributions"]}  # as a client sends it
    letter = parse_letter(data)
    assert letter.format is LetterFormat.CAPITAL
    assert [key for key, _ in letter.items.by_key()] == [ItemKey.CAPITAL_CONTRIBUTIONS]
    assert [c.payer_name for c in letter.items.capital_contributions.entries] == [
        "江南控股集团有限公司",
        "上海浦江创业投资合伙企业(有限合伙)",
    ]
    assert all(getattr(letter.items, key.value).not_applicable for key in STANDARD_ITEMS)
    assert parse_letter(canonical_bytes(letter)) == letter


@pytest.mark.parametrize("item", [{}, {"not_applicable": True}], ids=["blank", "not_applicable"])
def test_a_capital_letter_without_contributions_is_refused(item: dict[str, Any]) -> None:
    data = _capital_data()
    data["items"]["capital_contributions"] = item
    assert "capital_contributions_blank" in _refused(data)


def test_a_capital_letter_asking_a_standard_item_is_refused() -> None:
    data = _capital_data()
    data["items"]["deposits"] = sample_letter().items.deposits.model_dump(mode="json")
    assert _refused(data) == ["standard_item_in_capital_letter"]


def test_a_standard_letter_listing_contributions_is_refused() -> None:
    data = sample_letter().model_dump(mode="json", by_alias=True)
    data["items"]["capital_contributions"] = _capital_data()["items"]["capital_contributions"]
    assert _refused(data) == ["capital_item_outside_capital_format"]


@pytest.mark.parametrize("letter_format", [LetterFormat.ONE, LetterFormat.TWO])
def test_a_standard_letter_keeps_its_form_without_the_capital_item(letter_format: LetterFormat) -> None:
    # Letters made before the 验资 format have no capital item: they parse, and serialise (and so
    # hash) as they did.
    letter = sample_letter(letter_format=letter_format)
    data = letter.model_dump(mode="json", by_alias=True)
    assert "capital_contributions" not in data["items"]
    assert parse_letter(data).items.capital_contributions.not_applicable
    assert ItemKey.CAPITAL_CONTRIBUTIONS not in dict(letter.items.by_key())


def test_a_capital_letter_is_refused_a_missing_contribution_amount() -> None:
    data = _capital_data()
    del data["items"]["capital_contributions"]["entries"][0]["amount"]
    with pytest.raises(InvalidDocument, match="amount"):
        parse_letter(data)


def test_the_reply_to_a_capital_letter_answers_its_contributions_only() -> None:
    letter = sample_letter(letter_format=LetterFormat.CAPITAL)
    reply = sample_reply(letter, letter_hash=b"\x01" * 32)
    assert [(key, answer.status) for key, answer in reply.items.by_key()] == [
        (ItemKey.CAPITAL_CONTRIBUTIONS, ItemStatus.CONFIRMED)
    ]
    data = reply.model_dump(mode="json", by_alias=True)
    assert parse_reply(data) == reply
    data["items"]["deposits"] = {"status": "confirmed"}
    with pytest.raises(InvalidDocument, match="answers only its contributions"):
        parse_reply(data)


def test_a_standard_reply_serialises_without_the_capital_answer() -> None:
    letter = sample_letter()
    reply = sample_reply(letter, letter_hash=b"\x01" * 32)
    assert "capital_contributions" not in reply.model_dump(mode="json", by_alias=True)["items"]
