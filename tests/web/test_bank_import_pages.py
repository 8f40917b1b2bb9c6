"""The bank's core-data import page and a case's PDFs, without a browser, on a bank's gateway over
the in-process chain with a core bank (no workers run).

The import page runs the CLI's import (``importer.import_files``) on the gateway's core bank: a
workbook with a bad row is shown row by row and nothing is stored; a check stores nothing; a clean
workbook is stored and the core's counts show it. A case's letter and, once approved, its reply
download as the API prints them. Pages refuse a request without a session, with the wrong role,
and a form post without the CSRF token.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from gateway.api_apps import Gateway, client, gateway

from bank_adapter.core_rows import ROW_TYPES, CustomerRow
from bank_adapter.core_sql import CoreBank
from bank_adapter.generator import generate
from bank_adapter.importer import export_xlsx
from bank_adapter.web.routes import core_counts
from node_gateway.chain.contracts import LetterStatus
from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password, set_person
from node_gateway.protocol.documents import AuditFirm, Bank, ConfirmationLetter
from node_gateway.protocol.samples import sample_letter
from web.test_bank_pages import PASSWORD, _csrf, _store, sign_in

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

PAGE = "/web/bank/core-import"
USERS = {
    "zhao": ({"officer"}, "赵柜员", "函证岗"),
    "li": ({"preparer"}, "李经办", "对公业务经办"),
    "zhang": ({"reviewer"}, "张复核", "运营主管"),
}


@dataclass
class ImportPages:
    gateway: Gateway
    letter: ConfirmationLetter  # accepted, in the inbox; the core holds its auditee's data
    core: CoreBank  # the gateway's core bank, read directly to see what the pages stored


@pytest.fixture(scope="module")
def bank(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImportPages]:
    deployed = in_process.deploy()
    built = gateway(deployed, MemberRole.BANK, tmp_path_factory.mktemp("bank-import"))
    letter = sample_letter(
        audit_firm=AuditFirm(member_no=deployed.firm.member_id, name="明鉴会计师事务所"),
        bank=Bank(member_no=deployed.bank.member_id, name="东海银行"),
    )
    _store(built, letter, LetterStatus.ACCEPTED)
    with built.node.db.session() as session:
        for name, (roles, person, title) in USERS.items():
            create_user(session, MemberRole.BANK, name, roles, password=PASSWORD)
            set_password(session, name, PASSWORD, one_time=False)
            set_person(session, name, person, title)
    url = built.node.settings.core_banking_url
    assert url is not None
    core = CoreBank(url)
    yield ImportPages(built, letter, core)
    core.dispose()
    built.node.db.dispose()


def _workbook(path: Path, seed: int, *, bad_balance: bool = False) -> Path:
    """Two generated customers in the import's layout; with ``bad_balance`` the first balance row
    (line 2 of the sheet) holds a balance that is not a number."""
    export_xlsx(generate(customers=2, seed=seed), path)
    if bad_balance:
        workbook = openpyxl.load_workbook(path)
        sheet = workbook["balances"]
        column = [cell.value for cell in sheet[1]].index("balance") + 1
        sheet.cell(row=2, column=column, value="一百元")
        workbook.save(path)
    return path


def _upload(http: TestClient, path: Path, action: str, csrf: str | None = None) -> tuple[int, str]:
    token = _csrf(http.get(PAGE).text) if csrf is None else csrf
    with path.open("rb") as handle:
        response = http.post(
            PAGE,
            data={"csrf_token": token, "action": action},
            files={"workbook": (path.name, handle, "application/octet-stream")},
        )
    return response.status_code, response.text


def test_a_workbook_with_a_bad_row_is_shown_and_nothing_is_stored(bank: ImportPages, tmp_path: Path) -> None:
    officer = sign_in(bank.gateway, "zhao")
    page = officer.get(PAGE).text
    assert "核心数据导入" in page
    assert f'href="{PAGE}"' in page  # the menu links it for an officer
    before = core_counts(bank.core)
    status, text = _upload(officer, _workbook(tmp_path / "bad.xlsx", seed=11, bad_balance=True), "import")
    assert status == 422
    assert 'data-testid="problem-line-2"' in text
    assert "bad.xlsx[balances]" in text
    assert "未导入任何数据" in text
    assert core_counts(bank.core) == before


def test_a_check_stores_nothing_and_an_import_stores_and_shows_in_the_status(
    bank: ImportPages, tmp_path: Path
) -> None:
    officer = sign_in(bank.gateway, "zhao")
    workbook = _workbook(tmp_path / "core.xlsx", seed=12)
    dataset = generate(customers=2, seed=12)
    before = core_counts(bank.core)

    status, checked = _upload(officer, workbook, "check")
    assert status == 200, checked
    assert "core.xlsx 检查通过,尚未导入" in checked
    assert f"客户 {len(dataset['customers'])} 行" in checked
    assert core_counts(bank.core) == before

    status, imported = _upload(officer, workbook, "import")
    assert status == 200, imported  # the redirect to the page, followed
    assert "已导入 core.xlsx" in imported
    after = core_counts(bank.core)
    for row_type in ROW_TYPES:
        added = len(dataset.get(row_type.table, []))
        assert after[row_type.table] == before[row_type.table] + added
        assert f'data-testid="count-{row_type.table}">{after[row_type.table]}<' in imported
    customer = dataset["customers"][0]
    assert isinstance(customer, CustomerRow)
    assert bank.core.customer(customer.registration_code) is not None


def test_the_example_workbook_is_in_the_import_layout(bank: ImportPages) -> None:
    example = sign_in(bank.gateway, "zhao").get(f"{PAGE}/example.xlsx")
    assert example.status_code == 200
    assert example.content[:2] == b"PK"
    assert example.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_the_letter_and_the_reply_download_as_pdfs(bank: ImportPages) -> None:
    gw, letter_id = bank.gateway, bank.letter.letter_id
    case = f"/web/bank/letters/{letter_id}"
    preparer = sign_in(gw, "li")
    page = preparer.get(case).text
    assert f'href="{case}/letter.pdf"' in page
    assert "reply.pdf" not in page  # no reply yet
    letter = preparer.get(f"{case}/letter.pdf")
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF")
    assert preparer.get(f"{case}/reply.pdf").status_code == 404

    drafted = preparer.post(f"{case}/draft", data={"csrf_token": _csrf(page)})
    assert drafted.status_code == 200, drafted.text
    reviewer = sign_in(gw, "zhang")
    approved = reviewer.post(
        f"{case}/approve", data={"csrf_token": _csrf(reviewer.get(case).text), "draft_version": "1"}
    )
    assert approved.status_code == 200, approved.text
    assert f'href="{case}/reply.pdf"' in approved.text
    reply = reviewer.get(f"{case}/reply.pdf")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/pdf"
    assert reply.content.startswith(b"%PDF")
    assert reply.headers["content-disposition"].endswith('-reply.pdf"')
    assert reply.headers["cache-control"] == "no-store"


def test_the_pages_refuse_without_a_session_the_role_or_the_csrf_token(
    bank: ImportPages, tmp_path: Path
) -> None:
    gw = bank.gateway
    anonymous = client(gw.app)
    case = f"/web/bank/letters/{bank.letter.letter_id}"
    for path in (PAGE, f"{PAGE}/example.xlsx", f"{case}/letter.pdf", f"{case}/reply.pdf"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/web/sign-in?next=")
    assert anonymous.post(PAGE, data={"action": "import"}).status_code == 401

    before = core_counts(bank.core)
    workbook = _workbook(tmp_path / "core.xlsx", seed=13)
    preparer = sign_in(gw, "li")  # a preparer: not an officer
    assert preparer.get(PAGE).status_code == 403
    assert f'href="{PAGE}"' not in preparer.get("/web/bank/inbox").text
    status, text = _upload(preparer, workbook, "import", csrf=_csrf(preparer.get("/web/bank/inbox").text))
    assert status == 403
    assert 'data-testid="error-code">forbidden<' in text

    officer = sign_in(gw, "zhao")
    for token in ("", "forged"):
        status, _ = _upload(officer, workbook, "import", csrf=token)
        assert status == 403
    assert core_counts(bank.core) == before
