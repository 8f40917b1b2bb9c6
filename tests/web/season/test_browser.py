"""The operator's pages in headless Chromium against real gateways on anvil
(``confirmnet.launcher``, as the demo runs them): ``season_network`` of this directory's
conftest.py, whose bank the operator suspends and reinstates; web users added with ``confirmnet
gateway add-user --password-file``.

The operator signs in, sees the members, suspends and reinstates the bank (the chain shows each
change, and the page updates itself), and sees the network's health; the pages refuse a request
without a session, a user without the role and a form without its CSRF token; TOTP sign-in works.
The test of the main journey writes ``docs/screenshots/operator.png`` (the members, 1280×800) and
``operator-health.png``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import httpx
import pyotp
import pytest

from confirmnet.launcher import LocalNetwork

from ..conftest import PASSWORD, SCREENSHOTS, TIMEOUT_MS, add_user, sign_in
from .conftest import Season

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


@pytest.fixture(scope="module")
def network(season_network: Season) -> LocalNetwork:
    network = season_network.consortium.network
    for name, role in (("王敏", "operator"), ("totp-user", "operator")):
        add_user(network.operator, name, role, season_network.password_file)
    return network


def registry_status(network: LocalNetwork, member_id: int) -> str:
    with network.operator.client("operator") as client:
        members = client.get("/v1/members").json()
    status: str = next(m["status"] for m in members if m["member_id"] == member_id)
    return status


def test_the_operator_suspends_and_reinstates_a_member(network: LocalNetwork, page: Page) -> None:
    from playwright.sync_api import expect

    operator, bank = network.operator, network.by_role("bank")[0]
    bank_id = bank.member_id()
    page.goto(operator.url + "/web/operator/members")
    expect(page).to_have_url(re.compile(r"/web/sign-in\?next=%2Fweb%2Foperator%2Fmembers$"))
    page.get_by_label("用户名").fill("王敏")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(re.compile(r"/web/operator/members$"))
    expect(page.get_by_role("heading", name="联盟成员")).to_be_visible()
    expect(page.get_by_test_id("member")).to_contain_text("中国银行业协会")
    expect(page.get_by_test_id("sync")).to_have_text("已同步", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id(f"status-{bank_id}")).to_have_text("正常")

    page.get_by_role("link", name="东海银行").click()
    page.get_by_role("button", name="暂停", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="已提交")).to_be_visible()
    expect(page.get_by_test_id("member-status")).to_contain_text("已暂停", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("queued")).to_have_count(0, timeout=TIMEOUT_MS)  # on chain now
    assert registry_status(network, bank_id) == "suspended"

    page.get_by_role("button", name="恢复", exact=True).click()
    expect(page.get_by_test_id("queued")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("member-status")).to_contain_text("正常", timeout=TIMEOUT_MS)
    assert registry_status(network, bank_id) == "active"

    page.get_by_role("link", name="网络状况").click()
    expect(page.get_by_role("heading", name="网络状况")).to_be_visible()
    for gateway in network.gateways:
        expect(page.get_by_test_id(f"reach-{gateway.member_id()}")).to_have_text("正常")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "operator-health.png"))

    page.get_by_role("link", name="成员").first.click()
    expect(page.get_by_test_id(f"status-{bank_id}")).to_have_text("正常")
    page.screenshot(path=str(SCREENSHOTS / "operator.png"))


def test_the_pages_refuse_without_a_session_without_the_role_or_without_csrf(
    network: LocalNetwork, page: Page
) -> None:
    operator = network.operator
    for path in ("/web/operator/members", "/web/operator/health", "/web/admin/users"):
        plain = httpx.get(operator.url + path, follow_redirects=False)
        assert plain.status_code == 303, path
        assert plain.headers["location"].startswith("/web/sign-in?next=")
        assert httpx.get(operator.url + path, headers={"HX-Request": "true"}).status_code == 401
    bank = network.by_role("bank")[0]
    assert httpx.post(f"{operator.url}/web/operator/members/{bank.member_id()}/suspend").status_code == 401

    sign_in(page, operator, "王敏")
    page.wait_for_url(re.compile(r"/web/operator/members$"))
    forbidden = page.goto(operator.url + "/web/admin/users")  # the admin's page: 王敏 is no admin
    assert forbidden is not None
    assert forbidden.status == 403
    assert page.get_by_test_id("error-code").inner_text() == "forbidden"

    forms: list[dict[str, str | float | bool]] = [{}, {"csrf_token": "forged"}]
    for form in forms:
        refused = page.request.post(
            f"{operator.url}/web/operator/members/{bank.member_id()}/suspend", form=form
        )
        assert refused.status == 403
        assert "forbidden" in refused.text()
    assert registry_status(network, bank.member_id()) == "active"


def test_totp_sign_in(network: LocalNetwork, page: Page) -> None:
    from playwright.sync_api import expect

    operator = network.operator
    sign_in(page, operator, "totp-user")
    page.get_by_role("link", name="我的账户").click()
    page.get_by_role("button", name="启用 TOTP").click()
    secret = page.get_by_test_id("totp-secret").inner_text()
    totp = pyotp.TOTP(secret)
    page.get_by_label("验证器应用中的 6 位验证码").fill(totp.now())
    page.get_by_role("button", name="确认启用").click()
    expect(page.get_by_role("status").filter(has_text="TOTP 已启用")).to_be_visible()
    page.get_by_role("button", name="退出").click()

    sign_in(page, operator, "totp-user", then="/web/operator/health")
    expect(page).to_have_url(re.compile(r"/web/sign-in/totp$"))
    page.get_by_label("验证器应用中的 6 位验证码").fill("000000")
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("alert")).to_have_text("验证码错误或已使用")
    # The enrolment used this 30-second step's code; the next step's is accepted (clock drift).
    page.get_by_label("验证器应用中的 6 位验证码").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("heading", name="联盟成员")).to_be_visible()
