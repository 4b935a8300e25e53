"""党建引领: party organisations, volunteer teams, consultation days, community resources, model stations.

- ``party_orgs``: the three-level network (community, grid, compound) and building party groups; a joint
  organisation (联合设置) lists every compound it covers in ``compound_codes``.
- ``volunteer_teams``: volunteer service teams per community with their member counts.
- ``consultation_days``: the monthly residents' consultation day (居民恳谈日) of each community.
- ``community_resources``: each community's working funds, space, staff and 准入 tasks; model volunteer
  community.
- ``stations.model_level``: a model (示范) station's level.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_VERSION = {"nullable": False, "server_default": "1", "comment": "optimistic-locking row version"}


def _unit_columns() -> list[sa.Column]:
    return [sa.Column("street_code", sa.String(12), nullable=False, index=True),
            sa.Column("community_code", sa.String(12), nullable=False, index=True)]


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("model_level", sa.String(20), nullable=True,
                                   comment="示范站点级别 geo.vocab.ModelLevel value; NULL: not a model"))
    op.create_table(
        "party_orgs",
        sa.Column("code", sa.String(20), primary_key=True, comment="组织编码, e.g. 350102004001P001"),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("level", sa.String(20), nullable=False, comment="geo.vocab.PartyOrgLevel value"),
        sa.Column("kind", sa.String(20), nullable=False, comment="geo.vocab.PartyOrgKind value"),
        sa.Column("setup", sa.String(10), nullable=False, server_default="single",
                  comment="geo.vocab.PartyOrgSetup value (单独设置 / 联合设置)"),
        *_unit_columns(),
        sa.Column("grid_code", sa.String(15), nullable=True, index=True,
                  comment="grid and compound levels: the (first) grid"),
        sa.Column("compound_codes", sa.Text, nullable=True,
                  comment="compound and building levels: the compounds covered, codes separated by ','"),
        sa.Column("building", sa.String(40), nullable=True, comment="building level: the building, e.g. 3号楼"),
        sa.Column("secretary", sa.String(20), nullable=True, comment="书记 / 组长"),
        sa.Column("members", sa.Integer, nullable=True, comment="党员人数"),
        sa.Column("founded_on", sa.Date, nullable=True, comment="成立日期"),
        sa.Column("version", sa.Integer, **_VERSION),
        comment="party organisations of the three-level network: community, grid, compound, building",
    )
    op.create_table(
        "volunteer_teams",
        sa.Column("code", sa.String(20), primary_key=True, comment="队伍编码, e.g. 350102004001V001"),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, index=True, comment="geo.vocab.VolunteerTeamKind value"),
        *_unit_columns(),
        sa.Column("members", sa.Integer, nullable=False, comment="志愿者人数"),
        sa.Column("founded_on", sa.Date, nullable=True, comment="成立日期"),
        sa.Column("version", sa.Integer, **_VERSION),
        comment="volunteer service teams (志愿服务队) per community",
    )
    op.create_table(
        "consultation_days",
        sa.Column("code", sa.String(20), primary_key=True, comment="e.g. 350102004001K2611 (community + yymm)"),
        sa.Column("held_on", sa.Date, nullable=False, index=True),
        *_unit_columns(),
        sa.Column("attendance", sa.Integer, nullable=True, comment="参加人数"),
        sa.Column("issues_raised", sa.Integer, nullable=False, server_default="0", comment="收集问题数"),
        sa.Column("issues_resolved", sa.Integer, nullable=False, server_default="0", comment="已解决问题数"),
        sa.Column("topics", sa.Text, nullable=True, comment="主要议题"),
        sa.Column("dispute_codes", sa.Text, nullable=True, comment="linked dispute case codes separated by ','"),
        sa.Column("version", sa.Integer, **_VERSION),
        comment="residents' consultation days (居民恳谈日), one a month per community",
    )
    op.create_table(
        "community_resources",
        sa.Column("community_code", sa.String(12), primary_key=True),
        sa.Column("street_code", sa.String(12), nullable=False, index=True),
        sa.Column("year", sa.Integer, nullable=True, comment="the year the funds are for"),
        sa.Column("funds_wan", sa.Float, nullable=True, comment="年度工作经费，万元"),
        sa.Column("space_m2", sa.Float, nullable=True, comment="办公和服务用房面积，平方米"),
        sa.Column("staff", sa.Integer, nullable=True, comment="社区工作者人数"),
        sa.Column("access_tasks", sa.Integer, nullable=True, comment="社区承担的准入事项数"),
        sa.Column("volunteer_model", sa.String(20), nullable=True,
                  comment="志愿服务示范社区 geo.vocab.ModelLevel value; NULL: not a model community"),
        sa.Column("version", sa.Integer, **_VERSION),
        comment="each community's working funds, space, staff and 准入 tasks (the community standards)",
    )


def downgrade() -> None:
    for table in ("community_resources", "consultation_days", "volunteer_teams", "party_orgs"):
        op.drop_table(table)
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("model_level")
