"""The audit firm's pages without a browser, on a firm's gateway over the in-process chain (no
workers run: a queued chain step stays queued).

The gateway holds a letter awaiting authorisation and overdue, one accepted by the bank, and one
replied whose reply the chain does not hold (so it does not verify). The pages: the dashboard's
counts, overdue mark, filter and export; a letter's items and actions (a follow-up queued); the
reply's differences against the letter (``item_tables``); the authorisation request and its link,
opened by the auditee's signer; the refusals (no session, the auditee's role, no CSRF token).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pytest
from gateway.api_apps import Gateway, client, gateway
from sqlalchemy import select

from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.protocol.documents import (
    AuditFirm,
    Bank,
    ConfirmationLetter,
    NonComplianceNotice,
    Officer,
    RejectionReason,
)
from node_gateway.protocol.hashing import canonical_bytes, document_hash, new_salt, to_hex
from node_gateway.protocol.samples import sample_letter, sample_reply
from node_gateway.services.notices import store_notice
from node_gateway.storage.models import LetterRow, OutboxTransaction
from node_gateway.storage.vault import StoredDocument
from node_gateway.web.firm import item_tables, request_token, token_letters
from node_gateway.web.i18n import Catalogue
from node_gateway.web.pages import LANG_COOKIE
from web.test_bank_pages import PASSWORD, _csrf, sign_in

if TYPE_CHECKING:
    from conftest import Chain

USERS = {"wang": {"auditor"}, "signer": {"auditee"}}


@dataclass
class FirmPages:
    gateway: Gateway
    late: ConfirmationLetter  # awaiting authorisation, past its due time
    accepted: ConfirmationLetter
    replied: ConfirmationLetter  # its reply is stored; the chain has none


def _store(gw: Gateway, letter: ConfirmationLetter, status: LetterStatus, due_at: int) -> bytes:
    deployed, node = gw.deployment, gw.node
    salt = new_salt()
    letter_hash = document_hash(letter, salt)
    with node.db.session() as session:
        session.add(
            LetterRow(
                letter_id=letter.letter_id,
                firm=deployed.firm.member_id,
                bank=deployed.bank.member_id,
                auditee_ref="0x" + deployed.auditee_ref.hex(),
                letter_hash=to_hex(letter_hash),
                due_at=due_at,
                status=status.name,
                letter_sealed=node.vault.seal(
                    letter.letter_id, "letter", StoredDocument(canonical_bytes(letter), salt)
                ),
            )
        )
    return letter_hash


@pytest.fixture(scope="module")
def firm(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirmPages]:
    deployed = in_process.deploy()
    built = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("firm-web"))

    def letter() -> ConfirmationLetter:
        return sample_letter(
            audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
            bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
        )

    late, accepted, replied = letter(), letter(), letter()
    now = int(time.time())
    _store(built, late, LetterStatus.REQUESTED, now - 3600)
    _store(built, accepted, LetterStatus.ACCEPTED, now + 86400)
    letter_hash = _store(built, replied, LetterStatus.REPLIED, now + 86400)
    reply = sample_reply(replied, letter_hash=letter_hash, with_exception=True)
    with built.node.db.session() as session:
        row = session.get(LetterRow, replied.letter_id)
        assert row is not None
        row.reply_sealed = built.node.vault.seal(
            row.letter_id, "reply", StoredDocument(canonical_bytes(reply), new_salt())
        )
        row.reply_verified = True
        for name, roles in USERS.items():
            create_user(session, MemberRole.AUDIT_FIRM, name, roles, password=PASSWORD)
            set_password(session, name, PASSWORD, one_time=False)
    yield FirmPages(built, late, accepted, replied)
    built.node.db.dispose()


def test_the_dashboard_counts_marks_overdue_filters_and_exports(firm: FirmPages) -> None:
    http = sign_in(firm.gateway, "wang")
    home = http.get("/web/")
    assert home.url.path == "/web/firm/letters"
    assert "询证函进度" in home.text
    assert 'data-testid="count-total">3<' in home.text
    assert 'data-testid="count-overdue">1<' in home.text
    late = firm.late.letter_id
    assert f'data-testid="overdue-{late}"><span class="badge overdue-mark">⚠ 已逾期' in home.text
    assert f'data-testid="pick-{late}"' in home.text  # awaiting authorisation: may be chosen
    assert f'data-testid="pick-{firm.accepted.letter_id}"' not in home.text
    assert 'hx-trigger="every 5s"' in home.text

    only = http.get("/web/firm/letters?f_status=ACCEPTED&partial=1")
    assert firm.accepted.letter_id in only.text
    assert late not in only.text
    assert "<html" not in only.text
    overdue = http.get("/web/firm/letters?f_overdue=yes")
    assert "共 1 行" in overdue.text

    exported = http.get("/web/firm/letters?export=csv&sort=status")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["回函截止(北京时间)", "逾期", "状态", "银行"]
    assert [r[2] for r in rows[1:]] == ["银行已受理,待回函", "已回函,待关闭", "待被审计单位授权"]
    assert http.get("/web/firm/letters?export=xlsx").content[:2] == b"PK"


def test_a_letter_shows_its_items_and_queues_a_follow_up(firm: FirmPages) -> None:
    http = sign_in(firm.gateway, "wang")
    letter_id = firm.accepted.letter_id
    page = http.get(f"/web/firm/letters/{letter_id}")
    assert page.status_code == 200
    assert "银行已受理,待回函" in page.text
    assert 'data-testid="item-deposits"' in page.text
    assert "基本存款账户" in page.text or "账户类型" in page.text
    assert "尚无链上记录" in page.text
    assert "催函" in page.text
    assert "撤回询证函" in page.text
    assert "关闭询证函" not in page.text

    csrf = _csrf(page.text)
    done = http.post(f"/web/firm/letters/{letter_id}/follow-up", data={"csrf_token": csrf})
    assert done.status_code == 200
    assert "已催函,待上链" in done.text
    assert 'data-testid="pending-steps"' in done.text
    with firm.gateway.node.db.session() as session:
        steps = session.scalars(
            select(OutboxTransaction.step).where(OutboxTransaction.letter_id == letter_id)
        )
        assert list(steps) == ["follow_up"]

    refused = http.post(f"/web/firm/letters/{firm.late.letter_id}/close", data={"csrf_token": csrf})
    assert refused.status_code == 409  # the service decides: no verified reply


def test_a_reply_the_chain_does_not_hold_is_not_shown_as_verified(firm: FirmPages) -> None:
    http = sign_in(firm.gateway, "wang")
    page = http.get(f"/web/firm/letters/{firm.replied.letter_id}")
    assert 'data-testid="reply-error"' in page.text
    assert 'data-testid="conclusion"' not in page.text
    assert "关闭询证函" not in page.text


def test_the_bank_s_notice_shows_the_number_and_the_reason_in_words(firm: FirmPages) -> None:
    """A non-compliance notice the firm received (checked on arrival, ``services.notices``) is
    shown with the 函证编号 it quotes, the reason in words and the bank's details."""
    gw = firm.gateway
    rejected = sample_letter(
        audit_firm=AuditFirm(member_no=gw.deployment.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=gw.deployment.bank.member_id, name="东海银行"),
    )
    _store(gw, rejected, LetterStatus.REJECTED, int(time.time()) + 86400)
    notice = NonComplianceNotice(
        letter_id=rejected.letter_id,
        confirmation_no="MJ-2025-000017",
        bank_member_no=gw.deployment.bank.member_id,
        issued_on=date(2025, 1, 7),
        reason=RejectionReason.UNPAID_FEES,
        detail="2024 年度函证费未缴,扣费账户余额不足",
        decided_by=Officer(officer_id="zhao", name="赵敏", title="函证岗"),
    )
    with gw.node.db.session() as session:
        session.get_one(LetterRow, rejected.letter_id).reason = int(RejectionReason.UNPAID_FEES)
        stored = StoredDocument(canonical_bytes(notice), b"")
        assert store_notice(gw.node, session, gw.deployment.bank.member_id, notice, stored) == "stored"
    page = sign_in(gw, "wang").get(f"/web/firm/letters/{rejected.letter_id}").text
    assert 'data-testid="notice-reason">原因:函证费未支付<' in page
    assert "MJ-2025-000017" in page
    assert 'data-testid="notice-detail">2024 年度函证费未缴,扣费账户余额不足<' in page
    assert "赵敏(函证岗)" in page


def test_the_reply_s_differences_sit_on_the_letter_s_rows() -> None:
    letter = sample_letter()
    reply = sample_reply(letter, letter_hash=b"\x01" * 32, with_exception=True)
    t = Catalogue().translator("zh")
    tables = {table.key: table for table in item_tables(t, letter, reply)}
    deposits = tables["deposits"]
    assert deposits.exception
    first = deposits.rows[0]
    balance = first.cells[deposits.fields.index("balance")]
    stated = letter.items.deposits.entries[0].balance
    assert stated is not None
    assert balance.text == f"{stated:,}"
    assert balance.bank == f"{stated - 100:,}"
    assert first.differences[0].why == "银行记录的数值不同"
    assert all(not table.exception for key, table in tables.items() if key != "deposits")


def test_the_authorisation_request_and_its_link_for_the_signer(firm: FirmPages) -> None:
    http = sign_in(firm.gateway, "wang")
    csrf = _csrf(http.get("/web/firm/letters").text)
    late = firm.late.letter_id
    created = http.post("/web/firm/authorisations", data={"csrf_token": csrf, "letter_id": [late]})
    assert created.status_code == 201, created.text
    token = request_token([late])
    assert f"/web/authorise/{token}" in created.text
    assert "授权范围:1 封询证函,1 家银行" in created.text
    assert token_letters(token) == [late.lower()]
    none = http.post("/web/firm/authorisations", data={"csrf_token": csrf})
    assert none.status_code == 422
    wrong = http.post(
        "/web/firm/authorisations", data={"csrf_token": csrf, "letter_id": [firm.accepted.letter_id]}
    )
    assert wrong.status_code == 409  # not awaiting authorisation

    signer = sign_in(firm.gateway, "signer")
    signing = signer.get(f"/web/authorise/{token}")
    assert signing.status_code == 200
    # The passkey's button (tests/web/test_passkey_browser.py signs with it).
    assert "使用通行密钥签署" in signing.text
    assert "confirmnet authorise" in signing.text  # the command line's way stays
    bundle_digest = re.search(r'data-testid="digest"[^>]*>(0x[0-9a-f]{64})<', signing.text)
    assert bundle_digest, "the page shows the EIP-712 digest it signs"
    signer.cookies.set(LANG_COOKIE, "en")
    english = signer.get(f"/web/authorise/{token}").text
    assert "Sign with a passkey" in english
    assert "Refuse, signed with a passkey" in english
    signer.cookies.set(LANG_COOKIE, "zh")
    bundle = signer.get(f"/web/authorise/{token}/bundle.json").json()
    assert [x["letter_id"] for x in bundle["letters"]] == [late.lower()]
    assert signer.get("/web/authorise/not-a-token").status_code == 422


def test_the_pages_refuse_without_a_session_the_role_or_csrf(firm: FirmPages) -> None:
    plain = client(firm.gateway.app)
    letter_id = firm.accepted.letter_id
    for path in ("/web/firm/letters", f"/web/firm/letters/{letter_id}", "/web/authorise/x"):
        response = plain.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/web/sign-in")
    assert plain.post(f"/web/firm/letters/{letter_id}/follow-up").status_code == 401

    signer = sign_in(firm.gateway, "signer")
    for path in (
        "/web/firm/letters",
        f"/web/firm/letters/{letter_id}",
        f"/web/firm/letters/{letter_id}/evidence.json",
    ):
        assert signer.get(path).status_code == 403, path

    http = sign_in(firm.gateway, "wang")
    assert http.post(f"/web/firm/letters/{letter_id}/follow-up").status_code == 403
    forged = http.post(f"/web/firm/letters/{letter_id}/withdraw", data={"csrf_token": "forged"})
    assert forged.status_code == 403
