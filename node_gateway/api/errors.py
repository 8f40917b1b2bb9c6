"""One error shape for every failure, and the one place exceptions become HTTP responses.

{"error": {"code": "<stable machine code>", "message": "<for people>", "details": ...}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from node_gateway.chain.errors import ChainError, ContractRevert, NodeUnavailable
from node_gateway.errors import GatewayError
from node_gateway.protocol.errors import (
    DocumentHashMismatch,
    EnvelopeError,
    EnvelopeWrongRecipient,
    InvalidDocument,
    InvalidKey,
    ProtocolError,
)

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def _respond(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


def _protocol_status(exc: ProtocolError) -> int:
    if isinstance(exc, EnvelopeWrongRecipient):
        return 421
    if isinstance(exc, EnvelopeError):
        return 400
    if isinstance(exc, InvalidDocument | DocumentHashMismatch | InvalidKey):
        return 422
    return 400


def classify(exc: GatewayError | ProtocolError | ChainError) -> tuple[int, str, Any]:
    """The HTTP status, machine code and details of one of the package's exceptions."""
    if isinstance(exc, GatewayError):
        return exc.status, exc.code, None
    if isinstance(exc, ProtocolError):
        return _protocol_status(exc), exc.code, exc.errors if isinstance(exc, InvalidDocument) else None
    if isinstance(exc, ContractRevert):
        return 409, "chain_refused", {"error": exc.solidity_name}
    if isinstance(exc, NodeUnavailable):
        return 503, "chain_unavailable", None
    return 502, "chain_failed", None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    @app.exception_handler(ProtocolError)
    @app.exception_handler(ChainError)
    async def _known(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GatewayError | ProtocolError | ChainError)
        status, code, details = classify(exc)
        return _respond(status, code, str(exc), details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return _respond(422, "invalid_request", "the request does not match the API schema", details)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _respond(500, "internal_error", "an unexpected error; see the gateway's log")
