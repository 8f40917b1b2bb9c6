"""The audit firm's letter composer and bulk upload in headless Chromium against real gateways on
anvil (an operator, an audit firm and a bank, as ``confirmnet.launcher`` runs them:
``core_bank_network`` of this directory's conftest.py).

The auditor composes a format-one letter by clicking: the bank chosen from the network's banks, a
row added to deposits and to loans (the sample letter's first entries), a balance mistyped and shown
beside its cell, corrected, and the letter created; the API holds it with exactly those entries. Then
the auditor uploads a workbook of many letters, confirms, and watches the progress reach the end;
the API holds every letter. Writes ``docs/screenshots/firm-compose.png`` (the form with its error)
and ``firm-upload.png`` (the upload sent), 1280×800.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import openpyxl
import pytest
from integration.flows import Customer, member_id, new_auditee, ok
from integration.harness import Consortium

from confirmnet.launcher import Gateway
from node_gateway.protocol.documents import STANDARD_ITEMS, ItemKey
from node_gateway.protocol.workbook import COLUMNS

from ..conftest import SCREENSHOTS, TIMEOUT_MS, sign_in
from ..test_firm_compose import CHOSEN, entry_cells, sample_entries
from .conftest import AUDITOR, CoreBankNetwork

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

UPLOADED = 120  # letters in the workbook: sent in batches while the page shows the progress


@dataclass
class ComposeNetwork:
    consortium: Consortium
    auditee: Customer

    @property
    def firm(self) -> Gateway:
        return self.consortium.firm


@pytest.fixture(scope="module")
def network(core_bank_network: CoreBankNetwork) -> ComposeNetwork:
    consortium = core_bank_network.consortium
    return ComposeNetwork(consortium, new_auditee(consortium, 7))


def _fits_a_tablet(page: Page) -> None:
    """At a tablet's width the page does not scroll sideways (a wide item table scrolls in its box)."""
    page.set_viewport_size({"width": 768, "height": 1024})
    widths = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    page.set_viewport_size({"width": 1280, "height": 800})


def _fill_row(page: Page, key: ItemKey, cells: dict[str, str]) -> None:
    item = page.get_by_test_id(f"item-{key.value}")
    item.get_by_role("button", name="添加一行").click()
    for name, value in cells.items():
        control = item.locator(f'[name="e.{key.value}.0.{name}"]')
        if control.evaluate("element => element.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def test_the_auditor_composes_a_letter_by_clicking(network: ComposeNetwork, page: Page) -> None:
    from playwright.sync_api import expect

    firm, auditee = network.firm, network.auditee
    sign_in(page, firm, AUDITOR)
    page.get_by_role("navigation", name="menu").get_by_role("link", name="撰写询证函").click()
    expect(page.get_by_role("heading", name="撰写询证函")).to_be_visible()
    _fits_a_tablet(page)
    page.get_by_label("格式一").check()
    bank = member_id(network.consortium.bank)
    page.get_by_test_id("bank").select_option(str(bank))
    page.get_by_label("基准日").fill("2025-12-31")
    page.get_by_label("被审计单位统一社会信用代码").fill(auditee.registration_code)
    page.get_by_label("被审计单位名称").fill(auditee.name)
    expect(page.get_by_text("盐值")).to_have_count(0)  # the auditor gives no salt
    page.get_by_label("被审计单位联系人").fill("王丽华")
    for name, value in (
        ("audit_period_start", "2025-01-01"),
        ("audit_period_end", "2025-12-31"),
        ("firm_contact_phone", "021-63350000"),
    ):
        page.locator(f'[name="{name}"]').fill(value)
    entries = {key: entry_cells(entry) for key, entry in sample_entries().items()}
    for key, cells in entries.items():
        _fill_row(page, key, cells | ({"balance": "12,345.6x"} if key is ItemKey.DEPOSITS else {}))
        expect(page.locator(f"#na-{key.value}")).not_to_be_checked()  # a row makes it applicable
    page.get_by_test_id("compose-submit").click()

    balance = page.locator('[name="e.deposits.0.balance"]')
    expect(page.get_by_test_id("form-errors")).to_be_visible()
    expect(balance).to_have_attribute("aria-invalid", "true")
    expect(page.locator('[id="err-e.deposits.0.balance"]')).to_have_text("请填写数字")
    expect(balance).to_have_value("12,345.6x")  # the form kept as typed
    expect(page.get_by_label("被审计单位名称")).to_have_value(auditee.name)
    page.get_by_test_id("item-deposits").evaluate(  # the letter's last fields, the deposit's error
        "item => window.scrollTo(0, item.getBoundingClientRect().top + window.scrollY - 430)"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "firm-compose.png"))

    balance.fill(entries[ItemKey.DEPOSITS]["balance"])
    page.get_by_test_id("compose-submit").click()
    expect(page).to_have_url(re.compile(r"/web/firm/letters/0x[0-9a-f]{64}$"))
    expect(page.get_by_role("status").filter(has_text="询证函已创建")).to_be_visible()
    letter_id = page.url.rsplit("/", 1)[1]
    with firm.client("auditor") as api:
        letter = ok(api.get(f"/v1/letters/{letter_id}"))["letter"]
    assert letter["bank"]["member_no"] == bank
    assert letter["auditee"]["registration_code"] == auditee.registration_code
    expected = sample_entries()
    for key in STANDARD_ITEMS:  # a format-one letter: the 验资 item is not in its document
        entries_now = [expected[key].model_dump(mode="json")] if key in expected else []
        assert letter["items"][key.value] == {"not_applicable": key not in expected, "entries": entries_now}


def _workbook(network: ComposeNetwork) -> bytes:
    auditee = network.auditee
    letter = {
        "bank_member_no": str(member_id(network.consortium.bank)),
        "bank_name": "东海银行",
        "auditee_code": auditee.registration_code,
        "auditee_name": auditee.name,
        "audit_period_start": "2024-01-01",
        "firm_contact_name": AUDITOR,
        "firm_contact_phone": "021-63350000",
    }
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    first = date(2024, 1, 1)
    for number in range(UPLOADED):  # one letter per reference date, its audit period ending then
        day = (first + timedelta(days=number)).isoformat()
        dated = letter | {"reference_date": day, "audit_period_end": day}
        rows = [dated | {"item": key.value} | entry_cells(entry) for key, entry in sample_entries().items()]
        rows += [dated | {"item": key.value, "not_applicable": "yes"} for key in ItemKey if key not in CHOSEN]
        for cells in rows:
            sheet.append([cells.get(name, "") for name in COLUMNS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_auditor_uploads_a_workbook_and_watches_it_sent(network: ComposeNetwork, page: Page) -> None:
    from playwright.sync_api import expect

    firm = network.firm
    with firm.client("auditor") as api:
        before = ok(api.get("/v1/letters?limit=1"))["total"]
    sign_in(page, firm, AUDITOR)
    page.get_by_role("navigation", name="menu").get_by_role("link", name="批量上传").click()
    expect(page.get_by_role("heading", name="批量上传询证函")).to_be_visible()
    _fits_a_tablet(page)
    workbook: FilePayload = {
        "name": "函证清单.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": _workbook(network),
    }
    page.get_by_test_id("sheet").set_input_files(files=workbook)
    page.get_by_test_id("upload-check").click()
    expect(page.get_by_test_id("plan")).to_contain_text(f"将创建 {UPLOADED} 封询证函")
    expect(page.get_by_test_id("planned-letter")).to_have_count(UPLOADED)
    page.get_by_test_id("send").click()

    progress = page.get_by_test_id("progress")
    expect(progress).to_have_attribute("data-state", "done", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("progress-count")).to_have_text(f"已处理 {UPLOADED} / {UPLOADED}(100%)")
    expect(progress.locator("progress")).to_have_attribute("value", str(UPLOADED))
    progress.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "firm-upload.png"))
    with firm.client("auditor") as api:
        assert ok(api.get("/v1/letters?limit=1"))["total"] == before + UPLOADED
    page.get_by_test_id("to-letters").click()
    expect(page.get_by_test_id("count-total")).to_have_text(str(before + UPLOADED))
