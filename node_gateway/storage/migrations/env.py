"""Alembic environment: runs on the connection the gateway hands it (see ``db.migrate``)."""

from alembic import context

import bank_adapter.models  # noqa: F401  -- the bank workflow's tables live on the same Base
from node_gateway.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
