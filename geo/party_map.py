"""What the 党建引领 map draws, per record: how each compound is covered, how each grid is staffed with
assistants, which stations are party / volunteer sites. Pure functions on (Geo)DataFrames; inputs are never
changed, a frame with no rows gives a frame with no rows.

- A compound is covered when a compound-level party organisation (``party_orgs.level == "compound"``) lists it
  in its ``compound_codes`` — set up for it alone (单独设置) or jointly with neighbours (联合设置), counted
  once either way, as ``geo.party`` counts ``covered_compounds``. A covered compound that also has building
  party groups (楼栋党小组) is classed :attr:`PartyCoverage.BUILDINGS`; a compound with building groups but no
  compound-level organisation is still uncovered (it is on the 未覆盖 list).
- Read the organisations of the whole district for this: a joint organisation belongs to the community of its
  first compound, so the organisations of one community do not show every organisation covering its compounds.
"""
from __future__ import annotations

import pandas as pd

from geo.party import compound_party
from geo.vocab import GridAssistants, PartyCoverage, PartyOrgLevel, PartyOrgSetup, StationKind

PARTY_KINDS = (StationKind.PARTY, StationKind.VOLUNTEER)
"""Station kinds the 党建引领 map shows: 党群服务中心 and 志愿服务站."""
SEPARATOR = ","


def split_codes(text) -> list[str]:
    """The codes of a ``compound_codes`` / ``dispute_codes`` cell ("a,b" or "a，b"; blank or missing: none)."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    return [c.strip() for c in str(text).replace("，", SEPARATOR).split(SEPARATOR) if c.strip()]


def _links(orgs: pd.DataFrame, level: PartyOrgLevel) -> pd.DataFrame:
    """One row per (organisation of ``level``, compound it lists): columns compound, name, setup, building."""
    rows = orgs[orgs["level"] == level.value] if "level" in orgs.columns else orgs.iloc[0:0]
    out = [(code, r.get("name"), r.get("setup"), r.get("building"))
           for r in rows.to_dict("records") for code in split_codes(r.get("compound_codes"))]
    return pd.DataFrame(out, columns=["compound", "name", "setup", "building"])


def compound_coverage(compounds: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """``compounds`` (a copy; columns of ``geo.party.compound_party``) with three columns added:

    - ``party_cover``: the :class:`PartyCoverage` value (buildings / single / joint / none);
    - ``party_org_names``: the compound-level organisations covering it, joined by "、" ("" if none);
    - ``party_buildings``: its buildings with a building party group (``geo.party.compound_party``: distinct
      buildings, capped at its ``buildings``).
    """
    out = compounds.copy()
    codes = out["code"].astype(str)
    per = compound_party(out, orgs)
    links = _links(orgs, PartyOrgLevel.COMPOUND)
    single = set(links.loc[links["setup"] == PartyOrgSetup.SINGLE.value, "compound"])
    names = links.drop_duplicates(["compound", "name"]).groupby("compound")["name"].agg(
        lambda s: "、".join(str(n) for n in s if isinstance(n, str)))
    covered = set(per.index[per["covering_orgs"] > 0])
    out["party_buildings"] = per["party_buildings"].reindex(codes).fillna(0).astype(int).to_numpy()
    out["party_org_names"] = [names.get(c, "") for c in codes]
    out["party_cover"] = [_cover(c, covered, single, n) for c, n in zip(codes, out["party_buildings"])]
    return out


def _cover(code: str, covered: set[str], single: set[str], buildings: int) -> str:
    if code not in covered:
        return PartyCoverage.NONE.value
    if buildings > 0:
        return PartyCoverage.BUILDINGS.value
    return (PartyCoverage.SINGLE if code in single else PartyCoverage.JOINT).value


def assistant_class(assistants) -> GridAssistants:
    """The :class:`GridAssistants` class of a grid with ``assistants`` assistants (missing: none)."""
    n = 0 if assistants is None or pd.isna(assistants) else int(assistants)
    if n <= 0:
        return GridAssistants.NONE
    return GridAssistants.ONE if n == 1 else GridAssistants.SEVERAL


def party_stations(stations: pd.DataFrame) -> pd.DataFrame:
    """The 党群服务中心 and 志愿服务站 among ``stations`` (a copy), with ``model_level`` (None if absent)."""
    kinds = {k.value for k in PARTY_KINDS}
    out = stations[stations["kind"].astype(str).isin(kinds)].copy()
    if "model_level" not in out.columns:
        out["model_level"] = None
    return out
