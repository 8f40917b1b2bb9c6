"""The auditee's signer with a passkey, in headless Chromium with a virtual authenticator (Chrome
DevTools Protocol ``WebAuthn.addVirtualAuthenticator``: CTAP2, internal, resident keys, user
verification), against real gateways on anvil (an operator, an audit firm, a bank).

At the bank an officer opens **登记通行密钥** for a customer; the customer's signer creates a passkey
there (the page posts only its public key); the officer cannot approve their own enrolment and hands
the link to a second officer, who approves it: the mandate (the WebAuthn verifier ‖ the key) goes
on chain. At the firm the signer opens the authorisation link of two letters, sees each letter's
函证编号, bank and items and the EIP-712 digest, signs with the passkey, and both letters are
Authorised on anvil by that signer. The same page refuses a third letter with a reason in words,
signed the same way: the letter is Refused and the firm's letter keeps the words. A passkey without
a mandate is refused with ``passkey_not_mandated``. Writes ``docs/screenshots/bank-enrol-passkey.png``
and ``auditee-sign.png``. The enroller's own approval (``same_officer``), an altered enrolment link
(``enrolment_invalid``) and an assertion that is none (``passkey_invalid``) are refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from integration.flows import (
    Customer,
    chain,
    compose,
    letter_view,
    member_id,
    new_auditee,
    request,
    wait_status,
)
from integration.harness import Consortium, wait_until

from confirmnet.launcher import Gateway, LocalNetwork, MemberSpec
from node_gateway.chain.signers import SignerKind, as_signer, signer_id
from node_gateway.protocol.hashing import from_hex, to_hex
from node_gateway.web.firm import request_token

from .conftest import PASSWORD, SCREENSHOTS, TIMEOUT_MS, add_user

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, Route

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

AUDITOR, SIGNER, OFFICER, SECOND_OFFICER = "王审计", "陈签字", "赵函证", "钱函证"
WORDS = "本公司未在该银行开立第二个账户,询证函内容有误"


@dataclass
class PasskeyNetwork:
    consortium: Consortium
    auditee: Customer
    authorise: list[str]  # two letters the passkey authorises
    refuse: str  # one it refuses


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PasskeyNetwork]:
    base = tmp_path_factory.mktemp("passkey-web")
    members = [
        MemberSpec("operator", "中国银行业协会", "51100000500000074H"),
        MemberSpec("audit_firm", "明鉴会计师事务所", "91310000MA1FL0TE5Q"),
        MemberSpec("bank", "东海银行", "91310000132206210U"),
    ]
    local = LocalNetwork(base, members, passphrase="passkey browser tests' passphrase, used nowhere else")
    try:
        local.start()
        consortium = Consortium(local)
        password_file = base / "password.txt"
        password_file.write_text(PASSWORD + "\n")
        add_user(consortium.firm, AUDITOR, "auditor", password_file)
        add_user(consortium.firm, SIGNER, "auditee", password_file)
        add_user(consortium.bank, OFFICER, "officer", password_file)
        add_user(consortium.bank, SECOND_OFFICER, "officer", password_file)
        # The customer has an ordinary key's mandate too; the passkey becomes a second signer of
        # its own, under the same reference (the one the firm then relays with its authorisation).
        auditee = new_auditee(consortium, 1)
        created = request(consortium, [compose(consortium, auditee) for _ in range(3)])
        ids = [row["letter_id"] for row in created]
        yield PasskeyNetwork(consortium, auditee, ids[:2], ids[2])
    finally:
        local.stop()


def on_localhost(gateway: Gateway) -> str:
    """The gateway's pages at ``localhost``: the network's relying-party id (a passkey is bound to a
    domain, never to an IP address; the port does not count, so one passkey serves every gateway)."""
    return gateway.pages_origin


def signed_in(page: Page, url: str, name: str, then: str) -> None:
    page.goto(url + then)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def with_authenticator(context: BrowserContext, page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator for ``page``, as a phone's or a laptop's with a fingerprint: CTAP2,
    internal, discoverable credentials, the user verified at every use; the session and its id."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, str(added["authenticatorId"])


def test_a_passkey_enrolled_at_the_bank_signs_and_refuses_at_the_firm(
    network: PasskeyNetwork, browser: Browser
) -> None:
    from playwright.sync_api import expect

    consortium, code = network.consortium, network.auditee.registration_code
    bank, firm = on_localhost(consortium.bank), on_localhost(consortium.firm)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    with_authenticator(context, page)

    # At the bank: the customer's signer creates a passkey on the officer's enrolment page.
    signed_in(page, bank, OFFICER, f"/web/bank/mandates?code={code}")
    page.get_by_test_id("enrol-passkey").click()
    expect(page.get_by_label("统一社会信用代码")).to_have_value(code)
    page.get_by_label("签字人姓名").fill("陈签字")
    page.get_by_label("有效期至").fill((date.today() + timedelta(days=365)).isoformat())
    page.get_by_role("button", name="创建通行密钥并提交复核").click()
    expect(page.get_by_role("heading", name="复核通行密钥签字人")).to_be_visible()
    enrolled = page.get_by_test_id("enrolled-signer").inner_text()
    verifiers = chain(consortium).verifiers
    assert verifiers is not None
    assert verifiers.kind_of(enrolled) == SignerKind.WEBAUTHN
    assert len(as_signer(enrolled)) == 20 + 64  # the verifier, then the passkey's x ‖ y
    # Its enroller may not approve it: the page hands the link to another officer.
    expect(page.get_by_role("button", name="复核通过,登记上链")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "bank-enrol-passkey.png"), full_page=True)
    link = page.get_by_test_id("enrol-link").input_value()
    token = link.split("e=", 1)[1]
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    own = page.request.post(
        f"{bank}/web/bank/mandates/passkey/approve", form={"csrf_token": csrf, "e": token}
    )
    assert own.status == 403
    assert "same_officer" in own.text()
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")  # the link's HMAC no longer matches
    altered = page.request.get(f"{bank}/web/bank/mandates/passkey/approve?e={forged}")
    assert altered.status == 422
    assert "enrolment_invalid" in altered.text()

    second = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    signed_in(
        second,
        consortium.bank.url,
        SECOND_OFFICER,
        "/web/bank/mandates/passkey/approve?" + link.split("?", 1)[1],
    )
    expect(second.get_by_test_id("enrolled-signer")).to_have_text(enrolled)
    second.get_by_role("button", name="复核通过,登记上链").click()
    expect(second.get_by_text("通行密钥签字人已登记,待上链")).to_be_visible()
    second.context.close()
    registry, bank_id = chain(consortium).confirmations, member_id(consortium.bank)
    with consortium.bank.client("officer") as api:
        ref = from_hex(api.get(f"/v1/customers/{code}/reference").json()["auditee_ref"])
    wait_until(
        lambda: registry.mandate_valid_until(bank_id, ref, enrolled) > time.time(), 60, "passkey mandate"
    )

    # At the firm: the signer opens the link, checks what it covers and signs with the passkey.
    signed_in(page, firm, SIGNER, f"/web/authorise/{request_token(network.authorise)}")
    letters = page.get_by_test_id("sign-letter")
    expect(letters).to_have_count(2)
    expect(letters.first).to_contain_text("东海银行")
    expect(letters.first).to_contain_text("函证编号")
    assert re.fullmatch(r"0x[0-9a-f]{64}", page.get_by_test_id("digest").inner_text())
    # The page recomputed the letters' hashes, the root and the digest itself (static/signing.js).
    expect(page.get_by_test_id("sign-checked")).to_contain_text("已核对")
    page.screenshot(path=str(SCREENSHOTS / "auditee-sign.png"), full_page=False)
    page.get_by_role("button", name="使用通行密钥签署").focus()  # by keyboard
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("signed")).to_contain_text("已签署授权 2 份询证函", timeout=TIMEOUT_MS)
    for letter_id in network.authorise:
        wait_status(consortium.firm, "auditor", letter_id, "AUTHORISED", timeout_s=TIMEOUT_MS / 1000)
        view = letter_view(consortium.firm, "auditor", letter_id)
        assert view["authorisation"]["signer"] == enrolled
        # The firm relayed the reference the passkey's mandate is under; the page signed none.
        assert view["auditee_ref"] == to_hex(ref)
    events = registry.contract.events.LetterAuthorised.get_logs(from_block=0)
    assert {e.args.signerId for e in events} == {signer_id(enrolled)}
    assert {bytes(e.args.auditeeRef) for e in events} == {ref}

    # The same page refuses another letter, with a reason in words, signed the same way.
    page.goto(f"{firm}/web/authorise/{request_token([network.refuse])}")
    page.get_by_label("拒绝原因").select_option("2")
    page.get_by_label("拒绝理由", exact=False).fill(WORDS)
    page.get_by_role("button", name="拒绝授权(通行密钥签署)").click()
    expect(page.get_by_test_id("signed")).to_contain_text(WORDS, timeout=TIMEOUT_MS)
    wait_status(consortium.firm, "auditor", network.refuse, "REFUSED", timeout_s=TIMEOUT_MS / 1000)
    refused = letter_view(consortium.firm, "auditor", network.refuse)
    assert refused["refusal_text"] == WORDS
    assert refused["authorisation"]["signer"] == enrolled
    assert refused["auditee_ref"] == to_hex(ref)
    # The auditor's page of the letter shows the signer's words.
    auditor = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    signed_in(auditor, consortium.firm.url, AUDITOR, f"/web/firm/letters/{network.refuse.lower()}")
    expect(auditor.get_by_text(WORDS)).to_be_visible()
    auditor.context.close()
    context.close()


def test_a_passkey_without_a_mandate_is_refused(network: PasskeyNetwork, browser: Browser) -> None:
    """Another authenticator's passkey (never enrolled) signs; the gateway finds no mandate for any
    key the assertion fits and refuses with its code, nothing queued."""
    from playwright.sync_api import expect

    consortium = network.consortium
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    cdp, authenticator = with_authenticator(context, page)
    firm = on_localhost(consortium.firm)
    # A passkey of this authenticator that the bank never enrolled: created on the firm's own pages.
    signed_in(page, firm, SIGNER, "/web/")
    page.evaluate(
        """async () => { await navigator.credentials.create({ publicKey: {
            rp: { id: "localhost", name: "x" }, user: { id: new Uint8Array(16), name: "x", displayName: "x" },
            challenge: new Uint8Array(32), pubKeyCredParams: [{ type: "public-key", alg: -7 }],
            authenticatorSelection: { residentKey: "required", userVerification: "required" } } }); }"""
    )
    assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    other = compose(consortium, network.auditee)
    letter_id = request(consortium, [other])[0]["letter_id"]
    link = f"{firm}/web/authorise/{request_token([letter_id])}"

    # A document altered on its way to the page (one balance in the data the script hashes) does
    # not hash to the letter's hash: the page says so and offers nothing to sign.
    def altered(route: Route) -> None:
        body = route.fetch().text()
        changed = re.sub(
            r'("balance": ")(\d)', lambda m: m.group(1) + str((int(m.group(2)) + 1) % 10), body, count=1
        )
        assert changed != body
        route.fulfill(body=changed, content_type="text/html; charset=utf-8")

    page.route(link, altered)
    page.goto(link)
    expect(page.get_by_test_id("sign-checked")).to_contain_text("核对不一致")
    expect(page.get_by_role("button", name="使用通行密钥签署")).to_be_disabled()
    page.unroute(link)

    page.goto(link)
    expect(page.get_by_test_id("sign-checked")).to_contain_text("已核对")
    page.get_by_role("button", name="使用通行密钥签署").click()
    expect(page.get_by_text("passkey_not_mandated")).to_be_visible(timeout=TIMEOUT_MS)
    assert letter_view(consortium.firm, "auditor", letter_id)["status"] == "REQUESTED"
    # An assertion that is none (no challenge in its client data) is refused before any lookup.
    page.goto(link)
    csrf = page.get_by_test_id("sign-form").locator("input[name=csrf_token]").input_value()
    signed = {"requests_root": "0x" + "00" * 32, "firm": "2", "valid_until": "1", "nonce": "1"}
    assertion = {"authenticator_data": "AAAA", "client_data_json": "AAAA", "signature": "AAAA"}
    bad = page.request.post(link + "/sign", form={"csrf_token": csrf, **signed, **assertion})
    assert bad.status == 422
    assert "passkey_invalid" in bad.text()
    # A refusal without words is refused by the page, whatever its signature.
    wordless = page.request.post(
        link + "/sign", form={"csrf_token": csrf, **signed, **assertion, "reason": "2"}
    )
    assert wordless.status == 422
    assert "reason in words" in wordless.text()
    context.close()
