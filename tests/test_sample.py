"""Tests of the sample district generator (on its real output) and of geo.tessellate."""
from __future__ import annotations

import hashlib
from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from data.sample import DIVISIONS_CSV, build_sample, load_divisions, sample_as_of
from data.schema import GEO_TABLES
from geo import tessellate as tess
from geo.errors import CRSError
from geo.vocab import DisputeStatus, RenovationStatus, StationKind

M = tess.METRIC_CRS
TOL_M2 = 1.0
FIVE_KINDS = {k.value for k in (StationKind.ELDERLY_HOME, StationKind.CHILDREN, StationKind.CULTURE,
                                 StationKind.VOLUNTEER, StationKind.GOV_SERVICE)}


@pytest.fixture(scope="module")
def sample() -> dict[str, gpd.GeoDataFrame]:
    return build_sample()


@pytest.fixture(scope="module")
def metric(sample) -> dict[str, gpd.GeoDataFrame]:
    return {name: frame.to_crs(M) for name, frame in sample.items()}


def fingerprint(frame: gpd.GeoDataFrame) -> str:
    """SHA-256 over the geometries' WKB and the attributes' CSV."""
    digest = hashlib.sha256()
    for wkb in shapely.to_wkb(frame.geometry.to_numpy()):
        digest.update(wkb)
    digest.update(frame.drop(columns="geometry").to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()


def max_pairwise_overlap(geoms: gpd.GeoSeries) -> float:
    """Largest intersection area (m²) between two different polygons of a metric GeoSeries."""
    values = geoms.to_numpy()
    left, right = shapely.STRtree(values).query(values, predicate="intersects")
    keep = left < right
    if not keep.any():
        return 0.0
    return float(shapely.area(shapely.intersection(values[left[keep]], values[right[keep]])).max())


# ---------------------------------------------------------------------------------------------
# determinism and shape of the output


def test_same_seed_gives_identical_bytes(sample):
    again = build_sample()
    assert {k: fingerprint(v) for k, v in sample.items()} == {k: fingerprint(v) for k, v in again.items()}


def test_other_seed_gives_other_geometry(sample):
    other = build_sample(seed=7)
    assert fingerprint(other["grids"]) != fingerprint(sample["grids"])
    assert other["communities"].code.tolist() == sample["communities"].code.tolist()


def test_columns_match_schema(sample):
    assert set(sample) == set(GEO_TABLES)
    for name, frame in sample.items():
        expected = ["geometry" if c.name == "geom" else c.name for c in GEO_TABLES[name].columns]
        assert list(frame.columns) == expected, name
        assert frame.crs.to_epsg() == 4326, name
        assert frame.geometry.name == "geometry"


@pytest.mark.parametrize(("table", "kind"), [
    ("streets", "MultiPolygon"), ("communities", "MultiPolygon"), ("grids", "MultiPolygon"),
    ("compounds", "Point"), ("stations", "Point"), ("disputes", "Point"),
])
def test_geometry_types_and_rounding(sample, table, kind):
    frame = sample[table]
    assert (frame.geom_type == kind).all()
    assert frame.is_valid.all()
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    assert np.array_equal(xy, np.round(xy, 7))


@pytest.mark.parametrize("table", list(GEO_TABLES))
def test_codes_unique(sample, table):
    assert sample[table].code.is_unique


def test_as_of_is_fixed():
    assert sample_as_of() == date(2026, 11, 28)


# ---------------------------------------------------------------------------------------------
# divisions: real names and codes


def test_divisions_csv_holds_only_wgs84_facts():
    div = load_divisions()
    assert list(div.columns) == ["code", "name", "level", "parent_code", "lon", "lat"]
    assert div.level.value_counts().to_dict() == {"community": 69, "street": 10, "district": 1}
    assert div.code.str.fullmatch(r"\d{12}").all()
    assert div.loc[div.code == "350102004001", ["name", "parent_code"]].values.tolist() == [["军门社区", "350102004000"]]
    assert "gcj" not in DIVISIONS_CSV.read_text(encoding="utf-8").lower()


def test_communities_are_the_real_69(sample):
    div = load_divisions()
    real = div[div.level == "community"].sort_values("code")
    com = sample["communities"].sort_values("code")
    assert len(com) == 69
    assert com.code.tolist() == real.code.tolist()
    assert com.name.tolist() == real.name.tolist()
    assert com.street_code.tolist() == real.parent_code.tolist()
    assert com.centre_known.tolist() == real.lon.notna().tolist()
    assert com.centre_known.sum() == 47


def test_streets_are_the_real_10(sample):
    div = load_divisions()
    real = div[div.level == "street"].sort_values("code")
    streets = sample["streets"].sort_values("code")
    assert streets.code.tolist() == real.code.tolist()
    assert streets.name.tolist() == real.name.tolist()
    assert streets.kind.value_counts().to_dict() == {"街道": 9, "镇": 1}
    assert streets.set_index("name").kind["洪山镇"] == "镇"


def test_published_centres_lie_in_their_community(sample):
    div = load_divisions()
    known = div[(div.level == "community") & div.lon.notna()]
    geoms = sample["communities"].set_index("code").geometry
    for code, lon, lat in zip(known.code, known.lon, known.lat):
        assert geoms[code].contains(Point(lon, lat)), code


# ---------------------------------------------------------------------------------------------
# geometry: exact tilings


def test_district_area_about_35_km2(metric):
    area = metric["streets"].area.sum() / 1e6
    assert 33 <= area <= 37


def test_communities_tile_the_district(metric):
    com, streets = metric["communities"], metric["streets"]
    district = shapely.union_all(streets.geometry.to_numpy())
    union = shapely.union_all(com.geometry.to_numpy())
    assert abs(com.area.sum() - district.area) < TOL_M2
    assert shapely.symmetric_difference(union, district).area < TOL_M2
    assert max_pairwise_overlap(com.geometry) < TOL_M2
    assert max_pairwise_overlap(streets.geometry) < TOL_M2
    assert union.geom_type == "Polygon" and len(union.interiors) == 0


def test_street_is_union_of_its_communities(metric):
    com = metric["communities"]
    for code, geom in zip(metric["streets"].code, metric["streets"].geometry):
        mine = shapely.union_all(com.geometry[com.street_code == code].to_numpy())
        assert shapely.symmetric_difference(mine, geom).area < TOL_M2, code


def test_streets_are_contiguous(sample):
    assert (sample["streets"].geometry.map(lambda g: len(g.geoms)) == 1).all()


def test_grids_tile_each_community(metric):
    grids = metric["grids"]
    for code, geom in zip(metric["communities"].code, metric["communities"].geometry):
        mine = grids.geometry[grids.community_code == code]
        assert len(mine) >= 3
        assert abs(mine.area.sum() - geom.area) < TOL_M2, code
        assert shapely.symmetric_difference(shapely.union_all(mine.to_numpy()), geom).area < TOL_M2, code
    assert max_pairwise_overlap(grids.geometry) < TOL_M2


def test_grid_codes_and_names(sample):
    grids = sample["grids"]
    assert (grids.code.str[:12] == grids.community_code).all()
    assert (grids.street_code == grids.community_code.str[:9] + "000").all()
    assert grids.code.str.fullmatch(r"\d{15}").all()
    first = grids.sort_values("code").groupby("community_code").head(1)
    assert (first.code.str[12:] == "001").all() and (first.name == "网格01").all()
    assert grids.name.str.fullmatch(r"网格\d{2}").all()


# ---------------------------------------------------------------------------------------------
# grids: households, people


def test_grid_households(sample):
    hh = sample["grids"].households
    assert 450 <= hh.mean() <= 550
    assert abs(hh.sum() - 257_000) <= 0.02 * 257_000
    assert 8 <= ((hh >= 650) | (hh <= 350)).sum() <= 15


def test_population_is_the_census_figure(sample):
    assert sample["grids"].population.sum() == 669_090
    ratio = sample["grids"].population / sample["grids"].households
    assert ratio.between(2.0, 3.4).all()


def test_grid_workers(sample):
    grids = sample["grids"]
    assert 6 <= grids.worker.isna().sum() <= 12
    named = grids.worker.dropna()
    assert named.str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    assert grids.assistants.between(0, 3).all()


@pytest.fixture(scope="module")
def history():
    return build_sample(with_history=True)


def test_grid_workers_history_is_deterministic_and_matches_the_current_state(sample, history):
    again = build_sample(with_history=True)
    assert history["grid_workers"].to_csv(index=False) == again["grid_workers"].to_csv(index=False)
    assert fingerprint(history["grids"]) == fingerprint(sample["grids"])  # the same grids either way
    grids, periods = history["grids"], history["grid_workers"]
    assert list(periods.columns) == ["grid_code", "worker", "phone", "started_on", "ended_on"]
    open_ = periods[periods.ended_on.isna()].set_index("grid_code")
    staffed = grids[grids.worker.notna()].set_index("code")
    assert sorted(open_.index) == sorted(staffed.index)  # one open period per staffed grid, none elsewhere
    assert (open_.loc[staffed.index, "worker"] == staffed.worker).all()
    assert (open_.loc[staffed.index, "started_on"] == staffed.worker_since).all()
    assert (open_.loc[staffed.index, "phone"] == staffed.worker_phone).all()
    assert grids.worker_phone[grids.worker.notna()].str.fullmatch(r"1[3-9]\d\*{4}\d{4}").all()  # masked: sample
    assert grids.worker_phone[grids.worker.isna()].isna().all() and grids.worker_since[grids.worker.isna()].isna().all()
    closed = periods.dropna(subset=["ended_on"])
    assert (closed.started_on < closed.ended_on).all() and all(d <= sample_as_of() for d in closed.ended_on)


def test_vacancies_today_and_a_month_ago(history):
    from datetime import timedelta

    from geo.staffing import vacant_grids

    grids, periods = history["grids"], history["grid_workers"]
    assert len(vacant_grids(periods, grids, sample_as_of())) == grids.worker.isna().sum() == 9
    assert len(vacant_grids(periods, grids, sample_as_of() - timedelta(days=30))) == 7


def test_stations_have_opening_dates_and_none_is_closed(sample):
    st = sample["stations"]
    assert st.opened_on.notna().all() and st.closed_on.isna().all()
    assert min(st.opened_on) >= date(2012, 1, 1) and max(st.opened_on) <= sample_as_of()


# ---------------------------------------------------------------------------------------------
# compounds


def test_compound_status_counts(sample):
    counts = sample["compounds"].status.value_counts()
    assert counts[RenovationStatus.COMPLETED.value] == 246
    assert counts[RenovationStatus.MANAGED.value] == 321
    rest = counts.drop([RenovationStatus.COMPLETED.value, RenovationStatus.MANAGED.value])
    assert set(rest.index) == {"planned", "under_way", "not_planned"}
    assert 250 <= rest.sum() <= 350
    assert rest.idxmax() == RenovationStatus.NOT_PLANNED.value


def test_compound_renovation_fields_consistent(sample):
    cp = sample["compounds"]
    untouched = cp.status == RenovationStatus.NOT_PLANNED.value
    assert cp.reno_type[untouched].isna().all() and cp.reno_type[~untouched].notna().all()
    assert cp.budget_wan[untouched].isna().all()
    budget = cp.budget_wan[~untouched].astype(float)
    assert 150 <= budget.mean() <= 260
    done = cp.status.isin(["completed", "managed"])
    assert cp.completed_on[done].notna().all() and cp.completed_on[~done].isna().all()
    assert (cp.completed_on[done] > cp.started_on[done]).all()
    assert all(d <= sample_as_of() for d in cp.completed_on[done])
    assert (cp.plan_year[done] < 2026).all()
    under_way = cp.status == "under_way"
    assert cp.started_on[under_way].notna().all() and (cp.plan_year[under_way] == 2026).all()
    assert (cp.plan_year[cp.status == "planned"] == 2027).all()
    assert (cp.version == 1).all()


def test_compound_sizes_and_grid_capacity(sample):
    cp, grids = sample["compounds"], sample["grids"]
    assert cp.households.between(30, 800).all()
    assert cp.built_year.between(1975, 2000).mean() > 0.8
    per_grid = cp.groupby("grid_code").households.sum()
    assert (per_grid <= grids.set_index("code").households[per_grid.index]).all()
    assert cp.name.is_unique


def test_points_lie_in_their_grid(sample):
    grids = sample["grids"][["code", "geometry"]].rename(columns={"code": "in_grid"})
    for table in ("compounds", "stations", "disputes"):
        points = sample[table]
        joined = gpd.sjoin(points[["grid_code", "geometry"]], grids, predicate="within")
        assert len(joined) == len(points), table
        assert (joined.grid_code == joined.in_grid).all(), table
        assert (points.community_code == points.grid_code.str[:12]).all(), table
        assert (points.street_code == points.community_code.str[:9] + "000").all(), table


# ---------------------------------------------------------------------------------------------
# stations


def test_every_community_has_the_five_stations(sample):
    kinds = sample["stations"].groupby("community_code").kind.agg(set)
    assert len(kinds) == 69
    assert all(FIVE_KINDS <= k for k in kinds)


def test_every_street_has_a_five_star_elderly_centre(sample):
    st = sample["stations"]
    centres = st[(st.kind == StationKind.ELDERLY_CENTRE.value) & (st.stars == 5)]
    assert sorted(centres.street_code) == sorted(sample["streets"].code)


def test_stations_not_all_at_the_centre(metric):
    homes = metric["stations"][metric["stations"].kind == StationKind.ELDERLY_HOME.value]
    far = metric["compounds"].geometry.map(lambda p: homes.distance(p).min()) > 500
    assert far.sum() > 0


# ---------------------------------------------------------------------------------------------
# disputes


def test_dispute_stream_two_years(sample):
    di = sample["disputes"]
    end = sample_as_of()
    assert max(di.reported_on) <= end
    last_year = sum((end - d).days < 365 for d in di.reported_on)
    year_before = sum(365 <= (end - d).days < 730 for d in di.reported_on)
    assert 2500 <= last_year <= 3500 and 2500 <= year_before <= 3500


def test_dispute_lifecycle(sample):
    di = sample["disputes"]
    closed = di.closed_on.notna()
    assert di.status[closed].isin([s.value for s in (DisputeStatus.RESOLVED, DisputeStatus.FAILED,
                                                     DisputeStatus.TRANSFERRED)]).all()
    assert di.status[~closed].isin([DisputeStatus.RECEIVED.value, DisputeStatus.MEDIATING.value]).all()
    assert all(c >= r for c, r in zip(di.closed_on[closed], di.reported_on[closed]))
    assert 0.90 <= (di.status[closed] == DisputeStatus.RESOLVED.value).mean() <= 0.96
    overdue = sum((sample_as_of() - d).days > 30 for d in di.reported_on[~closed])
    assert 10 <= overdue <= 80


def test_repeat_addresses_exist(sample):
    di = sample["disputes"]
    repeats = 0
    for _, group in di.groupby("address"):
        days = sorted(group.reported_on)
        repeats += any((days[i + 2] - days[i]).days <= 365 for i in range(len(days) - 2))
    assert repeats >= 3


def test_more_property_disputes_where_no_property_management(sample):
    cp, di = sample["compounds"], sample["disputes"]
    prop = di[di.category == "property_mgmt"].compound_code.value_counts()
    rate = {}
    for managed in (True, False):
        mine = cp[cp.has_property_mgmt == managed]
        rate[managed] = prop.reindex(mine.code).fillna(0).sum() / mine.households.sum()
    assert rate[False] > 1.5 * rate[True]


def test_disputes_follow_households(sample):
    per_grid = sample["disputes"].groupby("grid_code").size()
    hh = sample["grids"].set_index("code").households
    assert np.corrcoef(hh[per_grid.index], per_grid)[0, 1] > 0.2


# ---------------------------------------------------------------------------------------------
# geo.tessellate on tiny hand-built geometries


def square_km(x0: float = 0.0, y0: float = 0.0) -> gpd.GeoSeries:
    """A 1 km square in EPSG:32650 near Fuzhou."""
    return gpd.GeoSeries([box(700_000 + x0, 2_885_000 + y0, 701_000 + x0, 2_886_000 + y0)], crs=M)


def test_split_square_into_four_equal_parts():
    square = square_km()
    before = square.copy()
    parts = tess.split_equal_area(square, 4, np.random.default_rng(1)).to_crs(M)
    assert parts.crs.to_epsg() == 32650 and len(parts) == 4
    assert np.allclose(parts.area, 250_000, rtol=0.1)
    assert abs(parts.area.sum() - 1e6) < TOL_M2
    assert max_pairwise_overlap(parts) < TOL_M2
    assert square.geom_equals(before).all()


def test_split_is_deterministic_and_single_part_is_the_polygon():
    square = square_km()
    a = tess.split_equal_area(square, 5, 42)
    b = tess.split_equal_area(square, 5, np.random.default_rng(42))
    assert shapely.to_wkb(a.to_numpy()).tolist() == shapely.to_wkb(b.to_numpy()).tolist()
    one = tess.split_equal_area(square, 1, 0).to_crs(M)
    assert abs(one.area.iloc[0] - 1e6) < TOL_M2


def test_voronoi_of_three_seeds_tiles_square():
    square = square_km()
    seeds = gpd.GeoSeries([Point(700_200, 2_885_200), Point(700_800, 2_885_300), Point(700_500, 2_885_800)],
                          index=["a", "b", "c"], crs=M)
    cells = tess.voronoi_cells(seeds, square).to_crs(M)
    assert list(cells.index) == ["a", "b", "c"]
    assert abs(cells.area.sum() - 1e6) < TOL_M2
    assert max_pairwise_overlap(cells) < TOL_M2
    for name, seed in seeds.items():
        assert cells[name].buffer(1e-6).contains(seed)


def test_voronoi_rejects_bad_input():
    square = square_km()
    with pytest.raises(ValueError, match="region"):
        tess.voronoi_cells(gpd.GeoSeries([Point(0, 0)], crs=M), square)
    with pytest.raises(CRSError):
        tess.voronoi_cells(gpd.GeoSeries([Point(700_500, 2_885_500)]), square)
    with pytest.raises(TypeError):
        tess.voronoi_cells([Point(700_500, 2_885_500)], square)


def test_district_outline_has_target_area_and_contains_seeds():
    rng = np.random.default_rng(3)
    xy = rng.uniform((700_000, 2_885_000), (704_000, 2_888_000), size=(20, 2))
    seeds = gpd.GeoSeries(shapely.points(xy), crs=M)
    outline = tess.district_outline(seeds, 20.0)
    assert outline.crs.to_epsg() == 4326
    metric_outline = outline.to_crs(M).iloc[0]
    assert abs(metric_outline.area / 1e6 - 20.0) < 0.05
    assert metric_outline.contains(shapely.multipoints(xy))
    with pytest.raises(ValueError, match="ratio"):
        tess.district_outline(seeds, 20.0, ratio=0)


def test_place_seeds_inside_region_and_away_from_existing():
    square = square_km()
    existing = gpd.GeoSeries([Point(700_100, 2_885_100)], crs=M)
    placed = tess.place_seeds(square, existing, 2, 5).to_crs(M)
    assert len(placed) == 2
    assert placed.within(square.iloc[0]).all()
    assert (placed.distance(existing.iloc[0]) > 300).all()
    with pytest.raises(ValueError, match="n"):
        tess.place_seeds(square, existing, 0, 5)


def test_snap_tiling_removes_t_junctions():
    # a left square and a right square cut in two: the left square's edge has a T-junction
    lon, lat, d = 119.3, 26.08, 0.01
    left = box(lon, lat, lon + d, lat + d)
    upper = box(lon + d, lat + d * 0.4, lon + 2 * d, lat + d)
    lower = box(lon + d, lat, lon + 2 * d, lat + d * 0.4)
    nudged = shapely.transform(upper, lambda c: c + 3e-9)
    polys = gpd.GeoSeries([left, nudged, lower], index=[10, 20, 30], crs=tess.WGS84)
    snapped = tess.snap_tiling(polys)
    assert list(snapped.index) == [10, 20, 30]
    assert (snapped.geom_type == "MultiPolygon").all()
    xy = shapely.get_coordinates(snapped.to_numpy())
    assert np.array_equal(xy, np.round(xy, 7))
    metric = snapped.to_crs(M)
    assert max_pairwise_overlap(metric) < 1e-6
    union = shapely.union_all(metric.to_numpy())
    assert abs(union.area - metric.area.sum()) < 1e-6


def test_dissolve_exact_groups_by_key():
    parts = tess.snap_tiling(tess.split_equal_area(square_km(), 4, 0))
    merged = tess.dissolve_exact(parts, ["x", "x", "y", "y"]).to_crs(M)
    assert list(merged.index) == ["x", "y"]
    assert abs(merged.area.sum() - parts.to_crs(M).area.sum()) < 1e-3
    assert abs(merged.area.sum() - 1e6) < 5.0  # the outline moved by at most ~1 cm of rounding


def test_random_points_respect_margin():
    square = square_km()
    pts = tess.random_points(square, 50, 9, margin_m=100).to_crs(M)
    inner = square.iloc[0].buffer(-99.9)
    assert len(pts) == 50 and pts.within(inner).all()


@pytest.mark.parametrize("bad", [-1, 1.5, "seed", None])
def test_as_rng_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="rng"):
        tess.as_rng(bad)

