"""users: the person's name and title (a reply's 经办 and 复核); notices exchanged off chain

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node_gateway.storage.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
    op.create_table(
        "notices",
        sa.Column("letter_id", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", node_gateway.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("letter_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("notices")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("title")
        batch_op.drop_column("display_name")
