"""Editing where things happen: dispute cases along their mediation, grid staffing with history, stations
opened and closed.

- ``disputes``: a row ``version`` (optimistic locking) and the fields of the mediation steps: parties,
  mediator (or 调解室), the day mediation began, the outcome, the agreement date and the body a case was
  transferred to. A case is open while it has no 办结日期 (``closed_on``).
- ``grids``: a row ``version``, the full-time worker's phone and start date.
- ``grid_workers``: one row per period a worker held a grid (ended_on NULL: still there), so vacancy
  periods can be counted and a past date's staffing shown.
- ``stations``: a row ``version`` and the days it opened and closed (closed stations are kept).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_VERSION = {"nullable": False, "server_default": "1", "comment": "optimistic-locking row version"}


def upgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.add_column(sa.Column("parties", sa.Text, nullable=True, comment="当事人情况"))
        batch.add_column(sa.Column("mediator", sa.String(60), nullable=True, comment="调解员或调解室"))
        batch.add_column(sa.Column("mediating_on", sa.Date, nullable=True, comment="开始调解日期"))
        batch.add_column(sa.Column("outcome", sa.Text, nullable=True, comment="调解结果"))
        batch.add_column(sa.Column("agreement_on", sa.Date, nullable=True, comment="调解协议日期"))
        batch.add_column(sa.Column("transferred_to", sa.String(60), nullable=True, comment="转办单位"))
        batch.add_column(sa.Column("version", sa.Integer, **_VERSION))
    with op.batch_alter_table("grids") as batch:
        batch.add_column(sa.Column("worker_phone", sa.String(20), nullable=True, comment="专职网格员电话"))
        batch.add_column(sa.Column("worker_since", sa.Date, nullable=True, comment="专职网格员到岗日期"))
        batch.add_column(sa.Column("version", sa.Integer, **_VERSION))
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("opened_on", sa.Date, nullable=True, comment="启用日期"))
        batch.add_column(sa.Column("closed_on", sa.Date, nullable=True, comment="关闭日期；空表示仍在运营"))
        batch.add_column(sa.Column("version", sa.Integer, **_VERSION))
    op.create_table(
        "grid_workers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("grid_code", sa.String(15), nullable=False, index=True),
        sa.Column("worker", sa.String(20), nullable=False, comment="专职网格员"),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("ended_on", sa.Date, nullable=True, comment="离岗日期；空表示仍在岗"),
        comment="full-time grid workers' periods per grid (vacancy = no open period)",
    )


def downgrade() -> None:
    op.drop_table("grid_workers")
    for table, columns in (("stations", ("version", "closed_on", "opened_on")),
                           ("grids", ("version", "worker_since", "worker_phone")),
                           ("disputes", ("version", "transferred_to", "agreement_on", "outcome", "mediating_on",
                                         "mediator", "parties"))):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
