"""The record layers of an import (``geo.ingest_fields.RECORD_LAYERS``): tables without geometry.

Party organisations, volunteer teams, consultation days and community resources belong to a community
and carry no coordinates, so ``geo.ingest.prepare`` skips the coordinate system and geometry steps for
them and calls this module instead:

- ``resolve_records``: the party organisations' 覆盖小区 (compound codes or names separated by 、，,;；,
  resolved to codes within the row's community; each unknown or ambiguous name is a problem) and their
  grid (the first compound's grid when blank); 设置方式 defaults to 单独设置; a consultation day's
  关联案件编号 must name stored cases; blank 收集/已解决问题数 are 0.
- ``record_codes``: a consultation day's code is its community + ``K`` + yymm (a stored day of the same
  community and month keeps its code, so a re-import updates it); a community's resources are keyed by
  the community itself. Two rows for one key are a problem. Party organisations and volunteer teams are
  keyed by ``geo.ingest_match`` (community + ``P``/``V`` + a sequence never reused).
- ``record_rules``: the levels of the party network (a building group: one compound and a building; a
  joint organisation: at least two compounds …) and 已解决 ≤ 收集问题数.
- ``unchanged_codes``: the rows equal to what is stored (an export imported again changes nothing).

Every problem is ``Problem(row, field as the user names it, value, reason in Chinese)``. Pure: no files, no SQL.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from geo.ingest_fields import key_column
from geo.ingest_match import Matches, normalise_name
from geo.ingest_problems import Problem
from geo.ingest_values import folded, is_blank, shown
from geo.vocab import PartyOrgLevel, PartyOrgSetup

Names = Callable[[str], str]
LIST_SEPARATORS = re.compile(r"[、，,;；\r\n]+")
"""What separates the compounds of a joint organisation or the cases of a consultation day in one cell."""
STORED_SEPARATOR = ","
DAY_LETTER = "K"
UNCHANGED = "与库中相同"
"""What the preview says of a row equal to the stored record (it is not written)."""
COMPOUND_SUFFIX = "小区"
"""Offices write 军门新村 or 军门新村小区 for the same compound: a name is also tried without it."""


def split_list(text) -> list[str]:
    """The items of a cell such as ``军门新村、安泰新村；350102004001C003`` (blank items dropped, order kept)."""
    if is_blank(text):
        return []
    return [part.strip() for part in LIST_SEPARATORS.split(str(text)) if part.strip()]


def _column(values: pd.DataFrame, name: str) -> pd.Series:
    if name in values:
        return values[name]
    return pd.Series([None] * len(values), index=values.index, dtype=object)


def _blank(value) -> bool:
    return value is None or is_blank(value)


# ---------------------------------------------------------------- covered compounds and linked cases


class _Compounds:
    """The stored compounds by code and, within each community, by normalised name."""

    def __init__(self, table: pd.DataFrame | None, community_names: dict[str, str]):
        table = table if table is not None and len(table) else pd.DataFrame(
            columns=["code", "name", "community_code", "grid_code"])
        self.community = dict(zip(table["code"].astype(str), table["community_code"].astype(str)))
        self.grid = {str(c): (None if _blank(g) else str(g)) for c, g in zip(table["code"], table["grid_code"])}
        self.by_name: dict[tuple[str, str], list[str]] = {}
        for code, name, community in zip(table["code"].astype(str), table["name"], table["community_code"].astype(str)):
            for key in {normalise_name(name), normalise_name(name).removesuffix(COMPOUND_SUFFIX)}:
                codes = self.by_name.setdefault((community, key), [])
                if code not in codes:
                    codes.append(code)
        self.community_names = community_names

    def find(self, item: str, community: str) -> tuple[str | None, str | None]:
        """(code, None) for a compound of ``community`` named or coded ``item``; (None, reason) otherwise."""
        where = self.community_names.get(community, community)
        if item in self.community:
            if self.community[item] != community:
                other = self.community_names.get(self.community[item], self.community[item])
                return None, f"小区“{item}”属于{other}，不在{where}"
            return item, None
        key = normalise_name(item)
        found = self.by_name.get((community, key)) or self.by_name.get((community, key.removesuffix(COMPOUND_SUFFIX)))
        if not found:
            return None, f"{where}没有名为“{item}”的小区（可填小区编码或小区全称，多个小区用顿号分隔）"
        if len(found) > 1:
            return None, f"{where}有 {len(found)} 个名为“{item}”的小区（编码 {'、'.join(found)}），请改填小区编码"
        return found[0], None


def _covered(values: pd.DataFrame, rows: pd.Series, ref, names: Names) -> tuple[pd.DataFrame, list[Problem]]:
    """覆盖小区 as stored codes joined by ",", and the grid of the first compound where no grid is given."""
    communities = getattr(ref, "communities", None)
    community_names = ({} if communities is None or not len(communities)
                       else dict(zip(communities["code"].astype(str), communities["name"].astype(str))))
    index = _Compounds(getattr(ref, "compound_table", None), community_names)
    out, problems = values.copy(), []
    codes_out, grids_out = [], []
    for i, row in zip(values.index, rows):
        raw, community, grid = _column(values, "compound_codes")[i], out.at[i, "community_code"], _column(values, "grid_code")[i]
        codes: list[str] = []
        for item in split_list(raw) if not _blank(community) else []:
            code, reason = index.find(item, str(community))
            if reason:
                problems.append(Problem(int(row), names("compound_codes"), shown(item), reason))
            elif code not in codes:
                codes.append(code)
        grids = [index.grid.get(c) for c in codes]
        if codes and not _blank(grid) and str(grid) not in grids:
            problems.append(Problem(int(row), names("grid_code"), shown(grid), "所填网格与覆盖小区所在的网格不一致"))
        codes_out.append(STORED_SEPARATOR.join(codes) or None)
        grids_out.append(grids[0] if codes and _blank(grid) else (None if _blank(grid) else grid))
    if "compound_codes" in values:  # a file without the column leaves the stored compounds (and grid) alone
        out["compound_codes"] = pd.Series(codes_out, index=values.index, dtype=object)
        out["grid_code"] = pd.Series(grids_out, index=values.index, dtype=object)
    return out, problems


def _linked_cases(values: pd.DataFrame, rows: pd.Series, ref, names: Names) -> tuple[pd.DataFrame, list[Problem]]:
    """关联案件编号 as stored case codes joined by ","; each code that names no stored case is a problem."""
    if "dispute_codes" not in values:
        return values, []
    known = getattr(ref, "dispute_codes", frozenset())
    out, problems, joined = values.copy(), [], []
    for raw, row in zip(values["dispute_codes"], rows):
        codes = []
        for item in split_list(raw):
            code = folded(item).upper()
            if code not in known:
                problems.append(Problem(int(row), names("dispute_codes"), shown(item), f"案件编号“{code}”不存在"))
            elif code not in codes:
                codes.append(code)
        joined.append(STORED_SEPARATOR.join(codes) or None)
    out["dispute_codes"] = pd.Series(joined, index=values.index, dtype=object)
    return out, problems


def resolve_records(values: pd.DataFrame, rows: pd.Series, layer: str, ref, names: Names) -> tuple[pd.DataFrame, list[Problem]]:
    """Lists in one cell resolved to stored codes, and the defaults of a record layer (see the module doc).

    ``values``: coerced rows with communities already resolved to codes; ``ref``: a ``geo.ingest.Reference``."""
    if layer == "party_orgs":
        out, problems = _covered(values, rows, ref, names)
        if "setup" in out:
            out["setup"] = out["setup"].where(out["setup"].notna(), PartyOrgSetup.SINGLE.value)
        return out, problems
    if layer == "consultation_days":
        out, problems = _linked_cases(values, rows, ref, names)
        for column in ("issues_raised", "issues_resolved"):
            if column in out:
                out[column] = out[column].where(out[column].notna(), 0)
        return out, problems
    return values, []


# ---------------------------------------------------------------- codes


def day_code(community: str, held_on: date) -> str:
    """A consultation day's code: its community's code + ``K`` + yymm, e.g. ``350102004001K2610``."""
    return f"{community}{DAY_LETTER}{held_on.year % 100:02d}{held_on.month:02d}"


def _month(value) -> str | None:
    if _blank(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m")


def _stored_days(stored: pd.DataFrame | None) -> dict[tuple[str, str], list[str]]:
    """(community, "YYYY-MM") -> the stored consultation days' codes."""
    if stored is None or not len(stored) or "held_on" not in stored:
        return {}
    out: dict[tuple[str, str], list[str]] = {}
    for code, community, held in zip(stored["code"].astype(str), stored["community_code"].astype(str), stored["held_on"]):
        month = _month(held)
        if month is not None:
            out.setdefault((community, month), []).append(code)
    return out


def _day_codes(values: pd.DataFrame, rows: pd.Series, ref, names: Names) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """Codes and how each was found: the file's own, a stored day of the month (``name``) or derived (``new``)."""
    stored = _stored_days(getattr(ref, "records", None))
    codes, how, problems = [], [], []
    for i, row in zip(values.index, rows):
        given, community, held = _column(values, "code")[i], values.at[i, "community_code"], values.at[i, "held_on"]
        derived = None if _blank(community) or _blank(held) else day_code(str(community), held)
        if not _blank(given):
            if derived and re.fullmatch(r"\d{12}K\d{4}", str(given)) and str(given) != derived:
                problems.append(Problem(int(row), names("code"), shown(given),
                                        f"编号与所属社区、日期不符（应为 {derived}，即社区代码＋K＋年月）"))
            codes.append(str(given))
            how.append("code")
            continue
        found = stored.get((str(community), _month(held))) if derived else None
        code = (derived if derived in (found or []) else found[0]) if found else derived
        codes.append(code)
        how.append(None if code is None else "name" if found else "new")
    return (pd.Series(codes, index=values.index, dtype=object), pd.Series(how, index=values.index, dtype=object),
            problems)


_SAME_KEY = {"consultation_days": "是同一社区同一月份的恳谈日（每个社区每月一条）",
             "community_resources": "是同一社区（每个社区一行）"}


def record_codes(values: pd.DataFrame, rows: pd.Series, layer: str, ref, names: Names
                 ) -> tuple[pd.DataFrame, Matches | None, list[Problem]]:
    """The code of every consultation day and community-resources row (see the module doc); a row that
    repeats an earlier row's key is a problem and keeps no code. Other layers: unchanged, None."""
    if layer == "consultation_days":
        codes, how, problems = _day_codes(values, rows, ref, names)
        field_name = names("held_on")
    elif layer == "community_resources":
        codes = _column(values, "community_code").astype(object)
        how = pd.Series([None if _blank(c) else "code" for c in codes], index=values.index, dtype=object)
        problems, field_name = [], names("community_code")
    else:
        return values, None, []
    first: dict[str, int] = {}
    for i, row, code in zip(values.index, rows, list(codes)):
        if _blank(code):
            continue
        if code in first:
            problems.append(Problem(int(row), field_name, shown(code), f"与第 {first[code]} 行{_SAME_KEY[layer]}"))
            codes[i], how[i] = None, None
        else:
            first[code] = int(row)
    out = values.copy()
    out["code"] = codes.values
    return out, Matches(codes, how), problems


# ---------------------------------------------------------------- rules across fields


def _party_row(level: str | None, setup: str | None, compounds: list[str], grid, building) -> list[tuple[str, str]]:
    """(field, reason) for one party organisation whose level, setup and units do not fit together."""
    out = []
    if level == PartyOrgLevel.COMMUNITY.value:
        for field, value in (("grid_code", grid), ("compound_codes", compounds), ("building", building)):
            if value:
                out.append((field, f"{PartyOrgLevel.COMMUNITY.label}不填所属网格、覆盖小区和楼栋"))
    elif level == PartyOrgLevel.GRID.value:
        if not grid:
            out.append(("grid_code", f"{PartyOrgLevel.GRID.label}须填所属网格"))
        if compounds or building:
            out.append(("compound_codes" if compounds else "building",
                        f"{PartyOrgLevel.GRID.label}不填覆盖小区和楼栋（小区、楼栋的组织请选相应层级）"))
    elif level == PartyOrgLevel.COMPOUND.value:
        if not compounds:
            out.append(("compound_codes", f"{PartyOrgLevel.COMPOUND.label}须填覆盖小区"))
        if building:
            out.append(("building", f"{PartyOrgLevel.COMPOUND.label}不填楼栋（楼栋的组织请选“{PartyOrgLevel.BUILDING.label}”）"))
    elif level == PartyOrgLevel.BUILDING.value:
        if len(compounds) != 1:
            out.append(("compound_codes", f"{PartyOrgLevel.BUILDING.label}须填且只填一个小区（现为 {len(compounds)} 个）"))
        if not building:
            out.append(("building", f"{PartyOrgLevel.BUILDING.label}须填楼栋，如“3号楼”"))
    if setup == PartyOrgSetup.JOINT.value and len(compounds) < 2 and level != PartyOrgLevel.BUILDING.value:
        out.append(("compound_codes", f"{PartyOrgSetup.JOINT.label}的党组织须覆盖至少两个小区（现为 {len(compounds)} 个）"))
    return out


def _party_rules(values: pd.DataFrame, rows: pd.Series, names: Names) -> list[Problem]:
    problems = []
    compounds, grids, buildings = (_column(values, c) for c in ("compound_codes", "grid_code", "building"))
    for i, row in zip(values.index, rows):
        level = values.at[i, "level"] if "level" in values else None
        if _blank(level):
            continue  # reported as missing or invalid
        setup = values.at[i, "setup"] if "setup" in values else None
        items = [] if _blank(compounds[i]) else str(compounds[i]).split(STORED_SEPARATOR)
        grid, building = (None if _blank(v) else v for v in (grids[i], buildings[i]))
        for field, reason in _party_row(level, setup, items, grid, building):
            value = "、".join(items) if field == "compound_codes" else {"grid_code": grid, "building": building}[field]
            problems.append(Problem(int(row), names(field), shown(value), reason))
    return problems


def _day_rules(values: pd.DataFrame, rows: pd.Series, names: Names) -> list[Problem]:
    raised, resolved = _column(values, "issues_raised"), _column(values, "issues_resolved")
    problems = []
    for i, row in zip(values.index, rows):
        if not _blank(raised[i]) and not _blank(resolved[i]) and int(resolved[i]) > int(raised[i]):
            problems.append(Problem(int(row), names("issues_resolved"), shown(resolved[i]),
                                    f"已解决问题数不能多于收集问题数（{int(raised[i])}）"))
    return problems


def record_rules(values: pd.DataFrame, rows: pd.Series, layer: str, names: Names) -> tuple[list[Problem], list[Problem]]:
    """Rules across the fields of one record: (problems, warnings) — see the module doc."""
    if layer == "party_orgs":
        return _party_rules(values, rows, names), []
    if layer == "consultation_days":
        return _day_rules(values, rows, names), []
    return [], []


# ---------------------------------------------------------------- a file equal to the store


def _same(a, b) -> bool:
    if _blank(a) or _blank(b):
        return _blank(a) and _blank(b)
    if isinstance(a, date | datetime | pd.Timestamp) or isinstance(b, date | datetime | pd.Timestamp):
        try:
            return pd.Timestamp(a).date() == pd.Timestamp(b).date()
        except (TypeError, ValueError):
            return False
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return str(a) == str(b)


def unchanged_codes(frame: pd.DataFrame, stored: pd.DataFrame | None, columns: list[str], layer: str) -> frozenset[str]:
    """Codes of the rows of ``frame`` whose ``columns`` all equal the stored record's (so writing them changes nothing).

    ``stored``: the stored records with ``code`` (for community resources: the community's code)."""
    if stored is None or not len(stored) or "code" not in frame:
        return frozenset()
    held = stored.drop_duplicates("code").set_index(stored.drop_duplicates("code")["code"].astype(str))
    compare = [c for c in columns if c not in ("code", key_column(layer), "version") and c in held.columns]
    same = set()
    for _, row in frame.iterrows():
        code = None if _blank(row["code"]) else str(row["code"])
        if code is not None and code in held.index and all(_same(row[c], held.at[code, c]) for c in compare):
            same.add(code)
    return frozenset(same)
