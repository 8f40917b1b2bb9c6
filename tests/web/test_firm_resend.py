"""Re-sending a rejected letter from its page, and the letter's PDFs, without a browser, on a firm's
gateway over the in-process chain (no workers run: a created letter's request stays queued).

The gateway holds a letter its bank rejected (the sample letter, numbered MJ-2024-000099); another
letter is replied on chain (request, authorisation,
acceptance, reply sent through the in-process chain), so its reply verifies. The pages: the rejected letter's "修改后重新发函" opens the composer
filled in with the letter's values and its ``corrects``; the form submitted as the browser would
(nothing typed again: the auditor gives no salt) creates a letter whose document is the old one's, corrected
(``corrects`` = the old id); the gateway's refusal of a wrong ``corrects`` shown on the form; the
letter's PDF and the verified reply's PDF downloaded; the refusals (no session, the auditee's role, no CSRF token).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest
from conftest import DAY, LetterRef
from gateway.api_apps import Gateway, client, gateway
from sqlalchemy import func, select

from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.protocol.documents import AuditFirm, Bank, ConfirmationLetter
from node_gateway.protocol.hashing import canonical_bytes, document_hash, new_salt, to_hex
from node_gateway.protocol.samples import sample_letter, sample_reply
from node_gateway.storage.models import LetterRow
from node_gateway.storage.vault import StoredDocument
from web.test_bank_pages import PASSWORD, sign_in

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

USERS = {"wang": {"auditor"}, "signer": {"auditee"}}
REJECTED_NO, REPLIED_NO = "MJ-2024-000099", "MJ-2024-000098"


@dataclass
class Rejected:
    gateway: Gateway
    letter: ConfirmationLetter  # rejected by the bank
    replied: ConfirmationLetter  # another letter, replied on chain: its reply verifies


def _store(gw: Gateway, letter: ConfirmationLetter, status: LetterStatus, auditee_ref: bytes) -> bytes:
    """The letter as the firm's gateway holds it (sealed), with the hash it records on chain."""
    node, salt = gw.node, new_salt()
    letter_hash = document_hash(letter, salt)
    with node.db.session() as session:
        session.add(
            LetterRow(
                letter_id=letter.letter_id,
                firm=gw.deployment.firm.member_id,
                bank=gw.deployment.bank.member_id,
                auditee_ref=to_hex(auditee_ref),
                letter_hash=to_hex(letter_hash),
                due_at=int(time.time()) + DAY,
                status=status.name,
                confirmation_no=letter.confirmation_no,
                letter_sealed=node.vault.seal(
                    letter.letter_id, "letter", StoredDocument(canonical_bytes(letter), salt)
                ),
            )
        )
    return letter_hash


def _replied_on_chain(gw: Gateway, letter: ConfirmationLetter) -> None:
    """The letter requested, authorised, accepted and replied on chain by its parties; its reply
    stored at the firm's gateway as the indexer leaves it (verified)."""
    deployed = gw.deployment
    letter_hash = _store(gw, letter, LetterStatus.REPLIED, deployed.auditee_ref)
    ref = LetterRef(
        letter_id=bytes.fromhex(letter.letter_id[2:]),
        firm=deployed.firm.member_id,
        bank=deployed.bank.member_id,
        auditee_ref=deployed.auditee_ref,
        letter_hash=letter_hash,
        due_at=deployed.now() + 30 * DAY,
    )
    reply, reply_salt = sample_reply(letter, letter_hash=letter_hash), new_salt()
    deployed.send(deployed.firm, deployed.request_call(ref))
    deployed.send(deployed.firm, deployed.authorise_call(ref))
    deployed.send(deployed.bank, deployed.confirmations.accept(ref.letter_id))
    deployed.send(
        deployed.bank, deployed.confirmations.reply(ref.letter_id, document_hash(reply, reply_salt))
    )
    with gw.node.db.session() as session:
        row = session.get_one(LetterRow, letter.letter_id)
        row.reply_sealed = gw.node.vault.seal(
            letter.letter_id, "reply", StoredDocument(canonical_bytes(reply), reply_salt)
        )
        row.reply_hash = to_hex(document_hash(reply, reply_salt))
        row.reply_verified = True


@pytest.fixture(scope="module")
def rejected(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rejected]:
    deployed = in_process.deploy()
    built = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("firm-resend"))
    firm = AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所")
    bank = Bank(member_no=deployed.bank.member_id, name="东海银行", branch="上海分行")
    letter = sample_letter(audit_firm=firm, bank=bank, confirmation_no=REJECTED_NO)
    _store(built, letter, LetterStatus.REJECTED, deployed.auditee_ref)  # authorised, then rejected
    replied = sample_letter(audit_firm=firm, bank=bank, confirmation_no=REPLIED_NO)
    _replied_on_chain(built, replied)
    with built.node.db.session() as session:
        for name, roles in USERS.items():
            create_user(session, MemberRole.AUDIT_FIRM, name, roles, password=PASSWORD)
            set_password(session, name, PASSWORD, one_time=False)
    yield Rejected(built, letter, replied)
    built.node.db.dispose()


class _FormFields(HTMLParser):
    """What a browser submits of the composer: each field's value as the page fills it in (checked
    boxes and radios, selected options), not the hidden row templates."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if tag == "input" and name and "__i__" not in name:
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields[name] = a.get("value", "")
        elif tag == "select":
            self._select = name if "__i__" not in name else None
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def form_fields(page: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(page)
    return parser.fields


def _letter_count(gw: Gateway) -> int:
    with gw.node.db.session() as session:
        return session.scalar(select(func.count()).select_from(LetterRow)) or 0


def _document(gw: Gateway, letter_id: str) -> dict[str, Any]:
    detail = client(gw.app).get(f"/v1/letters/{letter_id}", headers=gw.auth("auditor"))
    assert detail.status_code == 200, detail.text
    letter: dict[str, Any] = detail.json()["letter"]
    return letter


def _resend_form(http: TestClient, old: str) -> str:
    page = http.get(f"/web/firm/letters/{old}").text
    link = f'href="/web/firm/compose?corrects={old}" data-testid="resend"'
    assert link in page
    composer = http.get(f"/web/firm/compose?corrects={old}")
    assert composer.status_code == 200, composer.text
    text: str = composer.text
    return text


def test_a_rejected_letter_is_corrected_and_sent_again_with_its_values(rejected: Rejected) -> None:
    gw, old = rejected.gateway, rejected.letter
    http = sign_in(gw, "wang")
    page = _resend_form(http, old.letter_id)
    assert f'data-testid="corrects"><strong>更正函:引用 {REJECTED_NO}</strong>' in page
    fields = form_fields(page)
    assert fields["corrects"] == old.letter_id
    assert fields["bank_member_no"] == str(old.bank.member_no)
    assert fields["bank_branch"] == "上海分行"
    assert fields["auditee_code"] == old.auditee.registration_code
    assert fields["auditee_name"] == old.auditee.name
    assert fields["reference_date"] == old.reference_date.isoformat()
    assert not [name for name in fields if "salt" in name]  # the auditor gives none
    deposit = old.items.deposits.entries[0]
    assert fields["e.deposits.0.account_no"] == deposit.account_no
    assert fields["e.deposits.0.balance"] == str(deposit.balance)

    before = _letter_count(gw)
    created = http.post("/web/firm/compose", data=fields)
    assert created.status_code == 200, created.text
    found = re.fullmatch(r"/web/firm/letters/(0x[0-9a-f]{64})", created.url.path)
    assert found, created.url
    assert _letter_count(gw) == before + 1
    new_id = found.group(1)
    assert (
        f'data-testid="corrects"><a href="/web/firm/letters/{old.letter_id}">{REJECTED_NO}</a>'
        in created.text
    )

    again = http.get(f"/web/firm/letters/{old.letter_id}").text  # the rejected letter names its correction
    assert re.search(
        rf'data-testid="corrected-by"><a href="/web/firm/letters/{new_id}">[^<]+</a></dd>', again
    )
    new, stated = _document(gw, new_id), old.model_dump(mode="json", by_alias=True)
    assert new["corrects"] == old.letter_id
    for part in ("format", "reference_date", "audit_period", "closed_accounts_period", "bank", "auditee"):
        assert new[part] == stated[part], part
    for part in ("firm_contact", "fee_account", "items"):
        assert new[part] == stated[part], part
    assert new["confirmation_no"] != REJECTED_NO  # a new letter, with a number of its own


def test_a_wrong_correction_is_refused_on_the_form(rejected: Rejected) -> None:
    gw, old = rejected.gateway, rejected.letter
    http = sign_in(gw, "wang")
    fields = form_fields(_resend_form(http, old.letter_id))
    pending = http.post("/web/firm/compose", data=fields | {"corrects": ""})  # a letter, not rejected
    assert pending.status_code == 200, pending.text
    not_rejected = pending.url.path.rsplit("/", 1)[1]
    assert http.get(f"/web/firm/compose?corrects={not_rejected}").status_code == 409

    before = _letter_count(gw)
    refused = http.post("/web/firm/compose", data=fields | {"corrects": not_rejected})
    assert refused.status_code == 422
    assert 'data-testid="form-errors"' in refused.text
    assert (
        f"询证函 {not_rejected} 的状态为 PENDING,只有被银行拒绝的函可更正" in refused.text
    )  # the gateway's check
    assert f'name="corrects" value="{not_rejected}"' in refused.text  # the form kept
    damaged = http.post("/web/firm/compose", data=fields | {"corrects": "0x12"})
    assert damaged.status_code == 422
    assert "更正所引用的函证编号无效" in damaged.text
    assert _letter_count(gw) == before


def test_the_letter_pdf_downloads_and_the_reply_pdf_only_with_a_reply(rejected: Rejected) -> None:
    gw, old = rejected.gateway, rejected.letter
    http = sign_in(gw, "wang")
    page = http.get(f"/web/firm/letters/{old.letter_id}").text
    assert f'href="/web/firm/letters/{old.letter_id}/letter.pdf" download data-testid="letter-pdf"' in page
    assert 'data-testid="reply-pdf"' not in page  # no reply
    pdf = http.get(f"/web/firm/letters/{old.letter_id}/letter.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f'filename="{REJECTED_NO}-letter.pdf"' in pdf.headers["content-disposition"]
    assert pdf.headers["cache-control"] == "no-store"
    no_reply = http.get(f"/web/firm/letters/{old.letter_id}/reply.pdf")
    assert no_reply.status_code == 404
    assert not no_reply.content.startswith(b"%PDF")

    replied = rejected.replied.letter_id
    page = http.get(f"/web/firm/letters/{replied}").text
    assert 'data-testid="conclusion"' in page  # the reply verified against the chain
    assert f'href="/web/firm/letters/{replied}/reply.pdf" download data-testid="reply-pdf"' in page
    assert 'data-testid="resend"' not in page  # only a rejected letter is corrected
    reply = http.get(f"/web/firm/letters/{replied}/reply.pdf")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.content.startswith(b"%PDF")
    assert f'filename="{REPLIED_NO}-reply.pdf"' in reply.headers["content-disposition"]


def test_the_pages_refuse_without_a_session_the_role_or_csrf(rejected: Rejected) -> None:
    gw, old = rejected.gateway, rejected.letter
    paths = (
        f"/web/firm/compose?corrects={old.letter_id}",
        f"/web/firm/letters/{old.letter_id}/letter.pdf",
        f"/web/firm/letters/{old.letter_id}/reply.pdf",
    )
    plain = client(gw.app)
    for path in paths:
        response = plain.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/web/sign-in")
    signer = sign_in(gw, "signer")
    for path in paths:
        assert signer.get(path).status_code == 403, path

    http = sign_in(gw, "wang")
    fields = form_fields(_resend_form(http, old.letter_id))
    before = _letter_count(gw)
    for csrf in ({}, {"csrf_token": "forged"}):
        without = {k: v for k, v in fields.items() if k != "csrf_token"} | csrf
        assert http.post("/web/firm/compose", data=without).status_code == 403
    assert plain.post("/web/firm/compose", data=fields).status_code == 401
    assert _letter_count(gw) == before
