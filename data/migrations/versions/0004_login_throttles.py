"""Login throttling per (user name, client) and per client instead of a lock on the account.

The counters move from ``accounts`` (``failed_logins``, ``last_failed_at``: a lock anyone could set on any
account) to ``login_throttles``, one row per counter, so several app processes share them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttles",
        sa.Column("client", sa.String(64), primary_key=True, comment="client address (geo.access.client_address)"),
        sa.Column("name_key", sa.String(32), primary_key=True,
                  comment="'' for the client's counter over every name; else a digest of the user name typed, "
                          "never the name"),
        sa.Column("failures", sa.Integer, nullable=False, comment="failed logins counted (geo.access.LoginThrottle)"),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        comment="failed-login counters per (user name, client) and per client, shared by every app process",
    )
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("last_failed_at")


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0",
                                   comment="failed logins since the last success"))
        batch.add_column(sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_table("login_throttles")
