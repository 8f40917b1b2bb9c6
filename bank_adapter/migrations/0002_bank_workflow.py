"""bank workflow: compliance checks, reply drafts, decision log (bank_adapter.models)

The first revision of the bank adapter's branch (``bank``), which starts from the gateway's base
revision 0001. Until the split it was the core's 0002 (0001 → 0002 → 0003): a database migrated
then is at 0003 and already holds these tables, so this revision adopts them as they are instead
of creating them; Alembic then records the branch's head beside the core's.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node_gateway.storage.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("bank",)
depends_on: str | Sequence[str] | None = None

_UTC = node_gateway.storage.models.UtcDateTime(timezone=True)
_TABLES = ("bank_compliance_checks", "bank_drafts", "bank_decisions")


def _created_before_the_split() -> bool:
    """Whether the core's former 0002 created the tables already (all of them, or it is an error)."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    present = [table for table in _TABLES if table in existing]
    if present and len(present) != len(_TABLES):
        raise RuntimeError(f"the database holds some of the bank adapter's tables, not all: {present}")
    return bool(present)


def upgrade() -> None:
    if _created_before_the_split():
        return
    op.create_table(
        "bank_compliance_checks",
        sa.Column("letter_id", sa.String(length=66), nullable=False),
        sa.Column("received_at", _UTC, nullable=False),
        sa.Column("compliance_due", sa.Date(), nullable=False),
        sa.Column("reply_due", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("checked_at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("letter_id"),
    )
    op.create_table(
        "bank_drafts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("letter_id", sa.String(length=66), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("letter_hash", sa.String(length=66), nullable=False),
        sa.Column("bank_member_no", sa.Integer(), nullable=False),
        sa.Column("content_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("exceptions", sa.Integer(), nullable=False),
        sa.Column("attention", sa.Integer(), nullable=False),
        sa.Column("preparer_id", sa.String(length=64), nullable=False),
        sa.Column("preparer_name", sa.String(length=200), nullable=False),
        sa.Column("reviewer_id", sa.String(length=64), nullable=True),
        sa.Column("reviewer_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("decided_at", _UTC, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("letter_id", "version", name="uq_bank_drafts_version"),
    )
    with op.batch_alter_table("bank_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_drafts_letter_id"), ["letter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_drafts_status"), ["status"], unique=False)

    op.create_table(
        "bank_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("letter_id", sa.String(length=66), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Integer(), nullable=True),
        sa.Column("note_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("at", _UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bank_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_bank_decisions_letter", ["letter_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bank_decisions_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_decisions_at"))
        batch_op.drop_index("ix_bank_decisions_letter")
    op.drop_table("bank_decisions")
    with op.batch_alter_table("bank_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_drafts_status"))
        batch_op.drop_index(batch_op.f("ix_bank_drafts_letter_id"))
    op.drop_table("bank_drafts")
    op.drop_table("bank_compliance_checks")
