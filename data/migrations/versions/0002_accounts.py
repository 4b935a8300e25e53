"""Accounts: login name, role, scope, argon2 password hash, throttling counters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("username", sa.String(40), primary_key=True, comment="login name; the audit log's actor"),
        sa.Column("display_name", sa.String(60), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, comment="geo.vocab.Role value"),
        sa.Column("scope_code", sa.String(12), nullable=True,
                  comment="sub-district or community code; NULL for the district"),
        sa.Column("password_hash", sa.String(255), nullable=True,
                  comment="argon2id hash; NULL: no password login (OIDC only)"),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("is_demo", sa.Boolean, nullable=False, comment="demo account with a published password"),
        sa.Column("failed_logins", sa.Integer, nullable=False, comment="failed logins since the last success"),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("accounts")
