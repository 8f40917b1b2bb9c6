"""A preparer's own answers must match the letter's items, through the bank's API: an item the
letter lists is answered, not marked 'not applicable'; an item the letter marks not applicable is
not confirmed nor excepted for anything but what the bank holds that the auditor did not list; a
format-two letter's listed accounts are answered too (draft_inconsistent, 422, nothing stored).
Answers to another format's items are ``test_capital_manual_draft``'s."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bank_adapter.api.cases import _check_manual_draft
from bank_adapter.errors import DraftInconsistent
from node_gateway.protocol.documents import (
    CustodyHolding,
    Difference,
    DifferenceReason,
    ItemReply,
    ItemStatus,
    LetterFormat,
    ReplyItems,
)
from node_gateway.protocol.samples import sample_letter, sample_reply

from .test_reply_sign_offs import BankGateway, bank, deployed

__all__ = ["bank", "deployed"]


def _answers(bank: BankGateway, **changed: ItemReply[Any]) -> ReplyItems:
    """The sample reply's answers to the bank's letter (each item answered as it should be), with
    ``changed`` answers in their place."""
    items = sample_reply(bank.letter, letter_hash=b"\0" * 32).items
    return items.model_copy(update=changed)


def _draft(bank: BankGateway, items: ReplyItems) -> Any:
    with bank.client("preparer") as client:
        return client.post(
            f"/v1/bank/letters/{bank.letter.letter_id}/draft", json={"items": items.model_dump(mode="json")}
        )


def _refused(bank: BankGateway, items: ReplyItems, words: str) -> None:
    response = _draft(bank, items)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == DraftInconsistent.code
    assert words in response.json()["error"]["message"]


def test_an_item_the_letter_lists_is_answered(bank: BankGateway) -> None:
    assert bank.letter.items.loans.entries  # the letter asks about its loan
    _refused(
        bank,
        _answers(bank, loans=ItemReply(status=ItemStatus.NOT_APPLICABLE)),
        "loans: the auditor listed entries; answer them, not 'not applicable'",
    )


@pytest.mark.parametrize(
    "answer",
    [
        ItemReply(status=ItemStatus.CONFIRMED),
        ItemReply(
            status=ItemStatus.EXCEPTION,
            differences=(Difference(reason=DifferenceReason.OTHER, note="本行另有委托贷款业务"),),
        ),
    ],
    ids=["confirmed", "other-difference"],
)
def test_an_item_the_letter_does_not_ask_is_not_answered(bank: BankGateway, answer: ItemReply[Any]) -> None:
    assert bank.letter.items.entrusted_loans_given.not_applicable
    _refused(
        bank,
        _answers(bank, entrusted_loans_given=answer),
        "entrusted_loans_given: the letter marks the item not applicable and asks nothing of it",
    )


def test_the_bank_states_what_it_holds_of_an_item_the_letter_marks_not_applicable(bank: BankGateway) -> None:
    # The auditor marked custody not applicable; the bank keeps a title document for the auditee.
    assert bank.letter.items.custody.not_applicable
    custody: ItemReply[CustodyHolding] = ItemReply(
        status=ItemStatus.EXCEPTION,
        entries=(CustodyHolding(name="房屋所有权证", document_no="HF-2019-012345", quantity=Decimal(1)),),
        differences=(Difference(reason=DifferenceReason.NOT_LISTED_BY_AUDITOR, bank_entry=0),),
    )
    response = _draft(bank, _answers(bank, custody=custody))
    assert response.status_code == 201, response.text


def test_a_format_two_letter_s_listed_accounts_are_answered() -> None:
    letter = sample_letter(letter_format=LetterFormat.TWO)  # lists the auditee's known accounts
    assert letter.items.deposits.entries
    answers = sample_reply(letter, letter_hash=b"\0" * 32).items
    _check_manual_draft(letter, answers)  # as the sample bank answers them
    unanswered = answers.model_copy(update={"deposits": ItemReply(status=ItemStatus.NOT_APPLICABLE)})
    with pytest.raises(DraftInconsistent, match="deposits: the auditor listed entries"):
        _check_manual_draft(letter, unanswered)
    # A blank item of format two is the bank's to fill in, or to answer as not applicable.
    assert letter.items.loans.blank
    _check_manual_draft(
        letter, answers.model_copy(update={"loans": ItemReply(status=ItemStatus.NOT_APPLICABLE)})
    )
