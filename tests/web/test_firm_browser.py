"""The audit firm's pages in headless Chromium against real gateways on anvil: an operator, an audit
firm, a bank with a core bank (manual approval) and a regulator, as ``confirmnet.launcher`` runs
them; web users added with ``confirmnet gateway add-user --password-file``.

The firm requests three letters through its API: one whose first deposit balance the core bank
does not hold, one that matches, and one due within seconds that nobody authorises (it becomes
overdue). The auditor signs in, sees the dashboard, selects the first two and creates an
authorisation request with its link; the auditee's signer opens the link (the placeholder page),
downloads the bundle and signs it, submitted through the API as ``flows.sign_and_submit`` does.
The bank's people answer through the bank's API (``confirmnet.demo.approve_exceptions``: a preparer
drafts, a reviewer approves). The auditor sees the reply with the difference highlighted,
downloads the evidence (the API's own), closes the letter and sees each step in the timeline.
The pages refuse a request without a session, the auditee's role and a form without its CSRF
token. Writes ``docs/screenshots/firm.png`` (the dashboard, 1280×800) and ``firm-letter.png`` (a
letter whose reply has a difference).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from eth_account.messages import encode_typed_data
from integration.flows import compose, ok, request, wait_status
from integration.harness import Consortium, wait_until

from confirmnet.demo import approve_exceptions
from confirmnet.launcher import Gateway, LocalNetwork, MemberSpec
from node_gateway.protocol.documents import ConfirmationLetter

from .conftest import PASSWORD, SCREENSHOTS, TIMEOUT_MS, add_user, letters_with_an_exception, sign_in

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

AUDITOR, SIGNER = "王审计", "陈签字"
LATE_S = 20  # the unauthorised letter's due time, from its request


@dataclass
class FirmNetwork:
    consortium: Consortium
    signer: LocalAccount
    changed: ConfirmationLetter  # the core bank holds another balance for its first deposit
    clean: ConfirmationLetter
    late: ConfirmationLetter  # never authorised; overdue within seconds

    @property
    def firm(self) -> Gateway:
        return self.consortium.firm


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirmNetwork]:
    base = tmp_path_factory.mktemp("firm-web")
    core_url = f"sqlite:///{base / 'core.db'}"
    members = [
        MemberSpec("operator", "中国银行业协会", "51100000500000074H"),
        MemberSpec("audit_firm", "明鉴会计师事务所", "91310000MA1FL0TE5Q"),
        MemberSpec("bank", "东海银行", "91310000132206210U", env={"CONFIRMNET_CORE_BANKING_URL": core_url}),
        MemberSpec("regulator", "财政部监督评价局", "11100000000013127B"),
    ]
    local = LocalNetwork(base, members, passphrase="firm browser tests' passphrase, used nowhere else")
    try:
        local.start()
    except Exception:
        local.stop()
        raise
    try:
        consortium = Consortium(local)
        password_file = base / "password.txt"
        password_file.write_text(PASSWORD + "\n")
        add_user(consortium.firm, AUDITOR, "auditor", password_file)
        add_user(consortium.firm, SIGNER, "auditee", password_file)
        auditee, changed, clean = letters_with_an_exception(consortium, core_url)
        request(consortium, [changed, clean], auditee)
        late = compose(consortium, auditee)
        body = {
            "letters": [
                {
                    "letter": late.model_dump(mode="json", by_alias=True),
                    "auditee_salt": auditee.salt,
                    "due_at": int(time.time()) + LATE_S,
                }
            ]
        }
        with consortium.firm.client("auditor") as firm:
            ok(firm.post("/v1/letters", json=body), 201)
        yield FirmNetwork(consortium, auditee.signer, changed, clean, late)
    finally:
        local.stop()


def _sign_bundle(network: FirmNetwork, bundle: dict[str, Any]) -> None:
    """The signer signs the bundle the link gives, submitted as ``flows.sign_and_submit`` does."""
    typed = bundle["typed_data"]
    signature = network.signer.sign_message(encode_typed_data(full_message=typed)).signature
    message = typed["message"]
    body = {
        "letter_ids": [x["letter_id"] for x in bundle["letters"]],
        "requests_root": message["requestsRoot"],
        "firm": message["firm"],
        "valid_until": message["validUntil"],
        "nonce": message["nonce"],
        "signature": "0x" + signature.hex(),
        "reason": None,
    }
    with network.firm.client("auditor") as firm:
        ok(firm.post("/v1/authorisations", json=body), 202)


def _drafted(network: FirmNetwork) -> bool:
    """Whether the bank's system has drafted both replies (they wait for people)."""
    with network.consortium.bank.client("officer") as bank:
        responses = [bank.get(f"/v1/bank/letters/{x.letter_id}") for x in (network.changed, network.clean)]
    return all(r.status_code == 200 and r.json()["stage"] == "awaiting_review" for r in responses)


def test_the_auditor_requests_authorisation_sees_the_reply_s_difference_and_closes(
    network: FirmNetwork, browser: Browser, page: Page
) -> None:
    from playwright.sync_api import expect

    firm, changed, clean = network.firm, network.changed.letter_id, network.clean.letter_id
    sign_in(page, firm, AUDITOR)
    expect(page).to_have_url(re.compile(r"/web/firm/letters$"))
    expect(page.get_by_role("heading", name="询证函进度")).to_be_visible()
    expect(page.get_by_test_id("sync")).to_have_text("已同步", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("count-total")).to_have_text("3")
    expect(page.get_by_test_id(f"status-{changed}")).to_have_text("待被审计单位授权")

    page.get_by_test_id(f"pick-{changed}").check()
    page.get_by_test_id(f"pick-{clean}").check()
    page.get_by_role("button", name="创建授权申请").click()
    expect(page.get_by_role("heading", name="授权申请已创建")).to_be_visible()
    expect(page.get_by_test_id("bundle")).to_contain_text("2 封询证函,1 家银行")
    link = page.get_by_test_id("auth-link").input_value()
    assert re.fullmatch(rf"{re.escape(firm.url)}/web/authorise/[A-Za-z0-9_-]+", link), link
    page.get_by_test_id("copy").click()
    expect(page.get_by_test_id("copy")).to_have_text("已复制")

    signer = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    sign_in(signer, firm, SIGNER, then=link.removeprefix(firm.url))
    expect(signer.get_by_test_id("placeholder")).to_contain_text("confirmnet authorise")
    expect(signer.get_by_test_id("placeholder")).to_contain_text("The signing page")
    expect(signer.get_by_test_id("bundle")).to_contain_text("东海银行")
    bundle = signer.request.get(link + "/bundle.json").json()
    assert {x["letter_id"] for x in bundle["letters"]} == {changed, clean}
    forbidden = signer.request.get(f"{firm.url}/web/firm/letters")
    assert forbidden.status == 403  # the auditee's signer sees only the link
    signer.context.close()
    _sign_bundle(network, bundle)

    wait_until(lambda: _drafted(network), 90, "the bank's system drafts")
    approve_exceptions([network.consortium.bank])  # a preparer drafts again, a reviewer approves
    wait_status(firm, "auditor", changed, "REPLIED", timeout_s=90)

    page.goto(f"{firm.url}/web/firm/letters/{changed}")
    expect(page.get_by_test_id("conclusion")).to_contain_text("信息不符", timeout=TIMEOUT_MS)
    difference = page.get_by_test_id("item-deposits").get_by_test_id("difference")
    expect(difference).to_contain_text("银行记录的数值不同")
    expect(difference.get_by_test_id("auditor-value")).to_have_text("12,345,778.90")
    expect(difference.get_by_test_id("bank-value")).to_have_text("12,345,678.90")
    expect(page.get_by_test_id("cell-bank-value")).to_have_text("12,345,678.90")
    expect(page.get_by_test_id("item-deposits")).to_contain_text("不符")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "firm-letter.png"))

    with page.expect_download() as download:
        page.get_by_test_id("evidence").click()
    path = download.value.path()
    with firm.client("auditor") as api:
        expected = ok(api.get(f"/v1/letters/{changed}/evidence"))
    assert json.loads(path.read_text()) == expected

    page.get_by_role("button", name="关闭询证函(回函已核验)").click()
    expect(page.get_by_role("status").filter(has_text="已关闭,待上链")).to_be_visible()
    expect(page.get_by_test_id("letter-status")).to_have_text("已关闭", timeout=TIMEOUT_MS)
    timeline = page.get_by_test_id("timeline")
    for step, who in (
        ("LetterRequested", "明鉴会计师事务所"),
        ("LetterAuthorised", network.signer.address),
        ("LetterAccepted", "东海银行"),
        ("LetterReplied", "东海银行"),
        ("LetterClosed", "明鉴会计师事务所"),
    ):
        expect(timeline.get_by_test_id(f"step-{step}")).to_contain_text(who)
    expect(timeline.locator("tbody tr")).to_have_count(5)

    page.get_by_role("link", name="返回询证函列表").click()
    expect(page.get_by_test_id("count-overdue")).to_have_text("1", timeout=TIMEOUT_MS)
    late = network.late.letter_id
    expect(page.get_by_test_id(f"overdue-{late}")).to_contain_text("已逾期")
    expect(page.get_by_test_id(f"status-{changed}")).to_have_text("已关闭")
    page.screenshot(path=str(SCREENSHOTS / "firm.png"))


def test_the_pages_refuse_without_a_session_the_role_or_csrf(network: FirmNetwork, page: Page) -> None:
    firm, letter_id = network.firm, network.late.letter_id
    letter = f"{firm.url}/web/firm/letters/{letter_id}"
    for path in ("/web/firm/letters", f"/web/firm/letters/{letter_id}", "/web/authorise/AAAA"):
        plain = httpx.get(firm.url + path, follow_redirects=False)
        assert plain.status_code == 303, path
        assert plain.headers["location"].startswith("/web/sign-in?next=")
    assert httpx.post(f"{letter}/withdraw").status_code == 401

    sign_in(page, firm, SIGNER)
    page.wait_for_url(re.compile(r"/web/"))
    for path in ("/web/firm/letters", f"/web/firm/letters/{letter_id}"):
        assert page.request.get(firm.url + path).status == 403, path
    page.get_by_role("button", name="退出").click()

    sign_in(page, firm, AUDITOR, then=f"/web/firm/letters/{letter_id}")
    page.wait_for_url(re.compile(rf"/web/firm/letters/{letter_id}$"))
    forms: list[dict[str, str | float | bool]] = [{}, {"csrf_token": "forged"}]
    for form in forms:
        assert page.request.post(f"{letter}/withdraw", form=form).status == 403
    with firm.client("auditor") as api:
        assert ok(api.get(f"/v1/letters/{letter_id}"))["status"] == "REQUESTED"
