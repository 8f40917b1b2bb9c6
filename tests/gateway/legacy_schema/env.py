"""Alembic environment of the schema before the bank adapter's branch: the gateway's migrations as
they were at its head 0003 (``versions/``, copied unchanged from git), one linear chain
0001 → 0002 (the bank's tables) → 0003. It runs on the connection the test hands it."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
