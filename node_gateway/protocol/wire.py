"""The user API's wire: the bounded values and the request and response models that the gateway
and its clients (the auditor SDK, the verifier) share, so that client and server can never
disagree on a field. Pure pydantic: importable without FastAPI or a database.

Every number is bounded by what holds it: the chain (member ids ``uint32``, times ``uint64``,
reason codes ``uint16``, nonces ``uint256``) and the database (signed 64-bit integers), whichever
is narrower, so an out-of-range value is a 422 at the edge and never an overflow further in.
Identifiers have their one spelling: letter ids ``0x`` and 64 hex digits (lower-cased), account
addresses ``0x`` and 40 (checksummed; a mixed-case address must carry a valid checksum),
registration codes as ``normalise_registration_code`` takes them.

The models only the gateway reads or writes (operator, bank and user administration) stay in
``node_gateway.api.models``, which re-exports these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from web3 import Web3

from node_gateway.protocol.documents import ConfirmationLetter, ConfirmationReply, normalise_registration_code

# --- bounded values ----------------------------------------------------------------------------

UINT16_MAX = 2**16 - 1
UINT32_MAX = 2**32 - 1
INT32_MAX = 2**31 - 1  # the database's INTEGER
INT64_MAX = 2**63 - 1  # the database's BIGINT (the chain's uint64 times are wider)
UINT256_MAX = 2**256 - 1

MemberId = Annotated[int, Field(ge=1, le=UINT32_MAX, description="A member's number (uint32 on chain)")]
UnixTime = Annotated[
    int, Field(ge=0, le=INT64_MAX, description="Unix seconds (uint64 on chain, 64-bit signed stored)")
]
ReasonCode = Annotated[int, Field(ge=0, le=UINT16_MAX, description="A reason code (uint16 on chain)")]
Nonce = Annotated[int, Field(ge=0, le=UINT256_MAX, description="An authorisation's nonce (uint256)")]


def _lower(value: str) -> str:
    return value.lower()


def _checksummed(value: str) -> str:
    if not Web3.is_address(value):
        raise ValueError("not an account address (a mixed-case address must carry its checksum)")
    return str(Web3.to_checksum_address(value))


LetterId = Annotated[
    str,
    Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="A letter id: 0x and 64 hex digits"),
    AfterValidator(_lower),
]
Address = Annotated[
    str,
    Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="An account address: 0x and 40 hex digits"),
    AfterValidator(_checksummed),
]
# An auditee signer (ERC-7913, node_gateway.chain.signers): an account's address (checksummed),
# or a verifier's address and a key, in hex; at most 1,024 bytes (an RSA-4096 key takes 692).
SIGNER_MAX_BYTES = 1024
Signer = Annotated[
    str,
    Field(
        pattern=rf"^0x(?:[0-9a-fA-F]{{2}}){{20,{SIGNER_MAX_BYTES}}}$",
        description="An auditee signer (ERC-7913), 0x-hex: an account's address (an ordinary key, or a "
        "contract account such as a company's multisig), or a verifier's address then a key (P-256, "
        "WebAuthn passkey, RSA; the verifiers are named in the network file)",
    ),
    AfterValidator(lambda value: _checksummed(value) if len(value) == 42 else value.lower()),
]
RegistrationCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="A registration code (统一社会信用代码): 8 to 32 letters and digits; "
        "full-width forms, lower case, spaces and hyphens are accepted too and normalised",
        # The canonical spelling, for clients and generated requests; the validator takes the rest.
        json_schema_extra={"pattern": "^[0-9A-Z]{8,32}$", "examples": ["91310000MA1FL0TE5Q"]},
    ),
    AfterValidator(normalise_registration_code),
]

Hex32 = str  # "0x" and 64 hex digits


class RequestBody(BaseModel):
    """A request body: a field the model does not know is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


# --- letters -----------------------------------------------------------------------------------


class LetterDraft(RequestBody):
    letter: ConfirmationLetter
    due_at: UnixTime | None = Field(None, description="Reply due time, unix seconds; default two weeks")


class CreateLetters(RequestBody):
    letters: list[LetterDraft] = Field(min_length=1, max_length=5000)


class LetterSummary(BaseModel):
    letter_id: str
    confirmation_no: str | None = Field(
        None, description="The letter's 函证编号 (firm prefix, year, sequence)"
    )
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
    prepared_by: str | None = Field(None, description="The firm's user who prepared the letter")
    reviewed_by: str | None = Field(None, description="The firm's manager who approved it (审核)")
    accepted_by: str | None = Field(None, description="The firm's user who accepted the reply (验收)")
    returned: str | None = Field(
        None,
        description="Why the firm's gateway withdrew the letter by itself: not_authorised_in_time "
        "(退回, the auditee did not authorise it within the days the firm allows)",
    )


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


class FollowUpOut(BaseModel):
    """One follow-up (催函) of the letter, with the firm's message to the bank."""

    ordinal: int = Field(description="The letter's Nth follow-up on chain")
    at: int | None = Field(description="When the chain recorded it (unix seconds); None while on its way")
    message: str | None = Field(description="The firm's message with it, never on chain")
    delivery: Literal["pending", "done", "failed"] | None = Field(
        description="At the firm, the message's delivery to the bank, encrypted; None where it stays "
        "at the firm (the bank never received the letter: it was not authorised) or at the bank"
    )


class LetterDetail(LetterSummary):
    auditee_ref: str | None = Field(
        description="The auditee's reference at the bank (hex), under which the bank mandated the signer "
        "who authorised or refused the letter; None until then"
    )
    letter: ConfirmationLetter | None
    authorisation: dict[str, Any] | None
    refusal_text: str | None = Field(
        None, description="The auditee's reason in words for refusing (ISA 505 ¶8), kept by the firm only"
    )
    follow_ups: list[FollowUpOut] = Field(
        default_factory=list, description="The firm's follow-ups in order, with their messages"
    )
    withdrawal_reason: str | None = Field(
        None, description="The firm's reason in words for withdrawing the letter (撤回), never on chain"
    )
    withdrawal_delivery: Literal["pending", "done", "failed"] | None = Field(
        None, description="At the firm, the reason's delivery to the bank; None where it stays at the firm"
    )
    history: list[ChainStep]
    pending_steps: list[OutboxStep]


class LetterPage(BaseModel):
    items: list[LetterSummary]
    total: int
    offset: int
    limit: int


class Accepted(BaseModel):
    letter_id: str
    queued: str


# --- authorisation -----------------------------------------------------------------------------


class AuthorisationRequestIn(RequestBody):
    letter_ids: list[LetterId] = Field(min_length=1, max_length=5000)
    valid_until: UnixTime | None = None
    refusal_reason: ReasonCode | None = Field(None, description="Set to prepare a refusal instead")


class AuthorisationBundle(BaseModel):
    typed_data: dict[str, Any]
    letters: list[dict[str, Any]]


RefusalText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class SignedAuthorisation(RequestBody):
    letter_ids: list[LetterId] = Field(min_length=1, max_length=5000)
    requests_root: Hex32
    firm: MemberId
    valid_until: UnixTime
    nonce: Nonce
    signature: str
    signer: Signer | None = Field(
        None,
        description="The signer (ERC-7913 bytes, 0x-hex) when it is not an ordinary key: a contract "
        "account such as the company's multisig, a passkey, a P-256 or RSA key; the gateway checks the "
        "signature with the registry's own isValidAuditeeSignature. Without it, the signer is the "
        "account the signature recovers to",
    )
    reason: ReasonCode | None = Field(None, description="Present for a refusal: its reason code")
    reason_text: RefusalText | None = Field(
        None,
        description="A refusal's reason in words (ISA 505 ¶8): kept by the firm with each letter, never on chain",
    )


FirmWordsText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class FollowUpIn(RequestBody):
    message: FirmWordsText | None = Field(
        None,
        description="The firm's message to the bank with this follow-up (1-500 characters): sent "
        "encrypted once the follow-up is on chain, if the bank holds the letter; never on chain",
    )


class WithdrawIn(RequestBody):
    reason_text: FirmWordsText | None = Field(
        None,
        description="The firm's reason for withdrawing (1-500 characters): sent encrypted once the "
        "withdrawal is on chain, if the bank holds the letter; never on chain",
    )


class AuthorisationAccepted(BaseModel):
    signer: str
    letters: int
    kind: Literal["authorise", "refuse"]


# --- replies and evidence ----------------------------------------------------------------------


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
    auditee_ref: str | None = Field(
        description="The auditee's reference on chain (hex), set when the letter was authorised or refused"
    )
    letter_hash: str
    letter: dict[str, Any]
    letter_salt: str
    reply_hash: str | None
    reply: dict[str, Any] | None
    reply_salt: str | None
    # The documents' RFC 8785 bytes as hashed, for evidence packages (version 2) to carry as they
    # are; None from a gateway older than them (the package then canonicalises the objects above).
    letter_canonical: str | None = None
    reply_canonical: str | None = None
    auditee_salt: str | None = Field(
        description="The salt of the auditee reference (hex), sent by the bank with its reply: "
        "auditee_reference(the letter's registration code, auditee_salt) is the reference on chain; "
        "None until replied"
    )
    authorisation: dict[str, Any] | None
    chain: EvidenceChain
    steps: list[ChainStep]


# --- members, identity -------------------------------------------------------------------------


class MemberOut(BaseModel):
    member_id: int
    role: str
    status: str
    account: str
    org_id: str
    display_name: str
    endpoint: str


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


# --- verification of a document against the chain ---------------------------------------------

DocumentKind = Literal["letter", "reply"]
FailureCode = Literal[
    "invalid_document", "unknown_letter", "not_replied", "hash_mismatch", "document_mismatch", "not_recorded"
]


class VerifyIn(RequestBody):
    kind: DocumentKind
    document: dict[str, Any]
    salt: str


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    detail: str


class Recording(BaseModel):
    """Where the chain recorded the document's hash, and who did."""

    model_config = ConfigDict(frozen=True)

    event: str
    block_number: int
    block_timestamp: int
    transaction_hash: str
    member_no: int
    member_role: str  # the member's current role and name in the MemberRegistry
    member_name: str


class VerificationResult(BaseModel):
    """What ``node_gateway.chain.verification`` found; ``code`` says why it failed (stable)."""

    model_config = ConfigDict(frozen=True)

    valid: bool
    code: FailureCode | None = None
    kind: DocumentKind
    letter_id: str | None = None
    document_hash: str | None = None
    letter_status: str | None = None  # the letter's current status on chain, e.g. "closed"
    recorded: Recording | None = None
    checks: list[Check]
