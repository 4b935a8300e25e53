"""Maps that follow units, not records: compounds (and many stations or grids) counted into one pie per unit
at district / sub-district level, single records drilled in; checked on tiny hand-built frames (EPSG:4326)."""
from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point
from sqlalchemy import create_engine, text

from geo.coverage import stations_near
from geo.errors import DataValidationError
from geo.rollup import category_counts
from geo.vocab import RenovationStatus, StationKind
from layers import aggregate
from layers.features import PieTable
from layers.mapbuild import add_layers, build_map
from layers.registry import LAYERS
from tests.test_layers import BOUNDS, C1, C2, C3, CRS, ST, TODAY, XSS, disputes, features, hand_built_frames

STATUSES = [s.value for s in RenovationStatus]
# (community, status, households) of eight compounds: C1 has four, C2 three, C3 one
ROWS = [(C1, "not_planned", 100), (C1, "not_planned", 50), (C1, "under_way", 200), (C1, "managed", 80),
        (C2, "completed", 300), (C2, "已纳入计划", 120), (C2, "completed", 40), (C3, "managed", 90)]
X0 = {C1: 119.29, C2: 119.30, C3: 119.31}


@pytest.fixture
def frames() -> dict[str, gpd.GeoDataFrame]:
    return hand_built_frames()


def compounds(rows=ROWS) -> gpd.GeoDataFrame:
    """Compounds inside their community's box, each in its community's only grid (code + "001")."""
    return gpd.GeoDataFrame({
        "code": [f"K{i}" for i in range(len(rows))], "name": [f"小区{i}" if i else XSS for i in range(len(rows))],
        "street_code": [ST] * len(rows), "community_code": [c for c, _, _ in rows],
        "grid_code": [c + "001" for c, _, _ in rows], "status": [s for _, s, _ in rows],
        "households": [h for _, _, h in rows],
    }, geometry=[Point(X0[c] + 0.001 * (i + 1), 26.082 + 0.0005 * i) for i, (c, _, _) in enumerate(rows)], crs=CRS)


def pies(fg) -> dict[str, dict]:
    """code -> properties of every pie drawn by a layer."""
    return {f["properties"]["code"]: f["properties"] for f in features(fg) if "counts" in f["properties"]}


def by_status(props: dict) -> dict[str, int]:
    return {s: n for s, n in zip(STATUSES, props["counts"]) if n}


# ---------------------------------------------------------------- geo: the counting itself

def test_category_counts_per_unit_and_weights():
    frame = pd.DataFrame({"unit": ["a", "a", "b", "b"], "status": ["planned", RenovationStatus.MANAGED, "planned", "x"],
                          "households": [10, 5, 7, None]})
    counts = category_counts(frame, "unit", "status", RenovationStatus)
    assert list(counts.columns) == STATUSES and list(counts.index) == ["a", "b"]
    assert counts.loc["a"].to_dict() == {"not_planned": 0, "planned": 1, "under_way": 0, "completed": 0, "managed": 1}
    assert counts.loc["b"].sum() == 1  # "x" is no status and not counted
    weights = category_counts(frame, "unit", "status", RenovationStatus, weight="households")
    assert weights.loc["a", "planned"] == 10 and weights.loc["a", "managed"] == 5 and weights.loc["b"].sum() == 7
    assert category_counts(frame.iloc[:0], "unit", "status", RenovationStatus).empty
    with pytest.raises(ValueError, match="street_code"):
        category_counts(frame, "street_code", "status", RenovationStatus)


# ---------------------------------------------------------------- compounds

def test_district_level_counts_compounds_by_status_per_community(frames):
    drawn = pies(LAYERS["compounds"].build(compounds(), level="district", units=frames["communities"]))
    assert set(drawn) == {C1, C2, C3}
    assert by_status(drawn[C1]) == {"not_planned": 2, "under_way": 1, "managed": 1}
    assert by_status(drawn[C2]) == {"planned": 1, "completed": 2}  # a Chinese label counts as its status
    assert [drawn[c]["total"] for c in (C1, C2, C3)] == [4, 3, 1]
    assert drawn[C1]["weights"] == [150, 0, 200, 0, 80]  # households per status
    assert drawn[C1]["name"] == "军门社区" and drawn[C3]["name"] == "大根社区"
    assert drawn[C1]["style"]["radius"] > drawn[C3]["style"]["radius"]  # more compounds, bigger pie
    assert not [f for f in features(LAYERS["compounds"].build(compounds(), level="district")) if
                "popup" in f["properties"]]  # no single compound's record reaches the far-out map


def test_pies_sit_on_their_units_label_points(frames):
    drawn = {f["properties"]["code"]: f["geometry"]["coordinates"]
             for f in features(LAYERS["compounds"].build(compounds(), level="district", units=frames["communities"]))}
    for code, geom in zip(frames["communities"]["code"], frames["communities"].geometry):
        assert geom.contains(Point(drawn[code]))


def test_sub_district_level_counts_per_grid_and_other_units_are_followed(frames):
    per_grid = pies(LAYERS["compounds"].build(compounds(), level="street", units=frames["grids"]))
    assert set(per_grid) == set(frames["grids"]["code"]) and per_grid[C1 + "001"]["name"] == "军门一网格"
    per_street = pies(LAYERS["compounds"].build(compounds(), level="district", units=frames["streets"]))
    assert list(per_street) == [ST] and per_street[ST]["total"] == len(ROWS) and per_street[ST]["name"] == "东街街道"
    no_units = pies(LAYERS["compounds"].build(compounds(), level="district"))
    assert set(no_units) == {C1, C2, C3} and no_units[C1]["name"] == C1  # per community, named by code


@pytest.mark.parametrize("level", ["community", "grid"])
def test_drilled_in_every_compound_is_drawn(frames, level):
    drawn = features(LAYERS["compounds"].build(compounds(), level=level, units=frames["grids"]))
    assert [f["properties"]["code"] for f in drawn] == [f"K{i}" for i in range(len(ROWS))]
    assert all("counts" not in f["properties"] for f in drawn)
    assert drawn[2]["properties"]["style"]["fillColor"] == RenovationStatus.UNDER_WAY.color


def test_pie_tooltip_and_names_are_escaped(frames):
    units = frames["communities"]  # C2 is named XSS
    m = build_map(BOUNDS, asset_mode="url", prefix="/v")
    add_layers(m, {"compounds": compounds()}, level="district", units=units)
    html = m.get_root().render()
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html.replace("\\u0026", "&")
    assert pies(LAYERS["compounds"].build(compounds(), level="district", units=units))[C2]["tip"] == [
        "&lt;img src=x onerror=alert(1)&gt;"]
    with pytest.raises(ValueError, match="颜色"):
        PieTable(("a",), ("red;background:url(x)",))


def test_the_legend_is_the_pies_own(frames):
    legend = LAYERS["compounds"].legend(level="district")
    assert legend == [(s.label, s.color) for s in RenovationStatus]
    layer = next(c for c in LAYERS["compounds"].build(compounds(), level="district")._children.values()
                 if hasattr(c, "pie_json"))
    assert f'"colors":{[c for _, c in legend]}'.replace("'", '"').replace(", ", ",") in layer.pie_json
    spec = LAYERS["compounds"]
    assert spec.legend_note(compounds(), level="district", units=frames["communities"]) == "按社区汇总，圆越大小区越多"
    assert spec.legend_note(compounds(), level="street", units=frames["grids"]).startswith("按网格汇总")
    assert spec.legend_note(compounds(), level="district", units=frames["streets"]).startswith("按街道汇总")
    assert spec.legend_note(compounds(), level="community") == ""
    m = build_map(BOUNDS, asset_mode="url", prefix="/v")
    add_layers(m, {"compounds": compounds()}, level="district", units=frames["communities"])
    assert '<p class="gl-note">按社区汇总，圆越大小区越多</p>' in m._children["legend"].inner_html


def test_bad_statuses_are_reported_at_district_level_too():
    bad = compounds().assign(status=["施工中", "finished", "nope"] + STATUSES)
    with pytest.raises(DataValidationError, match="2 行"):
        LAYERS["compounds"].build(bad, level="district")


def _pie_offset(fg) -> tuple[int, int]:
    layer = next(c for c in fg._children.values() if hasattr(c, "pie_json"))
    dx, dy = (int(re.search(rf'"{k}":(-?\d+)', layer.pie_json).group(1)) for k in ("dx", "dy"))
    return dx, dy


def test_pies_of_several_counted_layers_sit_side_by_side(frames):
    def offset(keys):
        m = build_map(BOUNDS, asset_mode="url", prefix="/v")
        add_layers(m, {k: frames[k] if k != "compounds" else compounds() for k in keys}, level="district",
                   today=TODAY, units=frames["communities"])
        fg = next(c for c in m._children.values() if getattr(c, "layer_name", "") == "老旧小区")
        return _pie_offset(fg)
    assert offset(["compounds"]) == (0, 0)  # alone: on the unit's point
    assert offset(["compounds", "disputes"]) == (-aggregate.DODGE_PX, 0)  # beside the dispute counts


# ---------------------------------------------------------------- stations and grids: counted only when many

def test_stations_are_single_until_there_are_many(frames, monkeypatch):
    stations = frames["stations"]
    single = features(LAYERS["stations"].build(stations, level="district", units=frames["communities"]))
    assert [f["properties"]["code"] for f in single] == ["S1", "S2"]
    monkeypatch.setattr(aggregate, "MAX_POINTS", 1)
    counted = pies(LAYERS["stations"].build(stations, level="district", units=frames["communities"]))
    assert set(counted) == {C1, C2} and counted[C1]["counts"] == [1, 0] and counted[C2]["counts"] == [0, 1]
    assert LAYERS["stations"].legend_note(stations, level="district", units=frames["communities"]).startswith("站点较多")
    drilled = features(LAYERS["stations"].build(stations, level="community"))
    assert [f["properties"]["code"] for f in drilled] == ["S1", "S2"]  # drilled in: always single stations
    assert LAYERS["stations"].legend() == [(k.label, k.color) for k in StationKind]


def test_grids_are_polygons_until_there_are_many(frames, monkeypatch):
    grids = frames["grids"]  # 480 staffed, 700 vacant, 510 staffed (standard 500 ± 20 %)
    assert all(f["geometry"]["type"] != "Point" for f in features(LAYERS["grids"].build(grids, level="district")))
    monkeypatch.setattr(aggregate, "MAX_POINTS", 2)
    per_street = pies(LAYERS["grids"].build(grids, level="district", units=frames["streets"]))
    assert list(per_street) == [ST] and per_street[ST]["counts"] == [2, 1, 0, 0]
    assert per_street[ST]["weights"] == [990, 700, 0, 0]
    per_community = pies(LAYERS["grids"].build(grids.assign(worker="张三", households=[480, 700, 300]),
                                               level="district", units=frames["communities"]))
    assert [per_community[c]["counts"] for c in (C1, C2, C3)] == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]


def test_stations_near_keeps_those_within_reach_of_the_units(frames):
    stations = gpd.GeoDataFrame({"code": ["in", "near", "far"], "kind": ["culture"] * 3},
                                geometry=[Point(119.295, 26.085), Point(119.3235, 26.085), Point(119.40, 26.085)],
                                crs=CRS)  # "near" ≈ 350 m east of the sub-district's edge
    assert list(stations_near(stations, frames["streets"], 500)["code"]) == ["in", "near"]
    assert list(stations_near(stations, frames["streets"], 100)["code"]) == ["in"]
    assert stations_near(stations, frames["streets"].iloc[:0], 500).empty


def test_dispute_counts_still_follow_the_units(frames):
    fg = LAYERS["disputes"].build(disputes(30), level="district", today=TODAY, units=frames["communities"])
    assert {f["properties"]["code"] for f in features(fg)} == {C1, C2, C3}


# ---------------------------------------------------------------- the pages, on the sample district (1×)

COMPOUND_CODE = re.compile(r"^350102\d{6}C\d{3}$")
JUNMEN = "350102004001"


def page_features(at) -> list[dict]:
    """The properties of every feature the page's map draws (decoded from what st_folium is sent)."""
    from bench.pages import map_html

    script = map_html(at)["script"]
    return [f["properties"] for blob in re.findall(r"layer\.addData\((\{.*?\})\);\n", script)
            for f in json.loads(blob)["features"]]


def run_page(db_url: str, monkeypatch, page: str, scope: str = "", **state):
    from bench.pages import open_page

    monkeypatch.setenv("DATABASE_URL", db_url)
    at = open_page(page, scope)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def sample_compounds(db_url: str, community: str = "") -> pd.DataFrame:
    with create_engine(db_url).connect() as conn:
        return pd.read_sql(text("SELECT code, community_code FROM compounds WHERE community_code LIKE :c"), conn,
                           params={"c": community + "%"})


PAGES = [("renovation", {}), ("situation", {"layer_compounds": True})]


@pytest.mark.parametrize(("page", "state"), PAGES)
def test_district_pages_count_compounds_per_community(filled_sample_db, monkeypatch, page, state):
    drawn = page_features(run_page(filled_sample_db, monkeypatch, page, **state))
    units = [p for p in drawn if "counts" in p]
    every = sample_compounds(filled_sample_db)
    assert {p["code"] for p in units} == set(every["community_code"])  # one pie per community with compounds
    assert sum(p["total"] for p in units) == len(every) == 867
    assert not [p for p in drawn if COMPOUND_CODE.match(str(p.get("code", "")))]


@pytest.mark.parametrize(("page", "state"), PAGES)
def test_a_community_page_draws_its_compounds(filled_sample_db, monkeypatch, page, state):
    drawn = page_features(run_page(filled_sample_db, monkeypatch, page, JUNMEN, **state))
    codes = {p["code"] for p in drawn if COMPOUND_CODE.match(str(p.get("code", "")))}
    assert codes == set(sample_compounds(filled_sample_db, JUNMEN)["code"]) and codes
    assert not [p for p in drawn if "counts" in p]


def test_a_click_on_a_pie_of_the_renovation_map_drills_down(filled_sample_db, monkeypatch):
    import dashboard.renovation.pipeline as pipeline

    clicked = {"code": None}

    def fake_show_folium(m, **kwargs):
        assert kwargs["returned_objects"] == ["last_active_drawing"]
        return {"last_active_drawing": {"properties": {"code": clicked["code"]}}} if clicked["code"] else {}

    monkeypatch.setattr(pipeline, "show_folium", fake_show_folium)
    at = run_page(filled_sample_db, monkeypatch, "renovation")
    clicked["code"] = JUNMEN  # the community's pie on the district map
    at.run()
    assert not at.exception and at.query_params["scope"] == JUNMEN and "军门社区" in at.title[0].value
    clicked["code"] = sample_compounds(filled_sample_db, JUNMEN)["code"].iloc[0]  # a compound: no unit, stays
    at.run()
    assert at.query_params["scope"] == JUNMEN
