"""geo.party on a tiny hand-built district: two streets, three communities, four grids, six compounds."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo import party
from geo.rollup import Period, indicators, station_completeness
from geo.vocab import ModelLevel, PartyOrgKind, PartyOrgLevel, PartyOrgSetup, StationKind

AS_OF = date(2026, 11, 28)
S1, S2 = "350102001000", "350102002000"
C1, C2, C3 = "350102001001", "350102001002", "350102002001"
G1A, G1B, G2, G3 = C1 + "01", C1 + "02", C2 + "01", C3 + "01"


def _communities() -> pd.DataFrame:
    return pd.DataFrame({"code": [C1, C2, C3], "name": ["甲社区", "乙社区", "丙社区"], "street_code": [S1, S1, S2]})


def _grids() -> pd.DataFrame:
    return pd.DataFrame({
        "code": [G1A, G1B, G2, G3], "street_code": [S1, S1, S1, S2], "community_code": [C1, C1, C2, C3],
        "households": [500, 400, 300, 200], "population": [1000, 800, 600, 400],
        "worker": ["张", None, "李", "王"], "assistants": [2, 0, 1, 0]})


def _compounds() -> pd.DataFrame:
    grid = {"K1": G1A, "K2": G1B, "K3": G1B, "K4": G2, "K5": G3, "K6": G3}
    community = {g: g[:12] for g in (G1A, G1B, G2, G3)}
    codes = list(grid)
    return pd.DataFrame({
        "code": codes, "name": [f"{c}小区" for c in codes], "grid_code": [grid[c] for c in codes],
        "community_code": [community[grid[c]] for c in codes],
        "street_code": [community[grid[c]][:9] + "000" for c in codes],
        "buildings": [4, 3, 2, 2, 5, None], "households": [100, 80, 60, 50, 40, 30],
        "status": ["not_planned"] * 6})


def _org(code, level, community, grid=None, compounds=None, building=None, members=None, setup="single"):
    kind = PartyOrgKind.GROUP if level is PartyOrgLevel.BUILDING else PartyOrgKind.BRANCH
    return {"code": code, "name": code, "level": level.value, "kind": kind.value, "setup": setup,
            "street_code": community[:9] + "000", "community_code": community, "grid_code": grid,
            "compound_codes": compounds, "building": building, "members": members}


def _orgs() -> pd.DataFrame:
    lv = PartyOrgLevel
    rows = [
        _org("P1", lv.COMMUNITY, C1, members=120), _org("P2", lv.COMMUNITY, C2, members=80),
        _org("P3", lv.COMMUNITY, C3, members=50), _org("P4", lv.GRID, C1, G1A, members=30),
        # one joint organisation for three compounds in two grids; K2 also has its own
        _org("P5", lv.COMPOUND, C1, G1A, "K1,K2,K3", members=40, setup=PartyOrgSetup.JOINT.value),
        _org("P6", lv.COMPOUND, C1, G1B, "K2", members=12), _org("P7", lv.COMPOUND, C3, G3, "K5", members=9),
        # 一楼多小组: two groups on K1's 1号楼; K4 has three groups on its two buildings; K6's buildings unknown
        _org("B1", lv.BUILDING, C1, G1A, "K1", "1号楼"), _org("B2", lv.BUILDING, C1, G1A, "K1", "1号楼"),
        _org("B3", lv.BUILDING, C1, G1A, "K1", "2号楼"), _org("B4", lv.BUILDING, C2, G2, "K4", "1号楼"),
        _org("B5", lv.BUILDING, C2, G2, "K4", "2号楼"), _org("B6", lv.BUILDING, C2, G2, "K4", "3号楼"),
        _org("B7", lv.BUILDING, C3, G3, "K6", "1号楼"),
    ]
    return pd.DataFrame(rows)


def _teams() -> pd.DataFrame:
    return pd.DataFrame({"code": ["T1", "T2", "T3"], "street_code": [S1, S1, S2], "community_code": [C1, C1, C3],
                         "members": [10, 15, 20], "kind": ["elderly"] * 3})


def _stations() -> pd.DataFrame:
    sk = StationKind
    rows = [(C1, G1A, sk.ELDERLY_HOME, None), (C1, G1A, sk.CHILDREN, None), (C1, G1B, sk.CULTURE, None),
            (C1, G1B, sk.VOLUNTEER, ModelLevel.PROVINCIAL.value), (C2, G2, sk.ELDERLY_HOME, None),
            (C2, G2, sk.VOLUNTEER, None), (C3, G3, sk.ELDERLY_HOME, None), (C3, G3, sk.CHILDREN, None),
            (C3, G3, sk.CULTURE, None)]
    return pd.DataFrame([{"community_code": c, "grid_code": g, "street_code": c[:9] + "000", "kind": k.value,
                          "model_level": m} for c, g, k, m in rows])


def _resources(funds=(50.0, 49.9, None), space=(500.0, 600.0, 700.0)) -> pd.DataFrame:
    return pd.DataFrame({"community_code": [C1, C2, C3], "street_code": [S1, S1, S2], "funds_wan": list(funds),
                         "space_m2": list(space), "staff": [12, 9, 8], "access_tasks": [20, 25, 18],
                         "volunteer_model": [None, None, ModelLevel.MUNICIPAL.value]})


def _days(rows=None) -> pd.DataFrame:
    rows = rows if rows is not None else [
        (C1, "2025-10-31", 5, 5),  # the day before the window
        (C1, "2025-11-01", 4, 3),  # the window's first day
        (C1, "2026-10-31", 6, 2),  # its last day
        (C1, "2026-11-01", 7, 7),  # as_of's month: after the window
        (C2, "2026-10-01", 3, 1),  # 1st of the previous month
        (C3, "2026-09-30", 2, 2),  # the last day of the month before that
    ]
    return pd.DataFrame({"code": [f"D{i}" for i in range(len(rows))], "community_code": [r[0] for r in rows],
                         "street_code": [r[0][:9] + "000" for r in rows],
                         "held_on": pd.to_datetime([r[1] for r in rows]).astype("datetime64[s]"),
                         "issues_raised": [r[2] for r in rows], "issues_resolved": [r[3] for r in rows]})


def _indicators(key: str, **over) -> pd.DataFrame:
    frames = dict(grids=_grids(), compounds=_compounds(), stations=_stations(), orgs=_orgs(), teams=_teams(),
                  days=_days(), resources=_resources(), communities=_communities())
    frames.update(over)
    return party.party_indicators(**frames, key=key, as_of=AS_OF)


# ---------------------------------------------------------------- counts per unit

@pytest.mark.parametrize("key, column, expected", [
    ("community_code", "covered_compounds", {C1: 3, C2: 0, C3: 1}),
    ("grid_code", "covered_compounds", {G1A: 1, G1B: 2, G2: 0, G3: 1}),
    ("street_code", "covered_compounds", {S1: 3, S2: 1}),
    ("community_code", "buildings", {C1: 9, C2: 2, C3: 5}),
    ("community_code", "party_buildings", {C1: 2, C2: 2, C3: 0}),
    ("grid_code", "party_buildings", {G1A: 2, G1B: 0, G2: 2, G3: 0}),
    ("community_code", "party_orgs", {C1: 7, C2: 4, C3: 3}),
    ("grid_code", "party_orgs", {G1A: 5, G1B: 1, G2: 3, G3: 2}),
    ("street_code", "party_orgs", {S1: 11, S2: 3}),
    ("community_code", "party_members", {C1: 120, C2: 80, C3: 50}),
    ("street_code", "party_members", {S1: 200, S2: 50}),
    ("grid_code", "party_members", {G1A: 30, G1B: 0, G2: 0, G3: 0}),
    ("community_code", "volunteer_teams", {C1: 2, C2: 0, C3: 1}),
    ("community_code", "volunteers", {C1: 25, C2: 0, C3: 20}),
    ("community_code", "assisted_grids", {C1: 1, C2: 1, C3: 0}),
    ("grid_code", "assisted_grids", {G1A: 1, G1B: 0, G2: 1, G3: 0}),
    ("community_code", "volunteer_stations", {C1: 1, C2: 1, C3: 0}),
    ("community_code", "model_stations", {C1: 1, C2: 0, C3: 0}),
    ("grid_code", "model_stations", {G1A: 0, G1B: 1, G2: 0, G3: 0}),
    ("street_code", "model_communities", {S1: 0, S2: 1}),
    ("community_code", "consultation_days", {C1: 2, C2: 1, C3: 1}),
    ("community_code", "issues_raised", {C1: 10, C2: 3, C3: 2}),
    ("community_code", "issues_resolved", {C1: 5, C2: 1, C3: 2}),
    ("community_code", "funds_ok", {C1: 1, C2: 0, C3: 0}),
    ("community_code", "space_ok", {C1: 1, C2: 1, C3: 1}),
    ("community_code", "stations_ok", {C1: 1, C2: 0, C3: 1}),
    ("community_code", "standards_ok", {C1: 1, C2: 0, C3: 0}),
    ("street_code", "standards_ok", {S1: 1, S2: 0}),
    # at grid key a grid shows its community's standards and days
    ("grid_code", "standards_ok", {G1A: 1, G1B: 1, G2: 0, G3: 0}),
    ("grid_code", "consultation_days", {G1A: 2, G1B: 2, G2: 1, G3: 1}),
])
def test_indicator_counts(key, column, expected):
    table = _indicators(key)
    assert table[column].to_dict() == expected


def test_joint_org_counted_once_but_covers_all_its_compounds():
    per = party.compound_party(_compounds(), _orgs())
    assert per.loc[["K1", "K2", "K3"], "joint"].tolist() == [True, True, True]
    assert per.loc["K2", "covering_orgs"] == 2  # the joint one and its own
    assert per["covering_orgs"].gt(0).sum() == 4  # K2 counted once among the covered
    assert list(party.covered_compound_codes(_orgs())) == ["K1", "K2", "K3", "K5"]
    only_joint = _orgs()[lambda o: o["code"] == "P5"]
    grid = party.party_indicators(_grids(), _compounds(), _stations(), only_joint, _teams(), _days(),
                                  _resources(), _communities(), "grid_code", AS_OF)
    assert grid["party_orgs"].to_dict() == {G1A: 1, G1B: 0, G2: 0, G3: 0}
    assert grid["covered_compounds"].to_dict() == {G1A: 1, G1B: 2, G2: 0, G3: 0}


def test_uncovered_compounds_largest_first():
    out = party.uncovered_compounds(_compounds(), _orgs())
    assert out["code"].tolist() == ["K4", "K6"]
    assert list(out.columns) == ["code", "name", "street_code", "community_code", "grid_code", "households"]
    assert party.uncovered_compounds(_compounds(), _orgs().iloc[:0])["code"].tolist() == \
        ["K1", "K2", "K3", "K4", "K5", "K6"]


@pytest.mark.parametrize("key", ["street_code", "community_code"])
def test_parent_rows_equal_sums_of_children(key):
    """Streets from communities; and every key gives the same district total of the additive columns."""
    streets, communities = _indicators("street_code"), _indicators("community_code")
    by_street = communities.groupby([c[:9] + "000" for c in communities.index]).sum()
    cols = [*party.ADDITIVE_COLUMNS, *party.STANDARD_COLUMNS]
    pd.testing.assert_frame_equal(by_street[cols], streets[cols], check_names=False)
    grid_additive = ["covered_compounds", "buildings", "party_buildings", "assisted_grids", "volunteer_stations",
                     "model_stations"]
    assert (_indicators("grid_code")[grid_additive].sum() == _indicators(key)[grid_additive].sum()).all()
    assert _indicators(key)["party_orgs"].sum() == len(_orgs())


def test_grid_rows_have_no_volunteer_teams():
    grid = _indicators("grid_code")
    assert grid["volunteers"].isna().all() and grid["volunteer_teams"].isna().all()


def test_inputs_not_mutated():
    frames = dict(grids=_grids(), compounds=_compounds(), stations=_stations(), orgs=_orgs(), teams=_teams(),
                  days=_days(), resources=_resources(), communities=_communities())
    before = {k: v.copy() for k, v in frames.items()}
    party.party_indicators(**frames, key="grid_code", as_of=AS_OF)
    party.scorecard(frames["communities"], frames["resources"], frames["stations"], frames["days"], AS_OF)
    for k, v in frames.items():
        pd.testing.assert_frame_equal(v, before[k])


def test_unknown_key_names_the_allowed_ones():
    with pytest.raises(ValueError, match="grid_code"):
        _indicators("district")


def test_empty_frames_give_empty_tables():
    empty = pd.DataFrame()
    table = party.party_indicators(empty, empty, empty, empty, empty, empty, empty, empty, "street_code", AS_OF)
    assert table.empty and "standards_ok" in table.columns
    assert party.scorecard(empty, empty, empty, empty, AS_OF).empty
    assert party.quiet_communities(empty, empty, AS_OF).empty


# ---------------------------------------------------------------- standards

@pytest.mark.parametrize("funds, space, funds_ok, space_ok, reason", [
    (50.0, 500.0, True, True, ""),
    (49.9, 500.0, False, True, "工作经费 49.9 万元，低于 50 万元"),
    (50.0, 499.9, True, False, "办公服务用房 500 ㎡，低于 500 ㎡"),
    (None, 800.0, False, True, "工作经费未填报"),
    (80.0, None, True, False, "办公服务用房面积未填报"),
    (120.0, 1500.0, True, True, ""),
])
def test_standards_at_their_boundaries(funds, space, funds_ok, space_ok, reason):
    card = party.scorecard(_communities(), _resources(funds=(funds, 60, 60), space=(space, 600, 600)),
                           _stations(), _days(), AS_OF)
    row = card.loc[C1]
    assert (bool(row["funds_ok"]), bool(row["space_ok"])) == (funds_ok, space_ok)
    assert bool(row["all_ok"]) == (funds_ok and space_ok)
    assert row["reasons"] == reason


def test_scorecard_names_missing_stations_and_counts_missed_months():
    card = party.scorecard(_communities(), _resources(), _stations(), _days(), AS_OF)
    assert card.loc[C2, "reasons"] == "工作经费 49.9 万元，低于 50 万元；一老一少一普站点缺少儿成长服务站、文化普及服务站"
    assert card.loc[C3, "reasons"] == "工作经费未填报"
    assert card["consultation_days"].to_dict() == {C1: 2, C2: 1, C3: 1}
    assert card["months_missed"].to_dict() == {C1: 10, C2: 11, C3: 11}
    assert card.loc[C1, "name"] == "甲社区" and card.loc[C3, "street_code"] == S2


def test_a_community_without_resources_row_fails_with_not_reported():
    card = party.scorecard(_communities(), _resources().iloc[:1], _stations(), _days(), AS_OF)
    assert card.loc[C2, "reasons"].startswith("工作经费未填报；办公服务用房面积未填报")
    assert not card.loc[C2, "all_ok"]


# ---------------------------------------------------------------- the consultation window

@pytest.mark.parametrize("as_of, start, end", [
    (date(2026, 11, 28), date(2025, 11, 1), date(2026, 10, 31)),
    (date(2026, 1, 1), date(2025, 1, 1), date(2025, 12, 31)),
    (date(2026, 1, 31), date(2025, 1, 1), date(2025, 12, 31)),
    (date(2026, 3, 31), date(2025, 3, 1), date(2026, 2, 28)),
    (date(2024, 3, 1), date(2023, 3, 1), date(2024, 2, 29)),
])
def test_consultation_window(as_of, start, end):
    assert party.consultation_window(as_of) == (start, end)
    months = party.window_months(as_of)
    assert len(months) == party.CONSULTATION_TARGET and months[0] == start.strftime("%Y-%m") \
        and months[-1] == end.strftime("%Y-%m")


@pytest.mark.parametrize("as_of", [date(2026, 11, 1), date(2026, 11, 30), date(2026, 2, 28), date(2024, 2, 29)])
@pytest.mark.parametrize("offset, counted", [("start", True), ("end", True), ("before", False), ("after", False)])
def test_a_day_counts_only_inside_the_window(as_of, offset, counted):
    start, end = party.consultation_window(as_of)
    day = {"start": start, "end": end, "before": start - pd.Timedelta(days=1),
           "after": end + pd.Timedelta(days=1)}[offset]
    days = _days([(C1, str(day), 1, 1)])
    table = party.party_indicators(_grids(), _compounds(), _stations(), _orgs(), _teams(), days, _resources(),
                                   _communities(), "community_code", as_of)
    assert table.loc[C1, "consultation_days"] == int(counted)
    missed = party.missed_months(days, _communities(), as_of)
    assert len(missed[missed["community_code"] == C1]) == party.CONSULTATION_TARGET - int(counted)


def test_missed_months_lists_the_months_without_a_day():
    missed = party.missed_months(_days(), _communities(), AS_OF)
    c1 = missed[missed["community_code"] == C1]["month"].tolist()
    assert "2025-11" not in c1 and "2026-10" not in c1 and "2026-05" in c1 and len(c1) == 10
    assert missed[missed["community_code"] == C2]["name"].iloc[0] == "乙社区"


@pytest.mark.parametrize("as_of, held_on, quiet", [
    (date(2026, 11, 28), "2026-10-01", False),  # 1st of the previous month
    (date(2026, 11, 28), "2026-09-30", True),   # the last day of the month before that
    (date(2026, 11, 28), "2026-11-28", False),  # on the day itself
    (date(2026, 11, 1), "2026-10-01", False),   # as_of on the 1st of a month
    (date(2026, 11, 1), "2026-11-02", True),    # held after as_of does not count yet
    (date(2026, 12, 31), "2026-11-01", False),  # as_of on the last day of a month
    (date(2026, 12, 31), "2026-10-31", True),
    (date(2026, 1, 15), "2025-12-01", False),   # across the new year
    (date(2026, 1, 15), "2025-11-30", True),
])
def test_quiet_communities(as_of, held_on, quiet):
    days = _days([(C1, held_on, 1, 1), (C2, str(as_of), 1, 1)])
    out = party.quiet_communities(days, _communities(), as_of)
    assert (C1 in set(out["community_code"])) == quiet
    assert C2 not in set(out["community_code"])
    row = out[out["community_code"] == C3].iloc[0]  # never held one
    assert pd.isna(row["last_held_on"]) and row["name"] == "丙社区"
    if quiet and pd.Timestamp(held_on) <= pd.Timestamp(as_of):
        assert out.set_index("community_code").loc[C1, "last_held_on"] == pd.Timestamp(held_on)


# ---------------------------------------------------------------- ratios

def _joined(key: str) -> pd.DataFrame:
    grids, compounds, stations = _grids(), _compounds(), _stations()
    empty = pd.DataFrame({"reported_on": pd.Series(dtype="datetime64[s]"), "closed_on": pd.Series(
        dtype="datetime64[s]"), "status": [], key: [], "category": []})
    base = indicators(grids, compounds, stations, empty, key, Period(date(2026, 1, 1), AS_OF))
    base = base.join(station_completeness(stations, _communities(), key, grids=grids), how="left")
    return party.with_party_ratios(base.join(_indicators(key), how="left"))


@pytest.mark.parametrize("column, unit, expected", [
    ("org_coverage", C1, 3 / 3), ("org_coverage", C3, 1 / 2), ("org_coverage", C2, 0.0),
    ("building_coverage", C1, 2 / 9), ("building_coverage", C3, 0 / 5),
    ("members_per_100", C1, 120 * 100 / 900), ("members_per_100", C2, 80 * 100 / 300),
    ("teams_per_1000", C1, 2 * 1000 / 1800), ("volunteers_per_1000", C3, 20 * 1000 / 400),
    ("assisted_share", C1, 1 / 2), ("assisted_share", C3, 0.0),
    ("consultation_rate", C1, 2 / 12), ("issue_resolution", C1, 5 / 10), ("issue_resolution", C3, 1.0),
    ("standards_share", C1, 1.0), ("standards_share", C2, 0.0),
])
def test_ratios(column, unit, expected):
    assert _joined("community_code").loc[unit, column] == pytest.approx(expected)


def test_street_ratios_are_ratios_of_sums():
    t = _joined("street_code")
    assert t.loc[S1, "org_coverage"] == pytest.approx(3 / 4)
    assert t.loc[S1, "standards_share"] == pytest.approx(1 / 2)
    assert t.loc[S1, "consultation_rate"] == pytest.approx(3 / 24)


def test_ratios_nan_on_zero_denominators():
    zero = pd.DataFrame({c: [0] for c in (*party.ADDITIVE_COLUMNS, *party.STANDARD_COLUMNS, "compounds",
                                          "households", "population", "grids", "communities")})
    out = party.with_party_ratios(zero)
    assert set(party.PARTY_RATIOS) <= set(out.columns)
    assert out[list(party.PARTY_RATIOS)].isna().all(axis=None)
    grid = _joined("grid_code")
    assert grid["volunteers_per_1000"].isna().all()  # teams belong to communities
    assert grid.loc[G1B, "members_per_100"] == 0.0
