"""The banks' business rules above the composer, in headless Chromium against real gateways on
anvil: the bank's admin publishes them, the firm's gateway fetches and checks them (its auditors'
API asks first; the housekeeping would within minutes), and the auditor opens the bank's rules
before writing (``core_bank_network`` of this directory's conftest.py). Writes
``docs/screenshots/firm-bank-rules.png``, 1280×800."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from integration.flows import member_id, ok
from integration.harness import Consortium
from integration.test_bank_rules import RULES

from ..conftest import SCREENSHOTS, sign_in
from .conftest import AUDITOR, CoreBankNetwork

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def consortium(core_bank_network: CoreBankNetwork) -> Consortium:
    return core_bank_network.consortium


def test_the_auditor_reads_the_banks_rules_before_writing(consortium: Consortium, page: Page) -> None:
    from playwright.sync_api import expect

    bank = member_id(consortium.bank)
    with consortium.bank.client("admin") as admin:
        ok(admin.put("/v1/bank/rules", json=RULES))
    with consortium.firm.client("auditor") as auditor:
        ok(auditor.get(f"/v1/banks/{bank}/rules"))
    sign_in(page, consortium.firm, AUDITOR)
    page.get_by_role("navigation", name="menu").get_by_role("link", name="撰写询证函").click()
    rules = page.get_by_test_id(f"bank-rules-{bank}")
    rules.locator("summary").click()
    expect(rules.get_by_test_id("bank-rules-fee")).to_contain_text("每份 200.00 元")
    expect(rules).to_contain_text("1 银行存款、2 银行借款、3 期内注销账户、6 担保(含保函)")
    expect(rules).to_contain_text("银行签名已核验")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "firm-bank-rules.png"))
