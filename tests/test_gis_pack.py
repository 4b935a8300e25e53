"""The GIS data pack (issue 20, item 4) read as an outside client would: GDAL's ogrinfo, sqlite3 and an XML parser.

On the sample district: every layer present with the rows of the scope (counted by plain SQL on the database
file), typed fields, the CRS of every system, ``layer_styles`` as QGIS makes it, QML styles whose categories are
the vocabulary's and whose classes are the map's (emulating QGIS's first-matching-range rule feature by feature),
no case detail without the right to see it and an audit entry with it, the Shapefile set complete and UTF-8, and
the pack's compounds importing again unchanged. QGIS itself is not needed (``tests/render_pack.py`` draws a pack
with QGIS for the closing note; CI has no QGIS).
"""
from __future__ import annotations

import io
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from data.exchange import EXPORT_CRS
from data.gis_pack import (
    PACK_INDICATORS,
    STAT_FIELDS,
    add_layer_styles,
    gis_pack_gpkg,
    gis_pack_shp,
    pack_filename,
    packed,
)
from data.store import engine_for
from geo.access import system_operator
from geo.errors import GuloError, PermissionDenied
from geo.export_crs import SHIFTED_NAMES, is_shifted
from geo.map_classes import DEFAULT_INDICATOR, INDICATORS
from geo.qgis_style import Category, LayerStyle, Range, Symbol, check_style, rgba, style_qml
from geo.scope import Scope
from geo.vocab import DisputeStatus, RenovationStatus, StationKind
from tests.conftest import sqlite_copy
from tests.gdal import ogrinfo, run, sql

DONGJIE, JUNMEN, NANJIE = "350102004000", "350102004001", "350102005000"
EPSG = {"wgs84": 4326, "cgcs2000": 4490, "gk3_40": 4528, "utm50n": 32650}
UNIT_LAYERS = ("streets", "communities", "grids")
AGGREGATE_LAYERS = (*UNIT_LAYERS, "dispute_stats", "compounds", "stations")
CASE_LAYERS = (*UNIT_LAYERS, "disputes", "compounds", "stations")
QGIS_STYLE_COLUMNS = ["id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                      "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]
SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qml")
CASE_CODE = re.compile(rb"JF\d{7}")


# ---------------------------------------------------------------- fixtures and outside readers


@pytest.fixture(scope="module")
def db_file(filled_sample_db) -> Path:
    return Path(filled_sample_db.removeprefix("sqlite:///"))


@pytest.fixture(scope="module")
def engine(filled_sample_db):
    return engine_for(filled_sample_db)


@pytest.fixture(scope="module")
def packs(engine, tmp_path_factory) -> dict[tuple[str, str], Path]:
    """Packs without case rights (logged out), built once: (scope code, crs) -> GeoPackage path."""
    folder = tmp_path_factory.mktemp("packs")
    out = {}
    for code, crs in [("", "wgs84"), (DONGJIE, "wgs84"), (JUNMEN, "wgs84"),
                      *((DONGJIE, c) for c in EXPORT_CRS if c != "wgs84")]:
        path = folder / f"pack_{code or 'district'}_{crs}.gpkg"
        path.write_bytes(gis_pack_gpkg(engine, Scope(code), crs, None))
        out[(code, crs)] = path
    return out


@pytest.fixture
def private_url(filled_sample_db, tmp_path, monkeypatch) -> str:
    """A private copy of the sample database (packs with cases write audit entries)."""
    return sqlite_copy(filled_sample_db, tmp_path, monkeypatch)


def count(db: Path, statement: str, *args) -> int:
    """One number from plain SQL on the database file (not through the app's store)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(statement, args).fetchone()[0]


def in_scope(table: str, code: str) -> tuple[str, tuple]:
    """WHERE clause keeping ``table``'s rows inside the scope ``code`` ('' = the district)."""
    if not code:
        return "1 = 1", ()
    street = code[:9] + "000"
    if table == "streets":
        return "code = ?", (street,)
    if code == street:
        return "street_code = ?", (code,)
    return ("code = ?" if table == "communities" else "community_code = ?"), (code,)


def expected_rows(db: Path, layer: str, code: str) -> int:
    table = "grids" if layer == "dispute_stats" else layer
    where, args = in_scope(table, code)
    return count(db, f"SELECT count(*) FROM {table} WHERE {where}", *args)


def layer_names(path: Path | str) -> list[str]:
    """The layers ogrinfo lists, in file order."""
    return re.findall(r"^\d+: (\S+)", run("-ro", "-q", str(path)), re.M)


def styles(path: Path) -> dict[str, ET.Element]:
    """Table name -> parsed default QML of the GeoPackage's layer_styles."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault").fetchall()
    return {name: ET.fromstring(qml) for name, qml in rows}


def colour(symbol: ET.Element) -> str:
    """#rrggbb of a QML symbol's first (marker or fill) colour."""
    value = symbol.find(".//Option[@name='color']").get("value")
    r, g, b = (int(v) for v in value.split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def qgis_ranges(qml: ET.Element) -> list[tuple[float, float, str, str]]:
    """(lower, upper, label, colour) of a graduated renderer, as QGIS reads them (bounds parsed as doubles)."""
    renderer = qml.find("renderer-v2")
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    return [(float(r.get("lower")), float(r.get("upper")), r.get("label"), colour(symbols[r.get("symbol")]))
            for r in renderer.find("ranges")]


def qgis_colour(value: float | None, ranges, no_data: float | None) -> str | None:
    """The colour QGIS draws ``value`` in: the first range with lower ≤ value ≤ upper (NULL: the coalesce value)."""
    if value is None or pd.isna(value):
        if no_data is None:
            return None
        value = no_data
    return next((c for lo, hi, _, c in ranges if lo <= value <= hi), None)


# ---------------------------------------------------------------- layers, rows and types


@pytest.mark.parametrize("code", ["", DONGJIE, JUNMEN])
def test_every_layer_is_there_with_the_rows_of_the_scope(packs, db_file, code):
    path = packs[(code, "wgs84")]
    assert layer_names(path) == [*("grids communities".split() if code == JUNMEN else "communities grids".split()),
                                 "streets", "dispute_stats", "compounds", "stations", "layer_styles"]
    for layer in AGGREGATE_LAYERS:
        assert ogrinfo(path, layer).count == expected_rows(db_file, layer, code) > 0, layer


def test_fields_are_typed_for_an_outside_reader(packs):
    path = packs[(DONGJIE, "wgs84")]
    expected = {
        "communities": {"code": "String", "name": "String", "street_name": "String", **dict.fromkeys(
            PACK_INDICATORS.values(), "Real")},
        "grids": {"households": "Integer", "population": "Integer", "assistants": "Integer", "hh_grid": "Real"},
        "dispute_stats": {"code": "String", "name": "String", "community_name": "String", "received": "Integer",
                          "closed": "Integer", "open": "Integer", "overdue": "Integer", "success": "Real"},
        "compounds": {"households": "Integer", "built_year": "Integer", "plan_year": "Integer", "budget_wan": "Real",
                      "started_on": "Date", "status": "String", "community_name": "String"},
        "stations": {"capacity": "Integer", "kind": "String", "name": "String"},
    }
    for layer, fields in expected.items():
        got = ogrinfo(path, layer).fields
        assert {f: got.get(f) for f in fields} == fields, layer


def test_a_closed_station_is_in_the_pack_but_not_in_the_figures(private_url, tmp_path):
    db = Path(private_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db) as conn:
        victim = conn.execute("SELECT code, community_code FROM stations WHERE street_code = ? AND kind = 'children'",
                              (DONGJIE,)).fetchone()
        conn.execute("UPDATE stations SET closed_on = '2020-01-01' WHERE community_code = ? AND kind = 'children'",
                     (victim[1],))
    path = tmp_path / "p.gpkg"
    path.write_bytes(gis_pack_gpkg(engine_for(private_url), Scope(DONGJIE), "wgs84", None))
    assert ogrinfo(path, "stations").count == expected_rows(db, "stations", DONGJIE)
    assert sql(path, f"SELECT code FROM stations WHERE code = '{victim[0]}'")
    full = {r["code"]: float(r["stn_full"]) for r in sql(path, "SELECT code, stn_full FROM communities")}
    assert full[victim[1]] == 0.0 and sorted(set(full.values())) == [0.0, 1.0]


# ---------------------------------------------------------------- the figures, against plain SQL


def _period(db: Path) -> tuple[str, str]:
    end = date.fromisoformat(count(db, "SELECT max(reported_on) FROM disputes"))
    return str(end - timedelta(days=29)), str(end)


def test_unit_indicators_are_those_of_the_app_counted_independently(packs, db_file):
    start, end = _period(db_file)
    rows = sql(packs[(DONGJIE, "wgs84")], "SELECT code, disp_1000, reno_share, vacancy, hh_grid FROM communities")
    assert len(rows) == 4
    for row in rows:
        c = row["code"]
        households = count(db_file, "SELECT sum(households) FROM grids WHERE community_code = ?", c)
        cases = count(db_file, "SELECT count(*) FROM disputes WHERE community_code = ? AND reported_on BETWEEN ? AND ?",
                      c, start, end)
        done = count(db_file, "SELECT count(*) FROM compounds WHERE community_code = ? AND status IN "
                              "('completed', 'managed')", c)
        compounds = count(db_file, "SELECT count(*) FROM compounds WHERE community_code = ?", c)
        grids = count(db_file, "SELECT count(*) FROM grids WHERE community_code = ?", c)
        vacant = count(db_file, "SELECT count(*) FROM grids WHERE community_code = ? AND worker IS NULL", c)
        assert float(row["disp_1000"]) == pytest.approx(cases * 1000 / households, rel=1e-9)
        assert float(row["reno_share"]) == pytest.approx(done / compounds, rel=1e-9)
        assert float(row["vacancy"]) == pytest.approx(vacant / grids, abs=1e-12)
        assert float(row["hh_grid"]) == pytest.approx(households / grids, rel=1e-9)


def test_dispute_figures_per_grid_are_counted_like_the_disputes_page(packs, db_file):
    start, end = _period(db_file)
    late = str(date.fromisoformat(end) - timedelta(days=30))
    rows = sql(packs[(DONGJIE, "wgs84")], "SELECT code, received, closed, open, overdue, success FROM dispute_stats")
    assert sum(int(r["received"]) for r in rows) == count(
        db_file, "SELECT count(*) FROM disputes WHERE street_code = ? AND reported_on BETWEEN ? AND ?", DONGJIE, start, end)
    for r in rows:
        g = r["code"]
        opened = ("SELECT count(*) FROM disputes WHERE grid_code = ? AND reported_on <= ? "
                  "AND (closed_on IS NULL OR closed_on > ?)")
        assert int(r["received"]) == count(db_file, "SELECT count(*) FROM disputes WHERE grid_code = ? AND "
                                                    "reported_on BETWEEN ? AND ?", g, start, end)
        assert int(r["closed"]) == count(db_file, "SELECT count(*) FROM disputes WHERE grid_code = ? AND "
                                                  "closed_on BETWEEN ? AND ?", g, start, end)
        assert int(r["open"]) == count(db_file, opened, g, end, end)
        assert int(r["overdue"]) == count(db_file, opened + " AND reported_on < ?", g, end, end, late)
        resolved, failed = (count(db_file, "SELECT count(*) FROM disputes WHERE grid_code = ? AND status = ? AND "
                                           "closed_on BETWEEN ? AND ?", g, s, start, end) for s in ("resolved", "failed"))
        if resolved + failed:
            assert float(r["success"]) == pytest.approx(resolved / (resolved + failed), rel=1e-9)
        else:
            assert r["success"] is None


# ---------------------------------------------------------------- coordinate systems


@pytest.mark.parametrize("crs", EXPORT_CRS)
def test_every_layer_declares_its_system(packs, crs):
    path = packs[(DONGJIE, crs)]
    for layer in AGGREGATE_LAYERS:
        info = ogrinfo(path, layer)
        if is_shifted(crs):
            assert info.epsg is None and info.crs_name == SHIFTED_NAMES[crs], (layer, info.crs_name)
        else:
            assert info.epsg == EPSG[crs], layer


def test_a_projected_pack_is_in_metres(packs):
    info = ogrinfo(packs[(DONGJIE, "gk3_40")], "compounds")
    x0 = float(re.search(r"Extent: \(([\d.]+),", info.text).group(1))
    assert 40_400_000 < x0 < 40_500_000  # zone number 40 in front of the easting


# ---------------------------------------------------------------- layer_styles and the QML


def test_layer_styles_is_the_table_qgis_makes_with_one_default_per_layer(packs):
    path = packs[("", "wgs84")]
    with sqlite3.connect(path) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(layer_styles)")]
        contents = conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchall()
        geometry = dict(conn.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        rows = conn.execute("SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, useAsDefault, "
                            "length(styleQML) FROM layer_styles").fetchall()
    assert columns == QGIS_STYLE_COLUMNS and contents == [("attributes",)]
    assert sorted(r[2] for r in rows) == sorted(AGGREGATE_LAYERS)
    assert all(r[:2] == ("", "") and r[3] == geometry[r[2]] and r[4] == 1 and r[5] > 1000 for r in rows)
    info = ogrinfo(path, "layer_styles")  # GDAL sees the table, its rows and its types as QGIS's own
    assert info.count == len(AGGREGATE_LAYERS)
    assert "useAsDefault: Integer(Boolean)" in info.text and "update_time: DateTime" in info.text
    assert "styleName: String (30.0)" in info.text


@pytest.mark.parametrize("layer, field, vocab", [("compounds", "status", RenovationStatus),
                                                 ("stations", "kind", StationKind)])
def test_points_are_categorized_by_the_vocabulary_with_its_labels_and_colours(packs, layer, field, vocab):
    path = packs[("", "wgs84")]
    renderer = styles(path)[layer].find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == field
    symbols = {s.get("name"): s for s in renderer.find("symbols")}
    cats = [(c.get("value"), c.get("label"), colour(symbols[c.get("symbol")])) for c in renderer.find("categories")]
    assert cats == [(m.label, m.label, m.color) for m in vocab]
    present = {r[field] for r in sql(path, f"SELECT DISTINCT {field} FROM {layer}")}
    assert present and present <= {m.label for m in vocab}  # every feature falls in a category: none undrawn


@pytest.mark.parametrize("code, filled", [("", "communities"), (DONGJIE, "communities"), (JUNMEN, "grids")])
def test_the_filled_units_have_the_maps_classes_and_colours_feature_by_feature(packs, code, filled):
    from layers.choropleth import unit_fills

    path = packs[(code, "wgs84")]
    qml = styles(path)[filled]
    renderer = qml.find("renderer-v2")
    field = PACK_INDICATORS[DEFAULT_INDICATOR]
    assert renderer.get("type") == "graduatedSymbol" and field in renderer.get("attr")
    fmt, palette = INDICATORS[DEFAULT_INDICATOR]
    frame = gpd.read_file(path, layer=filled)
    fills, legend = unit_fills(frame, value_column=field, value_format=fmt, palette=palette)
    ranges = qgis_ranges(qml)
    has_null = frame[field].isna().any()
    no_data = ranges[0][0] if has_null else None
    shown = [(label, c) for _, _, label, c in ranges]
    assert shown == ([legend[-1]] + legend[:-1] if has_null else legend)  # the map's legend, 无数据 first in QGIS
    drawn = [qgis_colour(v, ranges, no_data) for v in frame[field]]
    assert drawn == fills
    assert len(set(drawn)) >= 2
    labels = qml.find("labeling/settings/text-style")
    assert labels.get("fieldName") == "name"


def test_sub_districts_are_bold_outlines_with_names_and_communities_dashed(packs):
    qml = styles(packs[(JUNMEN, "wgs84")])
    street = qml["streets"].find(".//layer[@class='SimpleFill']/Option")
    street = {o.get("name"): o.get("value") for o in street}
    community = {o.get("name"): o.get("value") for o in qml["communities"].find(".//layer[@class='SimpleFill']/Option")}
    assert street["style"] == "no" and float(street["outline_width"]) >= 0.6
    assert community["outline_style"] == "dash" and float(community["outline_width"]) < float(street["outline_width"])
    assert qml["streets"].find("labeling/settings/text-style").get("fontWeight") == "75"


def test_fields_carry_chinese_aliases_in_the_styles(packs):
    qml = styles(packs[(DONGJIE, "wgs84")])
    aliases = {a.get("field"): a.get("name") for a in qml["compounds"].find("aliases")}
    assert aliases["budget_wan"] == "预算（万元）" and aliases["community_name"] == "所属社区名称"
    units = {a.get("field"): a.get("name") for a in qml["communities"].find("aliases")}
    assert units["disp_1000"] == "每千户纠纷数（近30天）" and units["reno_share"] == "改造完成率（比例 0–1）"
    stats = {a.get("field"): a.get("name") for a in qml["dispute_stats"].find("aliases")}
    assert stats["received"] == "受理数（近30天）" and stats["overdue"] == "超期未结"


def test_the_aggregate_layer_is_a_circle_per_grid_graduated_by_cases(packs):
    qml = styles(packs[("", "wgs84")])["dispute_stats"]
    renderer = qml.find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == STAT_FIELDS["received"]
    assert renderer.find("symbols/symbol/layer").get("class") == "CentroidFill"
    ranges = qgis_ranges(qml)
    assert ranges[0][0] >= 1 and [lo for lo, *_ in ranges] == sorted(lo for lo, *_ in ranges)


# ---------------------------------------------------------------- case details: rights and audit


def _export_audits(url: str) -> pd.DataFrame:
    from data.audit_query import AuditFilter, query_audit

    return query_audit(engine_for(url), AuditFilter(actions=("export",)))


def _secrets(db: Path, code: str) -> list[bytes]:
    """The scope's dispute addresses not also public (a station's or compound's name or address) and summaries."""
    with sqlite3.connect(db) as conn:
        public = " ".join(v for (v,) in conn.execute(
            "SELECT name FROM stations UNION ALL SELECT address FROM stations UNION ALL SELECT name FROM compounds "
            "UNION ALL SELECT address FROM compounds") if v)
        where, args = in_scope("disputes", code)
        rows = conn.execute(f"SELECT address, summary FROM disputes WHERE {where}", args).fetchall()
    found = {a for a, _ in rows if a and a not in public} | {s for _, s in rows if s}
    return [s.encode("utf-8") for s in found]


def _zip_text(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return b"".join(zf.read(n) for n in zf.namelist())


@pytest.mark.parametrize("who, code", [(None, ""), (None, JUNMEN), ("junmen", DONGJIE), ("dongjie", NANJIE)])
def test_without_case_rights_the_pack_holds_counts_and_no_case_detail(private_url, who, code):
    from data.accounts import get_account

    engine = engine_for(private_url)
    account = get_account(engine, who) if who else None
    gpkg = gis_pack_gpkg(engine, Scope(code), "wgs84", account)
    shp = _zip_text(gis_pack_shp(engine, Scope(code), "wgs84", account))
    secrets = _secrets(Path(private_url.removeprefix("sqlite:///")), code)
    assert len(secrets) > 20
    for blob in (gpkg, shp):
        assert not [s.decode() for s in secrets if s in blob]
        assert not CASE_CODE.search(blob)
    assert b"dispute_stats" in gpkg and b"disputes.shp" not in shp
    assert _export_audits(private_url).empty


@pytest.mark.parametrize("who, code", [("junmen", JUNMEN), ("dongjie", DONGJIE), ("admin", "")])
def test_with_case_rights_the_pack_holds_the_cases_and_is_audited(private_url, tmp_path, who, code):
    from data.accounts import get_account

    engine = engine_for(private_url)
    path = tmp_path / "cases.gpkg"
    path.write_bytes(gis_pack_gpkg(engine, Scope(code), "gcj02", get_account(engine, who)))
    db = Path(private_url.removeprefix("sqlite:///"))
    assert layer_names(path) == [*("grids communities".split() if code == JUNMEN else "communities grids".split()),
                                 "streets", "disputes", "compounds", "stations", "layer_styles"]
    assert ogrinfo(path, "disputes").count == expected_rows(db, "disputes", code)
    qml = styles(path)["disputes"].find("renderer-v2")
    assert [c.get("value") for c in qml.find("categories")] == [s.label for s in DisputeStatus]
    secrets = _secrets(db, code)
    assert all(s in path.read_bytes() for s in secrets[:20])
    log = _export_audits(private_url)
    assert len(log) == 1 and log.iloc[0]["actor"] == who and log.iloc[0]["table_name"] == "disputes"
    assert json.loads(log.iloc[0]["after"]) == {"layer": "disputes", "what": "GIS数据包·矛盾纠纷",
                                                "scope": code or "350102000000", "format": "gpkg",
                                                "rows": expected_rows(db, "disputes", code)}


def test_a_deactivated_account_still_logged_in_gets_no_pack_and_no_audit(private_url):
    from data.accounts import deactivate, get_account

    engine = engine_for(private_url)
    junmen = get_account(engine, "junmen")
    deactivate(engine, get_account(engine, "admin"), "junmen")
    with pytest.raises(PermissionDenied):
        gis_pack_gpkg(engine, Scope(JUNMEN), "wgs84", junmen)  # the session's copy still says active
    assert _export_audits(private_url).empty


# ---------------------------------------------------------------- the Shapefile set


@pytest.fixture(scope="module")
def shp_zips(engine, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shp")
    out = {}
    for crs in ("wgs84", "gcj02", "utm50n"):
        out[crs] = folder / f"pack_{crs}.zip"
        out[crs].write_bytes(gis_pack_shp(engine, Scope(DONGJIE), crs, None))
    return out


def test_the_shapefile_zip_has_every_part_and_a_style_beside_each_layer(shp_zips):
    with zipfile.ZipFile(shp_zips["wgs84"]) as zf:
        names = set(zf.namelist())
        assert {f"{layer}{part}" for layer in AGGREGATE_LAYERS for part in SHP_PARTS} <= names
        assert all(zf.read(f"{layer}.cpg") == b"UTF-8" for layer in AGGREGATE_LAYERS)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "utm50n"])
def test_gdal_reads_the_shapefiles_in_chinese_and_in_their_system(shp_zips, db_file, crs):
    path = shp_zips[crs]
    for layer in AGGREGATE_LAYERS:
        info = ogrinfo(f"/vsizip/{path}/{layer}.shp")
        assert info.count == expected_rows(db_file, layer, DONGJIE), layer
        if is_shifted(crs):
            assert info.epsg is None and "GCJ-02" in info.crs_name, (layer, info.crs_name)  # ESRI .prj: GCS_GCJ-02
        else:
            assert info.epsg == EPSG[crs], layer
    names = {r["name"] for r in sql(f"/vsizip/{path}/communities.shp", "SELECT name FROM communities")}
    with sqlite3.connect(db_file) as conn:
        assert names == {n for (n,) in conn.execute("SELECT name FROM communities WHERE street_code = ?", (DONGJIE,))}


def test_each_qml_beside_a_shapefile_names_only_its_short_fields(shp_zips):
    path = shp_zips["wgs84"]
    with zipfile.ZipFile(path) as zf:
        for layer in AGGREGATE_LAYERS:
            fields = set(ogrinfo(f"/vsizip/{path}/{layer}.shp").fields)
            qml = ET.fromstring(zf.read(f"{layer}.qml"))
            aliased = {a.get("field") for a in qml.find("aliases")}
            assert aliased and aliased <= fields, (layer, aliased - fields)
            attr = qml.find("renderer-v2").get("attr")
            if attr:
                assert re.sub(r'^coalesce\("([^"]+)".*$', r"\1", attr) in fields, (layer, attr)
    aliases = {a.get("field"): a.get("name") for a in ET.fromstring(
        zipfile.ZipFile(path).read("compounds.qml")).find("aliases")}
    assert aliases["comm_name"] == "所属社区名称"  # community_name, cut to the Shapefile's 10 characters


# ---------------------------------------------------------------- re-import, command line, file names


@pytest.mark.parametrize("fmt", ["gpkg", "shp"])
def test_the_packs_compounds_import_again_unchanged(engine, packs, shp_zips, fmt):
    from data.ingest import preview_import
    from data.store import read_layer

    data = (packs[(DONGJIE, "wgs84")] if fmt == "gpkg" else shp_zips["wgs84"]).read_bytes()
    preview = preview_import(engine, data, "compounds", f"pack.{'gpkg' if fmt == 'gpkg' else 'zip'}", sheet="compounds")
    assert preview.ok, preview.problems
    stored = read_layer(engine, "compounds", Scope(DONGJIE)).set_index("code")
    assert (preview.inserts, preview.updates) == (0, len(stored))
    got = preview.frame.set_index("code").loc[stored.index]
    assert got.geometry.geom_equals_exact(stored.geometry, tolerance=1e-6).all()
    for column in ("name", "households", "built_year", "status", "plan_year", "budget_wan", "grid_code"):
        a, b = got[column].astype(object).where(got[column].notna(), None), stored[column].astype(object)
        assert [None if pd.isna(x) else x for x in a] == [None if pd.isna(x) else x for x in b], column


def test_the_command_line_writes_a_pack_as_the_system_operator_and_audits_it(private_url, tmp_path, capsys):
    from data.cli import main

    out = tmp_path / "东街.zip"
    assert main(["pack", "--scope", DONGJIE, "--crs", "cgcs2000", "--format", "shp", "-o", str(out),
                 "--who", "区数据局"]) == 0
    assert "已导出 GIS 数据包" in capsys.readouterr().out
    assert "disputes.shp" in zipfile.ZipFile(out).namelist()
    assert ogrinfo(f"/vsizip/{out}/disputes.shp").epsg == 4490
    log = _export_audits(private_url)
    assert len(log) == 1 and log.iloc[0]["actor"] == "区数据局" and json.loads(log.iloc[0]["after"])["format"] == "shp"
    assert main(["pack", "--scope", "350102099000"]) == 2
    err = capsys.readouterr().err
    assert "范围代码“350102099000”不存在" in err and "Traceback" not in err


def test_the_command_line_default_name(private_url, tmp_path, monkeypatch):
    from data.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["pack", "--scope", DONGJIE]) == 0
    assert (tmp_path / "GIS数据包_东街街道_350102004000_wgs84.gpkg").exists()


@pytest.mark.parametrize("code, crs, fmt, place, name", [
    (DONGJIE, "wgs84", "gpkg", "东街街道", "GIS数据包_东街街道_350102004000_wgs84.gpkg"),
    ("", "gcj02", "shp", "", "GIS数据包_鼓楼区_gcj02_shp.zip"),
    (JUNMEN, "gk3_40", "gpkg", "军门/社区 ", "GIS数据包_军门社区_350102004001_gk3_40.gpkg"),
])
def test_pack_filename(code, crs, fmt, place, name):
    assert pack_filename(Scope(code), crs, fmt, place) == name


def test_pack_filename_refuses_what_it_cannot_write():
    with pytest.raises(GuloError, match="数据包格式"):
        pack_filename(Scope(""), "wgs84", "geojson")
    with pytest.raises(GuloError, match="坐标系"):
        pack_filename(Scope(""), "epsg3857", "gpkg")


# ---------------------------------------------------------------- the style builder (pure)


def test_range_bounds_are_written_exactly_so_a_break_stays_in_its_class():
    value = 0.1234567890123451  # rounded to 15 decimals it would read as less than itself
    style = LayerStyle("polygon", "graduated", Symbol(), "v",
                       ranges=(Range(0.05, value, "a", "#ff0000"), Range(value, 0.9, "b", "#00ff00")))
    ranges = qgis_ranges(ET.fromstring(style_qml(style)))
    assert qgis_colour(value, ranges, None) == "#ff0000"


def test_a_graduated_style_with_missing_values_draws_them_grey_and_renamed_fields():
    style = LayerStyle("polygon", "graduated", Symbol(), "disputes_per_1000",
                       ranges=(Range(0.0, 2.0, "0–2", "#ffffcc"),), no_data=("无数据", "#bdbdbd"),
                       aliases={"disputes_per_1000": "每千户纠纷数"})
    qml = ET.fromstring(style_qml(style, {"disputes_per_1000": "disp_1000"}))
    assert qml.find("renderer-v2").get("attr") == 'coalesce("disp_1000", -1)'
    assert qgis_ranges(qml)[0] == (-1.0, -1.0, "无数据", "#bdbdbd")
    assert qml.find("aliases/alias").attrib == {"field": "disp_1000", "index": "0", "name": "每千户纠纷数"}
    assert qml.find("layerGeometryType").text == "2"


@pytest.mark.parametrize("style, message", [
    (LayerStyle("line", "single", Symbol()), "几何类型"),
    (LayerStyle("point", "heatmap", Symbol()), "样式类型"),
    (LayerStyle("point", "categorized", Symbol(), "kind"), "至少需要一个类别"),
    (LayerStyle("point", "categorized", Symbol(), "kind", categories=(Category("a", "甲", "red"),)), "#RRGGBB"),
])
def test_an_inconsistent_style_is_refused_in_chinese(style, message):
    with pytest.raises(GuloError, match=message):
        check_style(style)


def test_rgba():
    assert rgba("#43a047") == "67,160,71,255" and rgba("#000000", 0.75) == "0,0,0,191"


def test_the_styles_table_can_be_added_to_any_geopackage(tmp_path, engine):
    layers = packed(engine, Scope(JUNMEN), "wgs84", None)
    assert [p.layer.name for p in layers] == ["grids", "communities", "streets", "dispute_stats", "compounds",
                                              "stations"]
    path = tmp_path / "one.gpkg"
    layers[-1].layer.frame.to_file(path, layer="stations", driver="GPKG")
    add_layer_styles(path, layers[-1:])
    assert ogrinfo(path, "layer_styles").count == 1
    assert sql(path, "SELECT f_table_name FROM layer_styles WHERE useAsDefault = 1") == [{"f_table_name": "stations"}]


def test_a_system_operator_pack_has_cases(engine):
    names = [p.layer.name for p in packed(engine, Scope(JUNMEN), "wgs84", system_operator("测试"))]
    assert "disputes" in names and "dispute_stats" not in names


# ---------------------------------------------------------------- the 数据管理 page


def _data_admin_page():
    from dashboard.pages import data_admin

    data_admin.render()


def _open_export(url: str, username: str | None = None, scope: str = ""):
    from datetime import UTC, datetime

    from streamlit.testing.v1 import AppTest

    from data.accounts import get_account
    from tests.demo_accounts import clear_forced_change

    clear_forced_change(url)
    at = AppTest.from_function(_data_admin_page, default_timeout=120)
    at.session_state["da_view"] = "导出"
    if scope:
        at.query_params["scope"] = scope
    if username:
        at.session_state["auth_account"] = get_account(engine_for(url), username)
        at.session_state["auth_login_at"] = datetime.now(UTC)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _pack_button(at) -> str:
    return next(b.proto.label for b in at.get("download_button") if "GIS数据包" in b.proto.label)


def test_the_export_view_offers_the_pack_in_every_system_logged_out(private_url):
    from data.exchange import EXPORT_CRS_LABELS

    at = _open_export(private_url)
    assert "GIS 数据包" in [h.value for h in at.subheader]
    assert _pack_button(at) == "下载 GIS数据包_鼓楼区_wgs84.gpkg"
    crs = at.selectbox(key="pack_crs")
    assert crs.options == [EXPORT_CRS_LABELS[c] for c in EXPORT_CRS]
    notes = " ".join(c.value for c in at.caption)
    assert "矛盾纠纷：按网格汇总" in notes and "未登录" in notes
    crs.set_value("gcj02").run()
    at.selectbox(key="pack_format").set_value("shp").run()
    assert _pack_button(at) == "下载 GIS数据包_鼓楼区_gcj02_shp.zip"
    assert any("GCJ-02" in i.value and "请勿选择 WGS84" in i.value for i in at.info)
    assert _export_audits(private_url).empty  # the file is made only when the button is clicked


def test_the_pack_in_scope_says_it_holds_cases_and_that_it_is_logged(private_url):
    from dashboard.data_admin.pack_view import packer
    from data.accounts import get_account

    at = _open_export(private_url, "junmen", JUNMEN)
    assert _pack_button(at) == "下载 GIS数据包_军门社区_350102004001_wgs84.gpkg"
    assert "记入操作日志" in " ".join(c.value for c in at.caption)
    data = packer(engine_for(private_url), Scope(JUNMEN), "wgs84", "gpkg",
                  get_account(engine_for(private_url), "junmen"), 30)()
    assert b"disputes" in data and _export_audits(private_url).iloc[0]["actor"] == "junmen"


def test_the_pack_downloads_from_the_page_in_a_browser(tmp_path):
    """The 导出 view in Chromium: the 「GIS 数据包」 section, its button making the file on click, GDAL reading it."""
    from tests.browser import ARTIFACTS, browser_app, browser_page, have_cjk_font, wait_idle

    with browser_app(tmp_path) as (base, _db), browser_page(1366, 768) as (page, external):
        page.goto(f"{base}/data?scope={DONGJIE}", wait_until="domcontentloaded")
        page.get_by_role("heading", name="东街街道 · 数据管理").wait_for(timeout=120_000)
        page.locator(".st-key-da_view button").filter(has_text="导出").click()
        wait_idle(page)
        section = page.get_by_role("heading", name="GIS 数据包")
        section.wait_for(timeout=60_000)
        button = page.get_by_role("button", name="下载 GIS数据包_东街街道_350102004000_wgs84.gpkg")
        button.scroll_into_view_if_needed()
        with page.expect_download(timeout=120_000) as download:
            button.click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        assert path.name == "GIS数据包_东街街道_350102004000_wgs84.gpkg"
        assert layer_names(path) == ["communities", "grids", "streets", "dispute_stats", "compounds", "stations",
                                     "layer_styles"]
        assert ogrinfo(path, "communities").count == 4
        if have_cjk_font():
            for width, height in ((1366, 768), (390, 844), (1920, 1080)):
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(500)
                section.evaluate("e => e.scrollIntoView({block: 'start'})")
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"gis_pack_section_{width}.png"))  # what the window shows
        page.set_viewport_size({"width": 1366, "height": 768})
        page.locator(".st-key-pack_crs").click()
        page.get_by_role("option", name=re.compile("^GCJ-02")).click()
        wait_idle(page)
        page.get_by_text("文件中的坐标系名为“GCJ-02 (高德/腾讯)”").wait_for(timeout=60_000)
        assert page.get_by_role("button", name="下载 GIS数据包_东街街道_350102004000_gcj02.gpkg").is_visible()
        if have_cjk_font():
            section.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(ARTIFACTS / "gis_pack_section_gcj02_1366.png"))
        assert external == []


def test_a_pack_of_a_district_without_cases_or_stations_on_both_backends(db_url, tmp_path):
    """The tiny district (no station, no case): empty layers stay in the pack, the aggregate layer counts zeros and
    falls back to one symbol, and PostGIS gives the same pack as SQLite."""
    from data.store import read_layer
    from tests.ingest_helpers import tiny_store

    engine = tiny_store(db_url)
    path = tmp_path / "tiny.gpkg"
    path.write_bytes(gis_pack_gpkg(engine, Scope(""), "wgs84", None, overdue_days=30))
    for layer in AGGREGATE_LAYERS:
        table = "grids" if layer == "dispute_stats" else layer
        assert ogrinfo(path, layer).count == len(read_layer(engine, table)), layer
    received = {r["received"] for r in sql(path, "SELECT received FROM dispute_stats")}
    assert received == {"0"}
    qml = styles(path)
    assert qml["dispute_stats"].find("renderer-v2").get("type") == "singleSymbol"
    assert qml["stations"].find("renderer-v2").get("type") == "categorizedSymbol"
    hh = {r["code"]: float(r["hh_grid"]) for r in sql(path, "SELECT code, hh_grid FROM communities")}
    grids = read_layer(engine, "grids")
    assert hh == pytest.approx(grids.groupby("community_code")["households"].mean().to_dict())
