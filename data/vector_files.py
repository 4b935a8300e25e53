"""Vector files an outside GIS reads right: GeoPackage, zipped Shapefile and GeoJSON from typed layers.

A ``VectorLayer`` is one table of a file: a GeoDataFrame with typed columns (``geo.export_fields``) and its
geometry in the export system (``geo.export_crs.to_system``), plus Chinese aliases, a title and a note.

- **GeoPackage** (version 1.2, read by every GDAL since 2.2): short field names with the Chinese headers as
  aliases in ``gpkg_data_columns`` (the schema extension QGIS and GDAL read), the layer's title and note in
  ``gpkg_contents``; the CRS as declared (a GCJ-02/BD-09 custom CRS keeps no EPSG id, with the note in
  ``gpkg_spatial_ref_sys.description``). Integers are Integer, decimals Real, dates Date.
- **Shapefile** (zipped): per layer .shp/.shx/.dbf/.prj/.cpg (UTF-8), field names cut to the format's 10
  characters by ``shp_names``, plus any extra files (QGIS .qml styles).
- **GeoJSON**: typed properties (numbers, ISO dates, null), WGS84 per RFC 7946 or the CRS member GDAL writes.

Writing goes through pyogrio with Arrow, so pandas' nullable integers and Arrow dates keep their types.
"""
from __future__ import annotations

import sqlite3
import tempfile
import warnings
import zipfile
from contextlib import closing
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import geopandas as gpd
import pyogrio

from geo.export_crs import SHIFTED_NOTE, is_shifted
from geo.ingest_fields import SHP_SHORT

GPKG_VERSION = "1.2"
SHP_NAME_LEN = 10
SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_SCHEMA_EXTENSION = ("gpkg_schema", "http://www.geopackage.org/spec/#extension_schema", "read-write")
_DATA_COLUMNS = """CREATE TABLE IF NOT EXISTS gpkg_data_columns (
    table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
    mime_type TEXT, constraint_name TEXT,
    CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name))"""


@dataclass(frozen=True)
class VectorLayer:
    """One table of a vector file: typed columns, geometry in the export system, Chinese aliases and title."""

    name: str
    frame: gpd.GeoDataFrame
    aliases: dict[str, str] = field(default_factory=dict)
    title: str = ""
    description: str = ""


def shp_names(columns) -> dict[str, str]:
    """Field name -> its Shapefile (dBASE) name of at most 10 characters, unique within ``columns``."""
    out: dict[str, str] = {}
    for col in columns:
        base = SHP_SHORT.get(col, col)[:SHP_NAME_LEN]
        name, n = base, 1
        while name in out.values():
            n += 1
            name = f"{base[:SHP_NAME_LEN - len(str(n))]}{n}"
        out[col] = name
    return out


def _write(frame: gpd.GeoDataFrame, path: Path, driver: str, layer: str, **options) -> None:
    """pyogrio through Arrow (keeps Int32/Float64/date32); GDAL's English warnings are not shown to anyone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(frame, path, driver=driver, layer=layer, use_arrow=True, **options)


def write_gpkg(path: Path, layers: list[VectorLayer], crs: str) -> None:
    """Write ``layers`` (in export system ``crs``) into a new GeoPackage at ``path``, with aliases and notes."""
    for i, layer in enumerate(layers):
        _write(layer.frame, path, "GPKG", layer.name, **({"VERSION": GPKG_VERSION} if i == 0 else {}))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(_DATA_COLUMNS)
        conn.execute("INSERT OR IGNORE INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, ?, ?, ?)",
                     _SCHEMA_EXTENSION)
        for layer in layers:
            _describe(conn, layer)
        if is_shifted(crs):
            conn.execute("UPDATE gpkg_spatial_ref_sys SET description = ? WHERE organization = 'NONE' AND srs_id > 0",
                         (SHIFTED_NOTE[crs],))


def _describe(conn: sqlite3.Connection, layer: VectorLayer) -> None:
    """The layer's title and note in gpkg_contents and its aliases in gpkg_data_columns."""
    conn.execute("UPDATE gpkg_contents SET identifier = ?, description = ? WHERE table_name = ?",
                 (layer.title or layer.name, layer.description, layer.name))
    conn.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title, description) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [(layer.name, col, alias, alias, alias) for col, alias in layer.aliases.items()
                      if col in layer.frame.columns])


def gpkg_bytes(layers: list[VectorLayer], crs: str) -> bytes:
    """``write_gpkg`` into a temporary file, as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.gpkg"
        write_gpkg(path, layers, crs)
        return path.read_bytes()


def _shapefile(layer: VectorLayer, folder: Path) -> list[Path]:
    """Write one layer as ``folder/<name>.*`` with short field names and a .cpg saying UTF-8; the files."""
    geometry = layer.frame.geometry.name
    renamed = layer.frame.rename(columns={c: s for c, s in shp_names(layer.frame.columns).items() if c != geometry})
    path = folder / f"{layer.name}.shp"
    _write(renamed, path, "ESRI Shapefile", layer.name, ENCODING="UTF-8")
    path.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    return [path.with_suffix(s) for s in SHP_PARTS if path.with_suffix(s).exists()]


def shapefile_zip(layers: list[VectorLayer], crs: str, extras: dict[str, bytes] | None = None) -> bytes:
    """A zip of one Shapefile set per layer (see ``_shapefile``) and the ``extras`` (file name -> bytes)."""
    buffer = BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for layer in layers:
            for part in _shapefile(layer, Path(tmp)):
                zf.write(part, part.name)
        for name, data in (extras or {}).items():
            zf.writestr(name, data)
        if is_shifted(crs):
            zf.writestr("坐标系说明.txt", SHIFTED_NOTE[crs].encode("utf-8"))
    return buffer.getvalue()


def geojson_bytes(layer: VectorLayer) -> bytes:
    """One layer as GeoJSON bytes (typed properties; GDAL writes the CRS member for a system other than WGS84)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{layer.name}.geojson"
        _write(layer.frame, path, "GeoJSON", layer.name)
        return path.read_bytes()
