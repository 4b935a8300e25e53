"""Code sequences: the highest number issued per code prefix, so a code given to an imported record is never reused.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_sequences",
        sa.Column("prefix", sa.String(16), primary_key=True,
                  comment="e.g. 350102004001C (compounds) or JF26 (disputes)"),
        sa.Column("last", sa.Integer, nullable=False, comment="highest sequence number ever issued under the prefix"),
        comment="codes issued to imported records that came without one; a number is never issued twice",
    )


def downgrade() -> None:
    op.drop_table("code_sequences")
