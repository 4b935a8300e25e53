"""Reference layers (参考图层): roads, buildings, water and place names, stored in ``reference_features``.

They belong to the district (no unit codes) and are drawn as a light vector basemap under the overlays.
``replace_reference`` swaps every feature of one kind for an imported set in one transaction (audited, the
data version moves); ``read_reference`` reads some kinds, optionally only those whose bounding box meets a
view (WGS84 degrees). Geometry is WGS84 (EPSG:4326), as everywhere in the store.
"""
from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, delete, func, insert, select

from data import schema
from data.faults import database_errors
from data.store import CRS, _fetch, _geometry_expr, _to_geoframe, audit
from geo.errors import GuloError
from geo.scope import DISTRICT
from geo.vocab import ReferenceKind

TABLE = schema.reference_features
COLUMNS = ("kind", "name", "subtype")
"""The attribute columns of a reference feature (besides its geometry)."""


def _kinds(kinds) -> list[str]:
    values = [ReferenceKind(k).value for k in (kinds if kinds is not None else list(ReferenceKind))]
    return values


@database_errors("读取参考图层")
def read_reference(engine: Engine, kinds=None, bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """Features of ``kinds`` (``ReferenceKind`` values; all when None) as a GeoDataFrame in EPSG:4326 with
    ``kind``, ``name``, ``subtype`` and geometry, in insertion order; only those whose bounding box meets
    ``bbox`` (min lon, min lat, max lon, max lat) when given."""
    t = TABLE
    stmt = (select(t.c.id, t.c.kind, t.c.name, t.c.subtype, _geometry_expr(t, engine.dialect.name))
            .where(t.c.kind.in_(_kinds(kinds))).order_by(t.c.id))
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        stmt = stmt.where(t.c.maxx >= x0, t.c.minx <= x1, t.c.maxy >= y0, t.c.miny <= y1)
    return _to_geoframe(_fetch(engine, stmt, t, DISTRICT), t)


@database_errors("统计参考图层")
def reference_counts(engine: Engine) -> dict[str, int]:
    """``ReferenceKind`` value -> number of stored features (kinds without any are left out)."""
    with engine.connect() as conn:
        rows = conn.execute(select(TABLE.c.kind, func.count()).group_by(TABLE.c.kind)).all()
    return {str(k): int(n) for k, n in rows}


def _rows(frame: gpd.GeoDataFrame, kind: str, source: str | None, now: datetime) -> list[dict]:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    bounds = shapely.bounds(geoms)
    names = frame["name"] if "name" in frame else pd.Series([None] * len(frame), index=frame.index)
    subtypes = frame["subtype"] if "subtype" in frame else pd.Series([None] * len(frame), index=frame.index)
    return [{"kind": kind, "name": None if pd.isna(n) else str(n)[:80], "subtype": None if pd.isna(s) else str(s)[:40],
             "minx": float(b[0]), "miny": float(b[1]), "maxx": float(b[2]), "maxy": float(b[3]),
             "source": (source or None) and str(source)[:120], "imported_at": now, "geom": g}
            for g, b, n, s in zip(geoms, bounds, names, subtypes)]


@database_errors("保存参考图层", writing=True)
def replace_reference(engine: Engine, kind: str, frame: gpd.GeoDataFrame, source: str | None, actor: str) -> int:
    """Replace every stored feature of ``kind`` with ``frame`` (EPSG:4326; optional ``name``/``subtype`` columns)
    in one transaction, with one audit entry (action ``import``); the number of features written.
    GuloError for an unknown kind, a frame in another CRS or an empty geometry."""
    kind = checked(kind, frame)
    with engine.begin() as conn:
        return write_reference(conn, kind, frame, source, actor)


def checked(kind: str, frame: gpd.GeoDataFrame) -> str:
    """The ``ReferenceKind`` value of ``kind`` when ``frame`` may be stored as it; GuloError (Chinese) otherwise."""
    kind = ReferenceKind(kind).value if kind in ReferenceKind._value2member_map_ else None
    if kind is None:
        raise GuloError("未知的参考图层类型，可选：" + "、".join(ReferenceKind.labels().values()))
    if frame.crs is not None and not frame.crs.equals(CRS):
        raise GuloError("参考图层须先换算为 WGS84 经纬度再保存")
    if len(frame) and (frame.geometry.isna() | frame.geometry.is_empty).any():
        raise GuloError("参考图层中有空的几何，未保存")
    return kind


def write_reference(conn: Connection, kind: str, frame: gpd.GeoDataFrame, source: str | None, actor: str) -> int:
    """The write of ``replace_reference`` inside the caller's transaction (checked by the caller): delete every
    feature of ``kind``, insert ``frame``, one audit entry; the number of features written."""
    rows = _rows(frame, kind, source, datetime.now(UTC))
    before = conn.execute(select(func.max(TABLE.c.source)).where(TABLE.c.kind == kind)).scalar()
    removed = conn.execute(delete(TABLE).where(TABLE.c.kind == kind)).rowcount
    if rows:
        conn.execute(insert(TABLE), rows)
    audit(conn, actor, "import", TABLE.name, kind, {"rows": removed, "source": before}, {"rows": len(rows), "source": source})
    return len(rows)
