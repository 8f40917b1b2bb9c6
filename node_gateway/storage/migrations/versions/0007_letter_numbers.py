"""letters: the 函证编号 (firm prefix, year, sequence), unique per firm; the last number of each year

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmation_no", sa.String(length=40), nullable=True))
        batch_op.create_index("ux_letters_firm_confirmation_no", ["firm", "confirmation_no"], unique=True)
    op.create_table(
        "letter_numbers",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )


def downgrade() -> None:
    op.drop_table("letter_numbers")
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.drop_index("ux_letters_firm_confirmation_no")
        batch_op.drop_column("confirmation_no")
