"""The SDK's exceptions: one root, a branch per way a call to a gateway can fail.

    ConfirmnetError                    (a branch of auditor_client.errors.AuditorClientError)
    ├── TransportError                 the gateway could not be reached, or did not answer in time
    ├── UnexpectedAnswer               a success answer that is not what the API promises
    └── APIError                       the gateway answered with an error body (``code``, ``status``)
        ├── AuthenticationError        not_authenticated             401  no, unknown or revoked key
        ├── PermissionDenied           forbidden, peer_not_active,   403  the user lacks the role
        │                              peer_not_party
        ├── NotFound                   not_found                     404
        ├── InvalidRequest             invalid_request,              422  the request breaks the schema
        │   │                          invalid_document,                  or the rules
        │   │                          invalid_key,
        │   │                          format_not_accepted
        │   └── DocumentHashMismatch   document_hash_mismatch        422  a document and salt that do
        │                                                                 not give the hash on chain
        ├── Conflict                   conflict, peer_replayed       409  not allowed in the letter's state
        │   └── ChainNotReady          chain_not_ready               409  the chain does not show it yet
        ├── ChainRefused               chain_refused                 409  a contract refused the step
        ├── Unavailable                chain_unavailable,            502/503  transient: retried
        │                              chain_failed, not_member
        └── ServerError                internal_error and any        500  a fault of the gateway
                                       unknown code

``APIError.code`` is the gateway's stable machine code and ``details`` its structured details; an
unknown code maps by HTTP status, so a newer gateway never breaks an older client. Errors of the
transport (httpx) become ``TransportError`` with the httpx exception as ``__cause__``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from auditor_client.errors import AuditorClientError


class ConfirmnetError(AuditorClientError):
    """Root of everything the SDK raises."""


class TransportError(ConfirmnetError):
    """The gateway could not be reached or did not answer in time, after the retries."""


class UnexpectedAnswer(ConfirmnetError):
    """The gateway answered success with a body this SDK cannot read (another API version?)."""


class APIError(ConfirmnetError):
    """The gateway answered with an error: its machine ``code``, HTTP ``status`` and ``details``."""

    codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, message: str, *, code: str, status: int, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details

    def __str__(self) -> str:
        return f"{self.code} ({self.status}): {self.message}"


class AuthenticationError(APIError):
    codes = frozenset({"not_authenticated", "peer_unsigned", "peer_forged", "peer_error"})


class PermissionDenied(APIError):
    codes = frozenset({"forbidden", "peer_not_active", "peer_not_party"})


class NotFound(APIError):
    codes = frozenset({"not_found"})


class InvalidRequest(APIError):
    codes = frozenset(
        {"invalid_request", "invalid_document", "invalid_key", "protocol_error", "format_not_accepted"}
    )


class DocumentHashMismatch(InvalidRequest):
    codes = frozenset({"document_hash_mismatch"})


class Conflict(APIError):
    codes = frozenset({"conflict", "peer_replayed"})


class ChainNotReady(Conflict):
    codes = frozenset({"chain_not_ready"})


class ChainRefused(APIError):
    codes = frozenset({"chain_refused"})


class Unavailable(APIError):
    codes = frozenset({"chain_unavailable", "chain_failed", "not_member"})


class ServerError(APIError):
    codes = frozenset({"internal_error", "gateway_error"})


def _family(cls: type[APIError]) -> list[type[APIError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _family(child))]


_BY_CODE: dict[str, type[APIError]] = {code: cls for cls in _family(APIError) for code in cls.codes}
_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
    400: InvalidRequest,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}

# Codes and statuses a retry may cure: the chain or the gateway is briefly unable, nothing was done.
TRANSIENT_CODES = frozenset({"chain_unavailable", "chain_failed", "not_member", "chain_not_ready"})
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def api_error(status: int, code: str | None, message: str, details: Any = None) -> APIError:
    """The most specific exception for an error answer: by machine code, else by HTTP status."""
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status) or ServerError
    return cls(message, code=code or f"http_{status}", status=status, details=details)
