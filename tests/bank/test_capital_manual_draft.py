"""A preparer's own draft answers the items of the letter's format: answers to a 验资 letter's
contributions for a standard letter are refused (draft_inconsistent), through the bank's API."""

from __future__ import annotations

from bank_adapter.errors import DraftInconsistent
from node_gateway.protocol.documents import ItemReply, ItemStatus, ReplyItems

from .test_reply_sign_offs import BankGateway, bank, deployed

__all__ = ["bank", "deployed"]


def test_answers_to_another_format_s_items_are_refused(bank: BankGateway) -> None:
    assert not bank.letter.items.capital  # the standard sample letter
    capital_answers = ReplyItems.model_validate(
        {"capital_contributions": ItemReply(status=ItemStatus.CONFIRMED)}
    )
    with bank.client("preparer") as client:
        response = client.post(
            f"/v1/bank/letters/{bank.letter.letter_id}/draft",
            json={"items": capital_answers.model_dump(mode="json")},
        )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == DraftInconsistent.code
    assert "another format" in response.json()["error"]["message"]
