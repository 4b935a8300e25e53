"""The 党建引领 layers (layers.party) and their frame (geo.party_map) on tiny hand-built frames (EPSG:4326)."""
from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, box

from geo.party_map import assistant_class, compound_coverage, split_codes
from geo.vocab import GridAssistants, ModelLevel, PartyCoverage, StationKind
from layers.mapbuild import add_layers, build_map
from layers.registry import LAYERS

CRS = "EPSG:4326"
ST, C1, C2 = "350102004000", "350102004001", "350102004002"
G1, G2, G3 = C1 + "001", C1 + "002", C2 + "001"
XSS = "<b>x</b>"
BOUNDS = (119.29, 26.08, 119.31, 26.09)


def features(fg) -> list[dict]:
    """Every feature of a FeatureGroup, its style put back into its properties."""
    out = []
    for child in fg._children.values():
        if hasattr(child, "styled_properties"):
            out += [{"properties": p, "geometry": f["geometry"]}
                    for p, f in zip(child.styled_properties(), child.data["features"])]
    return out


def by_code(fg) -> dict[str, dict]:
    return {f["properties"]["code"]: f["properties"] for f in features(fg) if "code" in f["properties"]}


def labels(fg) -> list[str]:
    return [f["properties"]["label"] for f in features(fg) if "label" in f["properties"]]


@pytest.fixture
def compounds() -> gpd.GeoDataFrame:
    """K1 single, K2 + K3 one joint organisation, K4 single and joint (counts as single), K5 building groups on
    top of a single organisation, K6 building groups only (uncovered), K7 nothing; K6 is named <b>x</b>."""
    codes = [f"K{i}" for i in range(1, 8)]
    return gpd.GeoDataFrame(
        {"code": codes, "name": ["省府宿舍", "杨桥新村", "南营小区", "双抛小区", "北大小区", XSS, "大根小区"],
         "street_code": ST, "community_code": [C1] * 5 + [C2] * 2, "grid_code": [G1, G1, G2, G2, G2, G3, G3],
         "households": [200, 80, 60, 300, 150, 90, 40], "buildings": [4, 2, 2, 6, 3, 2, 1]},
        geometry=[Point(119.291 + 0.002 * i, 26.085) for i in range(7)], crs=CRS)


@pytest.fixture
def orgs() -> pd.DataFrame:
    rows = [
        ("P1", "compound", "single", "K1", None, "省府宿舍党支部"),
        ("P2", "compound", "joint", "K2,K3", None, "杨桥新村等2个小区联合党支部"),
        ("P3", "compound", "single", "K4", None, "双抛小区党支部"),
        ("P4", "compound", "joint", "K4，K7x", None, XSS),
        ("P5", "compound", "single", "K5", None, "北大小区党支部"),
        ("P6", "building", None, "K5", "1号楼", "1号楼党小组"),
        ("P7", "building", None, "K5", "1号楼", "1号楼第二党小组"),  # 一楼多小组: still one building
        ("P8", "building", None, "K6", "2号楼", "2号楼党小组"),
        ("P9", "community", None, None, None, "军门社区党委"),
    ]
    frame = pd.DataFrame(rows, columns=["code", "level", "setup", "compound_codes", "building", "name"])
    return frame.assign(street_code=ST, community_code=C1, grid_code=G1, members=10)


def test_each_compound_gets_its_coverage_class(compounds, orgs):
    covered = compound_coverage(compounds, orgs)
    assert dict(zip(covered["code"], covered["party_cover"])) == {
        "K1": "single", "K2": "joint", "K3": "joint", "K4": "single", "K5": "buildings", "K6": "none", "K7": "none"}
    assert dict(zip(covered["code"], covered["party_buildings"]))["K5"] == 1
    assert covered.loc[covered["code"] == "K4", "party_org_names"].item() == f"双抛小区党支部、{XSS}"
    assert "party_cover" not in compounds  # the input is left as it was
    assert compound_coverage(compounds.iloc[:0], orgs).empty
    assert set(compound_coverage(compounds, orgs.iloc[:0])["party_cover"]) == {"none"}


@pytest.mark.parametrize(("text", "codes"), [("K1,K2", ["K1", "K2"]), (" K1 ，K2 ,", ["K1", "K2"]), (None, []),
                                             (float("nan"), []), ("", [])])
def test_split_codes(text, codes):
    assert split_codes(text) == codes


def test_compounds_drilled_in_are_coloured_by_coverage_and_escaped(compounds, orgs):
    fg = LAYERS["party_compounds"].build(compound_coverage(compounds, orgs), level="community")
    feats = by_code(fg)
    fill = {code: p["style"]["fillColor"] for code, p in feats.items()}
    assert fill == {"K1": PartyCoverage.SINGLE.color, "K2": PartyCoverage.JOINT.color, "K3": PartyCoverage.JOINT.color,
                    "K4": PartyCoverage.SINGLE.color, "K5": PartyCoverage.BUILDINGS.color,
                    "K6": PartyCoverage.NONE.color, "K7": PartyCoverage.NONE.color}
    assert feats["K6"]["name"] == XSS and feats["K6"]["tip"] == ["&lt;b&gt;x&lt;/b&gt;", "未覆盖"]
    assert "&lt;b&gt;x&lt;/b&gt;" in feats["K4"]["popup"][1]  # the covering organisations' names, escaped
    assert feats["K5"]["popup"][2] == "1 栋"


def test_compounds_far_out_are_pies_per_community(compounds, orgs):
    fg = LAYERS["party_compounds"].build(compound_coverage(compounds, orgs), level="district")
    pies = by_code(fg)
    order = [c.value for c in PartyCoverage]  # buildings, single, joint, none
    assert pies[C1]["counts"] == [1, 2, 2, 0] and pies[C2]["counts"] == [0, 0, 0, 2]
    assert pies[C1]["weights"][order.index("single")] == 500  # K1 200 + K4 300 households


def test_compound_legend_lists_only_the_classes_drawn(compounds, orgs):
    frame = compound_coverage(compounds, orgs)
    spec = LAYERS["party_compounds"]
    assert [label for label, _ in spec.legend_items(frame[frame["community_code"] == C2])] == ["未覆盖"]
    assert [c for _, c in spec.legend_items(frame)] == [c.color for c in PartyCoverage]


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [G1, G2, G3], "name": ["网格01", XSS, "网格03"], "street_code": ST, "community_code": [C1, C1, C2],
         "assistants": [0, 1, 3], "households": [480, 500, 520]},
        geometry=[MultiPolygon([box(119.29 + 0.005 * i, 26.08, 119.295 + 0.005 * i, 26.09)]) for i in range(3)],
        crs=CRS)


@pytest.mark.parametrize(("n", "cls"), [(0, GridAssistants.NONE), (None, GridAssistants.NONE),
                                        (1, GridAssistants.ONE), (2, GridAssistants.SEVERAL), (7, GridAssistants.SEVERAL)])
def test_assistant_classes(n, cls):
    assert assistant_class(n) is cls


def test_grids_are_shaded_by_assistants_and_the_district_shows_only_the_gaps(grids):
    spec = LAYERS["party_grids"]
    near = by_code(spec.build(grids, level="community"))
    assert {c: p["style"]["fillColor"] for c, p in near.items()} == {
        G1: GridAssistants.NONE.color, G2: GridAssistants.ONE.color, G3: GridAssistants.SEVERAL.color}
    assert near[G2]["tip"][0] == "&lt;b&gt;x&lt;/b&gt;" and near[G1]["tip"][1] == "网格协管员 0 人"
    assert list(by_code(spec.build(grids, level="district"))) == [G1]
    assert spec.legend_items(grids, level="district") == [(GridAssistants.NONE.label, GridAssistants.NONE.color)]
    assert spec.legend_note(grids, level="district").startswith("只显示无协管员的网格")
    assert len(spec.legend_items(grids, level="community")) == 3 and spec.legend_note(grids, level="community") == ""


@pytest.fixture
def stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["S1", "S2", "S3", "S4"], "name": ["军门党群服务中心", XSS, "军门志愿服务站", "军门居家养老服务站"],
         "kind": ["party", "volunteer", "volunteer", "elderly_home"], "street_code": ST, "community_code": C1,
         "model_level": [None, "provincial", "municipal", None], "address": ["鼓屏路1号", XSS, None, None]},
        geometry=[Point(119.292 + 0.003 * i, 26.086) for i in range(4)], crs=CRS)


def test_party_and_volunteer_stations_with_model_ones_ringed_and_badged(stations):
    fg = LAYERS["party_stations"].build(stations, level="district")
    feats = by_code(fg)
    assert set(feats) == {"S1", "S2", "S3"}  # the elderly-care station is not a party site
    assert feats["S1"]["style"]["fillColor"] == StationKind.PARTY.color
    assert feats["S2"]["style"]["fillColor"] == StationKind.VOLUNTEER.color
    assert feats["S2"]["style"]["color"] == ModelLevel.PROVINCIAL.color and feats["S2"]["style"]["weight"] == 3
    assert feats["S3"]["style"]["color"] == ModelLevel.MUNICIPAL.color and feats["S1"]["style"]["weight"] == 1
    assert feats["S2"]["tip"] == ["&lt;b&gt;x&lt;/b&gt;", "志愿服务站", "省级示范"]
    assert sorted(labels(fg)) == sorted(["省级", "市级"])
    legend = [label for label, _ in LAYERS["party_stations"].legend_items(stations)]
    assert legend == ["党群服务中心", "志愿服务站", "省级示范站点", "市级示范站点"]


def test_no_model_station_no_badge_and_no_model_legend(stations):
    plain = stations.assign(model_level=None)
    assert labels(LAYERS["party_stations"].build(plain)) == []
    assert [label for label, _ in LAYERS["party_stations"].legend_items(plain.iloc[[0]])] == ["党群服务中心"]


def test_a_whole_map_escapes_every_name_and_its_legend_follows_the_layers(compounds, orgs, grids, stations):
    m = build_map(BOUNDS, asset_mode="url", prefix="/v")
    frames = {"party_grids": grids, "party_compounds": compound_coverage(compounds, orgs), "party_stations": stations}
    add_layers(m, frames, level="community")
    html = m.get_root().render()
    assert XSS not in html and "&lt;b&gt;x&lt;/b&gt;" in html.replace("\\u0026", "&")
    legend = m._children["legend"].inner_html
    for title in ("网格协管员", "小区党组织覆盖", "党群服务阵地"):
        assert f'data-layer="{title}"' in legend
    assert "居家养老服务站" not in legend and "&lt;b&gt;" not in legend
