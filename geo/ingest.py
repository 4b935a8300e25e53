"""Validation of an imported table: every problem at once, as (row, field, value, reason) in Chinese.

Input is a plain table read from a file (``pandas.DataFrame`` of raw cell values with a ``_row``
column holding the row number the user sees: the Excel row, the CSV line, or the feature number
of a vector file) and, for vector files, its geometries with the declared CRS. ``prepare``
maps the columns to fields, resolves the coordinate system, converts to WGS84 (EPSG:4326),
coerces every value, checks codes against the district's hierarchy, checks geometry (valid, of the
right type, inside the district; optional repair with ``make_valid``, each repair reported) and
looks for a hidden GCJ-02/BD-09 offset (geometry in ``geo.ingest_geometry``, values in
``geo.ingest_values``). It returns the clean GeoDataFrame with exactly the stored
columns that the file provides (plus codes derived from the hierarchy) and the problems. The record
layers (``RECORD_LAYERS``: party organisations, volunteer teams, consultation days, community resources)
have no geometry: no coordinates, CRS or shift check; their lists, codes and rules are in
``geo.ingest_records`` and their frame's geometry is all None. Pure: no files, no SQL.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from numbers import Real

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo import ingest_crs as icrs
from geo.errors import CRSError
from geo.ingest_fields import (
    GEOMETRY_FIELDS,
    LAT,
    LON,
    POINT_LAYERS,
    RECORD_LAYERS,
    TOWN,
    WKT,
    check_layer,
    check_mapping,
    fields_of,
    guess_mapping,
    has_geometry,
    key_column,
)
from geo.ingest_geometry import check_geometry, geometry_from_columns
from geo.ingest_match import KEY_FIELDS, Matches, match_codes, units_at
from geo.ingest_problems import FILE_LEVEL, ROW, Problem
from geo.ingest_records import record_codes, record_rules, resolve_records
from geo.ingest_values import coerce, is_blank, shown
from geo.lifecycle import FIELD_LABELS as RENO_LABELS
from geo.lifecycle import compound_gaps, validate_compound_edit
from geo.scope import street_of
from geo.vocab import CLOSED_DISPUTE_STATUSES, Level


@dataclass(frozen=True)
class Reference:
    """What the district already holds, to check codes and positions against (all WGS84).

    ``streets``/``communities``/``grids``: GeoDataFrames with at least code, name (and
    street_code / community_code); ``compound_codes``: codes of stored compounds; ``existing``:
    the stored geometry of the target layer indexed by code; ``today``: the date in Fuzhou.
    """

    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    compound_codes: frozenset[str]
    existing: gpd.GeoSeries
    today: date
    records: pd.DataFrame | None = None
    """The stored records of the import's layer (no geometry), to match rows without a code."""
    sequences: dict[str, int] = field(default_factory=dict)
    """Code prefix -> the highest sequence number ever issued under it (see ``geo.ingest_match``)."""
    compound_table: pd.DataFrame | None = None
    """The stored compounds (code, name, community_code, grid_code), to resolve a party organisation's 覆盖小区."""
    dispute_codes: frozenset[str] = frozenset()
    """Codes of the stored cases, which a consultation day's 关联案件编号 must name."""

    @property
    def district(self):
        """The district polygon (union of sub-districts, else communities), or None when empty."""
        for frame in (self.streets, self.communities):
            if len(frame):
                return shapely.union_all(np.asarray(frame.geometry.values, dtype=object))
        return None

    @classmethod
    def from_frames(cls, frames: dict[str, gpd.GeoDataFrame], layer: str, today: date,
                    sequences: dict[str, int] | None = None) -> Reference:
        """Reference from stored layers (missing ones are taken as empty); ``layer`` is the import target;
        ``sequences``: the store's code sequences (prefix -> highest number issued)."""
        empty = gpd.GeoDataFrame({"code": [], "name": [], "street_code": [], "community_code": []},
                                 geometry=[], crs=icrs.gcrs.WGS84_EPSG)
        get = lambda name: frames.get(name, empty)  # noqa: E731
        target = get(layer)
        existing = gpd.GeoSeries(target.geometry.values, index=target["code"].astype(str).values, crs=target.crs)
        compounds = get("compounds")
        records = pd.DataFrame(target.drop(columns=target.geometry.name))
        return cls(get("streets"), get("communities"), get("grids"),
                   frozenset(compounds["code"].astype(str)), existing, today, records, dict(sequences or {}),
                   pd.DataFrame(compounds.drop(columns=compounds.geometry.name)))


@dataclass
class Prepared:
    """The outcome of ``prepare``: clean rows, problems, repairs, and how the file was understood."""

    layer: str
    frame: gpd.GeoDataFrame
    problems: list[Problem]
    repairs: list[Problem] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    crs_key: str = icrs.WGS84
    crs_note: str = ""
    shift: icrs.ShiftFinding | None = None
    warnings: list[Problem] = field(default_factory=list)
    """Gaps that do not stop the import (a missing 开工日期 …); ``strict`` makes them problems."""
    matches: Matches | None = None
    """How rows without a code were keyed (matched by name, or a new code issued)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, how: str) -> int:
        """Rows keyed ``how``: ``code`` (own code), ``name`` (matched by name) or ``new`` (code issued)."""
        return self.matches.count(how) if self.matches is not None else 0


# ---------------------------------------------------------------- columns and values


class _Names:
    """How the report names each field: the user's own column when mapped, else the Chinese label."""

    def __init__(self, layer: str, mapping: dict[str, str]):
        self.specs = fields_of(layer)
        self.by_field = {f: c for c, f in mapping.items()}

    def __call__(self, name: str) -> str:
        return str(self.by_field.get(name, self.specs[name].label if name in self.specs else name))


def map_columns(table: pd.DataFrame, mapping: dict[str, str]) -> pd.DataFrame:
    """A frame with one column per mapped field (raw values, object dtype) and ``_row``; the input is untouched."""
    out = pd.DataFrame({f: table[c].astype(object).values for c, f in mapping.items()}, index=table.index)
    out[ROW] = table[ROW].values if ROW in table else np.arange(2, len(table) + 2)
    return out


def coerce_frame(mapped: pd.DataFrame, layer: str, today: date, names: _Names) -> tuple[pd.DataFrame, list[Problem]]:
    """Every non-geometry field coerced (None where invalid), and a problem per bad or missing value."""
    specs = fields_of(layer)
    problems: list[Problem] = []
    out = pd.DataFrame(index=mapped.index)
    wanted = [s for s in specs.values() if s.name not in GEOMETRY_FIELDS and s.name in mapped]
    for spec in wanted:  # a required field without a column is reported once, by missing_columns
        column = mapped[spec.name]
        values = []
        for row, raw in zip(mapped[ROW], column):
            try:
                values.append(coerce(spec, raw, today))
            except ValueError as exc:
                values.append(None)
                if spec.name not in _DERIVABLE.get(layer, ()):
                    problems.append(Problem(int(row), names(spec.name), shown(raw), str(exc)))
        out[spec.name] = pd.Series(values, index=mapped.index, dtype=object)
    return out, problems


_DERIVABLE = {layer: ("community_code",) for layer in ("grids", "compounds", "stations", "party_orgs")}
"""Required fields that may instead be derived from another column (a community from its grid's code);
``check_codes`` reports them when they cannot."""


# ---------------------------------------------------------------- codes and the hierarchy


def _code_index(frame: pd.DataFrame, suffix: str = "") -> dict[str, str]:
    """Code and unambiguous name (also without ``suffix``, e.g. 社区) -> code."""
    out: dict[str, str] = {str(c): str(c) for c in frame["code"]}
    names = frame["name"].astype(str) if "name" in frame else pd.Series([], dtype=str)
    for key in (names, names.str.removesuffix(suffix) if suffix else None):
        if key is None:
            continue
        counts = key.value_counts()
        out.update({n: str(c) for n, c in zip(key, frame["code"]) if counts[n] == 1 and n not in out})
    return out


def _resolve(values: pd.Series, index: dict[str, str]) -> pd.Series:
    return pd.Series([None if v is None else index.get(str(v), index.get(str(v).strip())) for v in values],
                     index=values.index, dtype=object)


class _Hierarchy:
    """Lookups of the stored units: code or name -> code, and each unit's parent."""

    def __init__(self, ref: Reference):
        self.streets = _code_index(ref.streets, Level.STREET.label)
        self.communities = _code_index(ref.communities, Level.COMMUNITY.label)
        self.grids = {str(c): str(c) for c in ref.grids["code"]}
        self.grid_parent = dict(zip(ref.grids["code"].astype(str), ref.grids["community_code"].astype(str)))
        self.community_parent = dict(zip(ref.communities["code"].astype(str),
                                         ref.communities.get("street_code", pd.Series(dtype=str)).astype(str)))
        self.compounds = ref.compound_codes


def check_codes(values: pd.DataFrame, rows: pd.Series, layer: str, ref: Reference,
                names: _Names, raw: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Resolve names to codes, derive parent codes, and report unknown or inconsistent codes."""
    h = _Hierarchy(ref)
    out = values.copy()
    problems: list[Problem] = []
    checker = {"streets": _street_codes, "communities": _community_codes, "grids": _grid_codes}.get(layer, _child_codes)
    checker(out, rows, layer, h, names, raw, problems)
    return out, problems


def _report(problems, rows, mask, field_name, raw_values, reason) -> None:
    for row, value in zip(rows[mask], raw_values[mask]):
        problems.append(Problem(int(row), field_name, shown(value), reason))


def _raw(raw: pd.DataFrame, name: str, index) -> pd.Series:
    return raw[name] if name in raw else pd.Series([None] * len(index), index=index, dtype=object)


def _street_codes(out, rows, layer, h, names, raw, problems) -> None:
    code = out["code"]
    bad = code.notna() & ~code.astype(str).str.fullmatch(r"3501020\d{2}000")
    _report(problems, rows, bad, names("code"), code, "街道代码应为 3501020 开头、000 结尾的12位数字")
    if "kind" in out:
        wrong = out["kind"].notna() & ~out["kind"].isin([Level.STREET.label, TOWN])
        _report(problems, rows, wrong, names("kind"), out["kind"], f"类型应为“{Level.STREET.label}”或“{TOWN}”")
    out["kind"] = out["kind"].fillna(Level.STREET.label) if "kind" in out else Level.STREET.label


def _community_codes(out, rows, layer, h, names, raw, problems) -> None:
    code = out["code"].astype(str)
    bad = out["code"].notna() & ~code.str.fullmatch(r"3501020\d{5}")
    _report(problems, rows, bad, names("code"), out["code"], "社区代码应为 3501020 开头的12位数字")
    derived = pd.Series([street_of(c) for c in code], index=out.index, dtype=object)
    given = _resolve(out["street_code"], h.streets) if "street_code" in out else derived
    unknown = ~bad & ~derived.isin(list(h.streets))
    _report(problems, rows, unknown, names("code"), out["code"], "所属街道不存在（请先导入街道）")
    clash = "street_code" in out and (out["street_code"].notna() & (given != derived) & ~bad)
    if clash is not False:
        _report(problems, rows, clash, names("street_code"), out["street_code"], "与社区代码前9位所属的街道不一致")
    out["street_code"] = derived
    if "centre_known" in out:
        out["centre_known"] = out["centre_known"].fillna(False)


def _grid_codes(out, rows, layer, h, names, raw, problems) -> None:
    code = out["code"].astype(str)
    bad = out["code"].notna() & ~code.str.fullmatch(r"3501020\d{8}")
    _report(problems, rows, bad, names("code"), out["code"], "网格编码应为所属社区代码加3位数字，共15位")
    derived = pd.Series([c[:12] for c in code], index=out.index, dtype=object)
    if "community_code" in out:
        given = _resolve(out["community_code"], h.communities)
        unknown = out["community_code"].notna() & given.isna()
        _report(problems, rows, unknown, names("community_code"), _raw(raw, "community_code", out.index), "社区不存在")
        clash = given.notna() & (given != derived) & ~bad
        _report(problems, rows, clash, names("community_code"), _raw(raw, "community_code", out.index),
                "与网格编码前12位的社区不一致")
    missing = ~bad & ~derived.isin(list(h.communities.values()))
    _report(problems, rows, missing, names("code"), out["code"], "网格编码前12位不是已有社区的代码")
    out["community_code"] = derived
    out["street_code"] = [street_of(c) for c in derived]
    if "assistants" in out:
        out["assistants"] = out["assistants"].fillna(0)


def _child_codes(out, rows, layer, h, names, raw, problems) -> None:
    """Compounds, stations, disputes: community and grid must exist and agree; street follows."""
    grid = _resolve(out["grid_code"], h.grids) if "grid_code" in out else _nones(out.index)
    if "grid_code" in out:
        unknown = out["grid_code"].notna() & grid.isna()
        _report(problems, rows, unknown, names("grid_code"), _raw(raw, "grid_code", out.index), "网格不存在")
        out["grid_code"] = grid
    from_grid = grid.map(h.grid_parent)
    comm = _resolve(out["community_code"], h.communities) if "community_code" in out else from_grid.copy()
    given = out["community_code"] if "community_code" in out else _nones(out.index)
    unknown = given.notna() & comm.isna()
    _report(problems, rows, unknown, names("community_code"), _raw(raw, "community_code", out.index),
            "社区不存在（可填社区代码或社区全称）")
    clash = comm.notna() & from_grid.notna() & (comm != from_grid)
    _report(problems, rows, clash, names("grid_code"), _raw(raw, "grid_code", out.index), "网格不属于所填社区")
    comm = comm.where(comm.notna(), from_grid)
    missing = given.isna() & comm.isna() & ~(out["grid_code"].notna() if "grid_code" in out else False)
    if layer not in RECORD_LAYERS or layer in _DERIVABLE:  # else a blank community is reported as a blank required field
        _report(problems, rows, missing, names("community_code"), given, "必填，不能为空（或填写所属网格）")
    out["community_code"] = comm
    out["street_code"] = [None if c is None or pd.isna(c) else h.community_parent.get(c, street_of(c)) for c in comm]
    if layer == "disputes" and "compound_code" in out:
        unknown = out["compound_code"].notna() & ~out["compound_code"].isin(list(h.compounds))
        _report(problems, rows, unknown, names("compound_code"), out["compound_code"], "小区编码不存在")


def _nones(index) -> pd.Series:
    """A column of None (``pd.Series(None, …)`` would hold NaN) for a field the file lacks."""
    return pd.Series([None] * len(index), index=index, dtype=object)


def _duplicates(codes: pd.Series, rows: pd.Series, field_name: str) -> list[Problem]:
    present = codes.notna()
    first = {}
    problems = []
    for row, code in zip(rows[present], codes[present]):
        if code in first:
            problems.append(Problem(int(row), field_name, shown(code), f"编码重复（与第 {first[code]} 行相同）"))
        else:
            first[code] = int(row)
    return problems


# ---------------------------------------------------------------- rules across fields


def rule_problems(values: pd.DataFrame, rows: pd.Series, layer: str, today: date,
                  names: _Names) -> tuple[list[Problem], list[Problem]]:
    """Rules that involve several fields of one row (compound lifecycle, dispute dates): (problems, warnings).

    Warnings are the fields a compound's status wants but a historical ledger often lacks (开工日期,
    完工日期, 计划年度), and a dispute whose mediation ended but has no 办结日期 (awaiting 办结, so open);
    contradictions are problems."""
    if layer in RECORD_LAYERS:
        return record_rules(values, rows, layer, names)
    if layer == "compounds":
        return _compound_rules(values, rows, today, names)
    if layer == "disputes":
        return _dispute_rules(values, rows, names)
    return [], []


_RENO_FIELDS = tuple(RENO_LABELS)


GAP_NOTE = "；本行照常导入，之后在台账编辑中修改该小区时须补填"


def _compound_rules(values, rows, today, names) -> tuple[list[Problem], list[Problem]]:
    by_label = {label: name for name, label in RENO_LABELS.items()}
    problems, warnings = [], []
    present = [f for f in _RENO_FIELDS if f in values]
    for i, row in zip(values.index, rows):
        changes = {f: values.at[i, f] for f in present}
        if changes.get("status") is None:
            continue  # already reported as missing or invalid
        for out, texts, note in ((problems, validate_compound_edit({}, changes, today, gaps=False), ""),
                                 (warnings, compound_gaps(changes), GAP_NOTE)):
            for text in texts:
                label, _, reason = text.partition("：")
                name = by_label.get(label, label)
                out.append(Problem(int(row), names(name), shown(changes.get(name)), reason + note))
    return problems, warnings


AWAITING_CLOSE_NOTE = "调解已结束但未填写办结日期：本行照常导入，按待办结的在办案件统计（可在案件办理中办结）"
"""A 调解成功/调解不成/转办 row without 办结日期 is a case awaiting its 办结 step (geo.case_lifecycle): a warning,
so the app's own export of such a case imports again."""


def _dispute_rules(values, rows, names) -> tuple[list[Problem], list[Problem]]:
    closed = {s.value for s in CLOSED_DISPUTE_STATUSES}
    problems, warnings = [], []
    closed_on = values["closed_on"] if "closed_on" in values else _nones(values.index)
    for i, row in zip(values.index, rows):
        status, reported, done = values.at[i, "status"], values.at[i, "reported_on"], closed_on[i]
        if status in closed and done is None:
            warnings.append(Problem(int(row), names("closed_on"), "", AWAITING_CLOSE_NOTE))
        if status is not None and status not in closed and done is not None:
            problems.append(Problem(int(row), names("closed_on"), shown(done), "案件尚未办结，不应有办结日期"))
        if reported is not None and done is not None and done < reported:
            problems.append(Problem(int(row), names("closed_on"), shown(done), f"早于受理日期 {reported.isoformat()}"))
    return problems, warnings


# ---------------------------------------------------------------- the whole check


def missing_columns(mapping: dict[str, str], layer: str, has_geometry: bool) -> list[Problem]:
    """A file-level problem per required field no column maps to (geometry counted separately)."""
    mapped = set(mapping.values())
    problems = []
    for spec in fields_of(layer).values():
        if spec.required and spec.name not in mapped and spec.name not in GEOMETRY_FIELDS \
                and spec.name not in _DERIVABLE.get(layer, ()):
            problems.append(Problem(FILE_LEVEL, spec.label, "", f"缺少必填列“{spec.label}”（可在列映射中指定对应的列）"))
    return problems


def resolve_crs(geoms: gpd.GeoSeries, declared, choice: str | None, district,
                headers: list[str] | None = None) -> icrs.CRSGuess:
    """The user's choice when given, else the file's declared system, else a system named in the
    coordinate ``headers`` (“经度(GCJ-02)”), else the detected one (CRSError when nothing fits)."""
    if choice:
        key = icrs.parse_crs_key(choice)
        return icrs.CRSGuess(key, f"使用指定的坐标系：{icrs.crs_label(key)}")
    hint = icrs.header_hint(headers or []) if declared is None else None
    if hint is not None:
        return hint
    return icrs.detect_crs(geoms, pyproj.CRS(declared) if declared is not None else None, district)


def _reference_units(values: pd.DataFrame, layer: str, ref: Reference) -> gpd.GeoSeries | None:
    """For each row, the stored polygon of the grid (else community) it names, for the shift check."""
    for col, frame in (("grid_code", ref.grids), ("community_code", ref.communities)):
        if layer in ("grids", "communities") and col == "grid_code":
            continue
        if col in values and len(frame) and values[col].notna().any():
            shapes = pd.Series(frame.geometry.values, index=frame["code"].astype(str).values)
            shapes = shapes[~shapes.index.duplicated()]
            return gpd.GeoSeries(values[col].map(shapes).values, index=values.index)
    return None


def shift_problem(values: pd.DataFrame, geoms: gpd.GeoSeries, layer: str, ref: Reference) -> icrs.ShiftFinding | None:
    """A hidden GCJ-02/BD-09 offset, judged against same-code stored records, else named units."""
    existing = ref.existing[~ref.existing.index.duplicated()]
    known = gpd.GeoSeries(values["code"].map(pd.Series(existing.values, index=existing.index)).values,
                          index=values.index) if "code" in values and len(existing) else None
    return icrs.detect_shift(geoms, known, _reference_units(values, layer, ref))


def prepare(table: pd.DataFrame, layer: str, ref: Reference, *, geometry: gpd.GeoSeries | None = None,
            declared_crs=None, mapping: dict[str, str] | None = None, crs: str | None = None,
            repair: bool = False, check_shift: bool = True, strict: bool = False) -> Prepared:
    """Map, convert and validate one imported table; nothing is written anywhere.

    ``table``: raw cell values with ``_row``; ``geometry``: a vector file's geometries (aligned
    with ``table``) in ``declared_crs``; otherwise points come from lon/lat columns or a WKT column.
    ``mapping``: source column -> field (default: ``guess_mapping``); ``crs``: a CRS key
    (see ``geo.ingest_crs.CRS_CHOICES``) overriding detection; ``repair``: fix invalid polygons
    with ``make_valid`` (each repair is listed in ``repairs``); ``check_shift``: look for GCJ-02 or
    BD-09 coordinates declared as WGS84; ``strict``: treat warnings (missing dates a status wants)
    as problems. The frame is EPSG:4326 and holds ``_row``.
    """
    check_layer(layer)
    table = table.reset_index(drop=True)
    columns = [c for c in table.columns if c != ROW]
    mapping = dict(mapping) if mapping is not None else guess_mapping(columns, layer)
    bad = check_mapping(mapping, columns, layer)
    if bad:
        return Prepared(layer, _empty(table), [Problem(FILE_LEVEL, "列映射", "", p) for p in bad], mapping=mapping)
    names, mapped = _Names(layer, mapping), map_columns(table, mapping)
    problems = missing_columns(mapping, layer, geometry is not None)
    if not has_geometry(layer):  # a table of records: no coordinates, no coordinate system
        none = gpd.GeoSeries([None] * len(table), index=table.index)
        return _validate(mapped, none, NO_CRS, layer, ref, names, problems, False, False, mapping, strict)
    if geometry is None:
        geometry, more = geometry_from_columns(mapped, layer, names)
        problems += more
    else:
        geometry = gpd.GeoSeries(geometry.values, index=table.index)
    try:
        headers = [c for c, f in mapping.items() if f in (LON, LAT, WKT)]
        guess = resolve_crs(geometry, declared_crs, crs, ref.district, headers)
    except CRSError as exc:
        return Prepared(layer, _empty(table), problems + [Problem(FILE_LEVEL, "坐标系", "", str(exc))], mapping=mapping)
    return _validate(mapped, geometry, guess, layer, ref, names, problems, repair, check_shift, mapping, strict)


NO_CRS = icrs.CRSGuess(icrs.WGS84, "无坐标")
"""The CRS of a record layer's import (it has no coordinates)."""


def _geometry_checked(geometry, guess, layer, ref, rows, names, mapped, repair) -> tuple[gpd.GeoSeries, list, list]:
    """(WGS84 geometries, problems, repairs); a record layer has none to check."""
    if not has_geometry(layer):
        return gpd.GeoSeries([None] * len(rows), index=rows.index, crs=icrs.gcrs.WGS84_EPSG), [], []
    wgs = icrs.to_wgs84(geometry, guess.key)
    label = names(LON) if LON in mapped else names(WKT) if WKT in mapped else "几何"
    return check_geometry(wgs, rows, layer, ref.district, repair, label)


def _identified(values, rows, layer, ref, names, mapping, mapped) -> tuple[pd.DataFrame, Matches | None, list[Problem]]:
    """Codes resolved against the hierarchy, a record layer's lists resolved, and every row's code."""
    problems: list[Problem] = []
    if layer in KEY_FIELDS or layer in RECORD_LAYERS or "code" in mapping.values():
        values, problems = check_codes(values, rows, layer, ref, names, mapped)
    if layer in RECORD_LAYERS:
        values, more = resolve_records(values, rows, layer, ref, names)
        values, matches, keyed = record_codes(values, rows, layer, ref, names)
        problems += more + keyed
        if matches is not None:
            return values, matches, problems
    values, matches, keyed = _key_rows(values, rows, layer, ref, names)
    return values, matches, problems + keyed


def _validate(mapped, geometry, guess, layer, ref, names, problems, repair, check_shift, mapping, strict) -> Prepared:
    rows = mapped[ROW]
    values, more = coerce_frame(mapped, layer, ref.today, names)
    problems += more
    if "code" not in values:
        values["code"] = pd.Series([None] * len(values), index=values.index, dtype=object)
    geoms, more, repairs = _geometry_checked(geometry, guess, layer, ref, rows, names, mapped, repair)
    values, warnings = _place_by_location(values, geoms, rows, layer, ref, names)
    values, matches, keyed = _identified(values, rows, layer, ref, names, mapping, mapped)
    problems += keyed + _duplicates(values["code"], rows, names("code")) + more
    values = keep_stored_gaps(values, layer, ref)
    rules, gaps = rule_problems(values, rows, layer, ref.today, names)
    if layer in RECORD_LAYERS:  # a field already refused (an unknown compound) is not blamed twice (须填覆盖小区)
        seen = {(p.row, p.field) for p in problems}
        rules = [p for p in rules if (p.row, p.field) not in seen]
    problems += rules
    warnings += gaps
    if strict:
        problems, warnings = problems + warnings, []
    shift = (shift_problem(values, geoms, layer, ref)
             if check_shift and has_geometry(layer) and guess.key in icrs.GEOGRAPHIC[:2] else None)
    if shift is not None:
        problems.insert(0, Problem(FILE_LEVEL, "坐标系", icrs.crs_label(guess.key), shift.message))
    values[ROW] = rows.values
    frame = gpd.GeoDataFrame(values, geometry=gpd.GeoSeries(geoms.values, index=values.index), crs=icrs.gcrs.WGS84_EPSG)
    return Prepared(layer, frame, problems, repairs, mapping, guess.key, guess.note, shift, warnings, matches)


GAP_FIELDS = ("plan_year", "started_on", "completed_on")
"""Compound fields a historical ledger often leaves blank; a blank never erases what the store holds."""


def keep_stored_gaps(values: pd.DataFrame, layer: str, ref: Reference) -> pd.DataFrame:
    """Rows that update a stored compound: a blank (or absent) 计划年度/开工日期/完工日期 keeps the stored value.

    An old ledger without dates must not wipe the dates the office has since entered; a value in the
    file still replaces the stored one."""
    records = ref.records
    if layer != "compounds" or records is None or not len(records) or "code" not in values:
        return values
    stored = records.drop_duplicates("code").set_index("code")
    out = values.copy()
    known = [i for i in out.index if out.at[i, "code"] is not None and str(out.at[i, "code"]) in stored.index]
    for column in (c for c in GAP_FIELDS if c in stored):
        current = (out[column] if column in out else _nones(out.index)).astype(object).copy()
        for i in known:
            if is_blank(current[i]):
                current[i] = _plain_value(stored.at[str(out.at[i, "code"]), column])
        out[column] = current
    return out


def _plain_value(value):
    """A stored value as the coerced form: None for missing, int years, ``date`` for dates."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, Real) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    return value


def _place_by_location(values, geoms, rows, layer, ref, names) -> tuple[pd.DataFrame, list[Problem]]:
    """Rows of a point layer that name neither community nor grid: the community (and grid) they lie in.

    Each placement is a warning naming the unit, so the office can check it in the preview."""
    if layer not in POINT_LAYERS:
        return values, []
    blank = pd.Series(True, index=values.index)
    for column in ("community_code", "grid_code"):
        if column in values:
            blank &= values[column].isna()
    if not blank.any():
        return values, []
    out = values.copy()
    community = units_at(geoms[blank], ref.communities)
    grid = units_at(geoms[blank], ref.grids) if len(ref.grids) else community.map(lambda _: None)
    names_of = dict(zip(ref.communities["code"].astype(str), ref.communities["name"].astype(str)))
    warnings = []
    for i in community.index[community.notna()]:
        out.loc[i, "community_code"] = community[i]
        if grid[i] is not None and str(grid[i]).startswith(str(community[i])):
            out.loc[i, "grid_code"] = grid[i]
        warnings.append(Problem(int(rows[i]), names("community_code"), "",
                                f"未填所属社区，已按位置归入“{names_of.get(community[i], community[i])}”"))
    return out, warnings


def _key_rows(values, rows, layer, ref, names) -> tuple[pd.DataFrame, Matches | None, list[Problem]]:
    """Codes for rows without one (matched by name, or newly issued); see ``geo.ingest_match``."""
    if layer not in KEY_FIELDS:
        return values, None, []
    matches = match_codes(values, rows, layer, ref.records, ref.sequences)
    out = values.copy()
    out["code"] = matches.codes.values
    field_name = names("address" if layer == "disputes" else "name")
    return out, matches, [Problem(r, field_name, v, reason) for r, _, v, reason in matches.problems]


def _empty(table: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({ROW: table[ROW].values if ROW in table else []},
                            geometry=gpd.GeoSeries([None] * len(table)), crs=icrs.gcrs.WGS84_EPSG)


def store_columns(frame: gpd.GeoDataFrame, layer: str) -> list[str]:
    """The columns of a prepared frame that are stored (everything but ``_row`` and the geometry; for a layer keyed
    by another column, such as community resources by their community, not the ``code`` the preview keys rows by)."""
    skip = {ROW, frame.geometry.name} | ({"code"} if key_column(layer) != "code" else set())
    return [c for c in frame.columns if c not in skip]
