"""Saving new grid boundaries: one transaction, checked again against what is stored, audited.

``save_grid_geometry`` writes the outcome of a ``geo.grid_edit`` edit (redraw, split, moved boundary) that
the user checked and confirmed. In one transaction (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE``
of every grid row of the community on PostgreSQL) it

1. re-reads the acting account (``data.accounts.verify``) and allows only the district role or the
   sub-district holding the community (``geo.grid_edit.require_geometry_edit``); a refusal is audited;
2. checks each changed grid's row version (``ConflictError`` when someone saved first; a new grid's code
   must still be free);
3. runs the topology check (``geo.grid_edit.check_edit``) on the stored grids with the changes applied and
   the households/population totals (``check_households``): any problem → ``DataValidationError`` listing
   them, nothing written;
4. updates the changed grids (geometry, households, population, ``version + 1``), inserts a new grid
   (split), writes one audit entry per grid (before/after: area in m², households, population — not the
   geometry), and moves every compound, station and dispute of the community whose point now lies in
   another grid to that grid (one audit entry each: grid_code before/after).

Every audit entry moves ``data.store.data_version``, so every cached figure is rebuilt on the next run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from data import schema
from data.accounts import record_refusal, verify
from data.faults import database_errors
from data.store import CRS, audit
from data.versioned import begin_locked
from geo.access import Account, require_login
from geo.crs import require_crs
from geo.errors import ConflictError, DataValidationError, GuloError, PermissionDenied
from geo.grid_edit import (
    area_m2,
    as_multipolygon,
    check_edit,
    check_households,
    grid_name,
    require_geometry_edit,
)
from geo.nearby import require_columns
from geo.scope import community_of

POINT_TABLES = ("compounds", "stations", "disputes")
"""Tables whose rows carry the grid they lie in (``grid_code``) and move with new boundaries."""
_GRID_COLUMNS = ("code", "name", "street_code", "community_code", "households", "population", "version")


@dataclass(frozen=True)
class GridSave:
    """What a save changed: the grids' new row versions and, per table, how many records moved grid."""

    versions: dict[str, int]
    moved: dict[str, int] = field(default_factory=dict)


def _check_changes(changes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The changes with plain string codes; DataValidationError for a malformed frame."""
    require_crs(changes, "网格修改")
    require_columns(changes, ["code", "households", "population"], "网格修改")
    if changes.empty:
        raise DataValidationError("没有要保存的网格修改")
    out = changes.assign(code=changes["code"].astype(str))
    if out["code"].duplicated().any():
        raise DataValidationError("网格修改中有重复的网格编号")
    return out.set_crs(CRS, allow_override=True)


def _community(conn: Connection, codes: list[str]) -> str:
    """The one community of the changed grids (stored ones, and new codes by their prefix)."""
    t = schema.grids
    stored = dict(conn.execute(select(t.c.code, t.c.community_code).where(t.c.code.in_(codes))).all())
    if not stored:
        raise GuloError(f"找不到网格“{'、'.join(codes)}”")
    found = {stored.get(code, community_of(code)) for code in codes}
    if len(found) != 1:
        raise DataValidationError("一次只能调整同一个社区内的网格边界")
    return found.pop()


def _read_grids(conn: Connection, community: str) -> gpd.GeoDataFrame:
    """Every grid of the community (row-locked on PostgreSQL) with its geometry, EPSG:4326."""
    t = schema.grids
    cols = [t.c[name] for name in _GRID_COLUMNS]
    rows = conn.execute(select(*cols, t.c.geom).where(t.c.community_code == community)
                        .order_by(t.c.code).with_for_update()).all()
    frame = pd.DataFrame([r[:-1] for r in rows], columns=list(_GRID_COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([r[-1] for r in rows], crs=CRS), crs=CRS)


def _read_community(conn: Connection, community: str) -> gpd.GeoDataFrame:
    t = schema.communities
    row = conn.execute(select(t.c.code, t.c.name, t.c.street_code, t.c.geom).where(t.c.code == community)).first()
    if row is None:
        raise GuloError(f"找不到社区“{community}”")
    return gpd.GeoDataFrame({"code": [row.code], "name": [row.name], "street_code": [row.street_code]},
                            geometry=[row.geom], crs=CRS)


def _check_versions(stored: gpd.GeoDataFrame, codes: list[str], expected: dict[str, int]) -> None:
    """ConflictError when a changed grid is no longer at the version the user read, or a new code is taken."""
    current = dict(zip(stored["code"], stored["version"]))
    for code in codes:
        if code not in expected:
            if code in current:
                raise ConflictError(f"网格编号“{code}”已被使用（可能他人刚拆分了网格），请刷新后重试；您的修改未保存")
            continue
        if code not in current:
            raise ConflictError(f"网格“{code}”已不存在，请刷新后重试；您的修改未保存")
        if int(current[code]) != int(expected[code]):
            raise ConflictError(f"网格“{code}”已被他人修改（当前版本 {int(current[code])}），请刷新后重试；您的修改未保存")


def _applied(stored: gpd.GeoDataFrame, changes: gpd.GeoDataFrame, community: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The community's grids as they would be with the changes (new grids appended, version 0)."""
    rows = {r["code"]: r for r in stored.to_dict("records")}
    for change in changes.to_dict("records"):
        code = change["code"]
        base = rows.get(code) or {"code": code, "name": str(change.get("name") or grid_name(code)),
                                  "street_code": community["street_code"].iloc[0],
                                  "community_code": community["code"].iloc[0], "version": 0}
        rows[code] = {**base, "households": change["households"], "population": change["population"],
                      "geometry": as_multipolygon(change["geometry"])}
    frame = pd.DataFrame(list(rows.values()))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS)


def _validate(stored: gpd.GeoDataFrame, after: gpd.GeoDataFrame, community: gpd.GeoDataFrame, codes: list[str]) -> None:
    """DataValidationError listing every topology and household problem of the edit."""
    check = check_edit(stored, after, community)
    old = stored[stored["code"].isin(codes)]
    table = after[after["code"].isin(codes)]
    problems = list(check.problems) + check_households(
        table, int(old["households"].sum()), int(old["population"].sum()))
    if problems:
        raise DataValidationError("网格边界未保存：" + "；".join(problems),
                                  [(", ".join(codes), "网格边界", None, p) for p in problems])


def _summary(geom, households, population) -> dict:
    """What the audit log keeps of a grid: area (m², EPSG:32650), households, population."""
    return {"area_m2": round(float(area_m2([geom])[0]), 1), "households": int(households),
            "population": int(population)}


def _write_grids(conn: Connection, stored: gpd.GeoDataFrame, after: gpd.GeoDataFrame, codes: list[str],
                 expected: dict[str, int], actor: str) -> dict[str, int]:
    """UPDATE the changed grids (version + 1, only at the expected version), INSERT new ones; audit each."""
    t = schema.grids
    old = stored.set_index("code")
    versions = {}
    for row in after[after["code"].isin(codes)].itertuples(index=False):
        now = _summary(row.geometry, row.households, row.population)
        values = {"geom": row.geometry, "households": int(row.households), "population": int(row.population)}
        if row.code in old.index:
            result = conn.execute(update(t).where(t.c.code == row.code, t.c.version == int(expected[row.code]))
                                  .values(**values, version=t.c.version + 1))
            if result.rowcount != 1:
                raise ConflictError(f"网格“{row.code}”已被他人修改，请刷新后重试；您的修改未保存")
            before = old.loc[row.code]
            audit(conn, actor, "update", "grids", row.code,
                  _summary(before.geometry, before["households"], before["population"]), now)
            versions[row.code] = int(expected[row.code]) + 1
        else:
            conn.execute(insert(t).values(code=row.code, name=row.name, street_code=row.street_code,
                                          community_code=row.community_code, worker=None, assistants=0,
                                          version=1, **values))
            audit(conn, actor, "insert", "grids", row.code, None, {"name": row.name, **now})
            versions[row.code] = 1
    return versions


def _new_grid_of(points: list, grids: gpd.GeoDataFrame) -> list[str | None]:
    """The code of the grid containing each point (None: in none of them)."""
    shapes = list(zip(grids["code"], grids.geometry))
    return [next((code for code, shape in shapes if shapely.covers(shape, p)), None) for p in points]


def _move_points(conn: Connection, community: str, after: gpd.GeoDataFrame, codes: list[str], actor: str) -> dict[str, int]:
    """Give every compound/station/dispute of the community the grid its point now lies in; audit each move."""
    changed = after[after["code"].isin(codes)]
    moved = {}
    for name in POINT_TABLES:
        t = schema.GEO_TABLES[name]
        rows = conn.execute(select(t.c.code, t.c.grid_code, t.c.geom).where(t.c.community_code == community)).all()
        targets = _new_grid_of([r.geom for r in rows], changed)
        moves = [(r.code, r.grid_code, new) for r, new in zip(rows, targets) if new is not None and new != r.grid_code]
        if moves:
            conn.execute(update(t).where(t.c.code == bindparam("b_code")).values(grid_code=bindparam("b_grid")),
                         [{"b_code": code, "b_grid": new} for code, _, new in moves])
            for code, old, new in moves:
                audit(conn, actor, "update", name, code, {"grid_code": old}, {"grid_code": new})
        moved[name] = len(moves)
    return moved


@database_errors("保存网格边界", writing=True)
def save_grid_geometry(engine: Engine, changes: gpd.GeoDataFrame, expected_versions: dict[str, int],
                       account: Account | None) -> GridSave:
    """As ``account``, replace the shapes, households and population of a community's grids; see the module doc.

    ``changes``: one row per grid whose shape changes (EPSG:4326; ``code``, ``households``, ``population``,
    geometry; ``name`` for a new grid, default 网格NN), all in one community; a code not stored yet is a new
    grid (a split). ``expected_versions``: code → the row version the user read, for every stored grid in
    ``changes``. Raises ``PermissionDenied`` (audited as ``denied``) unless the account is the district role
    or the sub-district holding the community, ``ConflictError`` for a stale version or a taken code,
    ``DataValidationError`` listing every topology and household problem (nothing written), and the
    ``DatabaseFault`` errors of ``data.faults``. Returns the new versions and the records moved per table.
    """
    changes = _check_changes(changes)
    codes = changes["code"].tolist()
    expected = {str(k): int(v) for k, v in expected_versions.items()}
    community = None
    try:
        require_login(account)
        with engine.begin() as conn:
            begin_locked(conn)
            community = _community(conn, codes)
            shape = _read_community(conn, community)
            acting = require_geometry_edit(verify(conn, account), community, f"{shape['name'].iloc[0]}（{community}）")
            stored = _read_grids(conn, community)
            _check_versions(stored, codes, expected)
            after = _applied(stored, changes, shape)
            _validate(stored, after, shape, codes)
            versions = _write_grids(conn, stored, after, codes, expected, acting.username)
            return GridSave(versions, _move_points(conn, community, after, codes, acting.username))
    except PermissionDenied as exc:
        record_refusal(engine, account, "grids", community or codes[0], str(exc))
        raise
