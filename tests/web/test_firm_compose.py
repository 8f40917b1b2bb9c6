"""The audit firm's letter composer and bulk upload, without a browser, on a firm's gateway over the
in-process chain (no workers run: a created letter's request stays queued).

The auditor gives no salt: the form and the sheet have no column for one (an older sheet's is
ignored, and said so). The pages: a format-one letter composed with two items (the sample letter's
first deposit and loan) and the others not applicable, read back through the API; a wrong field
shown beside it, in Chinese, the form kept; a sheet with wrong rows shown row by row with nothing
sent; a clean workbook sent in batches until done, and sent again without a letter twice; an upload
the service stops half-way (the bank's rules arriving after the check); the refusals (no session,
the auditee's role, no CSRF token, another auditor's upload).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest
from gateway.api_apps import Gateway, client, gateway
from sqlalchemy import delete, func, select

from node_gateway.core.config import MemberRole
from node_gateway.core.security import create_user, set_password
from node_gateway.protocol.bank_rules import BankRules, Fee, sign_rules
from node_gateway.protocol.documents import STANDARD_ITEMS, Contact, Entry, ItemKey, LetterFormat
from node_gateway.protocol.samples import sample_letter
from node_gateway.protocol.workbook import COLUMNS
from node_gateway.services.bank_rules import keep_rules
from node_gateway.storage.models import BankRulesRow, LetterRow
from node_gateway.web import firm_compose
from web.test_bank_pages import PASSWORD, _csrf, sign_in

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

USERS = {"wang": {"auditor"}, "zhou": {"auditor"}, "signer": {"auditee"}}
AUDITEE_CODE, AUDITEE_NAME = "91310115MA1H7Q3K2X", "上海江南精密机械股份有限公司"
CHOSEN = (ItemKey.DEPOSITS, ItemKey.LOANS)


@dataclass
class Firm:
    gateway: Gateway

    @property
    def bank(self) -> int:
        return self.gateway.deployment.bank.member_id


@pytest.fixture(scope="module")
def firm(in_process: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Firm]:
    deployed = in_process.deploy()
    built = gateway(deployed, MemberRole.AUDIT_FIRM, tmp_path_factory.mktemp("firm-compose"))
    with built.node.db.session() as session:
        for name, roles in USERS.items():
            create_user(session, MemberRole.AUDIT_FIRM, name, roles, password=PASSWORD)
            set_password(session, name, PASSWORD, one_time=False)
    yield Firm(built)
    built.node.db.dispose()


def publish_rules(firm: Firm, formats: list[LetterFormat]) -> None:
    """The bank's rules accepting ``formats``, as the firm's gateway keeps them once fetched."""
    deployed = firm.gateway.deployment
    rules = BankRules(
        bank_member_no=firm.bank,
        published_at=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        items=[ItemKey.DEPOSITS, ItemKey.LOANS],
        formats=formats,
        fee=Fee(),
        department="运营管理部函证中心",
        contact=Contact(name="周敏", phone="021-6888 1234"),
    )
    with firm.gateway.node.db.session() as session:
        keep_rules(session, firm.bank, sign_rules(rules, deployed.bank.sender.account))


def forget_rules(firm: Firm) -> None:
    with firm.gateway.node.db.session() as session:
        session.execute(delete(BankRulesRow))


def entry_cells(entry: Entry) -> dict[str, str]:
    """An entry as the form's (and the sheet's) cells."""
    cells = {}
    for name, value in entry.model_dump(mode="json", exclude_none=True).items():
        cells[name] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return cells


def sample_entries() -> dict[ItemKey, Entry]:
    """The first entry of each chosen item of the sample letter (whatever the schema now holds)."""
    items = sample_letter().items
    return {key: getattr(items, key.value).entries[0] for key in CHOSEN}


def _letter_fields(firm: Firm, **changes: str) -> dict[str, str]:
    return {
        "letter_format": "one",
        "bank_member_no": str(firm.bank),
        "reference_date": "2025-12-31",
        "auditee_code": AUDITEE_CODE,
        "auditee_name": AUDITEE_NAME,
        "contact_name": "王丽华",
        "audit_period_start": "2025-01-01",
        "audit_period_end": "2025-12-31",
        "firm_contact_name": "王审计",
        "firm_contact_phone": "021-63350000",
        **changes,
    }


def _compose_form(firm: Firm, entries: Mapping[ItemKey, Mapping[str, str]], **changes: str) -> dict[str, str]:
    form = _letter_fields(firm, **changes)
    for key in ItemKey:
        if key in entries:
            form |= {f"e.{key.value}.0.{name}": value for name, value in entries[key].items()}
        else:
            form[f"na.{key.value}"] = "yes"
    return form


def _letter_count(firm: Firm) -> int:
    with firm.gateway.node.db.session() as session:
        return session.scalar(select(func.count()).select_from(LetterRow)) or 0


def _api_letter(firm: Firm, http: TestClient, letter_id: str) -> dict[str, Any]:
    detail = http.get(f"/v1/letters/{letter_id}", headers=firm.gateway.auth("auditor"))
    assert detail.status_code == 200, detail.text
    letter: dict[str, Any] = detail.json()["letter"]
    return letter


def test_a_composed_format_one_letter_is_created_with_exactly_its_values(firm: Firm) -> None:
    http = sign_in(firm.gateway, "wang")
    dashboard = http.get("/web/firm/letters").text
    for path in ("/web/firm/compose", "/web/firm/upload"):  # in the menu and on the dashboard
        assert dashboard.count(f'href="{path}"') == 2, path
    page = http.get("/web/firm/compose")
    assert page.status_code == 200
    assert "撰写询证函" in page.text
    assert "salt" not in page.text  # nor 盐值: the auditor gives none
    assert "盐值" not in page.text
    assert f'<option value="{firm.bank}"' in page.text  # the network's active bank
    for key in ItemKey:  # every item and the annex, each with its table drawn from the schema
        assert f'data-testid="item-{key.value}"' in page.text
        assert f'id="tpl-{key.value}"' in page.text
    entries = sample_entries()
    form = _compose_form(
        firm, {key: entry_cells(entry) for key, entry in entries.items()}, reply_due="2099-01-31"
    )
    before = _letter_count(firm)
    created = http.post("/web/firm/compose", data=form | {"csrf_token": _csrf(page.text)})
    assert created.status_code == 200, created.text
    found = re.fullmatch(r"/web/firm/letters/(0x[0-9a-f]{64})", created.url.path)
    assert found, created.url
    assert "询证函已创建,待上链。" in created.text
    assert _letter_count(firm) == before + 1

    letter = _api_letter(firm, http, found.group(1))
    assert letter["format"] == LetterFormat.ONE.value
    assert letter["reference_date"] == "2025-12-31"
    assert letter["bank"]["member_no"] == firm.bank
    assert letter["auditee"]["registration_code"] == AUDITEE_CODE
    assert letter["auditee"]["name"] == AUDITEE_NAME
    assert letter["auditee"]["contact"]["name"] == "王丽华"
    assert "capital_contributions" not in letter["items"]  # a standard letter carries no 验资 item
    for key in STANDARD_ITEMS:
        item = letter["items"][key.value]
        if key in entries:
            assert item == {"not_applicable": False, "entries": [entries[key].model_dump(mode="json")]}
        else:
            assert item == {"not_applicable": True, "entries": []}
    summary = http.get(f"/v1/letters/{found.group(1)}", headers=firm.gateway.auth("auditor")).json()
    assert summary["status"] == "PENDING"


def test_a_wrong_field_is_shown_beside_it_and_the_form_kept(firm: Firm) -> None:
    http = sign_in(firm.gateway, "wang")
    csrf = _csrf(http.get("/web/firm/compose").text)
    deposit = entry_cells(sample_entries()[ItemKey.DEPOSITS])
    wrong = deposit | {"balance": "12,345.6x", "currency": "cny"}
    form = _compose_form(firm, {ItemKey.DEPOSITS: wrong})
    before = _letter_count(firm)
    page = http.post("/web/firm/compose", data=form | {"csrf_token": csrf})
    assert page.status_code == 422
    assert _letter_count(firm) == before
    text = page.text
    assert 'data-testid="form-errors"' in text
    balance = "e.deposits.0.balance"
    assert f'name="{balance}" value="12,345.6x"' in text  # kept as typed
    assert re.search(rf'aria-describedby="err-{re.escape(balance)}"', text)
    assert re.search(rf'id="err-{re.escape(balance)}">请填写数字<', text)
    assert re.search(r'id="err-e\.deposits\.0\.currency">币种为三个大写字母,如 CNY<', text)
    assert f'value="{deposit["account_no"]}"' in text
    assert 'name="na.loans" value="yes" id="na-loans" checked' in text

    blank = http.post(
        "/web/firm/compose", data=_compose_form(firm, {}, auditee_name="") | {"csrf_token": csrf}
    )
    assert blank.status_code == 422
    assert re.search(r'id="err-auditee_name">必填<', blank.text)
    assert 'name="auditee_code" type="text" value="91310115MA1H7Q3K2X"' in blank.text
    assert _letter_count(firm) == before


def _sheet_rows(firm: Firm, reference_dates: list[str]) -> list[dict[str, str]]:
    """One letter per reference date (its audit period ending then): the chosen items' entries, the
    others not applicable."""
    rows = []
    letter = _letter_fields(firm, bank_name="东海银行", reply_due="2099-01-31")
    del letter["letter_format"]
    for day in reference_dates:
        dated = letter | {
            "reference_date": day,
            "audit_period_start": f"{day[:4]}-01-01",
            "audit_period_end": day,
        }
        for key, entry in sample_entries().items():
            rows.append(dated | {"item": key.value} | entry_cells(entry))
        rows += [dated | {"item": key.value, "not_applicable": "yes"} for key in ItemKey if key not in CHOSEN]
    return rows


def _csv(rows: list[dict[str, str]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[dict[str, str]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(name, "") for name in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _upload(http: TestClient, name: str, data: bytes, csrf: str) -> Any:
    return http.post("/web/firm/upload", data={"csrf_token": csrf}, files={"sheet": (name, data)})


def test_a_sheet_with_wrong_rows_shows_them_row_by_row_and_sends_nothing(firm: Firm) -> None:
    http = sign_in(firm.gateway, "wang")
    page = http.get("/web/firm/upload")
    assert "下载模板(CSV)" in page.text
    template = http.get("/web/firm/upload/template.csv")
    assert template.headers["content-type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(template.content.decode("utf-8-sig")))) == list(COLUMNS)

    rows = _sheet_rows(firm, ["2025-06-30"])
    rows[0]["balance"] = "not a number"  # row 2
    rows[1]["item"] = "mortgages"  # row 3
    before = _letter_count(firm)
    plan = _upload(http, "letters.csv", _csv(rows), _csrf(page.text))
    assert plan.status_code == 200
    assert re.fullmatch(r"/web/firm/upload/[\w-]+", plan.url.path)
    assert 'data-testid="issue-row-2"' in plan.text
    assert 'data-testid="issue-row-3"' in plan.text
    assert 'data-testid="issue-row-4"' not in plan.text
    assert "请填写数字" in plan.text
    assert "“mortgages”不是项目" in plan.text
    assert "未发送任何询证函" in plan.text
    assert 'data-testid="send"' not in plan.text
    refused = http.post(plan.url.path + "/send", data={"csrf_token": _csrf(page.text)})
    assert refused.status_code == 409
    assert _letter_count(firm) == before

    unreadable = _upload(http, "letters.pdf", b"%PDF", _csrf(page.text))
    assert unreadable.status_code == 422
    assert "无法读取该文件" in unreadable.text


def _send_and_wait(http: TestClient, job: str, csrf: str) -> str:
    sent = http.post(f"{job}/send", data={"csrf_token": csrf})
    assert sent.status_code == 200, sent.text
    deadline = time.monotonic() + 120
    while True:
        partial = http.get(f"{job}?partial=1", headers={"HX-Request": "true"})
        text: str = partial.text
        state = re.search(r'data-state="(\w+)"', text)
        assert state, text
        if state.group(1) != "sending":
            return text
        assert 'hx-trigger="every 1s"' in text  # polled while it runs
        assert time.monotonic() < deadline, "the upload never finished"
        time.sleep(0.1)


def test_a_clean_workbook_is_sent_in_batches_and_never_twice(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(firm_compose, "SEND_BATCH", 2)
    http = sign_in(firm.gateway, "wang")
    csrf = _csrf(http.get("/web/firm/upload").text)
    dates = ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]
    rows = _sheet_rows(firm, dates)
    workbook = _xlsx(rows)
    before = _letter_count(firm)

    plan = _upload(http, "letters.xlsx", workbook, csrf)
    assert plan.status_code == 200, plan.text
    assert plan.text.count('data-testid="planned-letter"') == len(dates)
    assert f"检查通过:{len(rows)} 行,将创建 5 封询证函" in plan.text
    assert 'data-testid="held-before"' not in plan.text
    assert _letter_count(firm) == before  # nothing before the confirmation
    done = _send_and_wait(http, plan.url.path, csrf)
    assert 'data-state="done"' in done
    assert "已处理 5 / 5(100%)" in done
    assert "本次创建 5 封" in done
    assert _letter_count(firm) == before + len(dates)

    listed = http.get("/v1/letters?limit=1000", headers=firm.gateway.auth("auditor")).json()["items"]
    letters = [_api_letter(firm, http, x["letter_id"]) for x in listed]
    uploaded = {x["reference_date"]: x for x in letters if x["reference_date"] in dates}
    assert sorted(uploaded) == dates
    entries = sample_entries()
    for letter in uploaded.values():
        for key in STANDARD_ITEMS:
            item = letter["items"][key.value]
            expected = [entries[key].model_dump(mode="json")] if key in entries else []
            assert item == {"not_applicable": key not in entries, "entries": expected}

    # The same workbook again (after a restart lost the job, say): its letters are known, none is sent twice.
    again = _upload(http, "letters.xlsx", workbook, csrf)
    assert "其中 5 封此前已由同一表格创建,不会重复发送。" in again.text
    repeated = _send_and_wait(http, again.url.path, csrf)
    assert "本次创建 0 封" in repeated
    assert "5 封此前已创建,未重复发送" in repeated
    assert _letter_count(firm) == before + len(dates)

    gone = http.get("/web/firm/upload/no-such-upload")
    assert gone.status_code == 404
    assert "网关已重启" in gone.text


def test_an_upload_stopped_by_the_service_says_how_far_and_resumes(
    firm: Firm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third letter is in format two, and the bank's rules (format one only) reach the firm
    after the sheet was checked: the plan could not know, so the first batch is created, the
    second refused whole; the sheet corrected and sent again creates only the third."""
    monkeypatch.setattr(firm_compose, "SEND_BATCH", 2)
    http = sign_in(firm.gateway, "wang")
    csrf = _csrf(http.get("/web/firm/upload").text)
    dates = ["2024-07-31", "2024-08-31", "2024-09-30"]
    rows = _sheet_rows(firm, dates)
    two = {"letter_format": "two", "fee_account_no": "31050161373600001234", "fee_account_name": AUDITEE_NAME}
    wrong = [row | two if row["reference_date"] == dates[2] else row for row in rows]
    before = _letter_count(firm)

    plan = _upload(http, "letters.csv", _csv(wrong), csrf)
    assert plan.text.count('data-testid="planned-letter"') == len(dates)
    publish_rules(firm, [LetterFormat.ONE])
    try:
        stopped = _send_and_wait(http, plan.url.path, csrf)
        assert 'data-state="failed"' in stopped
        assert "发送在处理 2 封后停止" in stopped
        refusal = "公布的业务规则只受理格式一 (one)的询证函,本函为格式二 (two)"  # the service's, in words
        assert refusal in stopped
        assert "<code>format_not_accepted</code>" in stopped
        assert _letter_count(firm) == before + 2

        again = _upload(http, "letters.csv", _csv(rows), csrf)
        assert "其中 2 封此前已由同一表格创建,不会重复发送。" in again.text
        resumed = _send_and_wait(http, again.url.path, csrf)
        assert 'data-state="done"' in resumed
        assert "本次创建 1 封" in resumed
        assert _letter_count(firm) == before + 3
    finally:
        forget_rules(firm)


def test_an_old_template_s_salt_column_is_ignored_and_said_so(firm: Firm) -> None:
    """A sheet from the template of before, a salt in its auditee_salt column: planned as without
    it, and a notice above the plan says the column is ignored."""
    http = sign_in(firm.gateway, "wang")
    csrf = _csrf(http.get("/web/firm/upload").text)
    rows = [row | {"auditee_salt": "0x" + "ab" * 32} for row in _sheet_rows(firm, ["2023-12-31"])]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=[*COLUMNS, "auditee_salt"])
    writer.writeheader()
    writer.writerows(rows)
    plan = _upload(http, "old.csv", text.getvalue().encode("utf-8-sig"), csrf)
    assert plan.status_code == 200, plan.text
    assert plan.text.count('data-testid="planned-letter"') == 1
    assert 'data-testid="issues"' not in plan.text
    notice = re.search(r'data-testid="sheet-notice">(.*?)</p>', plan.text)
    assert notice, plan.text
    assert "auditee_salt" in notice.group(1)
    assert "已忽略:审计师无需填写盐值" in notice.group(1)


def test_the_pages_refuse_without_a_session_the_role_or_csrf(firm: Firm) -> None:
    plain = client(firm.gateway.app)
    for path in ("/web/firm/compose", "/web/firm/upload", "/web/firm/upload/template.csv"):
        response = plain.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/web/sign-in")
    assert plain.post("/web/firm/compose", data=_compose_form(firm, {})).status_code == 401
    assert plain.post("/web/firm/upload", files={"sheet": ("x.csv", b"a")}).status_code == 401

    signer = sign_in(firm.gateway, "signer")
    for path in ("/web/firm/compose", "/web/firm/upload", "/web/firm/upload/template.csv"):
        assert signer.get(path).status_code == 403, path
    csrf = _csrf(signer.get("/web/account").text)
    assert (
        signer.post("/web/firm/compose", data=_compose_form(firm, {}) | {"csrf_token": csrf}).status_code
        == 403
    )

    http = sign_in(firm.gateway, "wang")
    before = _letter_count(firm)
    deposit = {ItemKey.DEPOSITS: entry_cells(sample_entries()[ItemKey.DEPOSITS])}
    assert http.post("/web/firm/compose", data=_compose_form(firm, deposit)).status_code == 403
    forged = http.post("/web/firm/compose", data=_compose_form(firm, deposit) | {"csrf_token": "forged"})
    assert forged.status_code == 403
    sheet = _csv(_sheet_rows(firm, ["2024-12-31"]))
    assert http.post("/web/firm/upload", files={"sheet": ("x.csv", sheet)}).status_code == 403
    plan = _upload(http, "x.csv", sheet, _csrf(http.get("/web/firm/upload").text))
    assert 'data-testid="send"' in plan.text
    assert http.post(plan.url.path + "/send").status_code == 403

    other = sign_in(firm.gateway, "zhou")  # another auditor: the upload is not theirs
    assert other.get(plan.url.path).status_code == 404
    other_csrf = _csrf(other.get("/web/firm/upload").text)
    assert other.post(plan.url.path + "/send", data={"csrf_token": other_csrf}).status_code == 404
    assert _letter_count(firm) == before


def test_the_pages_speak_english_when_chosen(firm: Firm) -> None:
    http = sign_in(firm.gateway, "wang")
    http.cookies.set("cn_lang", "en")
    page = http.get("/web/firm/compose").text
    assert "Compose a letter" in page
    assert "auditee&#39;s name" in page
    assert "1 Deposits" in page
    csrf = _csrf(page)
    wrong = http.post(
        "/web/firm/compose", data=_compose_form(firm, {}, reference_date="31.12.2025") | {"csrf_token": csrf}
    )
    assert re.search(r'id="err-reference_date">give a date such as 2024-12-31<', wrong.text)
    assert "Bulk upload of letters" in http.get("/web/firm/upload").text
