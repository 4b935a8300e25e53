"""Exports read by an outside client (GDAL's ogrinfo, what QGIS uses underneath): typed fields, honest CRS,
names beside codes, and every export importing again unchanged — on the sample district."""
from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
import pytest
from sqlalchemy import func, select

from data import schema
from data.exchange import EXPORT_CRS, export_filename, export_layer, formats_of, record_frame
from data.ingest import preview_import
from data.store import engine_for, read_layer
from geo.access import system_operator
from geo.errors import GuloError
from geo.export_crs import GCJ02, SHIFTED_NAMES, is_shifted
from geo.scope import Scope
from tests.gdal import ogrinfo, sql

DONGJIE = Scope("350102004000")
EPSG = {"wgs84": 4326, "cgcs2000": 4490, "gk3_40": 4528, "utm50n": 32650}
SUFFIX = {"shp": "zip"}
COMPOUND_TYPES = {  # Chinese header / short field name -> the type an outside reader must see
    ("户数", "households"): "Integer", ("建成年份", "built_year"): "Integer", ("楼栋数", "buildings"): "Integer",
    ("计划年度", "plan_year"): "Integer", ("预算（万元）", "budget_wan"): "Real", ("开工日期", "started_on"): "Date",
    ("完工日期", "completed_on"): "Date", ("小区名称", "name"): "String", ("所属社区名称", "community_name"): "String",
    ("所属网格名称", "grid_name"): "String", ("所属街道名称", "street_name"): "String", ("小区编码", "code"): "String",
}
SHP_NAME = {"community_name": "comm_name", "street_name": "strt_name", "completed_on": "done_on"}


@pytest.fixture(scope="module")
def engine(filled_sample_db):
    return engine_for(filled_sample_db)


def _write(tmp_path, engine, layer, fmt, crs="wgs84", scope=DONGJIE):
    path = tmp_path / f"{layer}_{crs}.{SUFFIX.get(fmt, fmt)}"
    path.write_bytes(export_layer(engine, layer, scope, fmt, crs, account=system_operator("测试")))
    return path


def _reader_path(path, fmt, layer):
    return f"/vsizip/{path}/{layer}.shp" if fmt == "shp" else str(path)


def _count(engine, table, scope=DONGJIE) -> int:
    t = schema.GEO_TABLES[table]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t).where(t.c.street_code == scope.code)).scalar()


# ---------------------------------------------------------------- field types


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "csv", "xlsx"])
def test_every_format_keeps_integers_decimals_and_dates_typed(tmp_path, engine, fmt):
    path = _write(tmp_path, engine, "compounds", fmt)
    options = ("-oo", "AUTODETECT_TYPE=YES") if fmt == "csv" else ()  # CSV has no types: GDAL must infer them
    info = ogrinfo(_reader_path(path, fmt, "compounds"), None, *options)
    assert info.count == _count(engine, "compounds")
    named = fmt in ("gpkg", "shp")
    for (label, name), kind in COMPOUND_TYPES.items():
        field = SHP_NAME.get(name, name) if fmt == "shp" else (name if named else label)
        assert info.fields.get(field) == kind, (field, info.fields)


def test_no_nan_none_or_float_years_in_a_csv(tmp_path, engine):
    text = _write(tmp_path, engine, "compounds", "csv").read_text(encoding="utf-8-sig")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for word in ("nan", "None", "NaT", "<NA>"):
        assert not table.isin([word]).any().any(), word
    years = table["计划年度"]
    assert years.str.fullmatch(r"\d{4}|").all() and (years == "").any() and (years != "").any()
    assert table["开工日期"].str.fullmatch(r"\d{4}-\d\d-\d\d|").all()
    assert table["户数"].str.fullmatch(r"\d+").all()


def test_empty_cells_are_null_in_a_geopackage(tmp_path, engine):
    path = _write(tmp_path, engine, "compounds", "gpkg")
    rows = sql(path, "SELECT COUNT(*) AS n FROM compounds WHERE plan_year IS NULL")
    stored = read_layer(engine, "compounds", DONGJIE)
    assert int(rows[0]["n"]) == int(stored["plan_year"].isna().sum()) > 0
    assert sql(path, "SELECT COUNT(*) AS n FROM compounds WHERE CAST(plan_year AS TEXT) LIKE '%.%'")[0]["n"] == "0"


def test_a_record_layer_in_excel_has_integer_counts_and_dates(tmp_path, engine):
    path = tmp_path / "days.xlsx"
    path.write_bytes(export_layer(engine, "consultation_days", DONGJIE, "xlsx"))
    info = ogrinfo(path)
    assert info.fields["参加人数"] == "Integer" and info.fields["收集问题数"] == "Integer"
    assert info.fields["日期"] == "Date" and info.fields["所属社区名称"] == "String"
    assert info.count == len(record_frame(engine, "consultation_days", DONGJIE))


def test_geopackage_fields_carry_their_chinese_headers_as_aliases(tmp_path, engine):
    path = _write(tmp_path, engine, "compounds", "gpkg")
    aliases = {r["column_name"]: r["title"] for r in sql(path, "SELECT column_name, title FROM gpkg_data_columns")}
    assert aliases["budget_wan"] == "预算（万元）" and aliases["households"] == "户数"
    assert aliases["community_name"] == "所属社区名称"
    ext = sql(path, "SELECT extension_name FROM gpkg_extensions WHERE table_name = 'gpkg_data_columns'")
    assert ext == [{"extension_name": "gpkg_schema"}]


# ---------------------------------------------------------------- coordinate systems


@pytest.mark.parametrize("crs", EXPORT_CRS)
@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson"])
def test_each_system_is_declared_honestly(tmp_path, engine, fmt, crs):
    if fmt == "geojson" and is_shifted(crs):
        with pytest.raises(GuloError, match="GeoJSON 文件无法声明"):
            export_layer(engine, "stations", DONGJIE, fmt, crs)
        assert fmt not in formats_of("stations", crs)
        return
    info = ogrinfo(_reader_path(_write(tmp_path, engine, "stations", fmt, crs), fmt, "stations"))
    assert info.count == _count(engine, "stations")
    if is_shifted(crs):
        assert info.epsg is None, "a GCJ-02/BD-09 file must not claim an EPSG code"
        assert "4326" not in info.text.split("Layer SRS WKT:")[1].split("Geometry Column")[0].replace("7030", "")
        assert re.search(r"GCJ-02|BD-09", info.crs_name)
        if fmt == "gpkg":
            assert info.crs_name == SHIFTED_NAMES[crs]
    else:
        assert info.epsg == EPSG[crs]


def test_a_gcj02_geopackage_explains_itself(tmp_path, engine):
    path = _write(tmp_path, engine, "compounds", "gpkg", GCJ02)
    srs = sql(path, "SELECT srs_name, organization, description FROM gpkg_spatial_ref_sys WHERE srs_id >= 100000")
    assert srs[0]["srs_name"] == "GCJ-02 (高德/腾讯)" and srs[0]["organization"] == "NONE"
    assert "不是 WGS84" in srs[0]["description"] and "高德" in srs[0]["description"]
    contents = sql(path, "SELECT identifier, description FROM gpkg_contents WHERE table_name = 'compounds'")
    assert contents[0]["identifier"] == "老旧小区" and "GCJ-02" in contents[0]["description"]


def test_table_exports_name_the_system_in_headers_and_file_name(engine):
    table = pd.read_csv(io.BytesIO(export_layer(engine, "stations", DONGJIE, "csv", GCJ02)), encoding="utf-8-sig")
    assert {"经度（GCJ-02）", "纬度（GCJ-02）"} <= set(table.columns)
    assert export_filename("stations", DONGJIE, "csv", GCJ02).endswith("_gcj02.csv")
    metres = pd.read_excel(io.BytesIO(export_layer(engine, "stations", DONGJIE, "xlsx", "gk3_40")))
    assert metres["X（EPSG:4528，米）"].between(40_400_000, 40_450_000).all()
    grids = pd.read_csv(io.BytesIO(export_layer(engine, "grids", DONGJIE, "csv", "utm50n")), encoding="utf-8-sig")
    assert grids["几何(WKT，EPSG:32650)"].str.startswith(("POLYGON", "MULTIPOLYGON")).all()


def test_the_shapefile_set_is_complete_and_utf8(tmp_path, engine):
    path = _write(tmp_path, engine, "compounds", "shp", "gk3_40")
    names = set(zipfile.ZipFile(path).namelist())
    assert {f"compounds{s}" for s in (".shp", ".shx", ".dbf", ".prj", ".cpg")} <= names
    assert zipfile.ZipFile(path).read("compounds.cpg").decode() == "UTF-8"
    rows = sql(f"/vsizip/{path}/compounds.shp", "SELECT comm_name FROM compounds WHERE comm_code = '350102004001'")
    assert rows and {r["comm_name"] for r in rows} == {"军门社区"}


# ---------------------------------------------------------------- names beside codes


@pytest.mark.parametrize("layer, columns", [
    ("grids", ["所属社区名称", "所属街道名称"]),
    ("compounds", ["所属社区名称", "所属网格名称", "所属街道名称"]),
    ("stations", ["所属社区名称", "所属网格名称", "所属街道名称"]),
    ("communities", ["所属街道名称"]),
])
def test_names_stand_beside_their_codes(engine, layer, columns):
    table = pd.read_excel(io.BytesIO(export_layer(engine, layer, DONGJIE, "xlsx")), dtype=str)
    for column in columns:
        code = column.replace("名称", "")
        assert list(table.columns).index(column) == list(table.columns).index(code) + 1
        assert table[column].notna().all() and (table[column] != table[code]).all()
    if "所属社区名称" in columns:
        assert set(table.loc[table["所属社区"] == "350102004001", "所属社区名称"]) == {"军门社区"}


def test_names_beside_codes_are_ignored_on_import(engine):
    table = pd.read_csv(io.BytesIO(export_layer(engine, "compounds", DONGJIE, "csv")), encoding="utf-8-sig", dtype=str)
    table["所属社区名称"] = "随便写的名称"
    preview = preview_import(engine, table.to_csv(index=False).encode("utf-8-sig"), "compounds", "小区.csv")
    assert preview.ok, preview.problems
    assert "所属社区名称" not in preview.mapping and preview.inserts == 0


# ---------------------------------------------------------------- round trip


def _attributes(frame: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in frame.columns if c not in ("geometry", "version", "_row", "imported_at")]
    return frame[keep].set_index("code").sort_index().astype(object).where(lambda f: f.notna(), None)


def _same(column: str, a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if column.endswith("_on"):
        return pd.Timestamp(a) == pd.Timestamp(b)
    return a == b if isinstance(b, str) else float(a) == float(b)


OFFERED = [(fmt, crs) for crs in EXPORT_CRS for fmt in formats_of("compounds", crs)]
"""Every format offered in every system (no GeoJSON in GCJ-02/BD-09): 28 pairs."""


@pytest.mark.parametrize("fmt, crs", OFFERED)
@pytest.mark.parametrize("layer", ["compounds", "grids"])
def test_every_export_imports_again_unchanged(engine, layer, fmt, crs):
    data = export_layer(engine, layer, DONGJIE, fmt, crs)
    preview = preview_import(engine, data, layer, f"x.{SUFFIX.get(fmt, fmt)}")
    assert preview.ok, preview.problems
    stored = read_layer(engine, layer, DONGJIE)
    assert (preview.inserts, preview.updates) == (0, len(stored))
    got = preview.frame.set_index("code").loc[stored["code"]]
    assert got.geometry.geom_equals_exact(stored.set_index("code").geometry, tolerance=1e-6).all()
    columns = [c for c in _attributes(stored).columns if c in got.columns]
    mine = _attributes(got.reset_index())[columns]
    theirs = _attributes(stored)[columns]
    assert len(columns) >= 7
    for column in columns:
        for code in theirs.index:
            assert _same(column, mine.at[code, column], theirs.at[code, column]), (column, code)
