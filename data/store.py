"""The store: opens the database, migrates it, and hands out GeoDataFrames per table and scope.

Every frame is in EPSG:4326 with its geometry in the column ``geometry``; date columns are
pandas datetimes (NaT when empty). Writes go through functions here so that each one lands in
the audit log, whose highest id is the data version used as a cache key.

Every entry point here runs inside ``data.faults.database_errors``: a busy, unreachable or read-only
database raises ``DatabaseBusy`` / ``DatabaseUnavailable`` / ``DatabaseReadOnly`` (plain Chinese with an
incident id), and a busy write is re-run as a whole within ``db_busy_retry`` seconds first.
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, LargeBinary, create_engine, event, func, insert, inspect, make_url, select, type_coerce

from data import schema
from data.faults import database_errors, track_commits
from geo.errors import GuloError
from geo.scope import DISTRICT, Scope
from geo.settings import Settings, get_settings
from geo.vocab import Level

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CRS = "EPSG:4326"


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """An Engine for ``url``; for SQLite the file's directory is created and WAL mode is used.

    A statement waits ``db_busy_timeout`` seconds (settings when the engine is made) for a lock held by
    another writer: SQLite's busy timeout, PostgreSQL's ``lock_timeout``. PostgreSQL connections are
    pinged before use, so the engine recovers by itself once a stopped server is back."""
    wait = get_settings().db_busy_timeout
    if url.startswith("sqlite:///"):
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": wait})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", lambda dbapi_conn, _record: _pg_session(dbapi_conn, wait))
    track_commits(engine)
    return engine


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL, also in URI form (``sqlite:///file:/x/y.db?mode=ro&uri=true``)."""
    database = make_url(url).database or ""
    return Path(database.removeprefix("file:").split("?", 1)[0])


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _pg_session(dbapi_conn, lock_wait: float) -> None:
    """A new PostgreSQL connection waits at most ``lock_wait`` seconds for a lock (0: no limit)."""
    cur = dbapi_conn.cursor()
    cur.execute(f"SET lock_timeout = {max(0, int(lock_wait * 1000))}")
    cur.close()
    dbapi_conn.commit()


@database_errors("升级数据库结构", retry=True)
def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it on an empty database).

    Writes nothing when the database is already at the newest migration (with PostGIS present), so a
    read-only database that is up to date opens for reading."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql" and not _has_postgis(conn):
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _has_postgis(conn) -> bool:
    return conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").scalar() is not None


@database_errors("读取迁移版本")
def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None before the first one."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


@database_errors("检查数据库是否为空")
def is_empty(engine: Engine) -> bool:
    """Whether the database holds no sub-districts yet."""
    with engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(schema.streets)).scalar()


@database_errors("打开数据库")
def open_store(settings: Settings | None = None) -> Engine:
    """Engine for the configured database, migrated, and filled with the sample (and demo accounts) when empty."""
    settings = settings or get_settings()
    engine = engine_for(settings.db_url)
    migrate(engine)
    if settings.fill_sample and is_empty(engine):
        from data.accounts import ensure_demo_accounts
        from data.sample import build_sample

        write_frames(engine, build_sample(settings.sample_seed, with_history=True), actor="系统", action="sample")
        ensure_demo_accounts(engine)
    return engine


# ---------------------------------------------------------------- reading


def _scope_filter(table, scope: Scope):
    """WHERE clause that keeps the rows of ``table`` inside ``scope`` (None for the district)."""
    if scope.level is Level.DISTRICT:
        return None
    cols = table.c
    if table is schema.streets:
        return cols.code == scope.street
    if scope.level is Level.STREET:
        return cols.street_code == scope.street
    if table is schema.communities:
        return cols.code == scope.community
    if scope.level is Level.COMMUNITY:
        return cols.community_code == scope.community
    if table is schema.grids:
        return cols.code == scope.grid
    if "grid_code" not in cols:  # a community's record (teams, consultation days, resources): the grid's community
        return cols.community_code == scope.community
    return cols.grid_code == scope.grid


def _geometry_expr(table, dialect: str):
    if dialect == "postgresql":
        return func.ST_AsBinary(table.c.geom).label("geometry")
    return type_coerce(table.c.geom, LargeBinary).label("geometry")


@database_errors("读取图层")
def read_layer(engine: Engine, name: str, scope: Scope = DISTRICT) -> gpd.GeoDataFrame:
    """All rows of table ``name`` inside ``scope`` as a GeoDataFrame in EPSG:4326, ordered by code."""
    if name not in schema.GEO_TABLES:
        raise GuloError(f"未知的图层“{name}”，可选：{'、'.join(schema.GEO_TABLES)}")
    table = schema.GEO_TABLES[name]
    cols = [c for c in table.c if c.name != "geom"]
    stmt = select(*cols, _geometry_expr(table, engine.dialect.name)).order_by(table.c.code)
    return _to_geoframe(_fetch(engine, stmt, table, scope), table)


@database_errors("读取数据")
def read_table(engine: Engine, name: str, scope: Scope = DISTRICT) -> pd.DataFrame:
    """All rows of record table ``name`` (``schema.RECORD_TABLES``: no geometry) inside ``scope``, ordered by key.

    Dates come as datetime64; at grid scope, tables without a grid column give the grid's community's rows."""
    if name not in schema.RECORD_TABLES:
        raise GuloError(f"未知的数据表“{name}”，可选：{'、'.join(schema.RECORD_TABLES)}")
    table = schema.RECORD_TABLES[name]
    stmt = select(*table.c).order_by(*table.primary_key.columns)
    return _typed(_fetch(engine, stmt, table, scope), table)


def _fetch(engine: Engine, stmt, table, scope: Scope) -> pd.DataFrame:
    """The rows of ``stmt`` inside ``scope``, untyped: the driver's rows, turned into a frame column by column."""
    where = _scope_filter(table, scope)
    if where is not None:
        stmt = stmt.where(where)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        keys = list(result.keys())
        rows = result.cursor.fetchall()
    return _frame(keys, rows)


def _frame(keys: list[str], rows: list[tuple]) -> pd.DataFrame:
    """The rows as a frame built column by column (row-wise construction costs 3× more at 300,000 rows)."""
    columns = list(zip(*rows)) if rows else [() for _ in keys]
    return pd.DataFrame(dict(zip(keys, columns)), columns=keys)


def _to_geoframe(frame: pd.DataFrame, table) -> gpd.GeoDataFrame:
    """Driver values to the frame's types: WKB to shapely, dates (SQLite: ISO text) to datetimes, 0/1 to bool."""
    wkb = [bytes(v) if v is not None else None for v in frame.pop("geometry")]
    geometry = shapely.from_wkb(wkb) if wkb else []
    frame = _typed(frame, table)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index), crs=CRS)


def _typed(frame: pd.DataFrame, table) -> pd.DataFrame:
    """Driver values to the frame's types: dates (SQLite: ISO text) to datetimes, 0/1 to bool."""
    for col in table.c:
        if col.name not in frame:
            continue
        kind = col.type.python_type
        if kind is date:
            frame[col.name] = pd.to_datetime(frame[col.name]).astype("datetime64[s]")  # as from date objects
        elif kind is bool:
            frame[col.name] = frame[col.name].astype(bool)
    return frame


@database_errors("检查示例数据")
def holds_sample(engine: Engine) -> bool:
    """Whether the database was filled by the sample generator (the UI then labels it as such)."""
    t = schema.audit_log
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(t.c.action == "sample")).scalar() > 0


NOT_DATA_TABLES = ("accounts",)
"""Audit entries of these tables (logins, account changes) do not change what the pages show."""
NOT_DATA_ACTIONS = ("denied", "export")
"""Audit entries of these actions (refused writes, exports of case details) change no data either."""


@database_errors("读取数据版本")
def data_version(engine: Engine) -> int:
    """A number that changes with every write of data (the newest audit-log id of a data change); a cache key.

    Logins, account changes, refused writes and exports are audited too but leave the version alone, so
    nobody can empty the pages' caches from the login form or a download."""
    t = schema.audit_log
    query = (select(t.c.id).where(t.c.table_name.notin_(NOT_DATA_TABLES), t.c.action.notin_(NOT_DATA_ACTIONS))
             .order_by(t.c.id.desc()).limit(1))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


@database_errors("读取操作日志")
def read_audit(engine: Engine, record_code: str | None = None, limit: int = 500) -> pd.DataFrame:
    """Newest audit-log entries first, optionally only those of one record."""
    t = schema.audit_log
    stmt = select(t).order_by(t.c.id.desc()).limit(limit)
    if record_code:
        stmt = stmt.where(t.c.record_code == record_code)
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


HISTORY_COLUMNS = ["id", "at", "actor", "action", "before", "after", "summary"]


@database_errors("读取修改记录")
def record_history(engine: Engine, table_name: str, code: str, summary, *, only: tuple[str, ...] | None = None,
                   skip: tuple[str, ...] = ("denied",), limit: int = 500) -> pd.DataFrame:
    """The audit entries of record ``code`` of ``table_name``, newest first, as a record's history.

    Columns HISTORY_COLUMNS: before and after decoded from JSON (None when absent), summary =
    ``summary(action, before, after)`` (one Chinese line). Actions in ``skip`` are left out, and with ``only``
    every action not in it. An empty frame with those columns when there is none."""
    log = read_audit(engine, code, limit=limit)
    if not log.empty:
        keep = (log["table_name"] == table_name) & ~log["action"].isin(skip)
        log = log[keep & (log["action"].isin(only) if only else True)].reset_index(drop=True)
    if log.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    decoded = {c: pd.Series([json.loads(v) if isinstance(v, str) else None for v in log[c]], dtype=object)
               for c in ("before", "after")}
    log = log.assign(**decoded)
    log["summary"] = [summary(a, b, c) for a, b, c in zip(log["action"], log["before"], log["after"])]
    return log[HISTORY_COLUMNS]


# ---------------------------------------------------------------- writing

WRITE_ORDER = ("streets", "communities", "grids", "grid_workers", "compounds", "stations", "disputes",
               *schema.RECORD_TABLES)
WRITE_TABLES = {**schema.GEO_TABLES, "grid_workers": schema.grid_workers, **schema.RECORD_TABLES}
"""The tables ``write_frames`` fills: the layers, the grid workers' periods and the record tables (plain
DataFrames, no geometry)."""


def _takes_default(column) -> bool:
    """Whether a column the frame lacks is left to the database (a default, or an autoincrement key)."""
    return column.default is not None or column.server_default is not None or (
        column.primary_key and column.autoincrement is True)


def _records(frame: pd.DataFrame, table) -> list[dict]:
    """Rows of ``frame`` as dicts for ``table``: NaN/NaT become None, geometry goes to ``geom``."""
    spatial = "geom" in table.c
    if spatial and (frame.crs is None or not frame.crs.equals(CRS)):
        raise GuloError(f"写入“{table.name}”的数据坐标系应为 WGS84 (EPSG:4326)，实为 {frame.crs}")
    names = [c.name for c in table.c if c.name != "geom"  # a column the frame lacks takes its default
             and (c.name in frame.columns or not _takes_default(c))]
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name) if spatial else frame).reindex(columns=names)
    plain = plain.astype(object).where(plain.notna(), None)
    rows = plain.to_dict("records")
    for row, geom in zip(rows, frame.geometry.values if spatial else [None] * len(rows)):
        if spatial:
            row["geom"] = geom
        for col in table.c:
            if col.type.python_type is date and isinstance(row.get(col.name), datetime):
                row[col.name] = row[col.name].date()
    return rows


@database_errors("写入数据", writing=True)
def write_frames(engine: Engine, frames: dict[str, gpd.GeoDataFrame], actor: str, action: str) -> dict[str, int]:
    """Insert every frame in one transaction, with one audit entry per table; returns row counts.

    ``frames`` maps table names of ``WRITE_TABLES`` to GeoDataFrames in EPSG:4326 (``grid_workers``: a plain
    DataFrame). Re-run as a whole while the database is busy; ``DatabaseBusy`` etc. (nothing written) after that."""
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for name in WRITE_ORDER:
            if name not in frames:
                continue
            table = WRITE_TABLES[name]
            rows = _records(frames[name], table)
            if rows:
                conn.execute(insert(table), rows)
            counts[name] = len(rows)
            audit(conn, actor, action, name, None, None, {"rows": len(rows)})
    return counts


def audit(conn, actor: str, action: str, table_name: str, record_code: str | None,
          before: dict | None, after: dict | None) -> None:
    """Append one audit-log entry inside the caller's transaction."""
    conn.execute(insert(schema.audit_log).values(
        at=datetime.now(UTC), actor=actor, action=action, table_name=table_name,
        record_code=record_code,
        before=None if before is None else json.dumps(before, ensure_ascii=False, default=str),
        after=None if after is None else json.dumps(after, ensure_ascii=False, default=str),
    ))
