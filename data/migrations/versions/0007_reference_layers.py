"""Reference layers (参考图层): roads, buildings, water and place names imported from the office's GIS files.

``reference_features`` holds every imported feature of the four kinds (``geo.vocab.ReferenceKind``) in
WGS84, drawn as a light vector basemap under the overlays. They belong to the district, not to a unit,
so they carry no unit codes; ``minx``…``maxy`` (degrees) let a view read only what it shows without a
spatial index on SQLite. An import of a kind replaces the features of that kind.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from data.schema import GeometryWKB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reference_features",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(10), nullable=False, index=True, comment="geo.vocab.ReferenceKind value"),
        sa.Column("name", sa.String(80), nullable=True, comment="道路名、建筑名、水系名或地名"),
        sa.Column("subtype", sa.String(40), nullable=True, comment="e.g. the road class (主干路, 次干路, 支路)"),
        sa.Column("minx", sa.Float, nullable=False, comment="bounding box, WGS84 degrees"),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
        sa.Column("source", sa.String(120), nullable=True, comment="the imported file's name"),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("geom", GeometryWKB("GEOMETRY"), nullable=False),
        comment="reference layers drawn as a light vector basemap: roads, buildings, water, place names",
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_reference_features_geom", "reference_features", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("reference_features")
