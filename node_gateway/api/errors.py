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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway(_: Request, exc: GatewayError) -> JSONResponse:
        return _respond(exc.status, exc.code, str(exc))

    @app.exception_handler(ProtocolError)
    async def _protocol(_: Request, exc: ProtocolError) -> JSONResponse:
        details = exc.errors if isinstance(exc, InvalidDocument) else None
        return _respond(_protocol_status(exc), exc.code, str(exc), details)

    @app.exception_handler(ChainError)
    async def _chain(_: Request, exc: ChainError) -> JSONResponse:
        if isinstance(exc, ContractRevert):
            return _respond(409, "chain_refused", str(exc), {"error": exc.solidity_name})
        if isinstance(exc, NodeUnavailable):
            return _respond(503, "chain_unavailable", str(exc))
        return _respond(502, "chain_failed", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return _respond(422, "invalid_request", "the request does not match the API schema", details)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _respond(500, "internal_error", "an unexpected error; see the gateway's log")
