"""Sample records of party building (党建引领), generated over the frames ``data.sample`` already made.

Facts from the seed article: a three-level network of party organisations (community, grid and
residential compound, set up singly or jointly) reaching down to building party groups; 225 volunteer
teams; a volunteer station in each of the 69 communities, 12 of them provincial or municipal model
stations; 10 municipal model volunteer communities; a monthly residents' consultation day (居民恳谈日)
in every community; per community at least 50 万元 of working funds a year and more than 500 m² of
office and service space. Everything else is generated — deterministically from one random stream —
and a few gaps are seeded on purpose (named below by community code) so the dashboard has something
true to find.

The record frames have exactly the columns of their tables in :mod:`data.schema` (version 1); dates
are ``datetime.date``; nullable text columns hold None; ``community_resources.space_m2`` is NaN where
not reported. This module imports nothing from ``data.sample``: ``build_sample`` passes its
person-name generator and the sample's date in.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from data.schema import RECORD_TABLES
from geo.vocab import ModelLevel, PartyOrgKind, PartyOrgLevel, PartyOrgSetup, StationKind, VolunteerTeamKind

NameMaker = Callable[[int, np.random.Generator], list[str]]
"""``data.sample._person_names``: n distinct personal names from a generator."""

# ---------------------------------------------------------------------------------------------
# the seeded gaps (every other community meets the standards and holds its consultation days)

SHOWCASE = "350102004001"
"""军门社区 (东街街道): a provincial model volunteer station and a municipal model volunteer community."""
FUNDS_GAPS = {
    "350102004003": 42.0,  # 大根社区, 东街街道
    "350102002003": 45.5,  # 西湖社区, 鼓西街道
    "350102100009": 38.6,  # 凤湖社区, 洪山镇
}
"""Communities whose working funds (万元 a year) are below the 50 万元 standard."""
SPACE_GAPS = {
    "350102003007": 460.0,  # 汤边社区, 温泉街道
    "350102006003": 430.0,  # 乌塔社区, 安泰街道
}
"""Communities whose office and service space (m²) is below the 500 m² standard."""
SPACE_UNREPORTED = ("350102008005",)
"""Communities whose space was not reported (NULL; 建华社区, 水部街道)."""
QUIET_COMMUNITIES = ("350102007009", "350102009006")
"""Communities that held no consultation day in the sample's last two months (北江社区, 华大街道;
永恒社区, 五凤街道)."""
GAP_COMMUNITIES = (*FUNDS_GAPS, *SPACE_GAPS, *SPACE_UNREPORTED, *QUIET_COMMUNITIES)
"""Every community with a seeded gap (eight, each in a different sub-district)."""

# ---------------------------------------------------------------------------------------------
# figures

MODEL_STATIONS = {ModelLevel.PROVINCIAL: 4, ModelLevel.MUNICIPAL: 8}
"""Model volunteer stations (示范驿站) by level: 12 of the 69; the showcase's is provincial."""
MODEL_COMMUNITIES = 10
"""Municipal model volunteer communities (市级志愿服务示范社区), the showcase among them."""
VOLUNTEER_TEAMS = 225
"""Volunteer teams in the district; every community has a 党员先锋 team and at least MIN_TEAMS."""
MIN_TEAMS = 2
TEAM_MEMBERS = (12, 80)
"""Members of a volunteer team (inclusive)."""
RESOURCES_YEAR = 2026
FUNDS_WAN = (50.0, 120.0)
"""Working funds of a community that meets the standard, 万元 a year (one decimal)."""
SPACE_M2 = (520.0, 1600.0)
"""Office and service space of a community that meets the standard, m² (whole metres)."""
STAFF = (8, 30)
ACCESS_TASKS = (20, 60)
"""Community workers, and 准入 tasks the community carries (inclusive ranges)."""

COMMITTEE_HOUSEHOLDS = 3000
"""A community of at least this many households has a 党委, a smaller one a 党总支."""
MEMBERS_PER_100 = (3.0, 6.0)
"""Party members per 100 households of a community (its community-level organisation's members)."""
GRID_ORG_SHARE = 0.95
"""Share of grids with a grid-level 党支部."""
SINGLE_MIN_HOUSEHOLDS = 150
"""A compound this large has its own 党支部; smaller ones of a grid share a joint one (2–4 compounds)."""
JOINT_MAX = 4
UNCOVERED_COMPOUNDS = 69
"""Small compounds no compound-level organisation covers (about 8 % of 867)."""
BUILDING_GROUP_SHARE = 0.6
"""Share of covered compounds with building party groups (楼栋党小组) in half or more of their buildings."""
MULTI_GROUP_BUILDINGS = 12
"""Buildings with two party groups (一楼多小组)."""

CONSULTATION_MONTHS = 24
"""Months of consultation days, ending with the sample date's month (2024-12 … 2026-11)."""
MISSES_IN_WINDOW = 8
"""Scattered missed months in the 12 complete months before the sample date's month, each in a
different community (besides the quiet communities' last two months)."""
MISSES_EARLIER = 4
"""Scattered missed months before that window, each in yet another community."""
SATURDAY_SHARE = 0.7
"""Share of communities holding their day on the third Saturday (the others on a weekday mid-month)."""
TOPICS = ("加装电梯", "停车管理", "垃圾分类", "老旧小区改造", "噪音扰民", "物业服务", "楼道堆物", "养老服务",
          "少儿托管", "环境卫生", "文明养犬", "消防安全")
"""Topics raised at consultation days (主要议题)."""
TEAM_THEMES = ("邻里互助", "助残帮扶", "便民维修", "文化惠民")
"""Names of volunteer teams of the kind 其他."""
TEAM_SUFFIX = "志愿服务队"
_TEAM_KIND_P = {VolunteerTeamKind.ELDERLY: 0.24, VolunteerTeamKind.CHILDREN: 0.14, VolunteerTeamKind.CIVILITY: 0.14,
                VolunteerTeamKind.SAFETY: 0.18, VolunteerTeamKind.ENVIRONMENT: 0.13, VolunteerTeamKind.LEGAL: 0.09,
                VolunteerTeamKind.OTHER: 0.08}
"""Chance of each kind for a community's teams after its 党员先锋 team (drawn without repeats)."""
LINKED_SHARE = 0.3
"""Share of consultation days that discussed 1–2 disputes of their month (dispute_codes)."""
_ORDINALS = "一二三四"


def _frame(table: str, rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """``rows`` as a frame with exactly the columns of record table ``table`` (version 1); nullable text and
    date columns have object dtype holding None where empty."""
    columns = RECORD_TABLES[table].columns
    frame = pd.DataFrame(rows).assign(version=1)[[c.name for c in columns]].reset_index(drop=True)
    for c in columns:  # nullable text and dates: object dtype holding None where empty
        if c.nullable and c.type.python_type in (str, date):
            frame[c.name] = pd.Series(frame[c.name].astype(object).where(frame[c.name].notna(), None), dtype=object)
    return frame


def _days(n: int, lo: date, hi: date, rng: np.random.Generator) -> list[date]:
    """``n`` random dates within [lo, hi]."""
    return [date.fromordinal(int(d)) for d in rng.integers(lo.toordinal(), hi.toordinal() + 1, n)]


def _sequence_codes(community_codes: pd.Series, letter: str) -> pd.Series:
    """Community code + ``letter`` + a 3-digit number counting within the community, in row order."""
    seq = community_codes.groupby(community_codes).cumcount() + 1
    return community_codes + letter + seq.map("{:03d}".format)


# ---------------------------------------------------------------------------------------------
# model stations and model communities


def _picks(communities: pd.Series, n: int, rng: np.random.Generator) -> list[str]:
    """The showcase and ``n - 1`` other communities without a seeded gap, at random."""
    pool = sorted(set(communities) - {SHOWCASE, *GAP_COMMUNITIES})
    return [SHOWCASE, *rng.choice(pool, size=n - 1, replace=False).tolist()]


def model_levels(stations: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """``stations.model_level``: MODEL_STATIONS of the communities' volunteer stations (first pick provincial).

    Index of ``stations``; object dtype, None for every other station."""
    volunteer = stations[stations.kind == StationKind.VOLUNTEER.value]
    levels = [level.value for level, n in MODEL_STATIONS.items() for _ in range(n)]
    chosen = _picks(volunteer.community_code, len(levels), rng)
    by_community = dict(zip(chosen, levels))
    out = pd.Series(None, index=stations.index, dtype=object)
    out[volunteer.index] = volunteer.community_code.map(by_community).to_numpy()
    return out.where(out.notna(), None)


def _resources(communities: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """``community_resources``: funds, space, staff and 准入 tasks of every community, gaps as seeded."""
    codes, n = communities.code, len(communities)
    funds = np.round(rng.uniform(*FUNDS_WAN, n), 1)
    space = np.round(rng.uniform(*SPACE_M2, n))
    models = set(_picks(codes, MODEL_COMMUNITIES, rng))
    frame = pd.DataFrame({
        "community_code": codes.to_numpy(), "street_code": communities.street_code.to_numpy(), "year": RESOURCES_YEAR,
        "funds_wan": [FUNDS_GAPS.get(c, f) for c, f in zip(codes, funds)],
        "space_m2": [np.nan if c in SPACE_UNREPORTED else SPACE_GAPS.get(c, s) for c, s in zip(codes, space)],
        "staff": rng.integers(STAFF[0], STAFF[1] + 1, n),
        "access_tasks": rng.integers(ACCESS_TASKS[0], ACCESS_TASKS[1] + 1, n),
        "volunteer_model": pd.Series([ModelLevel.MUNICIPAL.value if c in models else None for c in codes], dtype=object),
    })
    return _frame("community_resources", frame)


# ---------------------------------------------------------------------------------------------
# volunteer teams


def _team_counts(households: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Teams per community: MIN_TEAMS each, the rest one at a time (chance ∝ households), at most one per kind."""
    counts = np.full(len(households), MIN_TEAMS)
    for _ in range(VOLUNTEER_TEAMS - counts.sum()):
        weight = np.where(counts < len(VolunteerTeamKind), households, 0.0).astype(float)
        counts[rng.choice(len(counts), p=weight / weight.sum())] += 1
    return counts


def _team_kinds(n: int, rng: np.random.Generator) -> list[VolunteerTeamKind]:
    """A community's ``n`` team kinds: 党员先锋 first, then distinct kinds by _TEAM_KIND_P."""
    kinds = list(_TEAM_KIND_P)
    p = np.array(list(_TEAM_KIND_P.values()))
    rest = rng.choice(len(kinds), size=n - 1, replace=False, p=p / p.sum())
    return [VolunteerTeamKind.PARTY_VANGUARD, *(kinds[i] for i in rest)]


def _volunteer_teams(communities: pd.DataFrame, households: pd.Series, as_of: date,
                     rng: np.random.Generator) -> pd.DataFrame:
    """``volunteer_teams``: VOLUNTEER_TEAMS teams named after their community and kind."""
    rows = []
    counts = _team_counts(households.loc[communities.code].to_numpy(), rng)
    for code, street, name, n in zip(communities.code, communities.street_code, communities.name, counts):
        for kind in _team_kinds(int(n), rng):
            theme = TEAM_THEMES[rng.integers(len(TEAM_THEMES))] if kind is VolunteerTeamKind.OTHER else kind.label
            rows.append({"name": f"{name}{theme}{TEAM_SUFFIX}", "kind": kind.value, "street_code": street,
                         "community_code": code})
    frame = pd.DataFrame(rows)
    frame["code"] = _sequence_codes(frame.community_code, "V")
    frame["members"] = rng.integers(TEAM_MEMBERS[0], TEAM_MEMBERS[1] + 1, len(frame))
    frame["founded_on"] = _days(len(frame), date(2012, 1, 1), as_of, rng)
    return _frame("volunteer_teams", frame)


# ---------------------------------------------------------------------------------------------
# party organisations


def _org(level: PartyOrgLevel, kind: PartyOrgKind, name: str, place: pd.Series | dict, members: int,
         founded: date, *, setup: PartyOrgSetup = PartyOrgSetup.SINGLE, compounds: list[str] | None = None,
         building: str | None = None) -> dict:
    """One party_orgs row (without code and secretary); ``place`` has street_code, community_code, grid_code."""
    return {"name": name, "level": level.value, "kind": kind.value, "setup": setup.value,
            "street_code": place["street_code"], "community_code": place["community_code"],
            "grid_code": place.get("grid_code"), "compound_codes": ",".join(compounds) if compounds else None,
            "building": building, "members": int(members), "founded_on": founded}


def _community_orgs(communities: pd.DataFrame, households: pd.Series, rate: pd.Series,
                    rng: np.random.Generator) -> list[dict]:
    """One 党委 (≥ COMMITTEE_HOUSEHOLDS households) or 党总支 per community; members = rate per 100 households."""
    rows = []
    for code, street, name in zip(communities.code, communities.street_code, communities.name):
        hh = int(households[code])
        kind = PartyOrgKind.COMMITTEE if hh >= COMMITTEE_HOUSEHOLDS else PartyOrgKind.GENERAL_BRANCH
        rows.append(_org(PartyOrgLevel.COMMUNITY, kind, f"{name}{kind.label}",
                         {"street_code": street, "community_code": code}, round(hh * rate[code] / 100),
                         _days(1, date(2000, 1, 1), date(2012, 12, 31), rng)[0]))
    return rows


def _grid_orgs(grids: pd.DataFrame, names: pd.Series, rate: pd.Series, rng: np.random.Generator) -> list[dict]:
    """A 党支部 in GRID_ORG_SHARE of the grids (the others have none); about 50–80 % of the grid's members."""
    chosen = np.sort(rng.choice(len(grids), size=round(GRID_ORG_SHARE * len(grids)), replace=False))
    rows = []
    for g in grids.iloc[chosen].itertuples():
        place = {"street_code": g.street_code, "community_code": g.community_code, "grid_code": g.code}
        members = max(3, round(g.households * rate[g.community_code] / 100 * rng.uniform(0.5, 0.8)))
        rows.append(_org(PartyOrgLevel.GRID, PartyOrgKind.BRANCH, f"{names[g.community_code]}{g.name}"
                         f"{PartyOrgKind.BRANCH.label}", place, members,
                         _days(1, date(2016, 1, 1), date(2021, 12, 31), rng)[0]))
    return rows


def _compound_groups(compounds: pd.DataFrame, rng: np.random.Generator) -> list[list[int]]:
    """Positions of the compounds each compound-level 党支部 covers: one per large compound, the small
    covered compounds of a grid in joint groups of 2–JOINT_MAX (a leftover one alone); UNCOVERED_COMPOUNDS
    small compounds get none."""
    small = np.flatnonzero(compounds.households.to_numpy() < SINGLE_MIN_HOUSEHOLDS)
    uncovered = set(rng.choice(small, size=UNCOVERED_COMPOUNDS, replace=False).tolist())
    groups: list[list[int]] = []
    for _, pos in compounds.reset_index(drop=True).groupby("grid_code", sort=True).indices.items():
        rest = [int(p) for p in pos if p not in uncovered]
        groups += [[p] for p in rest if compounds.households.iat[p] >= SINGLE_MIN_HOUSEHOLDS]
        rest = [p for p in rest if compounds.households.iat[p] < SINGLE_MIN_HOUSEHOLDS]
        while rest:
            k = 1 if len(rest) == 1 else int(rng.integers(2, min(JOINT_MAX, len(rest)) + 1))
            if len(rest) - k == 1 and len(rest) <= JOINT_MAX:
                k = len(rest)
            groups.append(rest[:k])
            rest = rest[k:]
    return groups


def _compound_orgs(compounds: pd.DataFrame, rate: pd.Series, rng: np.random.Generator) -> list[dict]:
    """Compound-level 党支部: single for one compound, joint (联合设置) for several of one grid."""
    rows = []
    for group in _compound_groups(compounds, rng):
        first = compounds.iloc[group[0]]
        hh = int(compounds.households.iloc[group].sum())
        joint = len(group) > 1
        name = f"{first['name']}等{len(group)}个小区联合" if joint else first["name"]
        rows.append(_org(PartyOrgLevel.COMPOUND, PartyOrgKind.BRANCH, f"{name}{PartyOrgKind.BRANCH.label}", first,
                         max(3, round(hh * rate[first.community_code] / 100 * rng.uniform(0.6, 0.9))),
                         _days(1, date(2018, 1, 1), date(2025, 12, 31), rng)[0],
                         setup=PartyOrgSetup.JOINT if joint else PartyOrgSetup.SINGLE,
                         compounds=compounds.code.iloc[group].tolist()))
    return rows


def _building_groups(compounds: pd.DataFrame, covered: list[str], as_of: date, rng: np.random.Generator) -> list[dict]:
    """楼栋党小组 in half or more of the buildings of BUILDING_GROUP_SHARE of the covered compounds;
    MULTI_GROUP_BUILDINGS of those buildings have two groups (一楼多小组)."""
    by_code = compounds.set_index("code", drop=False)
    chosen = sorted(rng.choice(covered, size=round(BUILDING_GROUP_SHARE * len(covered)), replace=False).tolist())
    places = []
    for code in chosen:
        n = int(by_code.buildings[code])
        k = max(1, round(n * rng.uniform(0.5, 1.0)))
        places += [(code, int(b)) for b in np.sort(rng.choice(n, size=k, replace=False) + 1)]
    doubled = set(rng.choice(len(places), size=MULTI_GROUP_BUILDINGS, replace=False).tolist())
    rows = []
    for i, (code, number) in enumerate(places):
        compound, building = by_code.loc[code], f"{number}号楼"
        labels = [f"第{_ORDINALS[j]}" for j in range(2)] if i in doubled else [""]
        rows += [_org(PartyOrgLevel.BUILDING, PartyOrgKind.GROUP, f"{compound['name']}{building}{label}"
                      f"{PartyOrgKind.GROUP.label}", compound, int(rng.integers(3, 9)),
                      _days(1, date(2019, 1, 1), as_of, rng)[0], compounds=[code], building=building)
                 for label in labels]
    return rows


def _party_orgs(frames: dict[str, pd.DataFrame], households: pd.Series, as_of: date, rng: np.random.Generator,
                person_names: NameMaker) -> pd.DataFrame:
    """``party_orgs``: the community, grid, compound and building levels, coded by community in that order."""
    communities, grids, compounds = frames["communities"], frames["grids"], frames["compounds"]
    rate = pd.Series(rng.uniform(*MEMBERS_PER_100, len(communities)), index=communities.code.to_numpy())
    names = pd.Series(communities.name.to_numpy(), index=communities.code.to_numpy())
    compound_rows = _compound_orgs(compounds, rate, rng)
    covered = [c for row in compound_rows for c in row["compound_codes"].split(",")]
    rows = (_community_orgs(communities, households, rate, rng) + _grid_orgs(grids, names, rate, rng)
            + compound_rows + _building_groups(compounds, covered, as_of, rng))
    frame = pd.DataFrame(rows, dtype=object).astype({"members": int})
    frame = frame.sort_values("community_code", kind="stable").reset_index(drop=True)
    frame["code"] = _sequence_codes(frame.community_code, "P")
    frame["secretary"] = person_names(len(frame), rng)
    return _frame("party_orgs", frame)


# ---------------------------------------------------------------------------------------------
# consultation days (居民恳谈日)


def _months(as_of: date, n: int) -> list[tuple[int, int]]:
    """The ``n`` calendar months ending with ``as_of``'s month, as (year, month 1–12), oldest first."""
    last = as_of.year * 12 + as_of.month - 1
    return [(m // 12, m % 12 + 1) for m in range(last - n + 1, last + 1)]


def _missed(codes: list[str], months: list[tuple[int, int]], rng: np.random.Generator) -> set[tuple[str, tuple]]:
    """(community, (year, month)) pairs without a day: the quiet communities' last two months,
    MISSES_IN_WINDOW in the 12 months before the last, MISSES_EARLIER before those — each in its own community."""
    missed = {(c, m) for c in QUIET_COMMUNITIES for m in months[-2:]}
    pool = rng.permutation(sorted(set(codes) - set(QUIET_COMMUNITIES)))
    window, earlier = months[-13:-1], months[:-13]
    for i, code in enumerate(pool[: MISSES_IN_WINDOW + MISSES_EARLIER]):
        span = window if i < MISSES_IN_WINDOW else earlier
        missed.add((str(code), span[rng.integers(len(span))]))
    return missed


def _meeting_day(year: int, month: int, saturday: bool, rng: np.random.Generator) -> date:
    """The third Saturday of the month, or a weekday between the 12th and the 19th."""
    if saturday:
        return date(year, month, 1 + (5 - date(year, month, 1).weekday()) % 7 + 14)
    day = date(year, month, int(rng.integers(12, 19)))
    shift = {5: -1, 6: 1}.get(day.weekday(), 0)
    return date.fromordinal(day.toordinal() + shift)


def _linked_disputes(cases: dict[tuple, pd.DataFrame], community: str, held: date,
                     rng: np.random.Generator) -> str | None:
    """Now and then (LINKED_SHARE) 1–2 codes of the community's disputes reported in ``held``'s month up to that day;
    ``cases`` are the disputes grouped by (community_code, year, month)."""
    if rng.random() >= LINKED_SHARE:
        return None
    d = cases.get((community, held.year, held.month))
    d = None if d is None else d[d.reported_on <= held]
    if d is None or d.empty:
        return None
    picks = np.sort(rng.choice(len(d), size=min(len(d), int(rng.integers(1, 3))), replace=False))
    return ",".join(d.code.iloc[picks])


def _day_row(code: str, street: str, held: date, as_of: date, cases: dict[tuple, pd.DataFrame],
             rng: np.random.Generator) -> dict:
    """One consultation day; issues raised in the last two months are less often resolved yet."""
    raised = int(rng.integers(2, 13))
    months_ago = (as_of.year * 12 + as_of.month) - (held.year * 12 + held.month)
    open_share = {0: 0.45, 1: 0.25}.get(months_ago, 0.08)
    topics = rng.choice(len(TOPICS), size=int(rng.integers(1, 4)), replace=False)
    return {"code": f"{code}K{held:%y%m}", "held_on": held, "street_code": street, "community_code": code,
            "attendance": int(rng.integers(20, 91)), "issues_raised": raised,
            "issues_resolved": raised - int(rng.binomial(raised, open_share)),
            "topics": "、".join(TOPICS[i] for i in np.sort(topics)),
            "dispute_codes": _linked_disputes(cases, code, held, rng)}


def _consultation_days(communities: pd.DataFrame, disputes: pd.DataFrame, as_of: date,
                       rng: np.random.Generator) -> pd.DataFrame:
    """``consultation_days``: one a month per community over CONSULTATION_MONTHS, up to ``as_of``, minus the misses."""
    months = _months(as_of, CONSULTATION_MONTHS)
    missed = _missed(communities.code.tolist(), months, rng)
    frame = pd.DataFrame({"code": disputes.code.to_numpy(), "community_code": disputes.community_code.to_numpy(),
                          "reported_on": disputes.reported_on.to_numpy(),
                          "year": [d.year for d in disputes.reported_on], "month": [d.month for d in disputes.reported_on]})
    cases = {key: group for key, group in frame.groupby(["community_code", "year", "month"], sort=True)}
    rows = []
    for code, street in zip(communities.code, communities.street_code):
        saturday = bool(rng.random() < SATURDAY_SHARE)
        for year, month in months:
            held = _meeting_day(year, month, saturday, rng)
            if (code, (year, month)) not in missed and held <= as_of:
                rows.append(_day_row(code, street, held, as_of, cases, rng))
    return _frame("consultation_days", rows)


# ---------------------------------------------------------------------------------------------
# all of it


def party_records(frames: dict[str, pd.DataFrame], as_of: date, rng: np.random.Generator,
                  person_names: NameMaker) -> dict[str, pd.DataFrame]:
    """The four record tables of party building over the sample's communities, grids, compounds and disputes."""
    communities = frames["communities"].sort_values("code").reset_index(drop=True)
    households = frames["grids"].groupby("community_code").households.sum()
    return {
        "community_resources": _resources(communities, rng),
        "volunteer_teams": _volunteer_teams(communities, households, as_of, rng),
        "party_orgs": _party_orgs(frames, households, as_of, rng, person_names),
        "consultation_days": _consultation_days(communities, frames["disputes"], as_of, rng),
    }
