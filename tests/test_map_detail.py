"""The map's simplification follows the view, wired end to end on detailed geometry: one community's outline
is given a fine zigzag (3.5 m teeth every 5 m). At district scope half a pixel is ≈ 3.9 m, so the teeth go; at
that community's own scope the tolerance is the 3 m floor, so they stay. Each page uses its own view's tolerance."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from data import schema
from data.store import engine_for, read_layer
from geo.crs import metric_crs
from layers import boundaries
from layers.common import simplified, view_tolerance_m

JUNMEN = "350102004001"


def _projected(geom, source, target):
    import pyproj

    t = pyproj.Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def zigzag(geom, step_m: float = 5.0, tooth_m: float = 3.5):
    """``geom`` (WGS84 polygon) with its outer ring replaced by a zigzag around it: many vertices, same shape."""
    poly = _projected(max(getattr(geom, "geoms", [geom]), key=lambda g: g.area), 4326, metric_crs())
    ring, centre = poly.exterior, poly.centroid
    out = []
    for i in range(int(ring.length // step_m)):
        p = ring.interpolate(i * step_m)
        dx, dy = p.x - centre.x, p.y - centre.y
        scale = 1 + (tooth_m if i % 2 else 0) / max(np.hypot(dx, dy), 1.0)
        out.append((centre.x + dx * scale, centre.y + dy * scale))
    return shapely.MultiPolygon([_projected(shapely.Polygon(out), metric_crs(), 4326)])


@pytest.fixture
def detailed_db(filled_sample_db, tmp_path) -> str:
    source = Path(filled_sample_db.removeprefix("sqlite:///"))
    target = tmp_path / "app.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    url = f"sqlite:///{target}"
    engine = engine_for(url)
    geom = read_layer(engine, "communities").set_index("code").geometry[JUNMEN]
    with engine.begin() as conn:
        conn.execute(update(schema.communities).where(schema.communities.c.code == JUNMEN).values(geom=zigzag(geom)))
    return url


def _situation():
    from dashboard.pages import situation

    situation.render()


def drawn_vertices(monkeypatch, url: str, scope: str) -> tuple[int, float]:
    """(vertices of 军门社区's outline as drawn, the tolerance used) on 态势图 at ``scope``."""
    seen: list[tuple[int, float]] = []

    def recording(gdf, tolerance_m):
        out = simplified(gdf, tolerance_m)
        if "code" in gdf and JUNMEN in set(gdf["code"]):
            i = list(gdf["code"]).index(JUNMEN)
            seen.append((int(shapely.get_num_coordinates(out[i])), tolerance_m))
        return out

    monkeypatch.setattr(boundaries, "simplified", recording)
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(_situation, default_timeout=120)
    if scope:
        at.query_params["scope"] = scope
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert seen, "the community's outline was not drawn"
    return seen[-1]


def test_the_outline_keeps_its_detail_only_when_the_view_is_close(detailed_db, monkeypatch):
    stored = int(shapely.get_num_coordinates(
        read_layer(engine_for(detailed_db), "communities").set_index("code").geometry[JUNMEN]))
    far, far_tol = drawn_vertices(monkeypatch, detailed_db, "")
    near, near_tol = drawn_vertices(monkeypatch, detailed_db, JUNMEN)
    engine = engine_for(detailed_db)
    district = read_layer(engine, "streets").total_bounds
    own_grids = read_layer(engine, "grids").query("community_code == @JUNMEN").total_bounds
    assert far_tol == pytest.approx(view_tolerance_m(district)) and far_tol > 3.5  # half a pixel of the district
    assert near_tol == pytest.approx(view_tolerance_m(own_grids)) and near_tol < 3.5  # of the community's grids
    assert stored > 300  # the zigzag is there to be simplified …
    assert far < stored / 10  # … and goes at district scope (teeth under half a pixel)
    assert near > 2 * far  # … but much of it stays where the community fills the map
