"""The firm's gateway holds a letter to its bank's published rules: a letter in a format the rules
the firm keeps do not list is refused as it is created (``format_not_accepted``, nothing stored),
through the API and on the composer beside the format; a bank whose rules the firm does not hold
receives letters in any format; a bulk upload shows such a letter beside its first row and sends
nothing. On a firm's gateway over the in-process chain, the bank's rules
signed by its member account and kept as the firm keeps what it fetched."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gateway.api_apps import client

from node_gateway.protocol.documents import Auditee, AuditFirm, Bank, ItemKey, LetterFormat
from node_gateway.protocol.samples import sample_letter
from web.test_bank_pages import _csrf, sign_in
from web.test_firm_compose import (
    AUDITEE_CODE,
    AUDITEE_NAME,
    Firm,
    _compose_form,
    _csv,
    _letter_count,
    _sheet_rows,
    _upload,
    entry_cells,
    firm,
    forget_rules,
    publish_rules,
)

__all__ = ["firm"]

CONTRIBUTION = sample_letter(letter_format=LetterFormat.CAPITAL).items.capital_contributions.entries[0]


@pytest.fixture
def rules_kept(firm: Firm) -> Iterator[Firm]:
    publish_rules(firm, [LetterFormat.ONE])
    yield firm
    forget_rules(firm)


def _draft(firm: Firm, letter_format: LetterFormat, bank: int | None = None) -> dict[str, Any]:
    deployed = firm.gateway.deployment
    letter = sample_letter(
        letter_format=letter_format,
        audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=bank or firm.bank, name="东海银行"),
        auditee=Auditee(name=AUDITEE_NAME, registration_code=AUDITEE_CODE),
    )
    return {"letter": letter.model_dump(mode="json", by_alias=True)}


def _create(firm: Firm, drafts: list[dict[str, Any]]) -> Any:
    gateway = firm.gateway
    return client(gateway.app).post("/v1/letters", json={"letters": drafts}, headers=gateway.auth("auditor"))


def test_a_letter_in_a_format_the_bank_does_not_accept_is_refused(rules_kept: Firm) -> None:
    firm = rules_kept
    before = _letter_count(firm)
    capital = _draft(firm, LetterFormat.CAPITAL)
    refused = _create(firm, [capital])
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "format_not_accepted"
    assert "accepts letters in 格式一 (one) only" in error["message"]
    assert "this letter is 验资 (capital)" in error["message"]
    assert error["details"] == [
        {
            "letter_id": capital["letter"]["letter_id"],
            "bank": firm.bank,
            "format": "capital",
            "accepted": ["one"],
        }
    ]
    # All or none: with a letter of an accepted format beside it, neither is stored.
    assert _create(firm, [_draft(firm, LetterFormat.ONE), capital]).json()["error"]["code"] == (
        "format_not_accepted"
    )
    # Other problems are named with it, under the general code.
    not_a_bank = _draft(firm, LetterFormat.ONE, bank=firm.gateway.deployment.firm2.member_id)
    mixed = _create(firm, [not_a_bank, capital])
    assert mixed.status_code == 422, mixed.text
    assert mixed.json()["error"]["code"] == "invalid_request"
    assert "not an active bank" in mixed.json()["error"]["message"]
    assert "accepts letters in 格式一 (one) only" in mixed.json()["error"]["message"]
    assert _letter_count(firm) == before
    # A format the rules list goes through.
    accepted = _create(firm, [_draft(firm, LetterFormat.ONE)])
    assert accepted.status_code == 201, accepted.text
    assert _letter_count(firm) == before + 1


def test_a_bank_without_published_rules_receives_every_format(firm: Firm) -> None:
    created = _create(firm, [_draft(firm, LetterFormat.CAPITAL), _draft(firm, LetterFormat.TWO)])
    assert created.status_code == 201, created.text
    # Once its rules list every format, so does the check.
    publish_rules(firm, list(LetterFormat))
    try:
        assert _create(firm, [_draft(firm, LetterFormat.CAPITAL)]).status_code == 201
    finally:
        forget_rules(firm)


def test_the_composer_shows_the_refusal_beside_the_format(rules_kept: Firm) -> None:
    firm = rules_kept
    http = sign_in(firm.gateway, "wang")
    csrf = _csrf(http.get("/web/firm/compose").text)
    before = _letter_count(firm)
    form = _compose_form(
        firm, {ItemKey.CAPITAL_CONTRIBUTIONS: entry_cells(CONTRIBUTION)}, letter_format="capital"
    )
    refused = http.post("/web/firm/compose", data=form | {"csrf_token": csrf})
    assert refused.status_code == 422, refused.status_code
    beside = refused.text.split('id="err-letter_format"', 1)[1].split("</", 1)[0]
    assert f"成员 {firm.bank}" in beside
    assert "公布的业务规则只受理格式一 (one)的询证函" in beside
    assert "本函为验资 (capital)" in beside
    assert 'name="letter_format" value="capital" checked' in refused.text  # the form kept
    assert _letter_count(firm) == before


def test_an_upload_shows_a_letter_its_bank_does_not_accept_and_sends_nothing(firm: Firm) -> None:
    publish_rules(firm, [LetterFormat.TWO])
    try:
        http = sign_in(firm.gateway, "wang")
        csrf = _csrf(http.get("/web/firm/upload").text)
        before = _letter_count(firm)
        plan = _upload(http, "letters.csv", _csv(_sheet_rows(firm, ["2025-06-30", "2025-12-31"])), csrf)
        assert plan.status_code == 200
        first_rows = (2, 2 + len(_sheet_rows(firm, ["2025-06-30"])))  # each letter's first row
        for row in first_rows:
            issue = plan.text.split(f'data-testid="issue-row-{row}"', 1)[1].split("</tr>", 1)[0]
            assert "公布的业务规则只受理格式二 (two)的询证函,本函为格式一 (one)" in issue
        assert "未发送任何询证函" in plan.text
        assert http.post(plan.url.path + "/send", data={"csrf_token": csrf}).status_code == 409
        assert _letter_count(firm) == before
    finally:
        forget_rules(firm)
