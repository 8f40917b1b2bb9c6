"""The list of a member's letters (``GET /v1/letters``): the filter of verified replies and the
cursor (``after``) that pages through a list whose letters move on meanwhile, on a firm's gateway
over the in-process chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from node_gateway.storage.models import LetterRow

from .test_firm_review import Firm, _firm

if TYPE_CHECKING:
    from conftest import Chain


@pytest.fixture
def firm(in_process: Chain, tmp_path: Path) -> Iterator[Firm]:
    yield from _firm(in_process, tmp_path)


def _list(firm: Firm, **params: Any) -> dict[str, Any]:
    response = firm.http.get("/v1/letters", params=params, headers=firm.as_("manager"))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [item["letter_id"] for item in page["items"]]


def _set(firm: Firm, letter_id: str, status: str, *, reply_verified: bool = False) -> None:
    with firm.node.db.session() as session:
        row = session.get(LetterRow, letter_id)
        assert row is not None
        row.status, row.reply_verified = status, reply_verified


def test_the_list_filters_verified_replies(firm: Firm) -> None:
    created = [x["letter_id"] for x in firm.prepare(count=4)]
    _set(firm, created[0], "REPLIED", reply_verified=True)
    _set(firm, created[1], "REPLIED")
    _set(firm, created[3], "REPLIED", reply_verified=True)
    verified = _list(firm, status="REPLIED", reply_verified=True)
    assert _ids(verified) == [created[0], created[3]]
    assert verified["total"] == 2
    assert _ids(_list(firm, status="REPLIED", reply_verified=False)) == [created[1]]
    assert _ids(_list(firm, reply_verified=False)) == created[1:3]
    # A summary says which documents are here without carrying them.
    [item] = _list(firm, status="REPLIED", reply_verified=False)["items"]
    assert (item["has_letter"], item["has_reply"], item["status"]) == (True, False, "REPLIED")


def test_a_cursor_pages_in_the_lists_order(firm: Firm) -> None:
    created = [x["letter_id"] for x in firm.prepare(count=5)]
    assert _ids(_list(firm, limit=1000)) == created  # the oldest first
    pages, after = [], None
    while True:
        page = _list(firm, limit=2, **({} if after is None else {"after": after}))
        pages.append(_ids(page))
        assert page["total"] == 5  # every letter the filters select, wherever the page starts
        if len(page["items"]) < 2:
            break
        after = page["items"][-1]["letter_id"]
    assert pages == [created[0:2], created[2:4], created[4:]]
    assert _ids(_list(firm, after=created[-1])) == []


def test_a_cursor_skips_no_letter_when_letters_leave_the_filter(firm: Firm) -> None:
    created = [x["letter_id"] for x in firm.prepare(count=3)]
    for letter_id in created:
        _set(firm, letter_id, "REPLIED", reply_verified=True)
    first = _list(firm, status="REPLIED", reply_verified=True, limit=1)
    assert _ids(first) == [created[0]]
    _set(firm, created[0], "CLOSED", reply_verified=True)  # closed between two pages
    # An offset of one page would now skip the second letter; the cursor does not.
    assert _ids(_list(firm, status="REPLIED", reply_verified=True, limit=1, offset=1)) == [created[2]]
    following = _list(firm, status="REPLIED", reply_verified=True, limit=1, after=created[0])
    assert _ids(following) == [created[1]]


def test_an_unknown_or_malformed_cursor_is_refused(firm: Firm) -> None:
    firm.prepare()
    unknown = firm.http.get("/v1/letters", params={"after": "0x" + "ab" * 32}, headers=firm.as_("manager"))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    malformed = firm.http.get("/v1/letters", params={"after": "0x12"}, headers=firm.as_("manager"))
    assert malformed.status_code == 422, malformed.text
