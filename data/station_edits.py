"""Service stations saved from the app: a new station placed on the map, a station moved, a station closed.

Built like ``data.edits.update_compound``: one transaction each, the write lock first (``BEGIN IMMEDIATE`` on
SQLite; ``SELECT … FOR UPDATE`` of the station row, or of the code sequence for a new station, on
PostgreSQL), the acting account re-read and its scope checked (``geo.access.require_write``) against the
community the station is in and, for a new or moved point, the community it goes to; the row version
compared; values checked by ``geo.station_rules``; ``UPDATE … version = version + 1 WHERE code = :code AND
version = :expected``; one audit-log entry with the changed fields. Refusals are audited; nothing is written
on any error.

A point's grid, community and sub-district codes come from the grid polygon that holds it, read inside the
transaction. A new station's code is its community's code + ``S`` + the next number of that prefix in
``code_sequences`` (the sequence imports use too), so a code is never issued twice. A closed station keeps
its row (``closed_on`` set): exports list it, roll-ups and coverage leave it out from that day on
(``geo.station_rules.open_on``).
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, LargeBinary, func, insert, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite

from data import schema
from data.accounts import verify
from data.faults import database_errors
from data.store import audit, record_history
from data.versioned import conditional_update, locked_write, refused, writable
from geo.access import Account, require_write
from geo.ingest_match import CODE_WIDTH, code_prefix, highest_number
from geo.lifecycle import district_today
from geo.station_rules import check_close, check_fields, check_open, describe_change, placement

_COLUMNS = [c for c in schema.stations.c if c.name != "geom"]
DECIMALS = 7
"""Coordinates are stored rounded to 7 decimals (about 1 cm), as the sample's."""


def _geometry(conn: Connection, table):
    if conn.dialect.name == "postgresql":
        return func.ST_AsBinary(table.c.geom).label("geometry")
    return type_coerce(table.c.geom, LargeBinary).label("geometry")


def _read_station(conn: Connection, code: str) -> dict | None:
    """The station's columns and its point (``geometry``, shapely), row-locked on PostgreSQL; None when absent."""
    t = schema.stations
    row = conn.execute(select(*_COLUMNS, _geometry(conn, t)).where(t.c.code == code).with_for_update()) \
        .mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["geometry"] = shapely.from_wkb(bytes(out["geometry"]))
    return out


def _public(row: dict | None) -> dict | None:
    """A station row as returned to callers: the columns plus ``lon``/``lat`` instead of the geometry."""
    if row is None:
        return None
    point = row.pop("geometry")
    return {**row, "lon": point.x, "lat": point.y}


def _grids(conn: Connection) -> pd.DataFrame:
    """Every grid's code, community and sub-district codes and polygon (shapely, WGS84)."""
    t = schema.grids
    rows = conn.execute(select(t.c.code, t.c.community_code, t.c.street_code, _geometry(conn, t))).all()
    return pd.DataFrame({"code": [r[0] for r in rows], "community_code": [r[1] for r in rows],
                         "street_code": [r[2] for r in rows],
                         "geometry": shapely.from_wkb([bytes(r[3]) for r in rows]) if rows else []})


def _rounded(point: shapely.Point) -> shapely.Point:
    return shapely.Point(round(float(point.x), DECIMALS), round(float(point.y), DECIMALS))


def _place(conn: Connection, acting: Account, point, code: str | None) -> dict:
    """The unit codes of ``point`` once it is inside the district and the account's scope."""
    units, problems = placement(point, _grids(conn))
    if problems:
        raise refused(code, problems)
    require_write(acting, units["community_code"], what=f"位置（{point.x:.6f}, {point.y:.6f}）")
    return units


# ---------------------------------------------------------------- a new station


def _next_code(conn: Connection, community_code: str) -> str:
    """The next never-issued station code of the community, the sequence advanced (row-locked on PostgreSQL)."""
    prefix = code_prefix("stations", {"community_code": community_code})
    seq, t = schema.code_sequences, schema.stations
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(seq).values(prefix=prefix, last=0).on_conflict_do_nothing(index_elements=["prefix"]))
    last = conn.execute(select(seq.c.last).where(seq.c.prefix == prefix).with_for_update()).scalar() or 0
    taken = conn.execute(select(t.c.code).where(t.c.code.startswith(prefix, autoescape=True))).scalars()
    number = max(int(last), highest_number(prefix, taken)) + 1
    conn.execute(update(seq).where(seq.c.prefix == prefix).values(last=number))
    return f"{prefix}{number:0{CODE_WIDTH['stations']}d}"


@database_errors("保存新增站点", writing=True)
def add_station(engine: Engine, fields: dict, point: shapely.Point, account: Account | None,
                today: date | None = None) -> dict:
    """As ``account``, add a station at ``point`` (WGS84 lon/lat) with ``fields``; return the stored row.

    ``fields``: kind (``StationKind`` value or label) and name required; address, opening_hours, capacity
    (≥ 0) and opened_on (default ``today``, not in the future) optional (``geo.station_rules.check_fields``).
    The point must lie in a grid of the district (``DataValidationError`` otherwise) inside the account's
    scope (``PermissionDenied``, audited). The returned dict has the columns and ``lon``/``lat``.
    """
    today = today or district_today()

    def save(conn: Connection) -> dict:
        acting = verify(conn, account)
        clean, problems = check_fields(fields, today)
        if problems:
            raise refused(None, problems)
        units = _place(conn, acting, point, None)
        code = _next_code(conn, units["community_code"])
        conn.execute(insert(schema.stations).values(code=code, **clean, **units, version=1, geom=_rounded(point)))
        row = _public(_read_station(conn, code))
        after = {f: row[f] for f in (*clean, "grid_code", "community_code", "street_code", "lon", "lat")}
        audit(conn, acting.username, "insert", "stations", code, None, after)
        return row

    return locked_write(engine, account, "stations", None, save)


# ---------------------------------------------------------------- moving and closing


def _locked_station(conn: Connection, account: Account, code: str, expected_version: int) -> tuple[dict, Account]:
    """(the 站点 row, the acting account as stored now) once scope and version allow the save."""
    before = _read_station(conn, code)
    return before, writable(conn, account, before, code, expected_version, "站点")


@database_errors("保存站点迁移", writing=True)
def move_station(engine: Engine, code: str, point: shapely.Point, expected_version: int,
                 account: Account | None) -> dict:
    """As ``account``, move open station ``code`` to ``point`` (WGS84); its grid, community and sub-district
    codes follow the point. Both the old and the new place must lie inside the account's scope. Returns the
    stored row (columns and ``lon``/``lat``); ``ConflictError`` when someone saved the station first,
    ``DataValidationError`` for a closed station or a point outside the district, ``PermissionDenied``
    (audited) outside the scope, ``GuloError`` for an unknown code."""

    def save(conn: Connection) -> dict:
        before, acting = _locked_station(conn, account, code, expected_version)
        problems = check_open(before)
        if problems:
            raise refused(code, problems)
        units = _place(conn, acting, point, code)
        new = _rounded(point)
        conditional_update(conn, schema.stations, code, {**units, "geom": new}, expected_version, "站点")
        old = before["geometry"]
        moved_units = {f: v for f, v in units.items() if before[f] != v}
        audit(conn, acting.username, "update", "stations", code,
              {"lon": old.x, "lat": old.y, **{f: before[f] for f in moved_units}},
              {"lon": new.x, "lat": new.y, **moved_units})
        return _public(_read_station(conn, code))

    return locked_write(engine, account, "stations", code, save)


@database_errors("保存站点关闭", writing=True)
def close_station(engine: Engine, code: str, closed_on: date, expected_version: int, account: Account | None,
                  today: date | None = None) -> dict:
    """As ``account``, record station ``code`` closed on ``closed_on`` (not before it opened, not after
    ``today``, default today in Fuzhou). The row stays; returns it (columns and ``lon``/``lat``). Errors as
    ``move_station``."""
    today = today or district_today()

    def save(conn: Connection) -> dict:
        before, acting = _locked_station(conn, account, code, expected_version)
        day, problems = check_close(before, closed_on, today)
        if problems:
            raise refused(code, problems)
        conditional_update(conn, schema.stations, code, {"closed_on": day}, expected_version, "站点")
        audit(conn, acting.username, "update", "stations", code, {"closed_on": None}, {"closed_on": day})
        return _public(_read_station(conn, code))

    return locked_write(engine, account, "stations", code, save)


def station_history(engine: Engine, code: str, limit: int = 200) -> pd.DataFrame:
    """Audit entries of station ``code``, newest first: id, at (UTC), actor, action, before, after (decoded)
    and summary (one Chinese line, ``geo.station_rules.describe_change``)."""
    return record_history(engine, "stations", code, lambda _action, b, a: describe_change(b, a), limit=limit)
