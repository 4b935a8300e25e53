"""Tests of the party-building sample records (data.sample_party) on the real sample and in a filled database."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from data import sample_party as sp
from data.sample import _STREAMS, DEFAULT_SEED, _streams, build_sample, sample_as_of
from data.schema import RECORD_TABLES
from geo.vocab import ModelLevel, PartyOrgKind, PartyOrgLevel, PartyOrgSetup, StationKind, VolunteerTeamKind

AS_OF = sample_as_of()
WINDOW = (date(2025, 11, 1), date(2026, 10, 31))  # the 12 complete months before AS_OF's month


@pytest.fixture(scope="module")
def sample() -> dict[str, pd.DataFrame]:
    return build_sample(with_history=True)


@pytest.fixture(scope="module")
def households(sample) -> pd.Series:
    return sample["grids"].groupby("community_code").households.sum()


def orgs_at(sample, level: PartyOrgLevel) -> pd.DataFrame:
    orgs = sample["party_orgs"]
    return orgs[orgs.level == level.value]


def covered_codes(sample) -> pd.Series:
    """Compound codes of the compound-level organisations, one entry per (organisation, compound)."""
    return orgs_at(sample, PartyOrgLevel.COMPOUND).compound_codes.str.split(",").explode()


# ---------------------------------------------------------------------------------------------
# shape, determinism and the existing tables


def test_record_tables_have_exactly_their_schema_columns_and_version_1(sample):
    for name, table in RECORD_TABLES.items():
        frame = sample[name]
        assert list(frame.columns) == [c.name for c in table.columns], name
        assert (frame.version == 1).all(), name
    date_columns = {"party_orgs": "founded_on", "volunteer_teams": "founded_on", "consultation_days": "held_on"}
    for name, col in date_columns.items():
        assert all(type(d) is date for d in sample[name][col]), name


def test_same_seed_gives_equal_records_and_another_seed_other_ones(sample):
    again = build_sample(with_history=True)
    for name in (*RECORD_TABLES, "stations"):
        pd.testing.assert_frame_equal(sample[name].drop(columns="geometry", errors="ignore"),
                                      again[name].drop(columns="geometry", errors="ignore"), check_exact=True)
    other = build_sample(seed=7, with_history=True)
    assert not other["party_orgs"].secretary.equals(sample["party_orgs"].secretary)


def test_the_party_stream_is_appended_so_the_existing_streams_are_unchanged():
    """SeedSequence.spawn is index-based: the first seven streams are those of a seven-way spawn."""
    assert _STREAMS[-1] == "party" and len(_STREAMS) == 8
    old = [np.random.default_rng(c) for c in np.random.SeedSequence(DEFAULT_SEED).spawn(7)]
    new = _streams(DEFAULT_SEED)
    for name, rng in zip(_STREAMS[:7], old):
        assert new[name].integers(0, 2**62, 8).tolist() == rng.integers(0, 2**62, 8).tolist(), name


def test_without_history_there_are_no_records_but_the_same_stations(sample):
    plain = build_sample()
    assert not set(RECORD_TABLES) & set(plain)
    pd.testing.assert_frame_equal(plain["stations"], sample["stations"])


def test_every_code_is_unique_and_follows_its_pattern(sample):
    patterns = {"party_orgs": r"\d{12}P\d{3}", "volunteer_teams": r"\d{12}V\d{3}", "consultation_days": r"\d{12}K\d{4}"}
    for name, pattern in patterns.items():
        codes = sample[name].code
        assert codes.is_unique, name
        assert codes.str.fullmatch(pattern).all(), name
        assert (codes.str[:12] == sample[name].community_code).all(), name
    assert sample["community_resources"].community_code.is_unique


def test_every_record_lies_in_a_real_community_of_its_sub_district(sample):
    street_of = sample["communities"].set_index("code").street_code
    for name in RECORD_TABLES:
        frame = sample[name]
        assert frame.community_code.isin(street_of.index).all(), name
        assert (frame.street_code == frame.community_code.map(street_of)).all(), name


# ---------------------------------------------------------------------------------------------
# volunteers and model stations


def test_225_volunteer_teams_at_least_two_per_community_each_with_a_party_vanguard_team(sample):
    teams, communities = sample["volunteer_teams"], sample["communities"]
    assert len(teams) == sp.VOLUNTEER_TEAMS == 225
    per = teams.groupby("community_code").size()
    assert set(per.index) == set(communities.code) and per.min() >= 2
    vanguard = teams[teams.kind == VolunteerTeamKind.PARTY_VANGUARD.value]
    assert sorted(vanguard.community_code) == sorted(communities.code)
    assert teams.kind.isin([k.value for k in VolunteerTeamKind]).all()
    assert teams.kind.nunique() == len(VolunteerTeamKind)
    names = communities.set_index("code").name
    junmen = teams[teams.community_code == sp.SHOWCASE]
    assert "军门社区党员先锋志愿服务队" in set(junmen.name)
    assert all(n.startswith(names[c]) and n.endswith("志愿服务队") for n, c in zip(teams.name, teams.community_code))
    assert not teams.name.str.contains("其他").any()
    assert teams.members.between(12, 80).all()
    assert min(teams.founded_on) >= date(2012, 1, 1) and max(teams.founded_on) <= AS_OF


def test_12_of_the_69_volunteer_stations_are_models_and_no_other_station(sample):
    st = sample["stations"]
    volunteer = st[st.kind == StationKind.VOLUNTEER.value]
    assert len(volunteer) == 69 and volunteer.community_code.is_unique
    models = st[st.model_level.notna()]
    assert (models.kind == StationKind.VOLUNTEER.value).all()
    assert models.model_level.value_counts().to_dict() == {ModelLevel.MUNICIPAL.value: 8, ModelLevel.PROVINCIAL.value: 4}
    assert st.model_level[st.model_level.isna()].map(lambda v: v is None).all()
    showcase = volunteer[volunteer.community_code == sp.SHOWCASE]
    assert showcase.model_level.tolist() == [ModelLevel.PROVINCIAL.value]


def test_10_municipal_model_volunteer_communities(sample):
    res = sample["community_resources"]
    models = res[res.volunteer_model.notna()]
    assert len(models) == 10 and set(models.volunteer_model) == {ModelLevel.MUNICIPAL.value}
    assert sp.SHOWCASE in set(models.community_code)
    assert not set(models.community_code) & set(sp.GAP_COMMUNITIES)


def test_some_grids_have_no_assistant(sample):
    assistants = sample["grids"].assistants
    assert 0 < (assistants == 0).sum() < len(assistants) / 4


# ---------------------------------------------------------------------------------------------
# community standards


def test_resources_for_every_community_meet_the_standards_except_the_seeded_gaps(sample):
    res = sample["community_resources"].set_index("community_code")
    assert sorted(res.index) == sorted(sample["communities"].code) and (res.year == 2026).all()
    assert res.funds_wan[res.funds_wan < 50].to_dict() == sp.FUNDS_GAPS
    assert res.space_m2[res.space_m2 < 500].to_dict() == sp.SPACE_GAPS
    assert res.index[res.space_m2.isna()].tolist() == list(sp.SPACE_UNREPORTED)
    ok = res.drop(index=[*sp.FUNDS_GAPS, *sp.SPACE_GAPS, *sp.SPACE_UNREPORTED])
    assert ok.funds_wan.between(50, 120).all() and (ok.funds_wan.round(1) == ok.funds_wan).all()
    assert ok.space_m2.between(520, 1600).all()
    assert res.staff.between(8, 30).all() and res.access_tasks.between(20, 60).all()


def test_the_seeded_gaps_lie_in_different_sub_districts(sample):
    street_of = sample["communities"].set_index("code").street_code
    gaps = list(sp.GAP_COMMUNITIES)
    assert len(gaps) == len(set(gaps)) == 8
    assert street_of[gaps].nunique() == 8
    names = sample["communities"].set_index("code").name
    assert names[list(sp.FUNDS_GAPS)].tolist() == ["大根社区", "西湖社区", "凤湖社区"]
    assert names[list(sp.QUIET_COMMUNITIES)].tolist() == ["北江社区", "永恒社区"]


# ---------------------------------------------------------------------------------------------
# party organisations


def test_one_community_organisation_per_community_committee_from_3000_households(sample, households):
    com = orgs_at(sample, PartyOrgLevel.COMMUNITY).set_index("community_code")
    assert sorted(com.index) == sorted(sample["communities"].code)
    big = households[com.index] >= 3000
    assert (com.kind[big] == PartyOrgKind.COMMITTEE.value).all()
    assert (com.kind[~big] == PartyOrgKind.GENERAL_BRANCH.value).all()
    assert big.any() and (~big).any()
    per_100 = com.members / households[com.index] * 100
    assert per_100.between(2.9, 6.1).all()
    assert com.grid_code.isna().all() and com.compound_codes.isna().all() and com.building.isna().all()


def test_a_grid_branch_in_about_95_percent_of_grids(sample):
    grids = sample["grids"].set_index("code")
    org = orgs_at(sample, PartyOrgLevel.GRID)
    assert org.grid_code.is_unique and org.grid_code.isin(grids.index).all()
    assert len(org) == round(0.95 * len(grids))
    assert (org.community_code == org.grid_code.map(grids.community_code)).all()
    assert (org.kind == PartyOrgKind.BRANCH.value).all() and org.compound_codes.isna().all()


def test_compound_organisations_cover_real_compounds_of_their_community_once(sample):
    compounds = sample["compounds"].set_index("code")
    org = orgs_at(sample, PartyOrgLevel.COMPOUND)
    lists = org.compound_codes.str.split(",")
    flat = covered_codes(sample)
    assert flat.isin(compounds.index).all() and flat.is_unique
    assert all((compounds.community_code[codes] == c).all() for codes, c in zip(lists, org.community_code))
    assert all((compounds.grid_code[codes] == g).all() for codes, g in zip(lists, org.grid_code))  # one grid
    joint = org.setup == PartyOrgSetup.JOINT.value
    sizes = lists.str.len()
    assert sizes[joint].between(2, 4).all() and (sizes[~joint] == 1).all()
    assert all((compounds.households[codes] < 150).all() for codes in lists[joint])
    assert joint.sum() >= 50 and (~joint).sum() >= 300
    assert org.name[joint].str.contains("联合").all()


def test_coverage_is_high_but_not_total(sample):
    compounds = sample["compounds"]
    uncovered = compounds[~compounds.code.isin(covered_codes(sample))]
    assert len(uncovered) == sp.UNCOVERED_COMPOUNDS
    assert 0.06 <= len(uncovered) / len(compounds) <= 0.10
    assert (uncovered.households < 150).all()
    assert uncovered.street_code.nunique() >= 5  # gaps spread over the district


def test_building_groups_in_covered_compounds_some_buildings_with_two(sample):
    compounds = sample["compounds"].set_index("code")
    groups = orgs_at(sample, PartyOrgLevel.BUILDING)
    assert (groups.kind == PartyOrgKind.GROUP.value).all()
    assert groups.compound_codes.isin(set(covered_codes(sample))).all()  # one compound each, a covered one
    number = groups.building.str.extract(r"^(\d+)号楼$")[0].astype(int)
    assert number.between(1, compounds.buildings[groups.compound_codes].to_numpy()).all()
    per_building = groups.groupby(["compound_codes", "building"]).size()
    assert per_building.max() == 2 and (per_building == 2).sum() == sp.MULTI_GROUP_BUILDINGS
    assert (groups.grid_code == compounds.grid_code[groups.compound_codes].to_numpy()).all()
    share = len(per_building) / compounds.buildings.sum()
    assert 0.3 < share < 0.6


def test_every_organisation_has_a_secretary_members_and_a_founding_date(sample):
    orgs = sample["party_orgs"]
    assert orgs.secretary.str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    assert (orgs.members >= 3).all()
    assert max(orgs.founded_on) <= AS_OF
    assert set(orgs.level) == {lv.value for lv in PartyOrgLevel}
    assert orgs.grid_code[orgs.level != PartyOrgLevel.COMMUNITY.value].notna().all()


# ---------------------------------------------------------------------------------------------
# consultation days


def months_held(days: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(days.community_code, (d.strftime("%Y-%m") for d in days.held_on)))


def test_one_day_a_month_up_to_the_sample_date(sample):
    days = sample["consultation_days"]
    assert (days.code == days.community_code + "K" + [d.strftime("%y%m") for d in days.held_on]).all()
    assert min(days.held_on) >= date(2024, 12, 1) and max(days.held_on) <= AS_OF
    assert len(months_held(days)) == len(days)  # at most one a month
    saturday = [d.weekday() == 5 and 15 <= d.day <= 21 for d in days.held_on]
    weekday = [d.weekday() < 5 and 11 <= d.day <= 20 for d in days.held_on]
    assert all(s or w for s, w in zip(saturday, weekday))


def test_missed_months_a_few_scattered_and_two_quiet_communities(sample):
    days, codes = sample["consultation_days"], sample["communities"].code
    months = pd.period_range("2024-12", "2026-11", freq="M").strftime("%Y-%m")
    held = months_held(days)
    missed = [(c, m) for c in codes for m in months if (c, m) not in held]
    in_window = [(c, m) for c, m in missed if "2025-11" <= m <= "2026-10"]
    assert len(in_window) == sp.MISSES_IN_WINDOW + len(sp.QUIET_COMMUNITIES)
    assert len(missed) == sp.MISSES_IN_WINDOW + sp.MISSES_EARLIER + 2 * len(sp.QUIET_COMMUNITIES)
    quiet = {c for c in codes if (c, "2026-10") not in held and (c, "2026-11") not in held}
    assert quiet == set(sp.QUIET_COMMUNITIES)
    window = days[(days.held_on >= WINDOW[0]) & (days.held_on <= WINDOW[1])]
    assert len(window) == 69 * 12 - len(in_window)


def test_attendance_issues_and_topics(sample):
    days = sample["consultation_days"]
    assert days.attendance.between(20, 90).all() and days.issues_raised.between(2, 12).all()
    assert days.issues_resolved.between(0, days.issues_raised).all()
    assert 0.8 < days.issues_resolved.sum() / days.issues_raised.sum() < 0.97
    topics = days.topics.str.split("、").explode()
    assert topics.isin(sp.TOPICS).all() and topics.nunique() >= 6


def test_linked_disputes_are_the_community_s_own_of_that_month(sample):
    days = sample["consultation_days"]
    disputes = sample["disputes"].set_index("code")
    linked = days[days.dispute_codes.notna()]
    assert 0.1 * len(days) < len(linked) < 0.4 * len(days)
    for row in linked.itertuples():
        codes = row.dispute_codes.split(",")
        assert 1 <= len(codes) <= 2 and len(set(codes)) == len(codes)
        cases = disputes.loc[codes]
        assert (cases.community_code == row.community_code).all()
        assert all(d <= row.held_on and (d.year, d.month) == (row.held_on.year, row.held_on.month)
                   for d in cases.reported_on)


# ---------------------------------------------------------------------------------------------
# in a database filled by open_store


def normalised(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values: datetimes as dates, NaN/NaT as None, numbers as float."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.date
    out = out.astype(object).where(out.notna(), None)
    return [{k: float(v) if isinstance(v, (int, float, np.number)) else v for k, v in row.items()}
            for row in out.to_dict("records")]


def test_open_store_writes_the_records_and_model_stations(db_url, sample):
    from data.store import open_store, read_layer, read_table
    from geo.settings import Settings

    engine = open_store(Settings.load({"database_url": db_url}))
    try:
        for name, table in RECORD_TABLES.items():
            stored = read_table(engine, name)
            key = [c.name for c in table.primary_key.columns]
            expected = sample[name].sort_values(key).reset_index(drop=True)
            assert len(stored) == len(expected), name
            assert normalised(stored) == normalised(expected), name
        stations = read_layer(engine, "stations")
        assert stations.model_level.value_counts().to_dict() == {"municipal": 8, "provincial": 4}
        res = read_table(engine, "community_resources").set_index("community_code")
        assert res.space_m2.isna().sum() == 1 and (res.funds_wan < 50).sum() == 3
    finally:
        engine.dispose()

