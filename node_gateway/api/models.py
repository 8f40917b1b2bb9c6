"""The user API's request and response models (database rows never leave the gateway as such).

The models the gateway shares with its clients (letters, authorisations, replies, evidence,
members, identity, verification) live in ``node_gateway.protocol.wire``, importable without
FastAPI, and are re-exported here; the ones below only the gateway reads or writes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from node_gateway.api.types import Address, LetterId, ReasonCode, RegistrationCode, Signer, UnixTime
from node_gateway.protocol.documents import ConfirmationReply
from node_gateway.protocol.wire import (
    Accepted,
    AuthorisationAccepted,
    AuthorisationBundle,
    AuthorisationRequestIn,
    ChainStep,
    CreateLetters,
    Evidence,
    EvidenceChain,
    FollowUpIn,
    FollowUpOut,
    Hex32,
    Identity,
    LetterDetail,
    LetterDraft,
    LetterPage,
    LetterSummary,
    MemberOut,
    OutboxStep,
    ReplyOut,
    SignedAuthorisation,
    VerificationResult,
    VerifyIn,
    WithdrawIn,
)
from node_gateway.protocol.wire import RequestBody as _In

__all__ = [
    "Accepted",
    "AdmitIn",
    "AuthorisationAccepted",
    "AuthorisationBundle",
    "AuthorisationRequestIn",
    "ChainStep",
    "CloseLetters",
    "CreateLetters",
    "CustomerReference",
    "Evidence",
    "EvidenceChain",
    "FollowUpIn",
    "FollowUpOut",
    "Hex32",
    "Identity",
    "LetterDetail",
    "LetterDraft",
    "LetterPage",
    "LetterSummary",
    "MandateIn",
    "MandateOut",
    "MemberOut",
    "OutboxStep",
    "RejectIn",
    "ReplyIn",
    "ReplyOut",
    "SignedAuthorisation",
    "UserCreated",
    "UserIn",
    "VerificationResult",
    "VerifyIn",
    "WithdrawIn",
]


# --- letters -----------------------------------------------------------------------------------


class CloseLetters(_In):
    letter_ids: list[LetterId] = Field(min_length=1, max_length=5000)


# --- replies -----------------------------------------------------------------------------------


class ReplyIn(_In):
    reply: ConfirmationReply


class RejectIn(_In):
    reason: ReasonCode


# --- bank --------------------------------------------------------------------------------------


class MandateIn(_In):
    registration_code: RegistrationCode
    signer: Signer
    valid_until: UnixTime


class MandateOut(BaseModel):
    auditee_ref: str
    signer: str
    valid_until: int | None = None
    revoked: bool = False


class CustomerReference(BaseModel):
    registration_code: str
    salt: str
    auditee_ref: str


# --- operator ----------------------------------------------------------------------------------


class AdmitIn(_In):
    account: Address
    role: Literal["operator", "audit_firm", "bank", "regulator"]
    registration_code: RegistrationCode
    display_name: str
    endpoint: str = ""
    encryption_keys: str = Field("0x", description="The member's encryptionKeys blob (hex)")


# --- users -------------------------------------------------------------------------------------


class UserIn(_In):
    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1)


class UserCreated(BaseModel):
    name: str
    roles: list[str]
    api_key: str = Field(description="Shown once; only its hash is kept")
