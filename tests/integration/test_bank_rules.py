"""A bank publishes its business rules to the network and an audit firm's gateway shows them, over
real HTTP between the gateway processes on anvil: the bank's admin sets them, its gateway signs
them with the member key and serves them on the peer endpoint it registered; the firm's gateway
fetches them from there, checks the signature against the registry and keeps them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from node_gateway.protocol.bank_rules import SignedBankRules, rules_signer

from .flows import chain, member_id, ok
from .harness import Consortium

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

RULES: dict[str, Any] = {
    "items": ["loans", "deposits", "closed_accounts", "guarantees"],  # kept in the letter's order
    "formats": ["one", "two"],
    "fee": {"per_letter": "200.00", "note": "每份询证函收费200元,从函证列明的扣费账户扣收"},
    "department": "运营管理部函证中心",
    "contact": {"name": "周敏", "phone": "021-6888 1234", "email": "hzzx@donghai-bank.example"},
    "notes": "格式二须列明查询的账户或项目;期内注销账户须写明期间。",
}


def test_the_firm_shows_the_rules_the_bank_signed_and_published(consortium: Consortium) -> None:
    bank_no = member_id(consortium.bank)
    with consortium.bank.client("officer") as officer:
        refused = officer.put("/v1/bank/rules", json=RULES)
        assert refused.status_code == 403, refused.text  # the admin's, not an officer's
    with consortium.bank.client("admin") as admin:
        published = SignedBankRules.model_validate(ok(admin.put("/v1/bank/rules", json=RULES)))
        assert ok(admin.get("/v1/bank/rules"))["signature"] == published.signature
        blank = admin.put("/v1/bank/rules", json={**RULES, "formats": []})
        assert blank.status_code == 422, blank.text
    assert [item.value for item in published.rules.items] == [
        "deposits",
        "loans",
        "closed_accounts",
        "guarantees",
    ]
    assert published.rules.bank_member_no == bank_no

    # Anyone reads them from the bank's registered endpoint; the bank's account on chain signed them.
    served = SignedBankRules.model_validate_json(
        httpx.get(consortium.bank.url + "/peer/v1/rules", timeout=10).content
    )
    assert served == published
    assert rules_signer(served) == chain(consortium).members.get_member(bank_no).account

    with consortium.firm.client("auditor") as auditor:
        shown = ok(auditor.get(f"/v1/banks/{bank_no}/rules"))
        assert shown == published.rules.model_dump(mode="json", by_alias=True)
        assert shown["fee"]["per_letter"] == "200.00"
        # A member that is no bank publishes no rules the firm would show.
        regulator = auditor.get(f"/v1/banks/{member_id(consortium.regulator)}/rules")
        assert regulator.status_code == 404, regulator.text
    with consortium.firm.client("auditee") as auditee:
        assert auditee.get(f"/v1/banks/{bank_no}/rules").status_code == 403
