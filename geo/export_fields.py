"""The columns of an export, typed: integers as integers, decimals as numbers, dates as dates, empty as null.

``typed_frame`` turns stored rows of a layer into the columns a file carries, one per field, in template
order, each with a pandas type the writers map to the file's own type (GPKG/Shapefile Integer, Real, Date,
String; Excel numbers and dates; CSV/GeoJSON plain numbers and ISO dates) — never "nan", "None" or
"2017.0". Enum values read as their Chinese labels and booleans as 是/否, as in the templates, so an
export imports again unchanged.

Field names are either the Chinese headers (``labels=True``: CSV, Excel, GeoJSON — what a person reads) or
the short, stable field names (``labels=False``: GeoPackage, Shapefile — with the Chinese header as the
field's alias). Beside a unit code stands its name (``NAME_FIELDS``: 所属社区名称 …); those columns are not
fields, so a re-import ignores them.

Pure: no files, no database.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from geo.ingest_fields import GEOMETRY_FIELDS, LAYER_FIELDS, FieldSpec, check_layer

NAME_FIELDS: dict[str, tuple[str, str, str]] = {
    "street_code": ("street_name", "所属街道名称", "streets"),
    "community_code": ("community_name", "所属社区名称", "communities"),
    "grid_code": ("grid_name", "所属网格名称", "grids"),
    "compound_code": ("compound_name", "所属小区名称", "compounds"),
    "compound_codes": ("compound_names", "覆盖小区名称", "compounds"),
}
"""Code field -> (the field name of the names beside it, its Chinese header, the table the names come from)."""
_DATE = pd.ArrowDtype(pa.date32())


def name_tables(layer: str) -> dict[str, str]:
    """Code field of ``layer`` that gets names beside it -> the table the names come from."""
    names = {s.name for s in LAYER_FIELDS[check_layer(layer)]}
    return {field: table for field, (_, _, table) in NAME_FIELDS.items() if field in names}


def _dates(values: pd.Series) -> pd.Series:
    days = [None if pd.isna(v) else (v if type(v) is date else pd.Timestamp(v).date()) for v in values]
    return pd.Series(days, index=values.index, dtype=_DATE)


def _numbers(values: pd.Series, kind: str) -> pd.Series:
    numeric = pd.to_numeric(values.astype(object).where(values.notna(), None), errors="coerce")
    if kind == "int":
        return numeric.round().astype("Int32")
    return numeric.astype("Float64")


def _texts(values: pd.Series, spec: FieldSpec) -> pd.Series:
    if spec.vocab is not None:
        labels = spec.vocab.labels()
        return values.map(lambda v: None if _blank(v) else labels.get(v, str(v))).astype(object)
    if spec.kind == "bool":
        return values.map(lambda v: None if _blank(v) else ("是" if bool(v) else "否")).astype(object)
    return values.map(lambda v: None if _blank(v) else str(v)).astype(object)


def _blank(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def typed_column(values: pd.Series, spec: FieldSpec) -> pd.Series:
    """One stored column as the export carries it: Int32, Float64, date32 or text (labels, 是/否)."""
    if spec.kind in ("int", "float"):
        return _numbers(values, spec.kind)
    if spec.kind == "date":
        return _dates(values)
    return _texts(values, spec)


def _named(codes: pd.Series, names: dict[str, str]) -> pd.Series:
    """The names of the codes (several codes separated by ',' read 、-separated names); a code without a name stays."""
    def one(value):
        if _blank(value):
            return None
        return "、".join(names.get(c, c) for c in str(value).split(",") if c)
    return codes.map(one).astype(object)


def typed_frame(stored: pd.DataFrame, layer: str, names: dict[str, dict[str, str]] | None = None,
                labels: bool = True) -> pd.DataFrame:
    """The fields of ``layer`` found in ``stored`` (stored column names and values), typed, in template order,
    under their Chinese headers (``labels``) or field names; after each code field in ``names`` (table ->
    code -> name, see ``name_tables``) the names of its units. No geometry; the input is not mutated."""
    out = pd.DataFrame(index=stored.index)
    for spec in LAYER_FIELDS[check_layer(layer)]:
        if spec.name in GEOMETRY_FIELDS or spec.name not in stored:
            continue
        out[spec.label if labels else spec.name] = typed_column(stored[spec.name], spec)
        named = NAME_FIELDS.get(spec.name)
        if named is not None and names is not None and named[2] in names:
            out[named[1] if labels else named[0]] = _named(stored[spec.name], names[named[2]])
    return out


def field_aliases(layer: str, columns) -> dict[str, str]:
    """Field name -> Chinese header of the ``columns`` of a ``labels=False`` frame (the GeoPackage aliases)."""
    table = {s.name: s.label for s in LAYER_FIELDS[check_layer(layer)]}
    table.update({field: label for field, label, _ in NAME_FIELDS.values()})
    return {c: table[c] for c in columns if c in table}
