"""The SDK against a mock transport: error mapping, pagination, retries, sync and async alike."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from auditor_client.sdk import (
    APIError,
    AsyncClient,
    AuthenticationError,
    ChainNotReady,
    ChainRefused,
    Client,
    Conflict,
    DocumentHashMismatch,
    InvalidRequest,
    LetterFilter,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    ServerError,
    TransportError,
    Unavailable,
    UnexpectedAnswer,
)

LETTER_ID = "0x" + "ab" * 32
KEY = "cn_abc_secret"
NO_WAIT = RetryPolicy(attempts=3, backoff_s=0.0, jitter=0.0)


def error(status: int, code: str, message: str = "no", details: Any = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "details": details}})


def summary(index: int) -> dict[str, Any]:
    return {
        "letter_id": "0x" + f"{index:064x}",
        "firm": 2,
        "bank": 3,
        "status": "REQUESTED",
        "overdue": False,
        "due_at": 2_000_000_000,
        "letter_hash": "0x" + "11" * 32,
        "reply_hash": None,
        "has_letter": True,
        "has_reply": False,
        "reply_verified": False,
        "reason": None,
        "created_at": "2025-01-06T08:00:00",
    }


def client(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    api = Client("http://gateway.test", api_key=KEY, retry=NO_WAIT, transport=httpx.MockTransport(handler))
    api._sleep = lambda _: None
    return api


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "not_authenticated", AuthenticationError),
        (403, "forbidden", PermissionDenied),
        (404, "not_found", NotFound),
        (422, "invalid_request", InvalidRequest),
        (422, "invalid_document", InvalidRequest),
        (422, "document_hash_mismatch", DocumentHashMismatch),
        (409, "conflict", Conflict),
        (409, "chain_refused", ChainRefused),
        (500, "internal_error", ServerError),
        (418, "a_code_from_the_future", ServerError),
        (404, "a_code_from_the_future", NotFound),
    ],
)
def test_each_machine_code_maps_to_its_exception(status: int, code: str, expected: type[APIError]) -> None:
    with client(lambda _: error(status, code, "why", {"field": 1})) as api, pytest.raises(expected) as caught:
        api.get_letter(LETTER_ID)
    assert type(caught.value) is expected
    assert (caught.value.code, caught.value.status, caught.value.details) == (code, status, {"field": 1})
    assert "why" in str(caught.value)


def test_an_error_without_the_error_shape_maps_by_status() -> None:
    with (
        client(lambda _: httpx.Response(404, text="<html>nope</html>")) as api,
        pytest.raises(NotFound) as caught,
    ):
        api.get_letter(LETTER_ID)
    assert caught.value.code == "http_404"


def test_requests_carry_the_key_and_the_filters() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "total": 0, "offset": 0, "limit": 10})

    with client(handler) as api:
        api.list_letters(LetterFilter(status=["replied", "closed"], overdue=True, counterparty=3), limit=10)
    request = seen[0]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.url.params.get_list("status") == ["REPLIED", "CLOSED"]
    assert (request.url.params["overdue"], request.url.params["counterparty"]) == ("true", "3")


def test_iter_letters_follows_every_page() -> None:
    letters = [summary(i) for i in range(7)]
    offsets: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        offsets.append(offset)
        page = {
            "items": letters[offset : offset + limit],
            "total": len(letters),
            "offset": offset,
            "limit": limit,
        }
        return httpx.Response(200, json=page)

    with client(handler) as api:
        found = [x.letter_id for x in api.iter_letters(page_size=3)]
    assert found == [x["letter_id"] for x in letters]
    assert offsets == [0, 3, 6]


def test_transient_errors_are_retried_then_succeed() -> None:
    page = {"items": [summary(1)], "total": 1, "offset": 0, "limit": 10}
    answers = [error(503, "chain_unavailable"), error(409, "chain_not_ready"), httpx.Response(200, json=page)]
    with client(lambda _: answers.pop(0)) as api:
        assert api.list_letters().items[0].letter_id == summary(1)["letter_id"]
    assert not answers


def test_an_answer_that_breaks_the_api_is_an_sdk_error() -> None:
    with (
        client(lambda _: httpx.Response(200, json={"letter_id": LETTER_ID})) as api,
        pytest.raises(UnexpectedAnswer),
    ):
        api.get_letter(LETTER_ID)
    with client(lambda _: httpx.Response(200, text="<html>")) as api, pytest.raises(UnexpectedAnswer):
        api.get_reply(LETTER_ID)


def test_retries_give_up_after_the_policy_s_attempts() -> None:
    calls: list[int] = []

    def handler(_: httpx.Request) -> httpx.Response:
        calls.append(1)
        return error(503, "chain_unavailable")

    with client(handler) as api, pytest.raises(Unavailable):
        api.get_letter(LETTER_ID)
    assert len(calls) == NO_WAIT.attempts
    calls.clear()

    def not_ready(_: httpx.Request) -> httpx.Response:
        calls.append(1)
        return error(409, "chain_not_ready")

    with client(not_ready) as api, pytest.raises(ChainNotReady):
        api.close(LETTER_ID)
    assert len(calls) == NO_WAIT.attempts


def test_a_refusal_is_never_retried() -> None:
    calls: list[int] = []

    def handler(_: httpx.Request) -> httpx.Response:
        calls.append(1)
        return error(409, "conflict")

    with client(handler) as api, pytest.raises(Conflict):
        api.withdraw(LETTER_ID)
    assert len(calls) == 1


def test_a_lost_answer_is_retried_only_where_repeating_is_safe() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    calls: list[str] = []

    def counting(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return timeout(request)

    with client(counting) as api:
        with pytest.raises(TransportError):
            api.follow_up(LETTER_ID)  # each follow-up is recorded: never sent twice
        assert len(calls) == 1
        with pytest.raises(TransportError):
            api.get_reply(LETTER_ID)
        assert len(calls) == 1 + NO_WAIT.attempts


def test_a_connection_never_made_is_retried_for_any_call() -> None:
    answers: list[Any] = [
        httpx.ConnectError("refused"),
        httpx.Response(202, json={"letter_id": LETTER_ID, "queued": "follow_up"}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    with client(handler) as api:
        assert api.follow_up(LETTER_ID).queued == "follow_up"


def test_a_malformed_letter_id_is_refused_before_sending() -> None:
    with client(lambda _: pytest.fail("sent")) as api, pytest.raises(ValueError, match="not a letter id"):
        api.get_letter("0x1234")


def test_the_async_client_shares_the_calls_and_the_errors() -> None:
    letters = [summary(i) for i in range(5)]
    answers = [error(502, "chain_failed")]

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.pop(0)
        if request.url.path == "/v1/letters/" + LETTER_ID:
            return error(404, "not_found")
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return httpx.Response(
            200,
            json={"items": letters[offset : offset + limit], "total": 5, "offset": offset, "limit": limit},
        )

    async def scenario() -> list[str]:
        async def no_wait(_: float) -> None:
            return None

        async with AsyncClient(
            "http://gateway.test", api_key=KEY, retry=NO_WAIT, transport=httpx.MockTransport(handler)
        ) as api:
            api._sleep = no_wait
            found = [x.letter_id async for x in api.iter_letters(page_size=2)]
            with pytest.raises(NotFound):
                await api.get_letter(LETTER_ID)
            return found

    assert asyncio.run(scenario()) == [x["letter_id"] for x in letters]


def test_create_letters_sends_the_drafts_as_the_api_expects() -> None:
    from node_gateway.api.models import LetterDraft
    from node_gateway.protocol.samples import sample_letter

    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json=[summary(0)])

    letter = sample_letter()
    with client(handler) as api:
        created = api.create_letters([LetterDraft(letter=letter, due_at=None)])
    assert created[0].status == "REQUESTED"
    sent = bodies[0]["letters"][0]
    assert set(sent) == {"letter", "due_at"}  # no salt: the auditee's reference comes at authorisation
    assert sent["letter"]["schema"] == "confirmnet.letter"
    assert sent["letter"]["letter_id"] == letter.letter_id


def test_the_pdfs_come_as_bytes_and_their_errors_as_errors() -> None:
    pdf = b"%PDF-1.4\n% a letter\n"
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        assert "application/pdf" in request.headers["Accept"]
        if request.url.path.endswith("/reply.pdf"):
            return error(404, "not_found", "no reply to this letter here")
        return httpx.Response(200, content=pdf, headers={"Content-Type": "application/pdf"})

    with client(handler) as api:
        assert api.letter_pdf(LETTER_ID) == pdf
        with pytest.raises(NotFound, match="no reply"):
            api.reply_pdf(LETTER_ID)
    assert paths == [f"/v1/letters/{LETTER_ID}/letter.pdf", f"/v1/letters/{LETTER_ID}/reply.pdf"]

    async def scenario() -> bytes:
        transport = httpx.MockTransport(handler)
        async with AsyncClient("http://gateway.test", api_key=KEY, retry=NO_WAIT, transport=transport) as api:
            return await api.letter_pdf(LETTER_ID)

    assert asyncio.run(scenario()) == pdf
    html = httpx.Response(200, text="<html>a proxy's page</html>")
    with client(lambda _: html) as api, pytest.raises(UnexpectedAnswer, match="not a PDF"):
        api.letter_pdf(LETTER_ID)


def test_the_review_is_never_repeated_on_a_lost_answer_the_rules_are() -> None:
    bodies: list[tuple[str, Any]] = []

    def timeout(request: httpx.Request) -> httpx.Response:
        bodies.append((request.url.path, json.loads(request.content) if request.content else None))
        raise httpx.ReadTimeout("slow", request=request)

    with client(timeout) as api:
        with pytest.raises(TransportError):
            api.approve([LETTER_ID.upper().replace("0X", "0x")])
        assert bodies == [
            ("/v1/letters/approve", {"letter_ids": [LETTER_ID]})
        ]  # once, ids as the API states them
        with pytest.raises(TransportError):
            api.recall(LETTER_ID)
        assert [path for path, _ in bodies[1:]] == [f"/v1/letters/{LETTER_ID}/recall"]
        with pytest.raises(TransportError):
            api.bank_rules(3)  # a read: repeated
        assert [path for path, _ in bodies[2:]] == ["/v1/banks/3/rules"] * NO_WAIT.attempts
        with pytest.raises(ValueError, match="not a letter id"):
            api.approve(["0x1234"])
