"""The bank workflow's tables in the gateway's database: the bank adapter's own, on their own
metadata, created by its own Alembic branch (``bank_adapter/migrations``, branch ``bank``).

They exist in every gateway's database where the bank adapter is installed (one schema for all
roles) and only a bank's fill up. They refer to letters by id only: the letters are the
gateway's, read through ``node_gateway.services.facade``. Drafts hold confirmation data, so their
content is sealed with the gateway's storage key like every document; so are officers' free-text
notes. What stays in clear is the process: who did what, when, to which letter, with which reason
code.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from node_gateway.storage.models import UtcDateTime, utcnow


class BankBase(DeclarativeBase):
    """The bank adapter's tables (``BankBase.metadata``)."""


class ComplianceCheckRow(BankBase):
    """The compliance decision on a received letter, and the deadlines it started."""

    __tablename__ = "bank_compliance_checks"

    letter_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    compliance_due: Mapped[date] = mapped_column(Date)
    reply_due: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))  # passed | rejected
    reason: Mapped[int | None] = mapped_column(Integer)  # RejectionReason when rejected
    detail: Mapped[str] = mapped_column(Text)  # what was checked or found; never the letter's data
    decided_by: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DraftRow(BankBase):
    """One version of the reply to a letter, from drafting to approval."""

    __tablename__ = "bank_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(String(66), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # see approval.DraftStatus
    letter_hash: Mapped[str] = mapped_column(String(66))
    bank_member_no: Mapped[int] = mapped_column(Integer)
    content_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # approval.DraftContent, sealed
    exceptions: Mapped[int] = mapped_column(Integer)  # items answered with an exception
    attention: Mapped[int] = mapped_column(Integer)  # points a person must look at
    preparer_id: Mapped[str] = mapped_column(String(64))
    preparer_name: Mapped[str] = mapped_column(String(200))
    reviewer_id: Mapped[str | None] = mapped_column(String(64))
    reviewer_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("letter_id", "version", name="uq_bank_drafts_version"),)


class DecisionRow(BankBase):
    """One entry of the decision log: who did what to which letter, and when."""

    __tablename__ = "bank_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(String(66))
    draft_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))  # see approval.Action
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[int | None] = mapped_column(Integer)
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_bank_decisions_letter", "letter_id", "id"),)
