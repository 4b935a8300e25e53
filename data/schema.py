"""SQLAlchemy schema of the one database.

Geometry is WGS84 (EPSG:4326). On PostgreSQL it is a real PostGIS ``geometry(…, 4326)`` column
with a GiST index (created by the migration); on SQLite it is stored as WKB bytes. Every child
table carries the codes of the units above it (street_code, community_code, grid_code), so a scope
filter is a plain equality on an indexed column.

The migrations in ``data/migrations`` create exactly these tables; a test compares the two.
"""
from __future__ import annotations

import shapely
from geoalchemy2 import Geometry as PostGISGeometry
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

SRID = 4326


class GeometryWKB(TypeDecorator):
    """A geometry column: PostGIS geometry on PostgreSQL, WKB bytes elsewhere.

    Python values are shapely geometries in EPSG:4326. ``geometry_type`` is the PostGIS type
    name (POINT, MULTIPOLYGON, GEOMETRY …).
    """

    impl = LargeBinary
    cache_ok = True
    spatial_index = False  # the migration creates GiST indexes itself; GeoAlchemy2 asks for this flag

    def __init__(self, geometry_type: str = "GEOMETRY"):
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect):
        if dialect is None:  # GeoAlchemy2's DDL listeners ask without a dialect
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                PostGISGeometry(self.geometry_type, srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = shapely.from_wkb(bytes(value))
        if dialect.name == "postgresql":
            return f"SRID={SRID};{shapely.to_wkt(value, rounding_precision=-1)}"
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            data = getattr(value, "data", value)
            if isinstance(data, str):
                return shapely.from_wkb(bytes.fromhex(data))
            return shapely.from_wkb(bytes(data))
        return shapely.from_wkb(bytes(value))


metadata = MetaData()

streets = Table(
    "streets",
    metadata,
    Column("code", String(12), primary_key=True, comment="12位统计用区划代码"),
    Column("name", String(40), nullable=False),
    Column("kind", String(10), nullable=False, comment="街道 or 镇"),
    Column("geom", GeometryWKB("MULTIPOLYGON"), nullable=False),
)

communities = Table(
    "communities",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("name", String(40), nullable=False),
    Column("street_code", String(12), nullable=False, index=True),
    Column("centre_known", Boolean, nullable=False, default=False,
           comment="whether the seed point is a published approximate centre"),
    Column("geom", GeometryWKB("MULTIPOLYGON"), nullable=False),
)

grids = Table(
    "grids",
    metadata,
    Column("code", String(15), primary_key=True),
    Column("name", String(40), nullable=False),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("households", Integer, nullable=False),
    Column("population", Integer, nullable=False),
    Column("worker", String(20), nullable=True, comment="专职网格员; NULL means vacant"),
    Column("assistants", Integer, nullable=False, default=0, comment="网格协管员人数"),
    Column("worker_phone", String(20), nullable=True, comment="专职网格员电话"),
    Column("worker_since", Date, nullable=True, comment="专职网格员到岗日期"),
    Column("version", Integer, nullable=False, default=1, server_default="1", comment="optimistic-locking row version"),
    Column("geom", GeometryWKB("MULTIPOLYGON"), nullable=False),
)

compounds = Table(
    "compounds",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("grid_code", String(15), nullable=True, index=True),
    Column("address", String(120), nullable=True),
    Column("built_year", Integer, nullable=True),
    Column("buildings", Integer, nullable=True),
    Column("households", Integer, nullable=False),
    Column("has_property_mgmt", Boolean, nullable=False, default=False),
    Column("status", String(20), nullable=False, comment="geo.vocab.RenovationStatus value"),
    Column("reno_type", String(20), nullable=True, comment="geo.vocab.RenovationType value"),
    Column("plan_year", Integer, nullable=True),
    Column("budget_wan", Float, nullable=True, comment="改造预算，万元"),
    Column("started_on", Date, nullable=True),
    Column("completed_on", Date, nullable=True),
    Column("version", Integer, nullable=False, default=1, comment="optimistic-locking row version"),
    Column("geom", GeometryWKB("POINT"), nullable=False),
)

stations = Table(
    "stations",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("kind", String(20), nullable=False, index=True, comment="geo.vocab.StationKind value"),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("grid_code", String(15), nullable=True, index=True),
    Column("address", String(120), nullable=True),
    Column("capacity", Integer, nullable=True),
    Column("opening_hours", String(40), nullable=True),
    Column("stars", Integer, nullable=True, comment="星级 (养老照料中心)"),
    Column("opened_on", Date, nullable=True, comment="启用日期"),
    Column("closed_on", Date, nullable=True, comment="关闭日期；空表示仍在运营"),
    Column("version", Integer, nullable=False, default=1, server_default="1", comment="optimistic-locking row version"),
    Column("model_level", String(20), nullable=True, comment="示范站点级别 geo.vocab.ModelLevel value; NULL: not a model"),
    Column("geom", GeometryWKB("POINT"), nullable=False),
)

disputes = Table(
    "disputes",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("category", String(20), nullable=False, index=True, comment="geo.vocab.DisputeCategory value"),
    Column("source", String(20), nullable=False, comment="geo.vocab.DisputeSource value"),
    Column("status", String(20), nullable=False, index=True, comment="geo.vocab.DisputeStatus value"),
    Column("reported_on", Date, nullable=False, index=True),
    Column("closed_on", Date, nullable=True),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("grid_code", String(15), nullable=False, index=True),
    Column("compound_code", String(20), nullable=True),
    Column("address", String(120), nullable=False),
    Column("summary", Text, nullable=True),
    Column("parties", Text, nullable=True, comment="当事人情况"),
    Column("mediator", String(60), nullable=True, comment="调解员或调解室"),
    Column("mediating_on", Date, nullable=True, comment="开始调解日期"),
    Column("outcome", Text, nullable=True, comment="调解结果"),
    Column("agreement_on", Date, nullable=True, comment="调解协议日期"),
    Column("transferred_to", String(60), nullable=True, comment="转办单位"),
    Column("version", Integer, nullable=False, default=1, server_default="1", comment="optimistic-locking row version"),
    Column("geom", GeometryWKB("POINT"), nullable=False),
)

grid_workers = Table(
    "grid_workers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("grid_code", String(15), nullable=False, index=True),
    Column("worker", String(20), nullable=False, comment="专职网格员"),
    Column("phone", String(20), nullable=True),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date, nullable=True, comment="离岗日期；空表示仍在岗"),
    comment="full-time grid workers' periods per grid (vacancy = no open period)",
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(60), nullable=False),
    Column("action", String(30), nullable=False, comment="insert / update / delete / import / sample"),
    Column("table_name", String(30), nullable=False),
    Column("record_code", String(40), nullable=True, index=True),
    Column("before", Text, nullable=True, comment="JSON"),
    Column("after", Text, nullable=True, comment="JSON"),
)

GEO_TABLES = {t.name: t for t in (streets, communities, grids, compounds, stations, disputes)}

party_orgs = Table(
    "party_orgs",
    metadata,
    Column("code", String(20), primary_key=True, comment="组织编码, e.g. 350102004001P001"),
    Column("name", String(80), nullable=False),
    Column("level", String(20), nullable=False, comment="geo.vocab.PartyOrgLevel value"),
    Column("kind", String(20), nullable=False, comment="geo.vocab.PartyOrgKind value"),
    Column("setup", String(10), nullable=False, default="single", server_default="single",
           comment="geo.vocab.PartyOrgSetup value (单独设置 / 联合设置)"),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("grid_code", String(15), nullable=True, index=True, comment="grid and compound levels: the (first) grid"),
    Column("compound_codes", Text, nullable=True,
           comment="compound and building levels: the compounds covered, codes separated by ','"),
    Column("building", String(40), nullable=True, comment="building level: the building, e.g. 3号楼"),
    Column("secretary", String(20), nullable=True, comment="书记 / 组长"),
    Column("members", Integer, nullable=True, comment="党员人数"),
    Column("founded_on", Date, nullable=True, comment="成立日期"),
    Column("version", Integer, nullable=False, default=1, server_default="1", comment="optimistic-locking row version"),
    comment="party organisations of the three-level network: community, grid, compound, building",
)

volunteer_teams = Table(
    "volunteer_teams",
    metadata,
    Column("code", String(20), primary_key=True, comment="队伍编码, e.g. 350102004001V001"),
    Column("name", String(80), nullable=False),
    Column("kind", String(20), nullable=False, index=True, comment="geo.vocab.VolunteerTeamKind value"),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("members", Integer, nullable=False, comment="志愿者人数"),
    Column("founded_on", Date, nullable=True, comment="成立日期"),
    Column("version", Integer, nullable=False, default=1, server_default="1", comment="optimistic-locking row version"),
    comment="volunteer service teams (志愿服务队) per community",
)

consultation_days = Table(
    "consultation_days",
    metadata,
    Column("code", String(20), primary_key=True, comment="e.g. 350102004001K2611 (community + yymm)"),
    Column("held_on", Date, nullable=False, index=True),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False, index=True),
    Column("attendance", Integer, nullable=True, comment="参加人数"),
    Column("issues_raised", Integer, nullable=False, default=0, server_default="0", comment="收集问题数"),
    Column("issues_resolved", Integer, nullable=False, default=0, server_default="0", comment="已解决问题数"),
    Column("topics", Text, nullable=True, comment="主要议题"),
    Column("dispute_codes", Text, nullable=True, comment="linked dispute case codes separated by ','"),
    Column("version", Integer, nullable=False, default=1, server_default="1", comment="optimistic-locking row version"),
    comment="residents' consultation days (居民恳谈日), one a month per community",
)

community_resources = Table(
    "community_resources",
    metadata,
    Column("community_code", String(12), primary_key=True),
    Column("street_code", String(12), nullable=False, index=True),
    Column("year", Integer, nullable=True, comment="the year the funds are for"),
    Column("funds_wan", Float, nullable=True, comment="年度工作经费，万元"),
    Column("space_m2", Float, nullable=True, comment="办公和服务用房面积，平方米"),
    Column("staff", Integer, nullable=True, comment="社区工作者人数"),
    Column("access_tasks", Integer, nullable=True, comment="社区承担的准入事项数"),
    Column("volunteer_model", String(20), nullable=True,
           comment="志愿服务示范社区 geo.vocab.ModelLevel value; NULL: not a model community"),
    Column("version", Integer, nullable=False, default=1, server_default="1", comment="optimistic-locking row version"),
    comment="each community's working funds, space, staff and 准入 tasks (the community standards)",
)

RECORD_TABLES = {t.name: t for t in (party_orgs, volunteer_teams, consultation_days, community_resources)}
"""Tables without geometry that belong to a community (scoped by street_code / community_code)."""


reference_features = Table(
    "reference_features",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False, index=True, comment="geo.vocab.ReferenceKind value"),
    Column("name", String(80), nullable=True, comment="道路名、建筑名、水系名或地名"),
    Column("subtype", String(40), nullable=True, comment="e.g. the road class (主干路, 次干路, 支路)"),
    Column("minx", Float, nullable=False, comment="bounding box, WGS84 degrees"),
    Column("miny", Float, nullable=False),
    Column("maxx", Float, nullable=False),
    Column("maxy", Float, nullable=False),
    Column("source", String(120), nullable=True, comment="the imported file's name"),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("geom", GeometryWKB("GEOMETRY"), nullable=False),
    comment="reference layers drawn as a light vector basemap: roads, buildings, water, place names",
)
"""District-wide reference features (no unit codes): a light vector basemap under the overlays (issue 21)."""


accounts = Table(
    "accounts",
    metadata,
    Column("username", String(40), primary_key=True, comment="login name; the audit log's actor"),
    Column("display_name", String(60), nullable=False),
    Column("role", String(20), nullable=False, comment="geo.vocab.Role value"),
    Column("scope_code", String(12), nullable=True, comment="sub-district or community code; NULL for the district"),
    Column("password_hash", String(255), nullable=True, comment="argon2id hash; NULL: no password login (OIDC only)"),
    Column("active", Boolean, nullable=False, default=True),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("is_demo", Boolean, nullable=False, default=False, comment="demo account with a published password"),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("client", String(64), primary_key=True, comment="client address (geo.access.client_address)"),
    Column("name_key", String(32), primary_key=True,
           comment="'' for the client's counter over every name; else a digest of the user name typed, never the name"),
    Column("failures", Integer, nullable=False, comment="failed logins counted (geo.access.LoginThrottle)"),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    comment="failed-login counters per (user name, client) and per client, shared by every app process",
)

code_sequences = Table(
    "code_sequences",
    metadata,
    Column("prefix", String(16), primary_key=True, comment="e.g. 350102004001C (compounds) or JF26 (disputes)"),
    Column("last", Integer, nullable=False, comment="highest sequence number ever issued under the prefix"),
    comment="codes issued to imported records that came without one; a number is never issued twice",
)
