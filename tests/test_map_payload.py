"""What keeps the map's payload and render cost down (issue 9): layers rendered once, detail by view, counts by unit."""
from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.vocab import RenovationStatus
from layers import disputes as dispute_layer
from layers.common import precision_for, simplified, view_tolerance_m
from layers.features import FeatureLayer
from layers.mapbuild import add_layers, build_map
from tests.test_layers import BOUNDS, C1, C2, C3, ST, TODAY, disputes, hand_built_frames


def _layer(text: str) -> FeatureLayer:
    return FeatureLayer([shapely.Point(119.3, 26.08)], [{"code": "1", "name": text, "tip": [text]}])


def test_feature_script_is_placed_as_rendered_not_run_as_a_template():
    m = build_map(BOUNDS, asset_mode="url", prefix="/static")
    m.add_child(_layer("{{ 7*7 }}{% if true %}x{% endif %}"))
    html = m.get_root().render()
    assert "{{ 7*7 }}{% if true %}x{% endif %}" in html


def test_a_copied_layer_shares_its_json_text():
    layer = _layer("军门社区")
    twin = copy.deepcopy(layer)
    assert twin.data_json is layer.data_json  # nothing per coordinate is copied on a rerun
    assert twin.data == layer.data and twin.data["features"][0]["properties"]["name"] == "军门社区"


@pytest.mark.parametrize(("tolerance_m", "decimals"), [(0, 6), (3, 6), (5, 6), (50, 5), (250, 4), (5_000, 4)])
def test_precision_follows_the_tolerance(tolerance_m, decimals):
    assert precision_for(tolerance_m) == decimals


@pytest.mark.parametrize(("bounds", "low", "high"), [
    ((119.29, 26.08, 119.32, 26.09), 3.0, 3.0),        # a few km: the 3 m floor
    ((119.2, 26.0, 120.2, 26.2), 45.0, 55.0),          # 1° of longitude at 26°N ≈ 100 km: about 50 m
    ((119.2, 26.0, 124.2, 26.2), 240.0, 260.0),        # 5°: about 250 m
])
def test_view_tolerance_is_half_a_pixel_of_the_view(bounds, low, high):
    assert low <= view_tolerance_m(bounds) <= high


def test_simplified_geometry_is_rounded_to_its_precision():
    frames = hand_built_frames()
    coarse = simplified(frames["communities"], 250)
    coords = shapely.get_coordinates(coarse)
    assert (abs(coords * 1e4 - (coords * 1e4).round()) < 1e-6).all()
    fine = shapely.get_coordinates(simplified(frames["communities"], 3))
    assert (abs(fine * 1e6 - (fine * 1e6).round()) < 1e-6).all()


def _circles(units) -> list[dict]:
    fg = dispute_layer.build(disputes(60), level="district", today=TODAY, units=units)
    (layer,) = [c for c in fg._children.values() if isinstance(c, FeatureLayer)]
    return [f["properties"] for f in layer.data["features"]]


def test_disputes_are_counted_into_the_units_given():
    frames = hand_built_frames()
    by_community = _circles(frames["communities"])
    by_street = _circles(frames["streets"])
    assert len(by_community) == 3 and sum(p["cases"] for p in by_community) == 60
    assert [p["code"] for p in by_street] == [ST] and by_street[0]["cases"] == 60
    assert by_street[0]["name"] == "东街街道"


def test_district_map_without_units_still_counts_per_community():
    frames = hand_built_frames()
    m = build_map(frames["streets"].total_bounds, asset_mode="url", prefix="/static")
    add_layers(m, {"streets": frames["streets"], "disputes": disputes(30)}, level="district", today=TODAY)
    assert m.get_root().render().count('"cases":') == 3


def many_compounds(n: int, seed: int = 2) -> gpd.GeoDataFrame:
    """``n`` compounds spread over the three test communities (one grid each), every status, EPSG:4326."""
    rng = np.random.default_rng(seed)
    community = np.array([C1, C2, C3])[np.arange(n) % 3]
    x0 = np.select([community == C1, community == C2], [119.29, 119.30], 119.31)
    statuses = [s.value for s in RenovationStatus]
    return gpd.GeoDataFrame({
        "code": [f"K{i:05d}" for i in range(n)], "name": [f"小区{i}" for i in range(n)], "street_code": ST,
        "community_code": community, "grid_code": [c + "001" for c in community],
        "status": [statuses[i % len(statuses)] for i in range(n)], "households": rng.integers(20, 900, n),
    }, geometry=gpd.points_from_xy(x0 + 0.01 * rng.random(n), 26.08 + 0.01 * rng.random(n)), crs="EPSG:4326")


def compounds_html(n: int, level: str, units) -> str:
    m = build_map(BOUNDS, asset_mode="url", prefix="/v")
    add_layers(m, {"compounds": many_compounds(n)}, level=level, units=units)
    return m.get_root().render()


@pytest.mark.parametrize(("level", "units"), [("district", "communities"), ("street", "grids")])
def test_counted_compounds_do_not_grow_with_compounds(level, units):
    """Far out the compounds map follows the units: ten times the compounds, the same page (to a few digits)."""
    frames = hand_built_frames()
    small, large = (compounds_html(n, level, frames[units]) for n in (2_000, 20_000))
    assert abs(len(large) - len(small)) / len(small) < 0.03, (len(small), len(large))
    assert large.count('"counts":') == 3 and "K19999" not in large
