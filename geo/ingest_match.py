"""Records without a code: match them to stored ones by a natural key, or give them a new stable code.

Offices key compounds by name within a community, not by our codes. For compounds, stations, party
organisations, volunteer teams and disputes a row whose code is blank (or a file without a code column) is matched to the stored
record with the same natural key — (community, normalised name); for disputes (community, 受理日期,
纠纷类别, normalised address) — and takes its code, so it updates that record. With no match it gets
a new code: the community's code + ``C``/``S``/``P``/``V`` + a sequence for compounds, stations, party
organisations and volunteer teams, ``JF`` + the
two-digit year + a sequence for disputes (as the sample's codes), one more than the highest number
ever issued under that prefix, so a code is never reused. Two stored records with the key make the
row ambiguous: a problem for that row. Pure: no files, no SQL.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import shapely

KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "compounds": ("community_code", "name"),
    "stations": ("community_code", "name"),
    "disputes": ("community_code", "reported_on", "category", "address"),
    "party_orgs": ("community_code", "name"),
    "volunteer_teams": ("community_code", "name"),
}
"""Layer -> the fields whose values identify a record when it has no code."""
CODE_WIDTH = {"compounds": 3, "stations": 3, "disputes": 5, "party_orgs": 3, "volunteer_teams": 3}
_LETTER = {"compounds": "C", "stations": "S", "party_orgs": "P", "volunteer_teams": "V"}
_WHAT = {"compounds": "小区", "stations": "站点", "disputes": "案件", "party_orgs": "党组织", "volunteer_teams": "志愿服务队"}
_HAO = re.compile(r"[#＃]")
_SPACE = re.compile(r"[\s\u3000]+")


def normalise_name(text) -> str:
    """A name folded for matching: full-width to half-width (NFKC), no spaces, “#” read as “号”, lower case.

    ``"军门新村 1 号楼"``, ``"军门新村１号楼"`` and ``"军门新村1#楼"`` all give ``"军门新村1号楼"``."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return _SPACE.sub("", _HAO.sub("号", folded)).lower()


def _part(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    text = normalise_name(value)
    return text or None


def natural_keys(frame: pd.DataFrame, layer: str) -> pd.Series:
    """Each row's natural key (a tuple of normalised texts), None where a part is missing or the layer has none."""
    fields = KEY_FIELDS.get(layer)
    if fields is None or any(f not in frame for f in fields):
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    parts = [frame[f].map(_part) for f in fields]
    keys = [None if any(p is None for p in combo) else combo for combo in zip(*parts)]
    return pd.Series(keys, index=frame.index, dtype=object)


def code_prefix(layer: str, row: dict) -> str | None:
    """The prefix a new code of ``row`` takes (None when the row lacks what it needs)."""
    if layer == "disputes":
        reported = row.get("reported_on")
        return f"JF{reported.year % 100:02d}" if isinstance(reported, date) else None
    community = row.get("community_code")
    return f"{community}{_LETTER[layer]}" if community else None


def highest_number(prefix: str, codes) -> int:
    """The largest sequence number among ``codes`` of the form ``prefix`` + digits (0 when none)."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)$")
    numbers = [int(m.group(1)) for c in codes if (m := pattern.match(str(c)))]
    return max(numbers, default=0)


@dataclass
class Matches:
    """The outcome of ``match_codes``: the codes to store, how each row was keyed, and the problems.

    ``how`` per row: ``code`` (the file's own code), ``name`` (matched by its natural key),
    ``new`` (a code issued here), or None (no key: the row has other problems). ``issued``: prefix
    -> the highest number issued (for the store's sequence table)."""

    codes: pd.Series
    how: pd.Series
    problems: list[tuple[int, str, str, str]] = field(default_factory=list)
    issued: dict[str, int] = field(default_factory=dict)

    def count(self, how: str) -> int:
        return int((self.how == how).sum())


def match_codes(values: pd.DataFrame, rows: pd.Series, layer: str, stored: pd.DataFrame,
                sequences: dict[str, int] | None = None) -> Matches:
    """Codes for the rows of ``values`` (coerced, communities resolved to codes) that have none.

    ``stored``: the stored records of ``layer`` with ``code`` and the key fields; ``sequences``:
    prefix -> highest number ever issued (numbers in stored codes count too). Problems are
    (row, field, value, reason) for ambiguous keys and rows that repeat an earlier row's key.
    """
    given = values["code"] if "code" in values else pd.Series([None] * len(values), index=values.index, dtype=object)
    codes = given.astype(object).copy()
    how = pd.Series([None if c is None else "code" for c in given], index=values.index, dtype=object)
    if layer not in KEY_FIELDS:
        return Matches(codes, how)
    out = Matches(codes, how)
    lookup = _stored_lookup(stored, layer)
    keys = natural_keys(values, layer)
    first: dict[tuple, int] = {}
    held = set()
    first.update({k: int(r) for k, r, c in zip(reversed(keys.tolist()), reversed(rows.tolist()),
                                               reversed(given.tolist())) if k is not None and c is not None})
    for i, row, key in zip(values.index, rows, keys):
        if given[i] is not None or key is None:
            continue
        if key in first:
            held.add(i)
            out.problems.append((int(row), "", _shown(values, i, layer),
                                 f"与第 {first[key]} 行是同一{_WHAT[layer]}（{_key_words(layer)}）"))
            continue
        first[key] = int(row)
        found = lookup.get(key, [])
        if len(found) > 1:
            held.add(i)
            out.problems.append((int(row), "", _shown(values, i, layer),
                                 f"库中有 {len(found)} 个{_key_words(layer)}的{_WHAT[layer]}（编码 {'、'.join(found)}），"
                                 f"无法确定更新哪一个：请在文件中填写{_WHAT[layer]}编码"))
        elif found:
            codes[i], how[i] = found[0], "name"
    _issue_new(values, keys.drop(index=list(held)), layer, stored, sequences or {}, out)
    return out


def _stored_lookup(stored: pd.DataFrame, layer: str) -> dict[tuple, list[str]]:
    if stored is None or not len(stored) or "code" not in stored:
        return {}
    keys = natural_keys(stored, layer)
    lookup: dict[tuple, list[str]] = {}
    for key, code in zip(keys, stored["code"].astype(str)):
        if key is not None:
            lookup.setdefault(key, []).append(code)
    return lookup


def _issue_new(values: pd.DataFrame, keys: pd.Series, layer: str, stored: pd.DataFrame,
               sequences: dict[str, int], out: Matches) -> None:
    """New codes for the keyed rows that matched nothing (and were not reported)."""
    stored_codes = list(stored["code"].astype(str)) if stored is not None and "code" in stored else []
    taken = set(stored_codes) | {str(c) for c in out.codes if c is not None}
    width = CODE_WIDTH[layer]
    for i, key in zip(values.index, keys):
        if out.how[i] is not None or key is None:
            continue
        prefix = code_prefix(layer, values.loc[i].to_dict())
        if prefix is None:
            continue
        if prefix not in out.issued:
            out.issued[prefix] = max(sequences.get(prefix, 0), highest_number(prefix, taken))
        number = out.issued[prefix] + 1
        while f"{prefix}{number:0{width}d}" in taken:
            number += 1
        code = f"{prefix}{number:0{width}d}"
        out.issued[prefix] = number
        taken.add(code)
        out.codes[i], out.how[i] = code, "new"


def units_at(geoms, units: pd.DataFrame) -> pd.Series:
    """For each geometry (WGS84; None allowed), the code of the one unit of ``units`` (polygons, WGS84, with
    ``code``) that contains its representative point; None when none or several do, or it is missing."""
    index = getattr(geoms, "index", None)
    out = pd.Series([None] * len(geoms), index=index, dtype=object)
    if units is None or not len(units):
        return out
    polygons = np.asarray(units.geometry.values, dtype=object)
    codes = units["code"].astype(str).to_numpy()
    for i, geom in zip(out.index, geoms):
        if geom is None or shapely.is_empty(geom):
            continue
        hits = codes[shapely.contains(polygons, shapely.point_on_surface(geom))]
        out[i] = hits[0] if len(hits) == 1 else None
    return out


def _key_words(layer: str) -> str:
    return "同社区、同受理日期、同类别、同地址" if layer == "disputes" else "同社区同名"


def _shown(values: pd.DataFrame, i, layer: str) -> str:
    """The row's name (its address for a dispute), as the report's value."""
    value = values.at[i, "address" if layer == "disputes" else "name"]
    return "" if value is None else str(value)
