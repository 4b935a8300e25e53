"""Alembic environment: runs the migrations on the connection handed over by data.db.migrate()."""
from __future__ import annotations

from alembic import context

from data.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # invoked from the alembic command line
    from sqlalchemy import create_engine

    from geo.settings import get_settings

    connection = create_engine(get_settings().db_url).connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
