"""Initial schema: hierarchy, compounds, stations, disputes, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.schema import GeometryWKB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GEOMETRY_TABLES = ("streets", "communities", "grids", "compounds", "stations", "disputes")


def _unit_columns(grid: bool) -> list[sa.Column]:
    cols = [
        sa.Column("street_code", sa.String(12), nullable=False, index=True),
        sa.Column("community_code", sa.String(12), nullable=False, index=True),
    ]
    if grid:
        cols.append(sa.Column("grid_code", sa.String(15), nullable=True, index=True))
    return cols


def upgrade() -> None:
    op.create_table(
        "streets",
        sa.Column("code", sa.String(12), primary_key=True, comment="12位统计用区划代码"),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False, comment="街道 or 镇"),
        sa.Column("geom", GeometryWKB("MULTIPOLYGON"), nullable=False),
    )
    op.create_table(
        "communities",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("street_code", sa.String(12), nullable=False, index=True),
        sa.Column("centre_known", sa.Boolean, nullable=False,
                  comment="whether the seed point is a published approximate centre"),
        sa.Column("geom", GeometryWKB("MULTIPOLYGON"), nullable=False),
    )
    op.create_table(
        "grids",
        sa.Column("code", sa.String(15), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        *_unit_columns(grid=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("population", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(20), nullable=True, comment="专职网格员; NULL means vacant"),
        sa.Column("assistants", sa.Integer, nullable=False, comment="网格协管员人数"),
        sa.Column("geom", GeometryWKB("MULTIPOLYGON"), nullable=False),
    )
    op.create_table(
        "compounds",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        *_unit_columns(grid=True),
        sa.Column("address", sa.String(120), nullable=True),
        sa.Column("built_year", sa.Integer, nullable=True),
        sa.Column("buildings", sa.Integer, nullable=True),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("has_property_mgmt", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, comment="geo.vocab.RenovationStatus value"),
        sa.Column("reno_type", sa.String(20), nullable=True, comment="geo.vocab.RenovationType value"),
        sa.Column("plan_year", sa.Integer, nullable=True),
        sa.Column("budget_wan", sa.Float, nullable=True, comment="改造预算，万元"),
        sa.Column("started_on", sa.Date, nullable=True),
        sa.Column("completed_on", sa.Date, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, comment="optimistic-locking row version"),
        sa.Column("geom", GeometryWKB("POINT"), nullable=False),
    )
    op.create_table(
        "stations",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, index=True, comment="geo.vocab.StationKind value"),
        *_unit_columns(grid=True),
        sa.Column("address", sa.String(120), nullable=True),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.Column("opening_hours", sa.String(40), nullable=True),
        sa.Column("stars", sa.Integer, nullable=True, comment="星级 (养老照料中心)"),
        sa.Column("geom", GeometryWKB("POINT"), nullable=False),
    )
    op.create_table(
        "disputes",
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("category", sa.String(20), nullable=False, index=True,
                  comment="geo.vocab.DisputeCategory value"),
        sa.Column("source", sa.String(20), nullable=False, comment="geo.vocab.DisputeSource value"),
        sa.Column("status", sa.String(20), nullable=False, index=True, comment="geo.vocab.DisputeStatus value"),
        sa.Column("reported_on", sa.Date, nullable=False, index=True),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("street_code", sa.String(12), nullable=False, index=True),
        sa.Column("community_code", sa.String(12), nullable=False, index=True),
        sa.Column("grid_code", sa.String(15), nullable=False, index=True),
        sa.Column("compound_code", sa.String(20), nullable=True),
        sa.Column("address", sa.String(120), nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
        sa.Column("geom", GeometryWKB("POINT"), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("action", sa.String(30), nullable=False, comment="insert / update / delete / import / sample"),
        sa.Column("table_name", sa.String(30), nullable=False),
        sa.Column("record_code", sa.String(40), nullable=True, index=True),
        sa.Column("before", sa.Text, nullable=True, comment="JSON"),
        sa.Column("after", sa.Text, nullable=True, comment="JSON"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in GEOMETRY_TABLES:
            op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def downgrade() -> None:
    for table in ("audit_log", *reversed(GEOMETRY_TABLES)):
        op.drop_table(table)
