"""The reply's rules as a practitioner reads them (issue 12): one 结论 that agrees with the items, a
difference that names its item, account, currency and both values in Chinese, people signing off
by name and title (or the bank's automated control and who answers for it), a bank with no
relationship saying so in a reply, and the non-compliance notice quoting the 函证编号."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bank_adapter.web.messages import MESSAGES as BANK_MESSAGES
from node_gateway.protocol.documents import (
    REJECTION_TITLES,
    Conclusion,
    DifferenceReason,
    ItemStatus,
    NonComplianceNotice,
    Officer,
    RejectionReason,
    parse_notice,
    parse_reply,
)
from node_gateway.protocol.errors import InvalidDocument
from node_gateway.protocol.samples import sample_letter, sample_reply
from node_gateway.web.i18n import Catalogue
from node_gateway.web.replies import difference_lines, person_words, reply_words

LETTER = sample_letter()
HASH = b"\x11" * 32
t = Catalogue().translator("zh")


def _data(**changes: Any) -> dict[str, Any]:
    data = sample_reply(LETTER, letter_hash=HASH, with_exception=True).model_dump(mode="json", by_alias=True)
    return data | changes


def test_the_conclusion_agrees_with_the_items() -> None:
    reply = parse_reply(_data())
    assert reply.conclusion is Conclusion.EXCEPTIONS
    assert reply_words(t, reply).conclusion == "信息不符"
    clean = sample_reply(LETTER, letter_hash=HASH)
    assert clean.conclusion is Conclusion.CONFIRMED
    assert reply_words(t, clean).conclusion == "信息证明无误"
    with pytest.raises(InvalidDocument, match="conclusion is confirmed but the items say exceptions"):
        parse_reply(_data(conclusion="confirmed"))
    with pytest.raises(InvalidDocument, match="conclusion is exceptions but the items say confirmed"):
        parse_reply(clean.model_dump(mode="json", by_alias=True) | {"conclusion": "exceptions"})
    with pytest.raises(InvalidDocument, match="conclusion"):
        parse_reply({k: v for k, v in _data().items() if k != "conclusion"})  # never left out


def test_a_difference_reads_in_chinese_with_its_account_and_currency() -> None:
    reply = parse_reply(_data())
    first = LETTER.items.deposits.entries[0]
    assert first.balance is not None
    ((key, line),) = difference_lines(t, reply.items)
    assert key == "deposits"
    assert line == (
        f"1 银行存款 · 账号/编号 {first.account_no} · {first.currency} · 余额:"
        f"银行记录的数值不同;函证所列 {first.balance:,},银行记录 {first.balance - 100:,}"
        "(基准日当日扣收手续费 100.00 元)"
    )
    # In the bank's voice on its own pages.
    bank_t = Catalogue([BANK_MESSAGES]).translator("zh")
    assert "本行记录的数值不同" in difference_lines(bank_t, reply.items, reasons="diff")[0][1]


def test_a_not_listed_difference_points_at_the_banks_entry() -> None:
    data = _data()
    entry = LETTER.items.deposits.entries[0].model_dump(mode="json")
    unlisted = {"reason": "not_listed_by_auditor", "bank_entry": 1, "reference": entry["account_no"]}
    data["items"]["loans"] = {"status": "exception", "differences": [unlisted], "entries": []}
    with pytest.raises(InvalidDocument, match="bank_entry 1 is not among the item's entries"):
        parse_reply(data)
    with pytest.raises(InvalidDocument, match="only a not_listed_by_auditor difference"):
        parse_reply(
            _data()
            | {
                "items": _data()["items"]
                | {
                    "loans": {
                        "status": "exception",
                        "differences": [{"reason": "unknown_to_bank", "entry": 0, "bank_entry": 0}],
                    }
                }
            }
        )


def test_people_sign_off_by_name_and_title_or_the_control_does() -> None:
    reply = parse_reply(_data())
    words = reply_words(t, reply)
    assert (words.preparer, words.reviewer, words.control) == (
        "陈晓明(对公业务经办)",
        "刘建国(运营主管)",
        None,
    )
    control = {
        "control_id": "system:straight-through",
        "name": "直通式回函自动复核控制",
        "accountable": {"name": "周明远", "title": "运营管理部总经理"},
    }
    automated = sample_reply(LETTER, letter_hash=HASH).model_dump(mode="json", by_alias=True) | {
        "preparer": {"officer_id": "system:drafter", "name": "自动制函(系统)"},
        "reviewer": {"officer_id": "system:straight-through", "name": "直通复核(系统)"},
        "automated_control": control,
    }
    words = reply_words(t, parse_reply(automated))
    assert (
        words.control
        == "由银行自动化控制“直通式回函自动复核控制”复核通过;该控制的责任人:周明远(运营管理部总经理)"
    )
    with pytest.raises(InvalidDocument, match="approves a reply as its reviewer"):
        parse_reply(automated | {"reviewer": {"officer_id": "liu", "name": "刘建国", "title": "运营主管"}})
    with pytest.raises(InvalidDocument, match="title"):
        parse_reply(automated | {"automated_control": control | {"accountable": {"name": "周明远"}}})
    assert person_words(Officer(officer_id="x", name="王芳")) == "王芳"


def test_a_bank_with_no_relationship_lists_nothing_of_its_own() -> None:
    data = _data(no_relationship=True)
    with pytest.raises(InvalidDocument, match="states only entries unknown to it"):
        parse_reply(data)  # a different_value difference: the bank holds a record after all
    items: dict[str, dict[str, Any]] = {key: {"status": "not_applicable"} for key in data["items"]}
    items["deposits"] = {
        "status": "exception",
        "differences": [
            {"reason": "unknown_to_bank", "entry": i} for i in range(len(LETTER.items.deposits.entries))
        ],
    }
    reply = parse_reply(data | {"items": items})
    assert reply.no_relationship
    assert {d.reason for _, d in reply.differences()} == {DifferenceReason.UNKNOWN_TO_BANK}
    entry = LETTER.items.deposits.entries[0].model_dump(mode="json")
    items["deposits"] = {
        "status": "exception",
        "differences": items["deposits"]["differences"],
        "entries": [entry],
    }
    with pytest.raises(InvalidDocument, match="lists no entries"):
        parse_reply(data | {"items": items})
    assert reply.items.deposits.status is ItemStatus.EXCEPTION


def test_the_notice_quotes_the_number_and_the_reason_in_words() -> None:
    notice = NonComplianceNotice(
        letter_id=LETTER.letter_id,
        confirmation_no="MJ-2025-000017",
        bank_member_no=LETTER.bank.member_no,
        issued_on=date(2025, 1, 7),
        reason=RejectionReason.UNPAID_FEES,
        detail="2024 年度函证费未缴,扣费账户余额不足",
        decided_by=Officer(officer_id="zhao", name="赵敏", title="函证岗"),
    )
    assert notice.reason_words == "函证费未支付"
    assert parse_notice(notice.model_dump_json(by_alias=True)) == notice
    assert set(REJECTION_TITLES) == set(RejectionReason)  # every reason has its words
    with pytest.raises(InvalidDocument, match="detail"):
        parse_notice(notice.model_dump(mode="json", by_alias=True) | {"detail": ""})
