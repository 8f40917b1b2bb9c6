"""One error shape for every failure, and the one place exceptions become HTTP responses.

{"error": {"code": "<stable machine code>", "message": "<for people>", "details": ...}}

The package's exceptions carry their code and details (``node_gateway.errors`` draws the tree);
their HTTP status is ``HTTP_STATUS``, the one table, found by the exception's nearest class in it
(a plugin's exceptions are branches of the core's, so the table covers them too). A 5xx means a
fault on the server's side: the gateway's own (500, logged), or a system it relies on (502, 503).
Starlette's own answers (an unknown route, a method the route does not take, a body it cannot
read) get the same shape with the codes of ``HTTP_CODES``. A body that is not JSON is reported only
once the caller is authenticated (``GatewayRoute``), so nobody learns more than 401 without a key.
"""

from __future__ import annotations

import email.message
import logging
from collections.abc import Callable, Coroutine, Mapping
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic_core import from_json
from starlette.exceptions import HTTPException

from node_gateway.chain.errors import ChainError, ContractRevert, NodeUnavailable
from node_gateway.core.config import ConfigError
from node_gateway.core.keys import KeystoreError
from node_gateway.errors import (
    ChainNotReady,
    Conflict,
    EndpointRefused,
    Forbidden,
    FormatNotAccepted,
    GatewayError,
    InvalidRequest,
    NodeGatewayError,
    NotAuthenticated,
    NotFound,
    NotMember,
    PayloadTooLarge,
    PeerError,
    PeerForged,
    PeerNotActive,
    PeerNotParty,
    PeerReplayed,
    PeerUnsigned,
    TooManyAttempts,
    Unavailable,
)
from node_gateway.protocol.errors import (
    DocumentHashMismatch,
    EnvelopeError,
    EnvelopeWrongRecipient,
    InvalidDocument,
    InvalidKey,
    ProtocolError,
)
from node_gateway.services.letters import SignerMandateAmbiguous
from node_gateway.storage.vault import VaultError

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


# Starlette's own answers: their stable codes.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: PayloadTooLarge.code,
    415: "unsupported_media_type",
}

_DESCRIPTIONS = {
    400: "The request cannot be read (a malformed envelope on the peer API)",
    401: "No valid credentials: an API key (`Authorization: Bearer cn_…`), or a peer's signature",
    403: "The credentials do not allow this (the user lacks the role, or a peer is not active or no party)",
    404: "No such resource here",
    409: "The resource's state does not allow it now (or the chain refused it, or not yet)",
    413: "The request body is larger than the gateway accepts",
    421: "An envelope addressed to another member",
    422: "The request does not match the API schema, or contradicts the rules",
    502: "The chain node answered with an error",
    503: "The chain is unreachable, or this gateway is not (yet) a member",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of the errors a route gives, all in the one error shape."""
    return {status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]} for status in statuses}


def _respond(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


# Where GatewayRoute keeps what was wrong with a body that is not JSON, for the 422 after auth.
UNPARSED_BODY = "confirmnet_unparsed_body"


class _Unparsed:
    """Stands for a body that is not JSON: it validates as no model, so the route's dependencies
    (authentication first) run as for any request, and then its body fails validation."""


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type")
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class GatewayRoute(APIRoute):
    """A route that reports a body that is not JSON only after it has authenticated the caller.

    FastAPI parses a JSON body before it runs a route's dependencies, so a request without a key
    but with a broken body would hear 422 rather than 401. Here the body is parsed first; if it
    does not parse, a stand-in that no model accepts takes its place and the error is kept for
    the 422 that follows the dependencies.

    The parser is pydantic-core's, which refuses nesting deeper than 200 levels: the standard
    library's recurses in C up to the interpreter's recursion limit, which py-evm and py_ecc
    (imported with web3 and eth-account) raise to 100,000, so a body of some 100 KB of ``[``
    would overflow the C stack and crash the gateway.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def handle(request: Request) -> Response:
            body = await request.body()
            if body and _is_json(request):
                try:
                    request._json = from_json(body)
                except ValueError as exc:
                    problem = {"loc": ["body"], "msg": f"not JSON: {exc}", "type": "json_invalid"}
                    setattr(request.state, UNPARSED_BODY, problem)
                    request._json = _Unparsed()
            return await handler(request)

        return handle


HTTP_STATUS: Mapping[type[NodeGatewayError], int] = MappingProxyType(
    {
        # The root and what the gateway itself cannot do (DevnetError too): a fault of the server.
        NodeGatewayError: 500,
        VaultError: 500,
        KeystoreError: 500,
        ConfigError: 500,
        # The service refuses the request.
        GatewayError: 500,
        NotAuthenticated: 401,
        Forbidden: 403,
        NotFound: 404,
        InvalidRequest: 422,
        FormatNotAccepted: 422,
        Conflict: 409,
        ChainNotReady: 409,
        SignerMandateAmbiguous: 409,  # signer_mandate_ambiguous: mandated for several customers at a bank
        NotMember: 503,
        Unavailable: 503,
        EndpointRefused: 422,
        PayloadTooLarge: 413,
        TooManyAttempts: 429,
        PeerError: 401,
        PeerUnsigned: 401,
        PeerForged: 401,
        PeerReplayed: 409,
        PeerNotActive: 403,
        PeerNotParty: 403,
        # What a peer sent is wrong.
        ProtocolError: 400,
        EnvelopeError: 400,
        EnvelopeWrongRecipient: 421,
        InvalidDocument: 422,
        DocumentHashMismatch: 422,
        InvalidKey: 422,
        # The chain: a contract refused (each custom error a subclass), or the node failed.
        ChainError: 502,
        NodeUnavailable: 503,
        ContractRevert: 409,
    }
)
"""The HTTP status of every exception of node_gateway and of its plugins: its class's row, or else
its nearest ancestor's (``EnvelopeMalformed`` is an ``EnvelopeError``, 400)."""


def http_status(exc: NodeGatewayError) -> int:
    """The HTTP status of ``exc``: the row of the first class of its MRO in ``HTTP_STATUS``."""
    return next(HTTP_STATUS[cls] for cls in type(exc).__mro__ if cls in HTTP_STATUS)


def classify(exc: NodeGatewayError) -> tuple[int, str, Any]:
    """The HTTP status, machine code and details of one of the package's exceptions."""
    return http_status(exc), exc.code, exc.details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NodeGatewayError)
    async def _known(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, NodeGatewayError)
        status, code, details = classify(exc)
        if status == 500:  # the gateway's own fault: worth its traceback
            log.error("%s: %s", type(exc).__name__, exc, exc_info=exc)
        return _respond(status, code, str(exc), details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        unparsed: dict[str, Any] | None = getattr(request.state, UNPARSED_BODY, None)
        if unparsed is not None:  # the caller is authenticated by now: tell what is wrong with the body
            return _respond(422, "invalid_request", "the request body is not valid JSON", [unparsed])
        details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return _respond(422, "invalid_request", "the request does not match the API schema", details)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return _respond(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _respond(500, "internal_error", "an unexpected error; see the gateway's log")
