"""Helpers of the import tests: a tiny hand-built district in the store, and a checksum of every table."""
from __future__ import annotations

import hashlib
import io

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, MetaData, select

from data.store import engine_for, migrate, write_frames

CRS = "EPSG:4326"
# Two sub-districts side by side near 东街 (WGS84 degrees): 0.01° ≈ 1 km.
STREETS = [("350102004000", "东街街道", (119.29, 26.08, 119.30, 26.09)),
           ("350102005000", "南街街道", (119.30, 26.08, 119.31, 26.09))]
COMMUNITIES = [("350102004001", "军门社区", "350102004000", (119.290, 26.08, 119.295, 26.09)),
               ("350102004002", "安泰社区", "350102004000", (119.295, 26.08, 119.300, 26.09)),
               ("350102005001", "光禄坊社区", "350102005000", (119.300, 26.08, 119.310, 26.09))]


def _multi(box) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(*box)])


def _grids() -> gpd.GeoDataFrame:
    rows = []
    for code, _, street, (x0, y0, x1, y1) in COMMUNITIES:
        for i, (a, b) in enumerate(((y0, (y0 + y1) / 2), ((y0 + y1) / 2, y1)), start=1):
            rows.append({"code": f"{code}00{i}", "name": f"网格0{i}", "street_code": street, "community_code": code,
                         "households": 500, "population": 1300, "worker": "张三", "assistants": 1,
                         "geometry": _multi((x0, a, x1, b))})
    return gpd.GeoDataFrame(rows, crs=CRS)


def tiny_frames() -> dict[str, gpd.GeoDataFrame]:
    """Streets, communities, grids and three compounds of the tiny district (EPSG:4326)."""
    streets = gpd.GeoDataFrame([{"code": c, "name": n, "kind": "街道", "geometry": _multi(b)} for c, n, b in STREETS],
                               crs=CRS)
    communities = gpd.GeoDataFrame([{"code": c, "name": n, "street_code": s, "centre_known": False,
                                     "geometry": _multi(b)} for c, n, s, b in COMMUNITIES], crs=CRS)
    compounds = gpd.GeoDataFrame([
        {"code": f"350102004001C00{i}", "name": f"军门新村{i}", "street_code": "350102004000",
         "community_code": "350102004001", "grid_code": "350102004001001", "address": None, "built_year": 1985,
         "buildings": 3, "households": 120, "has_property_mgmt": False, "status": "not_planned", "reno_type": None,
         "plan_year": None, "budget_wan": None, "started_on": None, "completed_on": None, "version": 1,
         "geometry": shapely.Point(119.2915 + 0.001 * i, 26.0815)} for i in (1, 2, 3)], crs=CRS)
    return {"streets": streets, "communities": communities, "grids": _grids(), "compounds": compounds}


def tiny_store(url: str) -> Engine:
    """A migrated database at ``url`` holding the tiny district."""
    engine = engine_for(url)
    migrate(engine)
    write_frames(engine, tiny_frames(), actor="测试", action="sample")
    return engine


def checksum(engine: Engine) -> str:
    """SHA-256 over every row of every table (PostGIS's own spatial_ref_sys left out), in key order."""
    meta = MetaData()
    meta.reflect(engine)
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for name in sorted(meta.tables):
            if name == "spatial_ref_sys":
                continue
            table = meta.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            digest.update(name.encode())
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(_plain(v) for v in row)).encode())
    return digest.hexdigest()


def _plain(value):
    """A value whose repr is stable: bytes for buffers, hex for PostGIS elements (their repr has an address)."""
    if isinstance(value, memoryview):
        return bytes(value)
    return getattr(value, "desc", value)


def csv_bytes(rows: list[dict], encoding: str = "utf-8") -> bytes:
    """Rows as CSV bytes (header from the first row's keys)."""
    return pd.DataFrame(rows).to_csv(index=False).encode(encoding)


def compound_row(**changes) -> dict:
    """One valid compound row of the tiny district, with Chinese headers, then ``changes`` on top."""
    row = {"小区编码": "350102004002C101", "小区名称": "安泰新村", "所属社区": "350102004002",
           "所属网格": "350102004002001", "建成年份": 1990, "户数": 200, "有无物业": "否", "改造状态": "已纳入计划",
           "改造类型": "基础类", "计划年度": 2027, "预算（万元）": 300, "开工日期": "", "完工日期": "",
           "经度": 119.2975, "纬度": 26.0825}
    row.update(changes)
    return row


def to_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()
