"""The gateway's database: its letters, the chain events that concern it, its outboxes, its users.

Rows stay inside the gateway: routes turn them into API models, never return them directly.
Documents are stored only as ciphertext (see ``vault.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None  # PostgreSQL: the session's zone


class Base(DeclarativeBase):
    pass


class LetterRow(Base):
    """A letter this member is party to (or, for a regulator, has seen on chain)."""

    __tablename__ = "letters"

    letter_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    firm: Mapped[int] = mapped_column(Integer)
    bank: Mapped[int] = mapped_column(Integer)
    # The auditee's reference at the bank, under which it mandated the signer who authorised or
    # refused the letter: None until then (the chain records it with the authorisation).
    auditee_ref: Mapped[str | None] = mapped_column(String(66))
    letter_hash: Mapped[str] = mapped_column(String(66))
    due_at: Mapped[int] = mapped_column(BigInteger)
    # The chain's state as this gateway last saw it (the indexer updates it).
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Encrypted {document, salt} of the letter and of the reply, when this member holds them.
    letter_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    reply_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    reply_hash: Mapped[str | None] = mapped_column(String(66))
    reply_verified: Mapped[bool] = mapped_column(default=False)
    # The salt of the auditee reference (hex), which the bank sends with its reply (and keeps here):
    # auditee_reference(the letter's registration code, salt) is the reference on chain.
    auditee_salt: Mapped[str | None] = mapped_column(String(66))
    authorisation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[int | None] = mapped_column(Integer)  # rejection or refusal code
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # The letter's 函证编号 (firm prefix, year, sequence), as its document states it.
    confirmation_no: Mapped[str | None] = mapped_column(String(40))
    # The firm's people (user names): who prepared the letter, who reviewed it (审核) before it
    # went out, who accepted the reply (验收).
    prepared_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    # Why the firm's gateway withdrew the letter by itself (not_authorised_in_time: 退回).
    returned: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_letters_due", "due_at"),
        Index("ix_letters_bank_status", "bank", "status"),
        Index("ux_letters_firm_confirmation_no", "firm", "confirmation_no", unique=True),
    )


class LetterNumberRow(Base):
    """The last 函证编号 sequence the firm's gateway gave out in a year: numbers never repeat."""

    __tablename__ = "letter_numbers"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class ChainEventRow(Base):
    """An event of the contracts, as the indexer recorded it."""

    __tablename__ = "chain_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    transaction_hash: Mapped[str] = mapped_column(String(66))
    block_timestamp: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(40), index=True)
    letter_id: Mapped[str | None] = mapped_column(String(66), index=True)
    firm: Mapped[int | None] = mapped_column(Integer)
    bank: Mapped[int | None] = mapped_column(Integer, index=True)
    member_id: Mapped[int | None] = mapped_column(Integer)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("block_number", "log_index", name="uq_chain_events_position"),)


class IndexerCursor(Base):
    """The next block the indexer reads; moved in the same transaction as the events it stores."""

    __tablename__ = "indexer_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_block: Mapped[int] = mapped_column(BigInteger)


class OutboxTransaction(Base):
    """A chain step this member must record, retried until it is on chain."""

    __tablename__ = "outbox_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Enqueueing the same step twice is a no-op: the key names the step and its target.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    step: Mapped[str] = mapped_column(String(32))
    letter_id: Mapped[str | None] = mapped_column(String(66), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    transaction_hash: Mapped[str | None] = mapped_column(String(66))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OutboxDelivery(Base):
    """An envelope this member must deliver to another member's gateway."""

    __tablename__ = "outbox_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(String(66), index=True)
    step: Mapped[str] = mapped_column(String(12))  # envelopes.Step
    recipient: Mapped[int] = mapped_column(Integer)
    ordinal: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # the Nth follow-up
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Sealed again to the recipient's current keys after it could not open the envelope.
    reseals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("letter_id", "step", "recipient", "ordinal", name="uq_outbox_delivery"),
    )


class PeerNonce(Base):
    """A peer request already served: the same (sender, nonce) is refused as a replay."""

    __tablename__ = "peer_nonces"

    sender: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class UserRow(Base):
    """A person or system using this gateway, with a hashed API key (for programs), and for people
    a password hash (argon2id) and optionally a sealed TOTP secret (``core/security.py``)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    roles: Mapped[str] = mapped_column(String(200))  # space-separated
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Set by an admin or the CLI: the user chooses their own at the next sign-in.
    password_one_time: Mapped[bool] = mapped_column(default=False, server_default=false())
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a TOTP code is good once
    # The person behind the user as documents name them (a bank reply's 经办 and 复核): their name
    # and their title (职务), recorded by an admin; a user name is an account, not a person.
    display_name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))


class WebSession(Base):
    """A person signed in to the gateway's pages (``node_gateway/web``): the cookie holds the token,
    the row only its SHA-256. ``pending`` is the step of the sign-in still due ("totp", "password")."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    pending: Mapped[str | None] = mapped_column(String(16))
    flash: Mapped[str | None] = mapped_column(Text)  # a message for the next page shown
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SignInFailures(Base):
    """Failed sign-ins to the pages (a password or a TOTP code) counted for one user name or one
    client address (``web/sign_in_limit.py``). ``key`` is the SHA-256 of "name:…" or "address:…":
    a name is counted whether or not such a user exists, and what someone typed is not kept."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class MandateRow(Base):
    """A bank's mandate signer for one of its customers, as the bank registered it."""

    __tablename__ = "mandates"

    auditee_ref: Mapped[str] = mapped_column(String(66), primary_key=True)
    # ERC-7913 in hex (node_gateway.chain.signers): an address, or a verifier and a key (core 0011).
    signer: Mapped[str] = mapped_column(String(2050), primary_key=True)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BankRulesRow(Base):
    """A bank's signed business rules: at a bank its own, as its admin last set them; at an audit
    firm each bank's, as last fetched from it and checked against the registry."""

    __tablename__ = "bank_rules"

    bank: Mapped[int] = mapped_column(Integer, primary_key=True)
    signed: Mapped[dict[str, Any]] = mapped_column(JSON)  # the SignedBankRules as JSON
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class NoticeRow(Base):
    """A notice about a letter exchanged off chain with the other party (a bank's non-compliance
    notice to the firm, a firm's follow-up message or withdrawal reason to the bank, the auditee's
    refusal in words), sealed; its fact and time are on chain, its words only here. One per letter,
    kind and ordinal (the Nth follow-up; 0 for the kinds that happen once), from the member that
    sent it."""

    __tablename__ = "notices"

    letter_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, primary_key=True, default=0, server_default="0")
    sender: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
