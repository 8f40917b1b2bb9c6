"""The firm's letter page where the firm reviews its letters, on a firm's gateway over the in-process
chain: the assistant sees the letter waiting for review and may recall it; a manager (not its
preparer) approves it (审核通过) and it goes out; a replied letter is accepted (验收) by a manager
only; a letter returned for want of authorisation says so (退回)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gateway.api_apps import client
from gateway.test_firm_review import Firm, _firm, _replied

from node_gateway.core.security import set_password
from node_gateway.services.firm_review import DAY_S
from node_gateway.services.housekeeping import Housekeeping

if TYPE_CHECKING:
    from conftest import Chain
    from starlette.testclient import TestClient

PASSWORD = "a firm's password for tests"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _signed_in(firm: Firm, name: str) -> TestClient:
    http = client(firm.app)
    form = http.get("/web/sign-in")
    response = http.post(
        "/web/sign-in",
        data={"name": name, "password": PASSWORD, "csrf_token": _csrf(form.text), "next": "/web/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return http


def _with_passwords(firm: Firm) -> Firm:
    with firm.node.db.session() as session:
        for name in firm.keys:
            set_password(session, name, PASSWORD, one_time=False)
    return firm


@pytest.fixture
def reviewing(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    for firm in _firm(in_process, tmp_path, firm_review_required=True):
        yield _with_passwords(firm)


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'action="/web/firm/letters/0x[0-9a-f]+/([a-z-]+)"', html))


def test_the_letter_page_offers_review_recall_and_acceptance_by_role(reviewing: Firm) -> None:
    [created] = reviewing.prepare("assistant")
    page = f"/web/firm/letters/{created['letter_id']}"
    assistant, manager = _signed_in(reviewing, "assistant"), _signed_in(reviewing, "manager")
    seen = assistant.get(page)
    assert "待项目经理审核" in seen.text
    assert "本函由 assistant 编制" in seen.text
    assert _buttons(seen.text) == {"recall"}  # the preparer recalls, never approves
    shown = manager.get(page)
    assert _buttons(shown.text) == {"approve", "recall"}
    assert "审核通过并发出" in shown.text
    done = manager.post(f"{page}/approve", data={"csrf_token": _csrf(shown.text)})
    assert done.status_code == 200, done.text
    assert "已审核通过,待上链" in done.text
    assert "编制:assistant · 审核:manager" in done.text
    assert reviewing.letter(created["letter_id"])["status"] == "PENDING"

    _replied(reviewing, created["letter_id"])
    # The reply is not verified against the chain here, so the page offers no close to anyone; the
    # acceptance itself is the manager's (the API test holds it). The assistant is refused outright.
    refused = assistant.post(f"{page}/close", data={"csrf_token": _csrf(assistant.get(page).text)})
    assert refused.status_code == 403


def test_a_recalled_letter_and_a_returned_one_say_so(in_process: Chain, tmp_path: Path) -> None:
    (tmp_path / "review").mkdir()
    for firm in _firm(in_process, tmp_path / "review", firm_review_required=True):
        _with_passwords(firm)
        [created] = firm.prepare("assistant")
        page = f"/web/firm/letters/{created['letter_id']}"
        assistant = _signed_in(firm, "assistant")
        done = assistant.post(f"{page}/recall", data={"csrf_token": _csrf(assistant.get(page).text)})
        assert "已召回,本函不会发出" in done.text
        assert "已召回(未发出)" in done.text
        assert _buttons(done.text) == set()
    (tmp_path / "plain").mkdir()
    for firm in _firm(in_process, tmp_path / "plain"):
        _with_passwords(firm)
        [created] = firm.prepare("assistant")
        firm.settle()
        housekeeping = Housekeeping(
            firm.node, clock=functools.partial(float, firm.deployed.now() + 11 * DAY_S)
        )
        assert housekeeping.return_letters() == [created["letter_id"]]
        firm.settle()
        shown = _signed_in(firm, "assistant").get(f"/web/firm/letters/{created['letter_id']}")
        assert 'data-testid="letter-returned">已退回:被审计单位未在期限内授权' in shown.text
        assert "已撤回" in shown.text
        listed = _signed_in(firm, "assistant").get("/web/firm/letters")
        assert f'data-testid="returned-{created["letter_id"]}">已退回:被审计单位未在期限内授权' in listed.text
