"""letters: the auditee reference comes with the authorisation, its salt with the bank's reply

The request no longer names the auditee's reference: the firm finds it (the one under which the
letter's bank mandated the signer) when it relays the authorisation or refusal, and the chain
records it then, so a letter's ``auditee_ref`` is empty until then. The bank sends the reference's
salt with its reply; ``auditee_salt`` keeps it beside the reply, so that the evidence shows the
reference commits to the letter's auditee.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.alter_column("auditee_ref", existing_type=sa.String(length=66), nullable=True)
        batch_op.add_column(sa.Column("auditee_salt", sa.String(length=66), nullable=True))


def downgrade() -> None:
    # A letter not yet authorised has no reference; the old schema wants one: the zero reference.
    zero = sa.text("UPDATE letters SET auditee_ref = :zero WHERE auditee_ref IS NULL")
    op.execute(zero.bindparams(zero="0x" + "00" * 32))
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.drop_column("auditee_salt")
        batch_op.alter_column("auditee_ref", existing_type=sa.String(length=66), nullable=False)
