"""党建引领: the party-building and self-governance indicators of a set of units, and each community's scorecard.

Pure functions on the store's frames (party_orgs, volunteer_teams, consultation_days, community_resources, plus
grids, compounds, open stations and communities); inputs are never mutated, nothing matching gives an empty frame.

The community standards: annual working funds of at least ``FUNDS_MIN_WAN`` 万元, office and service space of at
least ``SPACE_MIN_M2`` ㎡ (a missing figure is 未达标, reason 未填报), and all of 一老一少一普 among its open stations.
Residents' consultation days (居民恳谈日) are counted over the 12 complete calendar months before the data's month
(``consultation_window``); a community is quiet when it held none in the data's month nor the month before.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from geo.vocab import ONE_OLD_ONE_YOUNG_ONE_GENERAL, PartyOrgLevel, PartyOrgSetup, StationKind

FUNDS_MIN_WAN = 50.0
"""Minimum annual working funds of a community, 万元 (funds ≥ this is 达标)."""
SPACE_MIN_M2 = 500.0
"""Minimum office and service space of a community, ㎡ (space ≥ this is 达标)."""
CONSULTATION_TARGET = 12
"""Consultation days a community should hold in 12 months (one a month)."""
QUIET_MONTHS = 2
"""Months (the data's month and the one before) without a consultation day that make a community quiet."""

UNIT_KEYS = ("street_code", "community_code", "grid_code")

ADDITIVE_COLUMNS = (
    "covered_compounds", "buildings", "party_buildings", "party_orgs", "party_members", "volunteer_teams",
    "volunteers", "assisted_grids", "volunteer_stations", "model_stations", "model_communities",
    "consultation_days", "issues_raised", "issues_resolved",
)
"""Columns of ``party_indicators`` whose parent value is the sum of its children's (street and community keys)."""
STANDARD_COLUMNS = ("funds_ok", "space_ok", "stations_ok", "standards_ok")
"""Communities meeting each standard (at grid key: the grid's community, not additive)."""
COMMUNITY_ONLY = ("volunteer_teams", "volunteers")
"""Recorded per community only: NaN in grid rows (a grid has no teams of its own)."""
COMMUNITY_WIDE = ("model_communities", "consultation_days", "issues_raised", "issues_resolved", *STANDARD_COLUMNS)
"""Recorded per community: grid rows show their community's figure (not additive), like the standards."""

PARTY_RATIOS = {
    "org_coverage": "小区党组织覆盖率",
    "building_coverage": "楼栋党小组覆盖率",
    "members_per_100": "每百户党员数",
    "teams_per_1000": "每千人志愿服务队",
    "volunteers_per_1000": "每千人志愿者",
    "assisted_share": "网格协管员配备率",
    "consultation_rate": "恳谈日开展率",
    "issue_resolution": "恳谈问题解决率",
    "standards_share": "社区达标率",
}

_FRAME_COLUMNS = {
    "grids": ("code", "street_code", "community_code", "assistants"),
    "compounds": ("code", "street_code", "community_code", "grid_code", "buildings"),
    "stations": ("kind", "street_code", "community_code", "grid_code", "model_level"),
    "orgs": ("code", "level", "street_code", "community_code", "grid_code", "compound_codes", "building", "members"),
    "teams": ("street_code", "community_code", "members"),
    "days": ("held_on", "community_code", "issues_raised", "issues_resolved"),
    "resources": ("community_code", "funds_wan", "space_m2", "staff", "access_tasks", "volunteer_model"),
    "communities": ("code", "name", "street_code"),
}


# ---------------------------------------------------------------- arguments and small helpers


def _frame(frame: pd.DataFrame | None, what: str) -> pd.DataFrame:
    """``frame`` checked for the columns ``what`` needs; an empty or missing frame becomes an empty one with them."""
    cols = _FRAME_COLUMNS[what]
    if frame is None or (len(frame) == 0 and not set(cols) <= set(frame.columns)):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} 缺少字段：{'、'.join(missing)}；现有字段：{'、'.join(map(str, frame.columns))}")
    return frame


def _check_key(key: str) -> None:
    if key not in UNIT_KEYS:
        raise ValueError(f"未知的汇总层级“{key}”，可选：{', '.join(UNIT_KEYS)}")


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as floats; NaN where the denominator is zero or missing."""
    num = pd.to_numeric(num, errors="coerce").astype(float)
    den = pd.to_numeric(den, errors="coerce").astype(float)
    return num / den.where(den > 0)


def _month(day: date) -> pd.Period:
    return pd.Period(pd.Timestamp(day), freq="M")


def consultation_window(as_of: date) -> tuple[date, date]:
    """The 12 complete calendar months before ``as_of``'s month, as (first day, last day), both counted.

    With as_of 2026-11-28: (2025-11-01, 2026-10-31)."""
    month = _month(as_of)
    return (month - CONSULTATION_TARGET).start_time.date(), (month - 1).end_time.date()


def window_months(as_of: date) -> list[str]:
    """The months of ``consultation_window(as_of)``, oldest first, as "2025-11" …."""
    month = _month(as_of)
    return [str(month - i) for i in range(CONSULTATION_TARGET, 0, -1)]


def _held(days: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(days["held_on"]).dt.normalize()


def _days_in(days: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The consultation days held from ``start`` to ``end`` (both counted)."""
    held = _held(days)
    return days[(held >= pd.Timestamp(start)) & (held <= pd.Timestamp(end))]


def _codes(text) -> list[str]:
    """The codes of a comma-separated list (compound_codes, dispute_codes); [] for a missing value."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return []
    return [c.strip() for c in str(text).replace("，", ",").split(",") if c.strip()]


def _level(orgs: pd.DataFrame, level: PartyOrgLevel) -> pd.DataFrame:
    return orgs[orgs["level"] == level.value]


# ---------------------------------------------------------------- compounds: coverage and building groups


def covered_compound_codes(orgs: pd.DataFrame) -> pd.Index:
    """Codes of the compounds listed by any compound-level organisation (单独 or 联合设置), each once, sorted."""
    orgs = _frame(orgs, "orgs")
    codes = {c for text in _level(orgs, PartyOrgLevel.COMPOUND)["compound_codes"] for c in _codes(text)}
    return pd.Index(sorted(codes), name="code")


def compound_party(compounds: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Per compound (index: compound code): ``covering_orgs`` (compound-level organisations listing it),
    ``joint`` (one of them is set up jointly) and ``party_buildings`` (distinct buildings with a 楼栋党小组, capped
    at the compound's ``buildings``; an unknown building count caps at 0)."""
    compounds, orgs = _frame(compounds, "compounds"), _frame(orgs, "orgs")
    out = pd.DataFrame(index=pd.Index(compounds["code"].astype(str).to_numpy(), name="code"))
    listed = _level(orgs, PartyOrgLevel.COMPOUND)
    setups = listed["setup"] if "setup" in listed else pd.Series(PartyOrgSetup.SINGLE.value, index=listed.index)
    pairs = pd.DataFrame([(c, s) for text, s in zip(listed["compound_codes"], setups) for c in dict.fromkeys(_codes(text))],
                         columns=["code", "setup"])
    out["covering_orgs"] = pairs.groupby("code").size().reindex(out.index).fillna(0).astype(int)
    out["joint"] = out.index.isin(pairs.loc[pairs["setup"] == PartyOrgSetup.JOINT.value, "code"])
    out["party_buildings"] = _party_buildings(compounds, orgs).reindex(out.index).fillna(0).astype(int)
    return out


def _party_buildings(compounds: pd.DataFrame, orgs: pd.DataFrame) -> pd.Series:
    """Per compound code: distinct buildings with a building-level group, capped at its buildings."""
    groups = _level(orgs, PartyOrgLevel.BUILDING)
    pairs = {(c, str(b).strip()) for text, b in zip(groups["compound_codes"], groups["building"])
             for c in _codes(text)[:1] if b is not None and not pd.isna(b) and str(b).strip()}
    counts = pd.Series([c for c, _ in pairs], dtype=object).value_counts()
    cap = pd.to_numeric(compounds["buildings"], errors="coerce").fillna(0).set_axis(compounds["code"].astype(str))
    counts = counts[counts.index.isin(cap.index)]
    return counts.clip(upper=cap.reindex(counts.index)).astype(int)


def uncovered_compounds(compounds: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """The compounds no compound-level organisation covers: code, name, street_code, community_code, grid_code,
    households; the largest (most households) first."""
    compounds = _frame(compounds, "compounds")
    cols = ["code", "name", "street_code", "community_code", "grid_code", "households"]
    out = pd.DataFrame(compounds.loc[~compounds["code"].astype(str).isin(covered_compound_codes(orgs))])
    out = out.reindex(columns=cols).reset_index(drop=True)
    return out.sort_values(["households", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- the community scorecard


def _missing_stations(stations: pd.DataFrame, community_codes: pd.Index) -> pd.Series:
    """Per community: the labels of the 一老一少一普 kinds it lacks among ``stations`` (a list, [] when complete)."""
    kinds = [k.value for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL]
    have = stations[stations["kind"].isin(kinds)].groupby("community_code")["kind"].agg(set)
    labels = StationKind.labels()
    return pd.Series([[labels[k] for k in kinds if k not in have.get(c, set())] for c in community_codes],
                     index=community_codes, dtype=object)


STANDARD_LABELS = {"funds_ok": "工作经费", "space_ok": "办公服务用房", "stations_ok": "一老一少一普站点"}
"""The standards by their scorecard column, as a sentence names them."""
STANDARD_TEXT = {True: "达标", False: "未达标"}
"""How a standard met or missed reads."""


def _missed_standards(funds_ok: bool, space_ok: bool, lacking: list[str]) -> str:
    """The standards missed, named and joined with 、 ("" when none)."""
    flags = {"funds_ok": funds_ok, "space_ok": space_ok, "stations_ok": not lacking}
    return "、".join(label for col, label in STANDARD_LABELS.items() if not flags[col])


def _reasons(funds, space, lacking: list[str]) -> str:
    """The standards a community misses, in Chinese ("" when none)."""
    parts = []
    if pd.isna(funds):
        parts.append("工作经费未填报")
    elif funds < FUNDS_MIN_WAN:
        parts.append(f"工作经费 {funds:.1f} 万元，低于 {FUNDS_MIN_WAN:g} 万元")
    if pd.isna(space):
        parts.append("办公服务用房面积未填报")
    elif space < SPACE_MIN_M2:
        parts.append(f"办公服务用房 {space:.0f} ㎡，低于 {SPACE_MIN_M2:g} ㎡")
    if lacking:
        parts.append("一老一少一普站点缺" + "、".join(lacking))
    return "；".join(parts)


def scorecard(communities: pd.DataFrame, resources: pd.DataFrame, stations: pd.DataFrame,
              days: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per community (index: community_code): name, street_code, funds_wan (万元), space_m2 (㎡), staff,
    access_tasks, funds_ok, space_ok, stations_ok (一老一少一普 among ``stations``, the open ones),
    consultation_days (held in ``consultation_window(as_of)``), months_missed (of its 12 months, those without a
    day), all_ok (the three standards), missed (the standards missed, e.g. "工作经费、办公服务用房"), reasons (Chinese,
    with the figures; "" when all are met), quiet (see ``quiet_communities``) and last_held_on (the last consultation
    day up to as_of; NaT if none)."""
    communities, resources = _frame(communities, "communities"), _frame(resources, "resources")
    stations, days = _frame(stations, "stations"), _frame(days, "days")
    index = pd.Index(communities["code"].astype(str).to_numpy(), name="community_code")
    res = resources.assign(community_code=resources["community_code"].astype(str)) \
        .drop_duplicates("community_code").set_index("community_code")
    out = pd.DataFrame({"name": communities["name"].to_numpy(), "street_code": communities["street_code"].to_numpy()},
                       index=index)
    for col in ("funds_wan", "space_m2", "staff", "access_tasks"):
        out[col] = pd.to_numeric(res[col], errors="coerce").reindex(index).astype(float)
    out["funds_ok"] = out["funds_wan"].ge(FUNDS_MIN_WAN)
    out["space_ok"] = out["space_m2"].ge(SPACE_MIN_M2)
    lacking = _missing_stations(stations, index)
    out["stations_ok"] = lacking.map(len).eq(0)
    start, end = consultation_window(as_of)
    held = _days_in(days, start, end)
    out["consultation_days"] = held.groupby(held["community_code"].astype(str)).size().reindex(index).fillna(0) \
        .astype(int)
    months = held.assign(m=_held(held).dt.to_period("M")).groupby(held["community_code"].astype(str))["m"].nunique()
    out["months_missed"] = (CONSULTATION_TARGET - months.reindex(index).fillna(0)).astype(int)
    out["all_ok"] = out["funds_ok"] & out["space_ok"] & out["stations_ok"]
    out["missed"] = [_missed_standards(f, s, lack) for f, s, lack in zip(out["funds_ok"], out["space_ok"], lacking)]
    out["reasons"] = [_reasons(f, s, lack) for f, s, lack in zip(out["funds_wan"], out["space_m2"], lacking)]
    quiet = quiet_communities(days, communities, as_of).set_index("community_code")
    out["quiet"] = out.index.isin(quiet.index)
    out["last_held_on"] = pd.to_datetime(_held(days[_held(days) <= pd.Timestamp(as_of)])
                                         .groupby(days["community_code"].astype(str)).max().reindex(index))
    return out


def missed_months(days: pd.DataFrame, communities: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Rows (community_code, name, month "2026-09") for each month of ``consultation_window(as_of)`` in which the
    community held no consultation day; sorted by community then month."""
    communities, days = _frame(communities, "communities"), _frame(days, "days")
    start, end = consultation_window(as_of)
    held = _days_in(days, start, end)
    done = set(zip(held["community_code"].astype(str), _held(held).dt.to_period("M").astype(str)))
    rows = [(c, n, m) for c, n in zip(communities["code"].astype(str), communities["name"])
            for m in window_months(as_of) if (c, m) not in done]
    return pd.DataFrame(rows, columns=["community_code", "name", "month"]).sort_values(
        ["community_code", "month"], kind="stable").reset_index(drop=True)


def quiet_communities(days: pd.DataFrame, communities: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """The communities that held no consultation day in ``as_of``'s month (up to as_of) nor in the QUIET_MONTHS - 1
    months before: community_code, name, street_code and last_held_on (their last day up to as_of; NaT if none)."""
    communities, days = _frame(communities, "communities"), _frame(days, "days")
    since = (_month(as_of) - (QUIET_MONTHS - 1)).start_time
    upto = days[_held(days) <= pd.Timestamp(as_of)]
    last = _held(upto).groupby(upto["community_code"].astype(str)).max()
    codes = communities["code"].astype(str)
    last_held = pd.Series(pd.to_datetime(last.reindex(codes.to_numpy()).to_numpy()), index=codes.index)
    quiet = (last_held.isna() | (last_held < since)).to_numpy()
    out = pd.DataFrame({"community_code": codes.to_numpy(), "name": communities["name"].to_numpy(),
                        "street_code": communities["street_code"].to_numpy(),
                        "last_held_on": last_held.to_numpy()})[quiet]
    return out.reset_index(drop=True)


# ---------------------------------------------------------------- indicators per unit


def _per_community(communities, resources, stations, days, as_of) -> pd.DataFrame:
    """Per community (index code; plus street_code): the community-wide columns of ``party_indicators``."""
    card = scorecard(communities, resources, stations, days, as_of)
    start, end = consultation_window(as_of)
    held = _days_in(_frame(days, "days"), start, end)
    resources = _frame(resources, "resources")
    model = resources.loc[resources["volunteer_model"].notna(), "community_code"].astype(str)
    out = pd.DataFrame({"street_code": card["street_code"]}, index=card.index)
    out["model_communities"] = out.index.isin(model).astype(int)
    out["consultation_days"] = card["consultation_days"]
    issues = ["issues_raised", "issues_resolved"]
    sums = held[issues].apply(pd.to_numeric, errors="coerce").groupby(held["community_code"].astype(str)).sum()
    out[issues] = sums.reindex(out.index).fillna(0).astype(int)
    out["funds_ok"], out["space_ok"] = card["funds_ok"].astype(int), card["space_ok"].astype(int)
    out["stations_ok"], out["standards_ok"] = card["stations_ok"].astype(int), card["all_ok"].astype(int)
    return out


def _count(frame: pd.DataFrame, key: str, value: pd.Series | int = 1) -> pd.Series:
    """Per ``key`` of ``frame``: the number of rows (or the sum of ``value``); rows without a key are left out."""
    amount = pd.Series(value, index=frame.index, dtype=float) if not isinstance(value, pd.Series) else \
        pd.to_numeric(value, errors="coerce").fillna(0)
    keys = frame[key]
    return amount[keys.notna()].groupby(keys[keys.notna()].astype(str)).sum()


def _org_columns(orgs: pd.DataFrame, key: str) -> dict[str, pd.Series]:
    """party_orgs (each organisation once, in its own unit) and party_members (community-level organisations;
    at grid key the grid-level ones)."""
    member_level = PartyOrgLevel.GRID if key == "grid_code" else PartyOrgLevel.COMMUNITY
    leading = _level(orgs, member_level)
    return {"party_orgs": _count(orgs.drop_duplicates("code"), key),
            "party_members": _count(leading, key, leading["members"])}


def _compound_columns(compounds: pd.DataFrame, orgs: pd.DataFrame, key: str) -> dict[str, pd.Series]:
    """covered_compounds, buildings and party_buildings, each compound counted in its own unit."""
    per = compound_party(compounds, orgs)
    flags = compounds.assign(_covered=(per["covering_orgs"].to_numpy() > 0).astype(int),
                             _party=per["party_buildings"].to_numpy())
    return {"covered_compounds": _count(flags, key, flags["_covered"]),
            "buildings": _count(flags, key, flags["buildings"]),
            "party_buildings": _count(flags, key, flags["_party"])}


def _station_columns(grids: pd.DataFrame, stations: pd.DataFrame, key: str) -> dict[str, pd.Series]:
    volunteer = stations[stations["kind"] == StationKind.VOLUNTEER.value]
    return {"assisted_grids": _count(grids, key, (pd.to_numeric(grids["assistants"], errors="coerce") >= 1)),
            "volunteer_stations": _count(volunteer, key),
            "model_stations": _count(volunteer[volunteer["model_level"].notna()], key)}


def _units(grids: pd.DataFrame, communities: pd.DataFrame, key: str) -> pd.Index:
    """The units of ``key``: every grid (grid key), or every community's / grid's street or community."""
    if key == "grid_code":
        codes = grids["code"].astype(str)
    else:
        own = communities["code"] if key == "community_code" else communities["street_code"]
        codes = pd.concat([own.astype(str), grids[key].astype(str)])
    return pd.Index(sorted(codes.dropna().unique()), name=key)


def party_indicators(grids: pd.DataFrame, compounds: pd.DataFrame, stations: pd.DataFrame, orgs: pd.DataFrame,
                     teams: pd.DataFrame, days: pd.DataFrame, resources: pd.DataFrame, communities: pd.DataFrame,
                     key: str, as_of: date) -> pd.DataFrame:
    """The 党建引领 indicators per unit ``key`` (street_code, community_code or grid_code), one row per unit.

    Integer columns (ADDITIVE_COLUMNS: a parent equals the sum of its children at street and community keys):
    covered_compounds, buildings, party_buildings, party_orgs, party_members, volunteer_teams, volunteers,
    assisted_grids, volunteer_stations, model_stations (volunteer stations with a model level),
    model_communities, consultation_days, issues_raised, issues_resolved (the days of
    ``consultation_window(as_of)``), and the communities meeting each standard: funds_ok, space_ok, stations_ok,
    standards_ok. ``stations`` are the open ones. At grid key the community-wide columns (COMMUNITY_WIDE) show
    the grid's community and volunteer_teams / volunteers are NaN (teams belong to communities).
    """
    _check_key(key)
    grids, compounds, stations = _frame(grids, "grids"), _frame(compounds, "compounds"), _frame(stations, "stations")
    orgs, teams, communities = _frame(orgs, "orgs"), _frame(teams, "teams"), _frame(communities, "communities")
    if "grid_code" not in grids:
        grids = grids.assign(grid_code=grids["code"])
    units = _units(grids, communities, key)
    columns = {**_compound_columns(compounds, orgs, key), **_org_columns(orgs, key),
               "volunteer_teams": _count(teams, key if key != "grid_code" else "community_code"),
               "volunteers": _count(teams, key if key != "grid_code" else "community_code", teams["members"]),
               **_station_columns(grids, stations, key)}
    out = pd.DataFrame({c: s.reindex(units) for c, s in columns.items()}, index=units).fillna(0).astype(int)
    per = _per_community(communities, resources, stations, days, as_of)
    wide = list(COMMUNITY_WIDE)
    if key == "grid_code":
        community = grids.set_index(grids["code"].astype(str))["community_code"].astype(str).reindex(units)
        out[wide] = per[wide].reindex(community.to_numpy()).fillna(0).astype(int).to_numpy()
        out[list(COMMUNITY_ONLY)] = float("nan")
    else:
        out[wide] = per.groupby(per.index if key == "community_code" else per["street_code"].astype(str))[wide] \
            .sum().reindex(units).fillna(0).astype(int)
    return out[[*ADDITIVE_COLUMNS, *STANDARD_COLUMNS]]


def with_party_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (``party_indicators`` joined with geo.rollup's indicators and station_completeness: compounds,
    households, population, grids, communities) plus the PARTY_RATIOS columns, shares in 0–1, NaN on a zero or
    missing denominator. members_per_100: per 100 households; teams/volunteers_per_1000: per 1,000 residents;
    consultation_rate: days over CONSULTATION_TARGET per community."""
    out = table.copy()

    def col(name: str) -> pd.Series:
        return out[name] if name in out else pd.Series(float("nan"), index=out.index)

    out["org_coverage"] = _ratio(col("covered_compounds"), col("compounds"))
    out["building_coverage"] = _ratio(col("party_buildings"), col("buildings"))
    out["members_per_100"] = _ratio(col("party_members") * 100, col("households"))
    out["teams_per_1000"] = _ratio(col("volunteer_teams") * 1000, col("population"))
    out["volunteers_per_1000"] = _ratio(col("volunteers") * 1000, col("population"))
    out["assisted_share"] = _ratio(col("assisted_grids"), col("grids"))
    out["consultation_rate"] = _ratio(col("consultation_days"), col("communities") * CONSULTATION_TARGET)
    out["issue_resolution"] = _ratio(col("issues_resolved"), col("issues_raised"))
    out["standards_share"] = _ratio(col("standards_ok"), col("communities"))
    return out
