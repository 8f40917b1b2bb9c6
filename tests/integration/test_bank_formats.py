"""A bank's published rules through the audit firm's tools, and both parties holding letters to
them, over real HTTP between gateway processes on anvil. This module's own bank (with a core bank,
its rules touching no other module's) publishes that it accepts format one only: a format-two
letter the firm sent before it did is rejected by the bank on arrival (FORMAT_NOT_ACCEPTED, with
its notice); the firm's SDK (sync and async) and ``confirmnet auditor bank-rules`` show the rules
as the bank signed them; a 验资 or a format-two letter to that bank is then refused as it is
created (``format_not_accepted``), a format-one letter not for its format."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from typer.testing import CliRunner

from auditor_client.sdk import AsyncClient, BankRules, InvalidRequest, LetterDraft
from confirmnet.cli import app
from node_gateway.protocol.bank_rules import SignedBankRules
from node_gateway.protocol.documents import (
    Auditee,
    AuditFirm,
    Bank,
    LetterFormat,
    RejectionReason,
    uscc,
)
from node_gateway.protocol.samples import sample_letter

from . import test_bank_adapter
from .flows import letter_view, member_id, ok, request, sign_and_submit, wait_status
from .harness import Consortium
from .test_bank_adapter import AdapterBank, _customer

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

adapter_bank = test_bank_adapter.adapter_bank  # the bank with a core bank, as that module's tests have it
ADAPTER_BANK = ("南岸银行", uscc("91330000MA2B7N4K1"))  # this module's own

RULES: dict[str, Any] = {
    "items": ["deposits", "loans"],
    "formats": ["one"],
    "fee": {"per_letter": "150.00", "note": "每份询证函收费150元"},
    "department": "南岸银行运营部函证中心",
    "contact": {"name": "何静", "phone": "0571-8888 6666"},
}


def _publish(bank: AdapterBank) -> None:
    """The bank's admin publishes its rules, once: the firm may keep the first publication for an
    hour, so it is the only one."""
    with bank.gateway.client("admin") as admin:
        if admin.get("/v1/bank/rules").status_code == 404:
            ok(admin.put("/v1/bank/rules", json=RULES))


@pytest.fixture
def rules_bank(adapter_bank: AdapterBank) -> AdapterBank:
    """The bank, its rules published."""
    _publish(adapter_bank)
    return adapter_bank


def test_a_letter_sent_before_the_rules_is_rejected_by_the_bank(
    consortium: Consortium, adapter_bank: AdapterBank
) -> None:
    customer = _customer(consortium, adapter_bank, uscc("91330000MA2B7N5C1"), "杭州南岸精工机械有限公司")
    letter = sample_letter(
        letter_format=LetterFormat.TWO,
        audit_firm=AuditFirm(member_no=member_id(consortium.firm), name=consortium.firm.name),
        bank=Bank(member_no=adapter_bank.member_no, name=adapter_bank.gateway.name),
        auditee=Auditee(name=customer.name, registration_code=customer.registration_code),
    )
    request(consortium, [letter])  # the firm holds no rules of the bank yet: it goes out
    _publish(adapter_bank)
    sign_and_submit(consortium, [letter.letter_id], customer.signer)
    wait_status(consortium.firm, "auditor", letter.letter_id, "REJECTED")
    assert (
        letter_view(consortium.firm, "auditor", letter.letter_id)["reason"]
        == RejectionReason.FORMAT_NOT_ACCEPTED
    )
    with consortium.firm.sdk("auditor") as auditor:
        notice = auditor.get_notice(letter.letter_id)
    assert notice.reason == RejectionReason.FORMAT_NOT_ACCEPTED
    assert "accept 格式一 (one) only" in notice.detail


def test_the_firm_s_tools_show_a_bank_s_rules(consortium: Consortium, rules_bank: AdapterBank) -> None:
    bank_no = rules_bank.member_no
    with rules_bank.gateway.client("admin") as admin:
        published = SignedBankRules.model_validate(ok(admin.get("/v1/bank/rules"))).rules
    with consortium.firm.sdk("auditor") as auditor:
        assert auditor.bank_rules(bank_no) == published

    async def read_async() -> BankRules:
        async with AsyncClient(consortium.firm.url, api_key=consortium.firm.api_keys["auditor"]) as auditor:
            return await auditor.bank_rules(bank_no)

    assert asyncio.run(read_async()) == published
    env = {
        "CONFIRMNET_GATEWAY": consortium.firm.url,
        "CONFIRMNET_API_KEY": consortium.firm.api_keys["auditor"],
    }
    runner = CliRunner()
    shown = runner.invoke(app, ["auditor", "bank-rules", str(bank_no)], env=env)
    assert shown.exit_code == 0, shown.output
    for words in (
        "格式一 (one)",
        "银行存款、银行借款",
        "150.00 CNY a letter",
        "南岸银行运营部函证中心",
        "何静",
    ):
        assert words in shown.output
    as_json = runner.invoke(app, ["auditor", "bank-rules", str(bank_no), "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    assert BankRules.model_validate(json.loads(as_json.output)) == published
    # A member that is no bank has no rules: the gateway's 404, as the command's failure.
    regulator = runner.invoke(app, ["auditor", "bank-rules", str(member_id(consortium.regulator))], env=env)
    assert regulator.exit_code == 1
    assert "not_found" in regulator.output


def test_a_letter_in_a_format_the_bank_does_not_accept_is_refused(
    consortium: Consortium, rules_bank: AdapterBank
) -> None:
    bank_no = rules_bank.member_no
    firm = AuditFirm(member_no=member_id(consortium.firm), name=consortium.firm.name)

    def draft(letter_format: LetterFormat, bank: Bank | None = None) -> LetterDraft:
        letter = sample_letter(
            letter_format=letter_format,
            audit_firm=firm,
            bank=bank or Bank(member_no=bank_no, name=rules_bank.gateway.name),
        )
        return LetterDraft(letter=letter)

    with consortium.firm.sdk("auditor") as auditor:
        auditor.bank_rules(bank_no)  # the firm holds the bank's rules (its housekeeping would fetch them too)
        for refused_format in (LetterFormat.CAPITAL, LetterFormat.TWO):
            wrong = draft(refused_format)
            with pytest.raises(InvalidRequest) as refused:
                auditor.create_letters([wrong])
            assert refused.value.code == "format_not_accepted"
            assert refused.value.details == [
                {
                    "letter_id": wrong.letter.letter_id,
                    "bank": bank_no,
                    "format": refused_format.value,
                    "accepted": ["one"],
                }
            ]
        # In a batch, each letter is held to its own bank's rules: the other bank takes format two.
        other = Bank(member_no=member_id(consortium.bank), name=consortium.bank.name)
        batch = [draft(LetterFormat.TWO), draft(LetterFormat.TWO, other), draft(LetterFormat.CAPITAL)]
        with pytest.raises(InvalidRequest) as refused:
            auditor.create_letters(batch)
        assert refused.value.code == "format_not_accepted"
        assert [(x["letter_id"], x["format"]) for x in refused.value.details] == [
            (batch[0].letter.letter_id, "two"),
            (batch[2].letter.letter_id, "capital"),
        ]
        # Format one passes: created (no salt, no mandate asked for: its signer brings the reference).
        one = draft(LetterFormat.ONE)
        assert [x.letter_id for x in auditor.create_letters([one])] == [one.letter.letter_id]
