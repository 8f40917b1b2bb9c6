"""One season across the members' pages, in headless Chromium against real gateways on anvil: an
operator, an audit firm, a bank with a core bank (manual approval) and a regulator, as
``confirmnet.launcher`` runs them; web users added with ``confirmnet gateway add-user``.

The journey (issue 13): the regulator's analyst notes the bank's figures; the auditor uploads a
workbook of two letters (one whose first deposit balance the core bank does not hold, one that
matches), sees them checked and sent, selects them and creates an authorisation request with its
link; the auditee's signer opens the link (the signing page), takes the bundle and signs it,
submitted through the API as ``flows.sign_and_submit`` does. At the bank a preparer drafts the
reply with the exception again as their own and a reviewer approves it, both in the browser (the
clean letter is answered through the bank's API). The auditor sees the reply with the difference
highlighted, downloads the evidence (the API's own), closes the letter and sees each step in the
timeline; the analyst sees the bank's letters and replies grow. A third letter, requested through
the API and due within seconds, nobody authorises (it becomes overdue). The pages refuse a request
without a session, the auditee's role and a form without its CSRF token. Writes
``docs/screenshots/firm.png`` (the dashboard, 1280×800) and ``firm-letter.png`` (a letter whose
reply has a difference).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from eth_account.messages import encode_typed_data
from integration.flows import Customer, compose, member_id, ok, wait_status
from integration.harness import Consortium, wait_until

from confirmnet.demo import approve_exceptions
from confirmnet.launcher import Gateway, LocalNetwork, MemberSpec
from node_gateway.protocol.documents import ConfirmationLetter
from node_gateway.protocol.workbook import COLUMNS

from .conftest import PASSWORD, SCREENSHOTS, TIMEOUT_MS, add_user, letters_with_an_exception, sign_in
from .test_firm_compose import entry_cells

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

AUDITOR, SIGNER = "王审计", "陈签字"
PREPARER, REVIEWER, ANALYST = "李经办", "张复核", "李分析"
LATE_S = 20  # the unauthorised letter's due time, from its request


@dataclass
class FirmNetwork:
    consortium: Consortium
    auditee: Customer
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
        consortium = Consortium(local)
        password_file = base / "password.txt"
        password_file.write_text(PASSWORD + "\n")
        add_user(consortium.firm, AUDITOR, "auditor", password_file)
        add_user(consortium.firm, SIGNER, "auditee", password_file)
        add_user(consortium.bank, PREPARER, "preparer", password_file)
        add_user(consortium.bank, REVIEWER, "reviewer", password_file)
        add_user(consortium.regulator, ANALYST, "analyst", password_file)
        auditee, changed, clean = letters_with_an_exception(consortium, core_url)
        late = compose(consortium, auditee)
        body = {
            "letters": [
                {
                    "letter": late.model_dump(mode="json", by_alias=True),
                    "due_at": int(time.time()) + LATE_S,
                }
            ]
        }
        with consortium.firm.client("auditor") as firm:
            ok(firm.post("/v1/letters", json=body), 201)
        yield FirmNetwork(consortium, auditee, changed, clean, late)
    finally:
        local.stop()


def _sheet(letters: dict[str, ConfirmationLetter]) -> bytes:
    """The letters as the rows of a CSV sheet (the layout of node_gateway.protocol.workbook): one
    row per entry, and a not-applicable row for each item without entries."""
    rows = []
    for key, letter in letters.items():
        contact, firm_contact = letter.auditee.contact, letter.firm_contact
        fee = letter.fee_account
        cells = {
            "letter_key": key,
            "letter_format": "one",
            "reference_date": letter.reference_date.isoformat(),
            "audit_period_start": letter.audit_period.start.isoformat(),
            "audit_period_end": letter.audit_period.end.isoformat(),
            "closed_period_start": letter.closed_accounts_period.start.isoformat(),
            "closed_period_end": letter.closed_accounts_period.end.isoformat(),
            "bank_member_no": str(letter.bank.member_no),
            "bank_name": letter.bank.name,
            "bank_branch": letter.bank.branch or "",
            "auditee_code": letter.auditee.registration_code,
            "auditee_name": letter.auditee.name,
            "contact_name": contact.name if contact else "",
            "contact_phone": (contact.phone or "") if contact else "",
            "firm_contact_name": firm_contact.name,
            "firm_contact_phone": firm_contact.phone or "",
            "firm_contact_email": firm_contact.email or "",
            "fee_account_no": fee.account_no if fee else "",
            "fee_account_name": fee.account_name if fee else "",
        }
        for item_key, item in letter.items.by_key():
            if not item.entries:
                rows.append(cells | {"item": item_key.value, "not_applicable": "yes"})
            rows += [cells | {"item": item_key.value} | entry_cells(entry) for entry in item.entries]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _uploaded(network: FirmNetwork) -> dict[str, str]:
    """The uploaded letters' ids by the sheet's keys, told apart by the first deposit's balance,
    each holding exactly the items of the letter it came from."""
    with network.firm.client("auditor") as api:
        listed = ok(api.get("/v1/letters?limit=100"))["items"]
        ids = [x["letter_id"] for x in listed if x["letter_id"] != network.late.letter_id]
        documents = {i: ok(api.get(f"/v1/letters/{i}"))["letter"] for i in ids}
    found = {}
    for key, letter in (("changed", network.changed), ("clean", network.clean)):
        expected = letter.items.model_dump(mode="json")
        matches = [i for i, document in documents.items() if document["items"] == expected]
        assert len(matches) == 1, key
        found[key] = matches[0]
    return found


def _sign_bundle(network: FirmNetwork, bundle: dict[str, Any]) -> None:
    """The signer signs the bundle the link gives, submitted as ``flows.sign_and_submit`` does."""
    typed = bundle["typed_data"]
    signature = network.auditee.signer.sign_message(encode_typed_data(full_message=typed)).signature
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


def _drafted(network: FirmNetwork, letter_ids: list[str]) -> bool:
    """Whether the bank's system has drafted the replies (they wait for people)."""
    with network.consortium.bank.client("officer") as bank:
        responses = [bank.get(f"/v1/bank/letters/{x}") for x in letter_ids]
    return all(r.status_code == 200 and r.json()["stage"] == "awaiting_review" for r in responses)


def test_one_season_across_the_members_pages(network: FirmNetwork, browser: Browser, page: Page) -> None:
    from playwright.sync_api import expect

    firm, bank = network.firm, network.consortium.bank
    bank_no = member_id(bank)
    analyst = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    sign_in(analyst, network.consortium.regulator, ANALYST)
    expect(analyst).to_have_url(re.compile(r"/web/regulator/statistics$"))
    received = analyst.get_by_test_id(f"received-{bank_no}")
    expect(received).to_have_text("1", timeout=TIMEOUT_MS)  # the late letter, requested of the bank

    # The auditor uploads the workbook; the rows are checked before anything is sent.
    sign_in(page, firm, AUDITOR)
    expect(page).to_have_url(re.compile(r"/web/firm/letters$"))
    expect(page.get_by_role("heading", name="询证函进度")).to_be_visible()
    expect(page.get_by_test_id("sync")).to_have_text("已同步", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("count-total")).to_have_text("1")
    page.get_by_role("navigation", name="menu").get_by_role("link", name="批量上传").click()
    sheet = _sheet({"changed": network.changed, "clean": network.clean})
    page.get_by_test_id("sheet").set_input_files(
        files={"name": "函证.csv", "mimeType": "text/csv", "buffer": sheet}
    )
    page.get_by_test_id("upload-check").click()
    expect(page.get_by_test_id("plan")).to_contain_text("将创建 2 封询证函")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("progress")).to_have_attribute("data-state", "done", timeout=TIMEOUT_MS)
    uploaded = _uploaded(network)
    changed, clean = uploaded["changed"], uploaded["clean"]
    for letter_id in (changed, clean):
        wait_status(firm, "auditor", letter_id, "REQUESTED")

    page.get_by_test_id("to-letters").click()
    expect(page.get_by_test_id("count-total")).to_have_text("3")
    expect(page.get_by_test_id(f"status-{changed}")).to_have_text("待被审计单位授权", timeout=TIMEOUT_MS)
    page.get_by_test_id(f"pick-{changed}").check()
    page.get_by_test_id(f"pick-{clean}").check()
    page.get_by_role("button", name="创建授权申请").click()
    expect(page.get_by_role("heading", name="授权申请已创建")).to_be_visible()
    expect(page.get_by_test_id("bundle")).to_contain_text("2 封询证函,1 家银行")
    link = page.get_by_test_id("auth-link").input_value()
    assert re.fullmatch(rf"{re.escape(firm.url)}/web/authorise/[A-Za-z0-9_-]+", link), link
    page.get_by_test_id("copy").click()
    expect(page.get_by_test_id("copy")).to_have_text("已复制")

    # The auditee's signer opens the link and signs what it shows.
    signer = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    sign_in(signer, firm, SIGNER, then=link.removeprefix(firm.url))
    expect(signer.get_by_role("button", name="使用通行密钥签署")).to_be_visible()
    expect(signer.get_by_test_id("sign-letter").first).to_contain_text("东海银行")
    bundle = signer.request.get(link + "/bundle.json").json()
    assert {x["letter_id"] for x in bundle["letters"]} == {changed, clean}
    assert signer.request.get(f"{firm.url}/web/firm/letters").status == 403  # the signer sees only the link
    signer.context.close()
    _sign_bundle(network, bundle)

    # At the bank: the preparer drafts the reply with the exception again, the reviewer approves it.
    wait_until(lambda: _drafted(network, [changed, clean]), 90, "the bank's system drafts")
    officer = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    sign_in(officer, bank, PREPARER, then=f"/web/bank/letters/{changed}")
    officer.get_by_role("button", name="从核心系统重新编制").click()
    expect(officer.get_by_role("status").filter(has_text="已编制第 2 稿")).to_be_visible()
    officer.get_by_role("button", name="退出").click()
    sign_in(officer, bank, REVIEWER, then=f"/web/bank/letters/{changed}")
    expect(officer.get_by_test_id("difference")).to_contain_text("本行记录的数值不同")
    officer.get_by_role("button", name="复核通过并回函").click()
    expect(officer.get_by_test_id("case-stage")).to_have_text("已回函", timeout=TIMEOUT_MS)
    officer.context.close()
    approve_exceptions([bank])  # the clean letter, through the bank's API
    wait_status(firm, "auditor", changed, "REPLIED", timeout_s=90)

    # The auditor sees the difference, takes the evidence and closes.
    page.goto(f"{firm.url}/web/firm/letters/{changed}")
    expect(page.get_by_test_id("conclusion")).to_contain_text("信息不符", timeout=TIMEOUT_MS)
    difference = page.get_by_test_id("item-deposits").get_by_test_id("difference")
    expect(difference).to_contain_text("银行记录的数值不同")
    expect(difference.get_by_test_id("auditor-value")).to_have_text("12,345,778.90")
    expect(difference.get_by_test_id("bank-value")).to_have_text("12,345,678.90")
    expect(page.get_by_test_id("item-deposits")).to_contain_text("不符")
    signed_off = page.get_by_test_id("signed-off")  # the bank's people by name and title
    expect(signed_off).to_contain_text(f"{PREPARER}(对公业务经办)")
    expect(signed_off).to_contain_text(f"{REVIEWER}(运营主管)")
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
        ("LetterAuthorised", network.auditee.signer.address),
        ("LetterAccepted", "东海银行"),
        ("LetterReplied", "东海银行"),
        ("LetterClosed", "明鉴会计师事务所"),
    ):
        expect(timeline.get_by_test_id(f"step-{step}")).to_contain_text(who)
    expect(timeline.locator("tbody tr")).to_have_count(5)

    page.get_by_role("link", name="返回询证函列表").click()
    expect(page.get_by_test_id("count-overdue")).to_have_text("1", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id(f"overdue-{network.late.letter_id}")).to_contain_text("已逾期")
    expect(page.get_by_test_id(f"status-{changed}")).to_have_text("已关闭")
    page.screenshot(path=str(SCREENSHOTS / "firm.png"))

    # The regulator's page moved by itself: the two uploaded letters received and replied.
    expect(received).to_have_text("3", timeout=TIMEOUT_MS)
    expect(analyst.get_by_test_id(f"replied-{bank_no}")).to_have_text("2", timeout=TIMEOUT_MS)
    analyst.context.close()


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
