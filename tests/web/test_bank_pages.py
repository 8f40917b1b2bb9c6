"""The bank's pages without a browser, on a bank's gateway over the in-process chain with a core
bank (no workers run: a queued chain step stays queued).

The gateway holds an accepted letter whose first deposit's balance the core bank does not hold,
and an authorised one not yet checked. The pages call the bank's API's functions: the inbox with
working days left, a preparer's draft from the core, the case showing the difference, maker–checker
(the preparer is not offered approve and is refused it), a reviewer's approval, an officer's
rejection with a reason code in words, the mandates; and the refusals (no session, wrong role, no
CSRF token).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from gateway.api_apps import Gateway, client, gateway
from sqlalchemy import select

from bank_adapter.approval import decisions
from bank_adapter.deadlines import Deadlines, today, working_days_between
from bank_adapter.models import ComplianceCheckRow
from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password, set_person
from node_gateway.protocol.documents import AuditFirm, Bank, ConfirmationLetter, LetterItems
from node_gateway.protocol.hashing import canonical_bytes, document_hash, new_salt, to_hex
from node_gateway.protocol.samples import sample_letter
from node_gateway.services import letters
from node_gateway.storage.models import LetterRow, OutboxTransaction, utcnow
from node_gateway.storage.vault import StoredDocument

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery"
USERS = {"li": {"preparer"}, "zhang": {"reviewer"}, "zhao": {"officer"}, "root": {"admin"}}
# Who they are, as a reply names its officers (name and title).
PEOPLE = {
    "li": ("李经办", "对公业务经办"),
    "zhang": ("张复核", "运营主管"),
    "zhao": ("赵柜员", "函证岗"),
    "root": ("孙管理", "运营管理部经理"),
}


@dataclass
class BankPages:
    gateway: Gateway
    changed: ConfirmationLetter  # accepted; its first balance differs from the core's
    unchecked: ConfirmationLetter  # authorised, not checked yet


def _store(gw: Gateway, letter: ConfirmationLetter, status: LetterStatus) -> None:
    deployed, node = gw.deployment, gw.node
    salt = new_salt()
    with node.db.session() as session:
        session.add(
            LetterRow(
                letter_id=letter.letter_id,
                firm=deployed.firm.member_id,
                bank=deployed.bank.member_id,
                # The bank's own reference for the auditee: the letter is about the customer
                # whose signer authorised it, so the bank may answer it.
                auditee_ref=letters.customer_reference(node, letter.auditee.registration_code)[1],
                letter_hash=to_hex(document_hash(letter, salt)),
                due_at=int(time.time()) + 30 * 86400,
                status=status.name,
                letter_sealed=node.vault.seal(
                    letter.letter_id, "letter", StoredDocument(canonical_bytes(letter), salt)
                ),
                received_at=utcnow(),
            )
        )


@pytest.fixture(scope="module")
def bank(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BankPages]:
    deployed = in_process.deploy()
    built = gateway(deployed, MemberRole.BANK, tmp_path_factory.mktemp("bank-web"))

    def letter() -> ConfirmationLetter:
        return sample_letter(
            audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
            bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
        )

    clean = letter()
    deposits = list(clean.items.deposits.entries)
    first = deposits[0].model_copy(update={"balance": deposits[0].balance + Decimal("100.00")})  # type: ignore[operator]
    items = clean.items.model_dump() | {"deposits": {"entries": [first, *deposits[1:]]}}
    changed = clean.model_copy(update={"items": LetterItems.model_validate(items)})
    unchecked = letter()
    _store(built, changed, LetterStatus.ACCEPTED)
    _store(built, unchecked, LetterStatus.AUTHORISED)
    with built.node.db.session() as session:
        for name, roles in USERS.items():
            create_user(session, MemberRole.BANK, name, roles, password=PASSWORD)
            set_password(session, name, PASSWORD, one_time=False)
            set_person(session, name, *PEOPLE[name])
    yield BankPages(built, changed, unchecked)
    built.node.db.dispose()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(gw: Gateway, name: str) -> TestClient:
    http = client(gw.app)
    form = http.get("/web/sign-in")
    response = http.post(
        "/web/sign-in",
        data={"name": name, "password": PASSWORD, "csrf_token": _csrf(form.text), "next": "/web/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return http


def _post(http: TestClient, page: str, action: str, **form: str) -> str:
    csrf = _csrf(http.get(page).text)
    response = http.post(action, data={"csrf_token": csrf, **form})
    assert response.status_code == 200, response.text
    text: str = response.text
    return text


def test_the_inbox_shows_working_days_left_and_exports(bank: BankPages) -> None:
    http = sign_in(bank.gateway, "li")
    home = http.get("/web/", follow_redirects=False)
    assert home.headers["location"] == "/web/bank/inbox"  # the bank's first page
    page = http.get("/web/bank/inbox")
    assert page.status_code == 200
    assert "函证收件箱" in page.text
    case = bank.changed.letter_id
    due = Deadlines.for_receipt(utcnow()).reply_due
    left = working_days_between(today(), due)
    assert re.search(rf'data-testid="left-{case}">剩 {left} 个工作日<', page.text)
    assert bank.changed.auditee.name in page.text
    assert "待编制" in page.text
    assert "待合规检查" in page.text
    partial = http.get("/web/bank/inbox?partial=1")
    assert "<html" not in partial.text
    assert case in partial.text
    assert 'hx-trigger="every 5s"' in page.text
    only = http.get("/web/bank/inbox", params={"f_stage": "awaiting_check"}).text
    assert bank.unchecked.letter_id in only
    assert f"left-{case}" not in only
    exported = http.get("/web/bank/inbox?export=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "剩余工作日" in exported.content.decode("utf-8-sig")
    assert http.get("/web/bank/inbox?export=xlsx").content[:2] == b"PK"


def test_a_preparer_drafts_and_a_reviewer_approves_the_difference(bank: BankPages) -> None:
    gw, letter_id = bank.gateway, bank.changed.letter_id
    case = f"/web/bank/letters/{letter_id}"
    preparer = sign_in(gw, "li")
    before = preparer.get(case).text
    assert "从核心系统编制草稿" in before
    assert "复核通过并回函" not in before

    after = _post(preparer, case, f"{case}/draft", remarks="按核心系统余额回函")
    assert "已编制第 1 稿" in after
    assert "本行记录的数值不同" in after  # the difference explained
    assert 'data-testid="auditor-value">12,345,778.90<' in after
    assert 'data-testid="bank-value">12,345,678.90<' in after
    assert "您是本稿的编制人,不能复核" in after
    assert "/approve" not in after  # the preparer is not offered approve
    refused = preparer.post(f"{case}/approve", data={"csrf_token": _csrf(after)})
    assert refused.status_code == 403  # not a reviewer

    officer = sign_in(gw, "zhao")  # an officer only: may read, not approve
    assert officer.get(case).status_code == 200
    forbidden = officer.post(f"{case}/approve", data={"csrf_token": _csrf(officer.get(case).text)})
    assert forbidden.status_code == 403
    assert 'data-testid="error-code">forbidden<' in forbidden.text

    reviewer = sign_in(gw, "zhang")
    seen = reviewer.get(case).text
    assert "您可以复核本稿" in seen
    assert "不是 李经办 的用户" in seen  # the preparer by the name the bank records
    # The reply's conclusion and each difference in words: item, account number, currency, field.
    assert 'data-testid="draft-conclusion">信息不符<' in seen
    first = bank.changed.items.deposits.entries[0]
    assert f"1 银行存款 · 账号/编号 {first.account_no} · {first.currency} · 余额:本行记录的数值不同" in seen
    for form in ({}, {"csrf_token": "forged"}):
        assert reviewer.post(f"{case}/approve", data=form).status_code == 403  # no CSRF token
    approved = _post(reviewer, case, f"{case}/approve", draft_version="1")
    assert "已复核" in approved
    with gw.node.db.session() as session:
        log = [(d.action, d.actor_id) for d in decisions(session, letter_id)]
        steps = list(session.scalars(select(OutboxTransaction.key)))
    assert log == [("drafted", "li"), ("approved", "zhang")]
    assert f"reply:{letter_id}" in steps


def test_an_admin_who_prepared_is_not_offered_approve_and_is_refused(bank: BankPages) -> None:
    gw, letter_id = bank.gateway, bank.unchecked.letter_id
    case = f"/web/bank/letters/{letter_id}"
    admin = sign_in(gw, "root")  # admin holds every role: officer, preparer and reviewer
    page = admin.get(case).text
    assert "受理(合规)" in page
    assert "函证费未支付" in page  # a reason offered for a notice
    assert "已受理" in _post(admin, case, f"{case}/accept")
    drafted = _post(admin, case, f"{case}/draft")
    assert "您是本稿的编制人,不能复核" in drafted
    assert "/approve" not in drafted
    refused = admin.post(f"{case}/approve", data={"csrf_token": _csrf(drafted)})
    assert refused.status_code == 403
    assert 'data-testid="error-code">same_officer<' in refused.text


def test_an_officer_rejects_with_a_reason_in_words(bank: BankPages) -> None:
    gw = bank.gateway
    other = sample_letter(
        audit_firm=AuditFirm(member_no=gw.deployment.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=gw.deployment.bank.member_id, name="东海银行"),
    )
    _store(gw, other, LetterStatus.AUTHORISED)
    case = f"/web/bank/letters/{other.letter_id}"
    officer = sign_in(gw, "zhao")
    page = _post(officer, case, f"{case}/reject", reason="6", note="2024 年度函证费未缴")
    assert "已拒绝" in page
    assert "函证费未支付" in page
    with gw.node.db.session() as session:
        check = session.get_one(ComplianceCheckRow, other.letter_id)
    assert (check.outcome, check.reason, check.decided_by) == ("rejected", 6, "zhao")
    wrong = officer.post(f"{case}/reject", data={"csrf_token": _csrf(page), "reason": "8"})
    assert wrong.status_code == 422


def test_the_officer_registers_and_revokes_a_mandate(bank: BankPages) -> None:
    gw = bank.gateway
    officer = sign_in(gw, "zhao")
    code, signer = "91310000MA1FL8XQ3T", "0x" + "ab" * 20
    page = _post(
        officer,
        "/web/bank/mandates",
        "/web/bank/mandates",
        registration_code=code,
        signer=signer,
        valid_until="2030-12-31",
    )
    assert "签字人已登记" in page
    assert "2030-12-31" in page
    assert "有效" in page
    revoked = _post(
        officer, "/web/bank/mandates", "/web/bank/mandates/revoke", registration_code=code, signer=signer
    )
    assert "签字人已撤销" in revoked
    assert "已撤销" in revoked
    assert "核心系统数据导入" in revoked  # says why the import status is not shown
    assert sign_in(gw, "li").get("/web/bank/mandates").status_code == 403  # a preparer: no


def test_the_pages_want_a_session(bank: BankPages) -> None:
    http = client(bank.gateway.app)
    for path in ("/web/bank/inbox", f"/web/bank/letters/{bank.changed.letter_id}", "/web/bank/mandates"):
        response = http.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/web/sign-in?next=")
    assert http.post(f"/web/bank/letters/{bank.changed.letter_id}/approve").status_code == 401
