"""Alembic environment: runs on the connection the gateway hands it (see ``db.migrate``), with the
metadata of the core's tables and of every plugin's branch (``node_gateway.plugins``)."""

from alembic import context

from node_gateway.storage.models import Base

config = context.config
connection = config.attributes["connection"]
metadata = config.attributes.get("target_metadata", Base.metadata)
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
