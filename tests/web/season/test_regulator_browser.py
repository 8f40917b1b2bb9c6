"""The regulator's pages in headless Chromium against real gateways on anvil: the integration
harness's consortium (an operator, an audit firm, a bank and a regulator), with letters run end to
end through the gateways' APIs (``tests/integration/flows.py``): two replied and closed, one
awaiting the bank, one rejected as incomplete (``season_network`` of this directory's conftest.py,
which the operator's and the tablet's pages share: they add no letters).

The analyst signs in, sees the bank's figures, narrows them to a period, verifies a reply (genuine,
then tampered: refused with its reasons) and sees the deployed contracts' check. The pages refuse a
request without a session and a form without its CSRF token (every regulator user is an analyst or
an admin, so there is no wrong role to try). Writes ``docs/screenshots/regulator.png`` (the
statistics, 1280×800), ``regulator-tablet.png`` (the same at a tablet's 768×1024, whole page) and
``regulator-verify.png``.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from integration.harness import Consortium

from node_gateway.protocol.documents import CHINA_TIME

from ..conftest import SCREENSHOTS, TIMEOUT_MS, add_user, sign_in
from .conftest import Season

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def consortium(season_network: Season) -> Consortium:
    return season_network.consortium


@pytest.fixture(scope="module")
def season(season_network: Season) -> dict[str, Any]:
    """The network's four letters to the bank (``season_network``): two replied and closed, one
    accepted and awaiting its reply, one rejected at once as incomplete (a notice on time)."""
    add_user(season_network.consortium.regulator, "李分析", "analyst", season_network.password_file)
    return {"replies": season_network.replies, "bank": season_network.bank}


def test_the_analyst_sees_the_figures_verifies_a_reply_and_the_contracts(
    consortium: Consortium, season: dict[str, Any], page: Page, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    regulator, bank = consortium.regulator, season["bank"]
    sign_in(page, regulator, "李分析")
    expect(page).to_have_url(re.compile(r"/web/regulator/statistics$"))
    expect(page.get_by_role("heading", name="各银行回函统计")).to_be_visible()
    # The page polls itself: the indexer's last events show without a reload.
    expect(page.get_by_test_id(f"received-{bank}")).to_have_text("4", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id(f"replied-{bank}")).to_have_text("2", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id(f"notices-{bank}")).to_have_text("100.0%", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id(f"bank-{bank}")).to_have_text("东海银行")
    # Two replies and a rejection; the third letter is within its statutory time.
    expect(page.get_by_test_id(f"rate-{bank}")).to_have_text("66.7%")
    expect(page.get_by_test_id(f"overdue-{bank}")).to_have_text("0")
    expect(page.get_by_test_id("reasons")).to_contain_text("函证内容不完整")
    expect(page.locator("figure svg")).to_have_count(4)

    today = datetime.now(CHINA_TIME).date()
    page.get_by_label("起始日").fill((today - timedelta(days=30)).isoformat())
    page.get_by_label("截止日").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="应用").click()
    expect(page.get_by_text("没有符合条件的行")).to_be_visible()
    page.get_by_label("截止日").fill(today.isoformat())
    page.get_by_role("button", name="应用").click()
    expect(page.get_by_test_id(f"received-{bank}")).to_have_text("4")
    expect(page.get_by_test_id("period")).to_contain_text(f"至 {today.isoformat()}")
    # The dates stay ISO whatever Chromium's locale, and a date typed in another form is refused.
    expect(page.get_by_label("截止日")).to_have_value(today.isoformat())
    page.get_by_label("起始日").fill(f"{today.month:02}/{today.day:02}/{today.year}")
    assert page.get_by_label("起始日").evaluate("input => input.validity.patternMismatch")
    page.get_by_label("起始日").fill((today - timedelta(days=30)).isoformat())
    page.get_by_role("button", name="应用").click()
    expect(page.get_by_test_id("period")).to_contain_text(f"{(today - timedelta(days=30)).isoformat()} 至")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "regulator.png"))

    # At a tablet's width the page does not scroll sideways; the figures, charts and reasons stack.
    page.set_viewport_size({"width": 768, "height": 1024})
    expect(page.get_by_test_id("reasons")).to_be_visible()
    assert page.evaluate("() => document.scrollingElement.scrollWidth <= innerWidth")
    page.screenshot(path=str(SCREENSHOTS / "regulator-tablet.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})

    genuine = season["replies"][0]
    upload = tmp_path / "reply.json"
    upload.write_text(json.dumps({"reply": genuine["reply"], "salt": genuine["salt"]}, ensure_ascii=False))
    page.get_by_role("link", name="核验文件").click()
    page.get_by_label("上传 JSON 文件").set_input_files(str(upload))
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("真实有效")
    expect(page.get_by_test_id("recorded-by")).to_contain_text("东海银行")
    expect(page.get_by_test_id("check-hash")).to_contain_text("通过")

    tampered = json.loads(json.dumps(genuine["reply"]))
    tampered["replied_on"] = "2025-01-09"
    page.get_by_label("或粘贴 JSON").fill(json.dumps(tampered, ensure_ascii=False))
    page.get_by_label("盐值(十六进制)").fill(genuine["salt"])
    page.get_by_role("button", name="核验").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("核验未通过")
    expect(page.get_by_test_id("verdict")).to_contain_text("hash_mismatch")
    expect(page.get_by_test_id("check-hash")).to_contain_text("未通过")
    expect(page.get_by_test_id("check-hash")).to_contain_text("内容被改动或盐值不对")  # what the check means
    page.screenshot(path=str(SCREENSHOTS / "regulator-verify.png"), full_page=True)

    page.get_by_role("link", name="合约核验").click()
    expect(page.get_by_test_id("verdict")).to_contain_text("合约可信")
    for name in ("chain_id", "contract.MemberRegistry", "contract.ConfirmationRegistry", "registry_link"):
        expect(page.get_by_test_id(f"check-{name}")).to_contain_text("通过")


def test_the_pages_refuse_without_a_session_or_without_csrf(
    consortium: Consortium, season: dict[str, Any], page: Page
) -> None:
    regulator = consortium.regulator
    for path in ("/web/regulator/statistics", "/web/regulator/verify", "/web/regulator/contracts"):
        plain = httpx.get(regulator.url + path, follow_redirects=False)
        assert plain.status_code == 303, path
        assert plain.headers["location"].startswith("/web/sign-in?next=")
    assert httpx.post(regulator.url + "/web/regulator/verify", data={"kind": "reply"}).status_code == 401

    sign_in(page, regulator, "李分析")
    page.wait_for_url(re.compile(r"/web/regulator/statistics$"))
    reply = season["replies"][0]
    form: dict[str, str | float | bool] = {"kind": "reply", "document": json.dumps(reply["reply"])}
    for token in ({}, {"csrf_token": "forged"}):
        refused = page.request.post(regulator.url + "/web/regulator/verify", form={**form, **token})
        assert refused.status == 403
        assert "forbidden" in refused.text()
    admin_page = page.goto(regulator.url + "/web/admin/users")  # the admin's: 李分析 is no admin
    assert admin_page is not None
    assert admin_page.status == 403
