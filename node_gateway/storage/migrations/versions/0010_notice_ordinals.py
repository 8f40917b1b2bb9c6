"""notices and delivered envelopes: an ordinal (a letter's Nth follow-up, each with its own message)

Follow-ups repeat, so the firm's message with each is kept, and delivered, under its ordinal; the
kinds that happen once (a notice, a refusal, a withdrawal) have ordinal 0.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import node_gateway.storage.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPY = (
    "INSERT INTO notices_rebuilt (letter_id, kind, sender, sealed, received_at) "
    "SELECT letter_id, kind, sender, sealed, received_at FROM notices"
)


def _notices(name: str, key: list[str], *, ordinal: bool) -> None:
    columns: list[sa.schema.SchemaItem] = [
        sa.Column("letter_id", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", node_gateway.storage.models.UtcDateTime(timezone=True), nullable=False),
    ]
    if ordinal:
        columns.insert(2, sa.Column("ordinal", sa.Integer(), server_default="0", nullable=False))
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key))


def _rebuild_notices(key: list[str], *, ordinal: bool) -> None:
    """The notices table again with another primary key (on every database, not only SQLite)."""
    _notices("notices_rebuilt", key, ordinal=ordinal)
    op.execute(_COPY)
    op.drop_table("notices")
    op.rename_table("notices_rebuilt", "notices")


def upgrade() -> None:
    _rebuild_notices(["letter_id", "kind", "ordinal"], ordinal=True)
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ordinal", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("uq_outbox_delivery", type_="unique")
        batch_op.create_unique_constraint("uq_outbox_delivery", ["letter_id", "step", "recipient", "ordinal"])


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE ordinal > 1")
    op.execute("DELETE FROM outbox_deliveries WHERE ordinal > 1")
    _rebuild_notices(["letter_id", "kind"], ordinal=False)
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_delivery", type_="unique")
        batch_op.create_unique_constraint("uq_outbox_delivery", ["letter_id", "step", "recipient"])
        batch_op.drop_column("ordinal")
