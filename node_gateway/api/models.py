"""The user API's request and response models (database rows never leave the gateway as such)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from node_gateway.api.types import Address, LetterId, MemberId, Nonce, ReasonCode, RegistrationCode, UnixTime
from node_gateway.protocol.documents import ConfirmationLetter, ConfirmationReply

Hex32 = str  # "0x" and 64 hex digits


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- letters -----------------------------------------------------------------------------------


class LetterDraft(_In):
    letter: ConfirmationLetter
    auditee_salt: str = Field(description="The auditee reference salt the bank gave the auditee (hex)")
    due_at: UnixTime | None = Field(None, description="Reply due time, unix seconds; default two weeks")


class CreateLetters(_In):
    letters: list[LetterDraft] = Field(min_length=1, max_length=5000)


class LetterSummary(BaseModel):
    letter_id: str
    firm: int
    bank: int
    status: str
    overdue: bool
    due_at: int
    letter_hash: str
    reply_hash: str | None
    has_letter: bool
    has_reply: bool
    reply_verified: bool
    reason: int | None
    created_at: datetime


class ChainStep(BaseModel):
    name: str
    block_number: int
    block_timestamp: int
    transaction_hash: str
    args: dict[str, Any]


class OutboxStep(BaseModel):
    step: str
    state: str
    attempts: int
    transaction_hash: str | None
    error_code: str | None
    error_message: str | None


class LetterDetail(LetterSummary):
    auditee_ref: str
    letter: ConfirmationLetter | None
    authorisation: dict[str, Any] | None
    history: list[ChainStep]
    pending_steps: list[OutboxStep]


class LetterPage(BaseModel):
    items: list[LetterSummary]
    total: int
    offset: int
    limit: int


# --- authorisation -----------------------------------------------------------------------------


class AuthorisationRequestIn(_In):
    letter_ids: list[LetterId] = Field(min_length=1, max_length=5000)
    valid_until: UnixTime | None = None
    refusal_reason: ReasonCode | None = Field(None, description="Set to prepare a refusal instead")


class CloseLetters(_In):
    letter_ids: list[LetterId] = Field(min_length=1, max_length=5000)


class AuthorisationBundle(BaseModel):
    typed_data: dict[str, Any]
    letters: list[dict[str, Any]]


class SignedAuthorisation(_In):
    letter_ids: list[LetterId] = Field(min_length=1, max_length=5000)
    requests_root: Hex32
    firm: MemberId
    valid_until: UnixTime
    nonce: Nonce
    signature: str
    reason: ReasonCode | None = Field(None, description="Present for a refusal: its reason code")


class AuthorisationAccepted(BaseModel):
    signer: str
    letters: int
    kind: Literal["authorise", "refuse"]


# --- replies -----------------------------------------------------------------------------------


class ReplyOut(BaseModel):
    letter_id: str
    reply: ConfirmationReply
    salt: str
    reply_hash: str
    verified: bool = Field(description="The reply hashes to what the bank recorded on chain, checked now")


class EvidenceChain(BaseModel):
    chain_id: int
    member_registry: str
    confirmation_registry: str
    deployment_block: int


class Evidence(BaseModel):
    """Everything needed to check one letter against the chain without trusting any gateway."""

    letter_id: str
    firm: int
    bank: int
    status: str
    auditee_ref: str
    letter_hash: str
    letter: dict[str, Any]
    letter_salt: str
    reply_hash: str | None
    reply: dict[str, Any] | None
    reply_salt: str | None
    authorisation: dict[str, Any] | None
    chain: EvidenceChain
    steps: list[ChainStep]


class ReplyIn(_In):
    reply: ConfirmationReply


class RejectIn(_In):
    reason: ReasonCode


class Accepted(BaseModel):
    letter_id: str
    queued: str


# --- bank --------------------------------------------------------------------------------------


class MandateIn(_In):
    registration_code: RegistrationCode
    signer: Address
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


class MemberOut(BaseModel):
    member_id: int
    role: str
    status: str
    account: str
    org_id: str
    display_name: str
    endpoint: str


# --- identity, users ---------------------------------------------------------------------------


class Identity(BaseModel):
    role: str
    display_name: str
    registration_code: str
    account: str
    member_id: int | None
    endpoint: str
    encryption_keys: str
    chain_id: int
    confirmation_registry: str
    member_registry: str


class UserIn(_In):
    name: str = Field(min_length=1, max_length=200)
    roles: list[str] = Field(min_length=1)


class UserCreated(BaseModel):
    name: str
    roles: list[str]
    api_key: str = Field(description="Shown once; only its hash is kept")


class VerifyIn(_In):
    kind: Literal["letter", "reply"]
    document: dict[str, Any]
    salt: str
