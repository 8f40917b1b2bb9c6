"""Sync and async clients for a gateway's user API.

Both clients share everything but the I/O: each endpoint is a :class:`Call` built once by
:class:`Endpoints` (method, path, query, body, how to read the answer, whether it is safe to send
twice), and each client only sends calls, retries transient failures and maps errors.

Retries: an error *answer* never committed anything (the gateway runs each request in one unit of
work), so a transient one (``chain_unavailable``, ``chain_not_ready``, 502/503/504, 429) is retried
for every call. A request that may have reached the gateway without an answer (a read timeout, a
dropped connection) is retried only when the call is idempotent; a connection that was never made
is always retried.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from auditor_client.sdk._exceptions import (
    TRANSIENT_CODES,
    TRANSIENT_STATUSES,
    APIError,
    TransportError,
    UnexpectedAnswer,
    api_error,
)
from node_gateway.protocol.bank_rules import BankRules
from node_gateway.protocol.documents import NonComplianceNotice
from node_gateway.protocol.wire import (
    Accepted,
    AuthorisationAccepted,
    AuthorisationBundle,
    AuthorisationRequestIn,
    CreateLetters,
    Evidence,
    FollowUpIn,
    Identity,
    LetterDetail,
    LetterDraft,
    LetterPage,
    LetterSummary,
    ReplyOut,
    SignedAuthorisation,
    VerificationResult,
    VerifyIn,
    WithdrawIn,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT_S = 30.0
PAGE_SIZE = 500
USER_AGENT = "confirmnet-auditor-client/1"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the user API and how to read its answer."""

    method: Literal["GET", "POST"]
    path: str
    read: Callable[[Any], T]
    params: dict[str, Any] | None = None
    body: Any = None
    idempotent: bool = False
    document: bool = False  # the answer is a file (a PDF): ``read`` gets its bytes, not JSON


def _model(model: type[M]) -> Callable[[Any], M]:
    return model.model_validate


def _models(model: type[M]) -> Callable[[Any], list[M]]:
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter.validate_python


def _pdf(content: bytes) -> bytes:
    if not content.startswith(b"%PDF-"):
        raise ValueError("not a PDF")
    return content


def _letter_id(letter_id: str) -> str:
    if not letter_id.startswith("0x") or len(letter_id) != 66:
        raise ValueError(f"{letter_id!r} is not a letter id (0x and 64 hex digits)")
    return letter_id.lower()


def _letter_path(letter_id: str, action: str = "") -> str:
    return f"/v1/letters/{_letter_id(letter_id)}" + (f"/{action}" if action else "")


@dataclass(frozen=True)
class LetterFilter:
    """The filters of ``GET /v1/letters``; ``None`` leaves a filter out."""

    status: Sequence[str] = ()
    overdue: bool | None = None
    due_before: int | None = None
    due_after: int | None = None
    counterparty: int | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "overdue": self.overdue,
            "due_before": self.due_before,
            "due_after": self.due_after,
            "counterparty": self.counterparty,
        }
        found = {key: value for key, value in params.items() if value is not None}
        if self.status:
            found["status"] = [s.upper() for s in self.status]
        return found


class Endpoints:
    """The user API's endpoints as :class:`Call` values; no I/O."""

    @staticmethod
    def identity() -> Call[Identity]:
        return Call("GET", "/v1/identity", _model(Identity), idempotent=True)

    @staticmethod
    def health() -> Call[dict[str, Any]]:
        return Call("GET", "/health", dict, idempotent=True)

    @staticmethod
    def create_letters(drafts: Sequence[LetterDraft]) -> Call[list[LetterSummary]]:
        body = CreateLetters(letters=list(drafts)).model_dump(mode="json", by_alias=True)
        return Call("POST", "/v1/letters", _models(LetterSummary), body=body)

    @staticmethod
    def list_letters(where: LetterFilter, *, offset: int = 0, limit: int = PAGE_SIZE) -> Call[LetterPage]:
        params = {**where.params(), "offset": offset, "limit": limit}
        return Call("GET", "/v1/letters", _model(LetterPage), params=params, idempotent=True)

    @staticmethod
    def get_letter(letter_id: str) -> Call[LetterDetail]:
        return Call("GET", _letter_path(letter_id), _model(LetterDetail), idempotent=True)

    @staticmethod
    def authorisation_request(
        letter_ids: Sequence[str], *, valid_until: int | None = None, refusal_reason: int | None = None
    ) -> Call[AuthorisationBundle]:
        body = AuthorisationRequestIn(
            letter_ids=list(letter_ids), valid_until=valid_until, refusal_reason=refusal_reason
        ).model_dump(mode="json")
        # Each request draws a fresh nonce on the gateway and changes nothing: safe to repeat.
        return Call(
            "POST", "/v1/authorisations/requests", _model(AuthorisationBundle), body=body, idempotent=True
        )

    @staticmethod
    def submit_authorisation(signed: SignedAuthorisation) -> Call[AuthorisationAccepted]:
        # The gateway keys the step by letter and nonce, so a repeated submission queues nothing twice.
        return Call(
            "POST",
            "/v1/authorisations",
            _model(AuthorisationAccepted),
            body=signed.model_dump(mode="json"),
            idempotent=True,
        )

    @staticmethod
    def follow_up(letter_id: str, message: str | None = None) -> Call[Accepted]:
        # Every follow-up is recorded: never sent twice on a lost answer.
        body = None if message is None else FollowUpIn(message=message).model_dump(mode="json")
        return Call("POST", _letter_path(letter_id, "follow-up"), _model(Accepted), body=body)

    @staticmethod
    def withdraw(letter_id: str, reason_text: str | None = None) -> Call[Accepted]:
        # The same reason again is a no-op on the gateway: safe to repeat.
        body = None if reason_text is None else WithdrawIn(reason_text=reason_text).model_dump(mode="json")
        return Call("POST", _letter_path(letter_id, "withdraw"), _model(Accepted), body=body, idempotent=True)

    @staticmethod
    def close(letter_id: str) -> Call[Accepted]:
        return Call("POST", _letter_path(letter_id, "close"), _model(Accepted), idempotent=True)

    @staticmethod
    def get_reply(letter_id: str) -> Call[ReplyOut]:
        return Call("GET", _letter_path(letter_id, "reply"), _model(ReplyOut), idempotent=True)

    @staticmethod
    def get_notice(letter_id: str) -> Call[NonComplianceNotice]:
        return Call("GET", _letter_path(letter_id, "notice"), _model(NonComplianceNotice), idempotent=True)

    @staticmethod
    def get_evidence(letter_id: str) -> Call[Evidence]:
        return Call("GET", _letter_path(letter_id, "evidence"), _model(Evidence), idempotent=True)

    @staticmethod
    def letter_pdf(letter_id: str) -> Call[bytes]:
        return Call("GET", _letter_path(letter_id, "letter.pdf"), _pdf, idempotent=True, document=True)

    @staticmethod
    def reply_pdf(letter_id: str) -> Call[bytes]:
        return Call("GET", _letter_path(letter_id, "reply.pdf"), _pdf, idempotent=True, document=True)

    @staticmethod
    def verify_document(
        kind: Literal["letter", "reply"], document: dict[str, Any], salt: str
    ) -> Call[VerificationResult]:
        body = VerifyIn(kind=kind, document=document, salt=salt).model_dump(mode="json")
        return Call("POST", "/v1/verify", _model(VerificationResult), body=body, idempotent=True)

    # --- the firm's review (审核, 召回) and the banks' rules ---------------------------------------

    @staticmethod
    def approve(letter_ids: Sequence[str]) -> Call[list[LetterSummary]]:
        # Not repeated on a lost answer: approved already, the letters would come back as a conflict.
        body = {"letter_ids": [_letter_id(x) for x in letter_ids]}
        return Call("POST", "/v1/letters/approve", _models(LetterSummary), body=body)

    @staticmethod
    def recall(letter_id: str) -> Call[LetterSummary]:
        return Call("POST", _letter_path(letter_id, "recall"), _model(LetterSummary))

    @staticmethod
    def bank_rules(member_id: int) -> Call[BankRules]:
        return Call("GET", f"/v1/banks/{int(member_id)}/rules", _model(BankRules), idempotent=True)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient failures are retried."""

    attempts: int = 4  # in all, the first included
    backoff_s: float = 0.25  # doubled after each attempt
    max_backoff_s: float = 8.0
    jitter: float = 0.2  # up to this fraction added at random

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(float(retry_after), self.max_backoff_s)
            except ValueError:
                pass
        base = min(self.backoff_s * float(2**attempt), self.max_backoff_s)
        return base * (1 + random.random() * self.jitter)  # noqa: S311 - jitter, not a secret


@dataclass
class _Session:
    """What both clients share: where, who, how patient; and reading answers."""

    base_url: str
    api_key: str | None
    timeout_s: float
    retry: RetryPolicy
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.api_key:
            self.headers["Authorization"] = f"Bearer {self.api_key}"

    def request_kwargs(self, call: Call[Any]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": call.params}
        if call.document:
            kwargs["headers"] = {"Accept": "application/pdf, application/json"}  # JSON for errors
        if call.body is not None:
            kwargs["json"] = call.body
        return kwargs

    @staticmethod
    def error(response: httpx.Response) -> APIError:
        try:
            body = response.json()
            error = body["error"]
            return api_error(
                response.status_code, error.get("code"), error.get("message", ""), error.get("details")
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            text = response.text.strip()[:500] or response.reason_phrase
            return api_error(response.status_code, None, text)

    def after_failure(self, call: Call[Any], attempt: int, exc: httpx.TransportError) -> float:
        """How long to wait before retrying a request that got no answer; raises if it must not be."""
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
        if attempt == self.retry.attempts - 1 or not (never_sent or call.idempotent):
            raise TransportError(f"{call.method} {call.path}: {exc}") from exc
        return self.retry.delay(attempt, None)

    def after_error(self, attempt: int, response: httpx.Response) -> float:
        """How long to wait before retrying an error answer; raises the error unless it is transient."""
        error = self.error(response)
        transient = error.code in TRANSIENT_CODES or error.status in TRANSIENT_STATUSES
        if attempt == self.retry.attempts - 1 or not transient:
            raise error
        return self.retry.delay(attempt, response.headers.get("Retry-After"))

    def read(self, call: Call[T], response: httpx.Response) -> T:
        try:
            return call.read(response.content if call.document else response.json())
        except ValueError as exc:  # not JSON, or pydantic's ValidationError (a ValueError)
            raise UnexpectedAnswer(
                f"{call.method} {call.path}: the answer does not match the API: {exc}"
            ) from exc


class Client:
    """A blocking client of one gateway's user API.

    >>> with Client("http://127.0.0.1:8700", api_key="cn_…") as gateway:
    ...     for letter in gateway.iter_letters(LetterFilter(status=["REPLIED"])):
    ...         gateway.close(letter.letter_id)
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._session = _Session(base_url.rstrip("/"), api_key, timeout_s, retry or RetryPolicy())
        self._http = httpx.Client(
            base_url=self._session.base_url,
            headers=self._session.headers,
            timeout=timeout_s,
            transport=transport,
        )
        self._sleep: Callable[[float], None] = time.sleep

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close_connection()

    def close_connection(self) -> None:
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Sends ``call``, retrying transient failures, and reads its answer."""
        for attempt in range(self._session.retry.attempts):
            try:
                response = self._http.request(call.method, call.path, **self._session.request_kwargs(call))
            except httpx.TransportError as exc:
                self._sleep(self._session.after_failure(call, attempt, exc))
                continue
            if response.is_success:
                return self._session.read(call, response)
            self._sleep(self._session.after_error(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- endpoints ---------------------------------------------------------------------------

    def identity(self) -> Identity:
        return self.send(Endpoints.identity())

    def health(self) -> dict[str, Any]:
        return self.send(Endpoints.health())

    def create_letters(self, drafts: Sequence[LetterDraft]) -> list[LetterSummary]:
        return self.send(Endpoints.create_letters(drafts))

    def list_letters(
        self, where: LetterFilter | None = None, *, offset: int = 0, limit: int = PAGE_SIZE
    ) -> LetterPage:
        return self.send(Endpoints.list_letters(where or LetterFilter(), offset=offset, limit=limit))

    def iter_letters(
        self, where: LetterFilter | None = None, *, page_size: int = PAGE_SIZE
    ) -> Iterator[LetterSummary]:
        """Every letter matching ``where``, page by page."""
        offset = 0
        while True:
            page = self.list_letters(where, offset=offset, limit=page_size)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    def get_letter(self, letter_id: str) -> LetterDetail:
        return self.send(Endpoints.get_letter(letter_id))

    def authorisation_request(
        self, letter_ids: Sequence[str], *, valid_until: int | None = None, refusal_reason: int | None = None
    ) -> AuthorisationBundle:
        return self.send(
            Endpoints.authorisation_request(
                letter_ids, valid_until=valid_until, refusal_reason=refusal_reason
            )
        )

    def submit_authorisation(self, signed: SignedAuthorisation) -> AuthorisationAccepted:
        return self.send(Endpoints.submit_authorisation(signed))

    def follow_up(self, letter_id: str, message: str | None = None) -> Accepted:
        """Follows up a letter awaiting the bank (催函), with a message for the bank (1-500
        characters, sent encrypted once the follow-up is on chain, if the bank holds the letter)."""
        return self.send(Endpoints.follow_up(letter_id, message))

    def withdraw(self, letter_id: str, reason_text: str | None = None) -> Accepted:
        """Withdraws a letter (撤回), with the reason for the bank in words (1-500 characters)."""
        return self.send(Endpoints.withdraw(letter_id, reason_text))

    def close(self, letter_id: str) -> Accepted:
        return self.send(Endpoints.close(letter_id))

    def get_reply(self, letter_id: str) -> ReplyOut:
        return self.send(Endpoints.get_reply(letter_id))

    def get_notice(self, letter_id: str) -> NonComplianceNotice:
        """The bank's non-compliance notice: the 函证编号 and the reason in words (404 if none)."""
        return self.send(Endpoints.get_notice(letter_id))

    def get_evidence(self, letter_id: str) -> Evidence:
        return self.send(Endpoints.get_evidence(letter_id))

    def letter_pdf(self, letter_id: str) -> bytes:
        """The letter (询证函) as the gateway prints it: a PDF with the QR code of its chain record."""
        return self.send(Endpoints.letter_pdf(letter_id))

    def reply_pdf(self, letter_id: str) -> bytes:
        """The reply (回函) as a PDF, checked against the chain by the gateway first."""
        return self.send(Endpoints.reply_pdf(letter_id))

    def verify_document(
        self, kind: Literal["letter", "reply"], document: dict[str, Any], salt: str
    ) -> VerificationResult:
        return self.send(Endpoints.verify_document(kind, document, salt))

    def approve(self, letter_ids: Sequence[str]) -> list[LetterSummary]:
        """A manager's approval (审核通过) of prepared letters, all or none: they then go out."""
        return self.send(Endpoints.approve(letter_ids))

    def recall(self, letter_id: str) -> LetterSummary:
        """Takes back a prepared letter (召回), by its preparer or a manager: it never goes out."""
        return self.send(Endpoints.recall(letter_id))

    def bank_rules(self, member_id: int) -> BankRules:
        """A bank's published business rules (scope, formats, fee, contact), as the gateway checked them."""
        return self.send(Endpoints.bank_rules(member_id))


class AsyncClient:
    """The same API as :class:`Client`, for asyncio."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._session = _Session(base_url.rstrip("/"), api_key, timeout_s, retry or RetryPolicy())
        self._http = httpx.AsyncClient(
            base_url=self._session.base_url,
            headers=self._session.headers,
            timeout=timeout_s,
            transport=transport,
        )
        self._sleep: Callable[[float], Any] = asyncio.sleep

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close_connection()

    async def close_connection(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        """Sends ``call``, retrying transient failures, and reads its answer."""
        for attempt in range(self._session.retry.attempts):
            try:
                response = await self._http.request(
                    call.method, call.path, **self._session.request_kwargs(call)
                )
            except httpx.TransportError as exc:
                await self._sleep(self._session.after_failure(call, attempt, exc))
                continue
            if response.is_success:
                return self._session.read(call, response)
            await self._sleep(self._session.after_error(attempt, response))
        raise AssertionError("unreachable")  # pragma: no cover

    # --- endpoints ---------------------------------------------------------------------------

    async def identity(self) -> Identity:
        return await self.send(Endpoints.identity())

    async def health(self) -> dict[str, Any]:
        return await self.send(Endpoints.health())

    async def create_letters(self, drafts: Sequence[LetterDraft]) -> list[LetterSummary]:
        return await self.send(Endpoints.create_letters(drafts))

    async def list_letters(
        self, where: LetterFilter | None = None, *, offset: int = 0, limit: int = PAGE_SIZE
    ) -> LetterPage:
        return await self.send(Endpoints.list_letters(where or LetterFilter(), offset=offset, limit=limit))

    async def iter_letters(
        self, where: LetterFilter | None = None, *, page_size: int = PAGE_SIZE
    ) -> AsyncIterator[LetterSummary]:
        """Every letter matching ``where``, page by page."""
        offset = 0
        while True:
            page = await self.list_letters(where, offset=offset, limit=page_size)
            for item in page.items:
                yield item
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    async def get_letter(self, letter_id: str) -> LetterDetail:
        return await self.send(Endpoints.get_letter(letter_id))

    async def authorisation_request(
        self, letter_ids: Sequence[str], *, valid_until: int | None = None, refusal_reason: int | None = None
    ) -> AuthorisationBundle:
        return await self.send(
            Endpoints.authorisation_request(
                letter_ids, valid_until=valid_until, refusal_reason=refusal_reason
            )
        )

    async def submit_authorisation(self, signed: SignedAuthorisation) -> AuthorisationAccepted:
        return await self.send(Endpoints.submit_authorisation(signed))

    async def follow_up(self, letter_id: str, message: str | None = None) -> Accepted:
        return await self.send(Endpoints.follow_up(letter_id, message))

    async def withdraw(self, letter_id: str, reason_text: str | None = None) -> Accepted:
        return await self.send(Endpoints.withdraw(letter_id, reason_text))

    async def close(self, letter_id: str) -> Accepted:
        return await self.send(Endpoints.close(letter_id))

    async def get_reply(self, letter_id: str) -> ReplyOut:
        return await self.send(Endpoints.get_reply(letter_id))

    async def get_notice(self, letter_id: str) -> NonComplianceNotice:
        return await self.send(Endpoints.get_notice(letter_id))

    async def get_evidence(self, letter_id: str) -> Evidence:
        return await self.send(Endpoints.get_evidence(letter_id))

    async def letter_pdf(self, letter_id: str) -> bytes:
        return await self.send(Endpoints.letter_pdf(letter_id))

    async def reply_pdf(self, letter_id: str) -> bytes:
        return await self.send(Endpoints.reply_pdf(letter_id))

    async def verify_document(
        self, kind: Literal["letter", "reply"], document: dict[str, Any], salt: str
    ) -> VerificationResult:
        return await self.send(Endpoints.verify_document(kind, document, salt))

    async def approve(self, letter_ids: Sequence[str]) -> list[LetterSummary]:
        return await self.send(Endpoints.approve(letter_ids))

    async def recall(self, letter_id: str) -> LetterSummary:
        return await self.send(Endpoints.recall(letter_id))

    async def bank_rules(self, member_id: int) -> BankRules:
        return await self.send(Endpoints.bank_rules(member_id))
