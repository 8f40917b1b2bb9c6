"""bank_rules: a bank's signed business rules (its own at a bank, each bank's at a firm)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node_gateway.storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_rules",
        sa.Column("bank", sa.Integer(), nullable=False),
        sa.Column("signed", sa.JSON(), nullable=False),
        sa.Column("fetched_at", node_gateway.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bank"),
    )


def downgrade() -> None:
    op.drop_table("bank_rules")
