"""The firm's words to the bank through real gateway processes on anvil (issue 12): the auditor's
messages with two follow-ups (催函) and the reason for a withdrawal (撤回) travel encrypted from
the firm's gateway to the bank's over HTTP once each step is on chain, and the bank's API shows
them in order; nothing of them is on chain. A follow-up of a letter the bank never received keeps
its message at the firm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .flows import (
    chain,
    compose,
    letter_view,
    new_auditee,
    ok,
    request,
    sign_and_submit,
    wait_in_inbox,
)
from .harness import Consortium, wait_until

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

FIRST = "贵行已于10个工作日前收到询证函，至今未回函，请尽快处理。"
SECOND = "再次催告：请于本周五前回函，经办人王敏（021-6888 1234）。"
REASON = "被审计单位变更了审计范围，该账户不再函证，特此撤回。"


def _bank_sees(
    consortium: Consortium, letter_id: str, what: str, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The bank's view of the letter once ``check`` holds for it."""

    def seen() -> dict[str, Any] | None:
        view = letter_view(consortium.bank, "officer", letter_id)
        return view if check(view) else None

    found: dict[str, Any] = wait_until(seen, 60, f"{what} at the bank")
    return found


def test_follow_up_messages_and_a_withdrawal_reason_reach_the_bank(consortium: Consortium) -> None:
    auditee = new_auditee(consortium, 8101)
    held, unauthorised = request(consortium, [compose(consortium, auditee), compose(consortium, auditee)])
    letter_id, kept_id = held["letter_id"], unauthorised["letter_id"]
    sign_and_submit(consortium, [letter_id], auditee.signer)
    wait_in_inbox(consortium, [letter_id])

    with consortium.firm.client("auditor") as firm:
        ok(firm.post(f"/v1/letters/{letter_id}/follow-up", json={"message": FIRST}), 202)
        ok(firm.post(f"/v1/letters/{letter_id}/follow-up", json={"message": SECOND}), 202)
        ok(firm.post(f"/v1/letters/{kept_id}/follow-up", json={"message": "请尽快完成授权"}), 202)
    view = _bank_sees(
        consortium,
        letter_id,
        "two follow-ups' messages",
        lambda v: [f["message"] for f in v["follow_ups"]] == [FIRST, SECOND],
    )
    assert [f["ordinal"] for f in view["follow_ups"]] == [1, 2]

    with consortium.firm.client("auditor") as firm:
        ok(firm.post(f"/v1/letters/{letter_id}/withdraw", json={"reason_text": REASON}), 202)
    view = _bank_sees(
        consortium, letter_id, "the withdrawal's reason", lambda v: v["withdrawal_reason"] == REASON
    )
    assert view["status"] == "WITHDRAWN"
    wait_until(  # the firm has settled its deliveries, as the bank acknowledged them
        lambda: (
            (firm_view := letter_view(consortium.firm, "auditor", letter_id))["withdrawal_delivery"] == "done"
            and [f["delivery"] for f in firm_view["follow_ups"]] == ["done", "done"]
        ),
        60,
        "the firm's deliveries done",
    )

    # A follow-up of a letter the auditee has not authorised chases the auditee: its message stays
    # with the firm; the bank sees the follow-up on chain only.
    wait_until(
        lambda: letter_view(consortium.firm, "auditor", kept_id)["follow_ups"][0]["at"],
        60,
        "the follow-up on chain",
    )
    kept = letter_view(consortium.firm, "auditor", kept_id)["follow_ups"]
    assert [(f["message"], f["delivery"]) for f in kept] == [("请尽快完成授权", None)]
    _bank_sees(
        consortium,
        kept_id,
        "the follow-up, without its message",
        lambda v: v["follow_ups"] == [{**kept[0], "message": None}],
    )

    # Nothing of the words is on chain: the logs of the follow-ups' and the withdrawal's transactions.
    network = chain(consortium)
    for step in letter_view(consortium.firm, "auditor", letter_id)["history"]:
        receipt = network.w3.eth.get_transaction_receipt(step["transaction_hash"])
        data = b"".join(bytes(log["data"]) for log in receipt["logs"])
        for words in (FIRST, SECOND, REASON):
            assert words.encode() not in data
