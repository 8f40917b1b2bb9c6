"""The firm's words to the bank in headless Chromium: the auditor types a follow-up's message on the
letter's page (what is typed survives the page's polling, which morphs the page rather than
replacing it), sends it, and sees it listed; the bank's officer sees it on the case page. The two
gateways run over the in-process chain, served on loopback, their workers run by the test.

Writes ``docs/screenshots/firm-follow-up.png`` and ``bank-case-follow-up.png`` (1280×800).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
import uvicorn

from web.conftest import SCREENSHOTS
from web.test_bank_pages import PASSWORD
from web.test_firm_words_to_bank import FIRST, SECOND, Pair, pair

if TYPE_CHECKING:
    from fastapi import FastAPI
    from playwright.sync_api import Page

__all__ = ["pair"]  # the fixture, shared with the API's tests of the same words


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` on a loopback port, in a thread; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the gateway's server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


def _sign_in(page: Page, url: str, then: str) -> None:
    page.goto(url + then)
    page.get_by_label("用户名").fill("wang")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_the_auditor_types_a_message_that_the_bank_reads(pair: Pair, page: Page) -> None:
    from playwright.sync_api import expect

    letter_id = pair.authorised()
    assert pair.post(letter_id, "follow-up", {"message": FIRST}).status_code == 202
    pair.settle()
    with served(pair.firm.app) as firm_url:
        _sign_in(page, firm_url, f"/web/firm/letters/{letter_id}")
        expect(page.get_by_test_id("follow-up-message")).to_have_text(FIRST)
        message = page.get_by_label("催函留言(可选,发给银行)")
        message.fill(SECOND)
        page.get_by_role("heading", name="催函记录").click()  # the field loses the focus
        with page.expect_response(lambda response: "partial=1" in response.url):
            pass  # the page polls its gateway once more
        expect(message).to_have_value(SECOND)  # morphed: what was typed is still there
        page.get_by_role("button", name="催函").click()
        expect(page.get_by_role("status").filter(has_text="已催函")).to_be_visible()
        pair.settle()
        page.reload()
        expect(page.get_by_test_id("follow-up-message")).to_have_text([FIRST, SECOND])
        expect(page.get_by_test_id("follow-ups")).to_contain_text("银行已收到")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.get_by_test_id("follow-ups").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "firm-follow-up.png"))
    with served(pair.bank.app) as bank_url:
        page.context.clear_cookies()
        _sign_in(page, bank_url, f"/web/bank/letters/{letter_id}")
        expect(page.get_by_test_id("follow-up-message")).to_have_text([FIRST, SECOND])
        page.get_by_test_id("follow-ups").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "bank-case-follow-up.png"))
