"""The bank's pages in headless Chromium against real gateways on anvil: an operator, an audit
firm and a bank with a core bank (manual approval), as ``confirmnet.launcher`` runs them
(``core_bank_network`` of this directory's conftest.py); web users added with ``confirmnet
gateway add-user --password-file``.

The firm sends two letters: one whose first deposit balance the core bank does not hold, one that
matches. The system drafts both; a draft with an exception waits for people. A preparer signs in,
sees the letters in the inbox with their working days left, and drafts the reply again as their
own (and is not offered approve); a reviewer signs in, sees the difference explained and approves;
the firm's letter becomes REPLIED. The pages refuse a request without a session, an officer who
is no reviewer, and a form without its CSRF token. Writes ``docs/screenshots/bank.png`` (the inbox,
1280×800) and ``bank-case.png`` (the case with the exception, as the reviewer sees it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import pytest
from integration.flows import ok, request, sign_and_submit, wait_status
from integration.harness import Consortium, wait_until

from bank_adapter.deadlines import Deadlines, today, working_days_between
from confirmnet.launcher import Gateway
from node_gateway.protocol.documents import ConfirmationLetter

from ..conftest import SCREENSHOTS, TIMEOUT_MS, add_user, letters_with_an_exception, sign_in
from .conftest import CoreBankNetwork

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

PREPARER, REVIEWER, OFFICER = "李经办", "张复核", "赵柜员"


@dataclass
class BankNetwork:
    consortium: Consortium
    bank: Gateway
    changed: ConfirmationLetter  # the core bank holds another balance for its first deposit
    clean: ConfirmationLetter


def _stage(bank: Gateway, letter_id: str) -> str | None:
    """The letter's stage at the bank, through its API; None until the letter has arrived."""
    with bank.client("officer") as client:
        response = client.get(f"/v1/bank/letters/{letter_id}")
    if response.status_code == 404:
        return None
    stage: str = ok(response)["stage"]
    return stage


@pytest.fixture(scope="module")
def network(core_bank_network: CoreBankNetwork) -> BankNetwork:
    consortium = core_bank_network.consortium
    bank = consortium.bank
    for name, role in ((PREPARER, "preparer"), (REVIEWER, "reviewer"), (OFFICER, "officer")):
        add_user(bank, name, role, core_bank_network.password_file)
    auditee, changed, clean = letters_with_an_exception(consortium, core_bank_network.core_url)
    request(consortium, [changed, clean])
    sign_and_submit(consortium, [changed.letter_id, clean.letter_id], auditee.signer)

    def drafted() -> bool:
        return all(_stage(bank, x.letter_id) == "awaiting_review" for x in (changed, clean))

    wait_until(drafted, 60, "the system's drafts")
    return BankNetwork(consortium, bank, changed, clean)


def test_a_preparer_drafts_and_a_reviewer_approves_a_reply_with_an_exception(
    network: BankNetwork, page: Page
) -> None:
    from playwright.sync_api import expect

    bank, letter_id = network.bank, network.changed.letter_id
    sign_in(page, bank, PREPARER)
    expect(page).to_have_url(re.compile(r"/web/bank/inbox$"))
    expect(page.get_by_role("heading", name="函证收件箱")).to_be_visible()
    expect(page.get_by_test_id("sync")).to_have_text("已同步", timeout=TIMEOUT_MS)
    due = Deadlines.for_receipt(datetime.now(UTC)).reply_due
    left = working_days_between(today(), due)
    expect(page.get_by_test_id(f"left-{letter_id}")).to_have_text(f"剩 {left} 个工作日")
    expect(page.get_by_test_id(f"stage-{letter_id}")).to_have_text("待复核")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "bank.png"))

    page.get_by_role("link", name=f"{letter_id[:10]}…").click()
    expect(page.get_by_test_id("review-note")).to_contain_text("本稿由系统自动起草")
    page.get_by_role("button", name="从核心系统重新编制").click()
    expect(page.get_by_role("status").filter(has_text="已编制第 2 稿")).to_be_visible()
    expect(page.get_by_test_id("preparer")).to_contain_text(PREPARER)
    expect(page.get_by_test_id("review-note")).to_have_text(
        "您是本稿的编制人,不能复核(经办与复核须为不同的人)。"
    )
    expect(page.get_by_role("button", name="复核通过并回函")).to_have_count(0)  # not offered
    page.get_by_role("button", name="退出").click()

    sign_in(page, bank, REVIEWER, then=f"/web/bank/letters/{letter_id}")
    expect(page.get_by_test_id("review-note")).to_have_text("您可以复核本稿。")
    expect(page.get_by_test_id("may-approve")).to_contain_text(f"不是 {PREPARER} 的用户")
    difference = page.get_by_test_id("difference")
    expect(difference).to_contain_text("本行记录的数值不同")
    expect(difference.get_by_test_id("auditor-value")).to_have_text("12,345,778.90")
    expect(difference.get_by_test_id("bank-value")).to_have_text("12,345,678.90")
    expect(page.get_by_test_id("item-deposits")).to_contain_text("不符")
    page.screenshot(path=str(SCREENSHOTS / "bank-case.png"))

    page.get_by_role("button", name="复核通过并回函").click()
    expect(page.get_by_role("status").filter(has_text="已复核")).to_be_visible()
    expect(page.get_by_test_id("case-stage")).to_have_text("已回函", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("reviewer")).to_have_text(REVIEWER)
    log = page.get_by_test_id("decision-log")
    expect(log).to_contain_text("复核通过,回函")
    wait_status(network.consortium.firm, "auditor", letter_id, "REPLIED")


def test_the_pages_refuse_without_a_session_the_role_or_csrf(network: BankNetwork, page: Page) -> None:
    bank, letter_id = network.bank, network.clean.letter_id
    case = f"{bank.url}/web/bank/letters/{letter_id}"
    for path in ("/web/bank/inbox", f"/web/bank/letters/{letter_id}", "/web/bank/mandates"):
        plain = httpx.get(bank.url + path, follow_redirects=False)
        assert plain.status_code == 303, path
        assert plain.headers["location"].startswith("/web/sign-in?next=")
    assert httpx.post(f"{case}/approve").status_code == 401

    sign_in(page, bank, OFFICER, then=f"/web/bank/letters/{letter_id}")
    page.wait_for_url(re.compile(rf"/web/bank/letters/{letter_id}$"))
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    refused = page.request.post(f"{case}/approve", form={"csrf_token": token})
    assert refused.status == 403  # an officer is no reviewer
    assert "forbidden" in refused.text()

    page.get_by_role("button", name="退出").click()
    sign_in(page, bank, REVIEWER, then=f"/web/bank/letters/{letter_id}")
    page.wait_for_url(re.compile(rf"/web/bank/letters/{letter_id}$"))
    forms: list[dict[str, str | float | bool]] = [{}, {"csrf_token": "forged"}]
    for form in forms:
        assert page.request.post(f"{case}/approve", form=form).status == 403
    assert _stage(bank, letter_id) == "awaiting_review"
