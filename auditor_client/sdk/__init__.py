"""The audit firm's SDK for its gateway's user API: clients, typed models and exceptions.

The models are the gateway's own API models (``node_gateway.api.models``), so client and server
can never disagree on a field.
"""

from auditor_client.sdk._exceptions import (
    APIError,
    AuthenticationError,
    ChainNotReady,
    ChainRefused,
    ConfirmnetError,
    Conflict,
    DocumentHashMismatch,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServerError,
    TransportError,
    Unavailable,
    UnexpectedAnswer,
)
from auditor_client.sdk.client import AsyncClient, Call, Client, Endpoints, LetterFilter, RetryPolicy
from node_gateway.api.models import (
    Accepted,
    AuthorisationAccepted,
    AuthorisationBundle,
    ChainStep,
    Evidence,
    EvidenceChain,
    Identity,
    LetterDetail,
    LetterDraft,
    LetterPage,
    LetterSummary,
    ReplyOut,
    SignedAuthorisation,
)
from node_gateway.services.verification import VerificationResult

__all__ = [
    "APIError",
    "Accepted",
    "AsyncClient",
    "AuthenticationError",
    "AuthorisationAccepted",
    "AuthorisationBundle",
    "Call",
    "ChainNotReady",
    "ChainRefused",
    "ChainStep",
    "Client",
    "ConfirmnetError",
    "Conflict",
    "DocumentHashMismatch",
    "Endpoints",
    "Evidence",
    "EvidenceChain",
    "Identity",
    "InvalidRequest",
    "LetterDetail",
    "LetterDraft",
    "LetterFilter",
    "LetterPage",
    "LetterSummary",
    "NotFound",
    "PermissionDenied",
    "ReplyOut",
    "RetryPolicy",
    "ServerError",
    "SignedAuthorisation",
    "TransportError",
    "Unavailable",
    "UnexpectedAnswer",
    "VerificationResult",
]
