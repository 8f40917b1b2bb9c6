"""letters: the firm's preparer, reviewer (审核) and acceptor (验收); why the firm's gateway returned
a letter by itself (not authorised in time)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (("prepared_by", 64), ("reviewed_by", 64), ("accepted_by", 64), ("returned", 32))


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        for name, length in _COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
