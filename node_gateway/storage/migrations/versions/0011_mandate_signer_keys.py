"""mandates: a signer is an ERC-7913 key, an address or a verifier's address and a key in hex

Until then a mandate's signer was an account address (42 characters); a passkey's, a P-256 or an
RSA key's signer is longer (up to 0x and 2,048 hex digits: 1,024 bytes).

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.alter_column(
            "signer",
            existing_type=sa.String(length=42),
            type_=sa.String(length=2050),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.alter_column(
            "signer",
            existing_type=sa.String(length=2050),
            type_=sa.String(length=42),
            existing_nullable=False,
        )
