"""GeoJSON, GeoPackage and Shapefile (zipped, or a .shp path) read through pyogrio into a ``SourceTable``.

A missing .shx is rebuilt (GDAL's SHAPE_RESTORE_SHX, restored afterwards) and a missing .prj leaves
the system to be detected, each with a note; a .dbf without .cpg is checked byte by byte for UTF-8,
else read as GB18030 (GBK). Files are read from a temporary folder; GDAL's own messages, which name
that folder, never reach the user.
"""
from __future__ import annotations

import io
import json
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from data.ingest.source import (
    GEOJSON_TYPES,
    MAX_UNZIPPED_BYTES,
    PRJ_NOTE,
    SHAPE_PARTS,
    SHX_NOTE,
    SQLITE_MAGIC,
    SourceTable,
    decode_text,
    fail,
)
from geo.errors import DataValidationError
from geo.ingest_problems import ROW

__all__ = ["dbf_encoding", "read_shp", "read_vector"]


def dbf_encoding(dbf: Path) -> str:
    """The encoding of a .dbf without .cpg: UTF-8 if its records decode as UTF-8, else GB18030 (GBK)."""
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    try:
        raw[header_len:].decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _zip_members(zf: zipfile.ZipFile, filename: str) -> list[zipfile.ZipInfo]:
    """The files of a zip (no folders or hidden files), refused when they unpack too large."""
    members = [m for m in zf.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
    if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
        raise fail(f"压缩包“{filename}”解压后超过 2 GB，请只压缩要导入的 Shapefile 后再导入")
    return members


def _shape_parts(members: list[zipfile.ZipInfo], filename: str, sheet=None) -> dict[str, zipfile.ZipInfo]:
    """Suffix -> member for the Shapefile of a zip (the one named ``sheet`` when it holds several, as an export's
    Shapefile set does); DataValidationError when there is none, several and none chosen, or no .dbf."""
    shps = [m for m in members if m.filename.lower().endswith(".shp")]
    if not shps:
        found = "、".join(Path(m.filename).name for m in members[:5]) or "无文件"
        raise fail(f"压缩包“{filename}”中没有 .shp 文件（其中有：{found}），"
                    "请把 Shapefile 的 .shp、.shx、.dbf、.prj 一起压缩后再导入")
    if len(shps) > 1:
        chosen = [m for m in shps if sheet is not None and Path(m.filename).stem == str(sheet).strip()]
        if len(chosen) != 1:
            found = "、".join(Path(m.filename).stem for m in shps)
            raise fail(f"压缩包“{filename}”中有多个 Shapefile 图层（{found}）：请选择要导入的图层（命令行 --sheet 图层名），"
                        "或每个压缩包只放一个 Shapefile 后再导入")
        shps = chosen
    stem = Path(shps[0].filename).with_suffix("").as_posix().lower()
    parts = {Path(m.filename).suffix.lower(): m for m in members
             if Path(m.filename).with_suffix("").as_posix().lower() == stem}
    if ".dbf" not in parts:
        raise fail(f"压缩包“{filename}”中缺少 .dbf 属性表文件，请把与 .shp 同名的 .dbf 一起压缩后再导入")
    return parts


def _extract_shapefile(data: bytes, folder: Path, filename: str, sheet=None) -> Path:
    """Extract the Shapefile parts of a zip as ``folder/layer.*`` (no path escapes ``folder``); the .shp path."""
    bad = f"文件“{filename}”不是有效的 ZIP 压缩包（可能已损坏或设有密码），请重新压缩 Shapefile 的全部文件后再导入"
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise fail(bad)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for suffix, member in _shape_parts(_zip_members(zf, filename), filename, sheet).items():
                if suffix in SHAPE_PARTS:
                    (folder / ("layer" + suffix)).write_bytes(zf.read(member))
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        if isinstance(exc, DataValidationError):
            raise
        raise fail(bad) from exc
    return folder / "layer.shp"


def _copy_shapefile(shp: Path, folder: Path, filename: str) -> Path:
    """Copy a .shp on disk and its sibling parts (same stem, any case) to ``folder/layer.*``; the .shp path."""
    if not shp.is_file():
        raise fail(f"找不到文件“{filename}”，请检查文件名和所在文件夹后重试")
    if shp.stat().st_size == 0:
        raise fail(f"文件“{filename}”是空的（没有任何内容），请确认导出或保存成功后重新选择文件")
    stem = shp.stem.lower()
    for sibling in shp.parent.iterdir():
        suffix = sibling.suffix.lower()
        if sibling.is_file() and sibling.stem.lower() == stem and suffix in SHAPE_PARTS:
            shutil.copyfile(sibling, folder / ("layer" + suffix))
    if not (folder / "layer.dbf").exists():
        raise fail(f"Shapefile“{filename}”缺少同名的 .dbf 属性表文件，请把 .dbf 放在 .shp 旁边（或一起压缩成 .zip）后再导入")
    return folder / "layer.shp"


def read_shp(source: bytes | str | Path, filename: str, encoding: str | None, sheet) -> SourceTable:
    """A .shp path with its sibling parts (read from a temporary copy, so a rebuilt .shx is not written beside it)."""
    if not isinstance(source, str | Path):
        raise fail(f"单独的 .shp 文件“{filename}”无法导入，请把同名的 .shp、.shx、.dbf、.prj 一起压缩成 .zip 后再导入")
    with tempfile.TemporaryDirectory() as tmp:
        path = _copy_shapefile(Path(source), Path(tmp), filename)
        return _read_vector_path(path, filename, encoding, sheet)


def _geojson_text(data: bytes, filename: str, encoding: str | None) -> str:
    """The text of a GeoJSON file, checked as JSON first so a cut-off file is reported by line and column."""
    text, _ = decode_text(data, encoding, filename)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"文件“{filename}”不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有格式错误（文件可能不完整），"
                    "请重新导出完整的 GeoJSON 后再导入") from exc
    if not isinstance(obj, dict) or obj.get("type") not in GEOJSON_TYPES:
        raise fail(f"文件“{filename}”是 JSON 但不是 GeoJSON（应为 type 为 FeatureCollection 的要素集合），"
                    "请在 GIS 软件中导出为 GeoJSON 后再导入")
    return text


def _vector_file(data: bytes, folder: Path, filename: str, encoding: str | None,
                 sheet=None) -> tuple[Path, str | None]:
    """(path to read, encoding left to apply) of vector bytes written into ``folder`` (``sheet``: the Shapefile
    to take out of a zip holding several)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".zip":
        return _extract_shapefile(data, folder, filename, sheet), encoding
    if suffix in (".geojson", ".json"):
        path = folder / "layer.geojson"
        path.write_text(_geojson_text(data, filename, encoding), encoding="utf-8")
        return path, None
    if suffix == ".gpkg" and not data.startswith(SQLITE_MAGIC):
        raise fail(f"文件“{filename}”不是有效的 GeoPackage（可能已损坏或只是改了扩展名），"
                    "请在 GIS 软件中重新导出 .gpkg 后再导入")
    path = folder / ("layer" + suffix)
    path.write_bytes(data)
    return path, encoding


def read_vector(data: bytes, filename: str, encoding: str | None = None, sheet: str | int | None = None) -> SourceTable:
    """GeoJSON, GeoPackage or zipped Shapefile bytes, through a temporary folder."""
    with tempfile.TemporaryDirectory() as tmp:
        path, encoding = _vector_file(data, Path(tmp), filename, encoding, sheet)
        return _read_vector_path(path, filename, encoding, sheet)


@contextmanager
def _gdal_options(options: dict[str, str]) -> Iterator[None]:
    """GDAL config options set for the block and restored afterwards (they are process-wide); GDAL's
    warnings are silenced in the block (their English text names the temporary folder)."""
    old = {key: pyogrio.get_gdal_config_option(key) for key in options}
    pyogrio.set_gdal_config_options(options)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yield
    finally:
        pyogrio.set_gdal_config_options(old)


def _unreadable_vector(filename: str) -> str:
    kind = {".gpkg": "GeoPackage", ".zip": "Shapefile", ".shp": "Shapefile"}.get(Path(filename).suffix.lower(), "GeoJSON")
    return f"文件“{filename}”无法作为 {kind} 读取（可能已损坏或内容不完整），请在 GIS 软件中重新导出后再导入"


def _layer_of(path: Path, sheet, filename: str) -> tuple[str | int | None, list[str]]:
    """(layer to read, notes) of a GeoPackage: the asked layer (checked), else the first with a note when several."""
    if path.suffix.lower() != ".gpkg":
        return None, []
    names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    if not names:
        raise fail(f"GeoPackage“{filename}”中没有任何图层，请在 GIS 软件中检查后重新导出")
    if sheet is None or str(sheet).strip() == "":
        return names[0], ([f"GeoPackage 含多个图层，已读取第一个图层“{names[0]}”"] if len(names) > 1 else [])
    if str(sheet).isdigit() and int(sheet) < len(names):
        return int(sheet), []
    if str(sheet) in names:
        return str(sheet), []
    raise fail(f"GeoPackage“{filename}”中没有图层“{sheet}”，请从现有图层中选择：{'、'.join(names)}")


def _shapefile_setup(path: Path, encoding: str | None) -> tuple[str | None, dict[str, str], list[str]]:
    """(encoding, GDAL options, notes) for reading a Shapefile: .dbf encoding, .shx rebuilt, .prj missing."""
    used, options, notes = encoding, {}, []
    if not encoding and not path.with_suffix(".cpg").exists() and path.with_suffix(".dbf").exists():
        used = dbf_encoding(path.with_suffix(".dbf"))
    if not path.with_suffix(".shx").exists():
        options["SHAPE_RESTORE_SHX"] = "YES"
        notes.append(SHX_NOTE)
    if not path.with_suffix(".prj").exists():
        notes.append(PRJ_NOTE)
    return used, options, notes


def _read_vector_path(path: Path, filename: str, encoding: str | None, sheet) -> SourceTable:
    used, options, notes = encoding, {}, []
    try:
        if path.suffix.lower() == ".shp":
            used, options, notes = _shapefile_setup(path, encoding)
        with _gdal_options(options):
            layer, layer_notes = _layer_of(path, sheet, filename)
            gdf = pyogrio.read_dataframe(path, encoding=used, layer=layer)
    except (DataValidationError, UnicodeError):
        raise
    except (RuntimeError, ValueError, OSError, IndexError) as exc:  # pyogrio/GDAL errors (their text names the temp path)
        raise fail(_unreadable_vector(filename)) from exc
    table = pd.DataFrame({c: gdf[c].astype(object).where(gdf[c].notna(), None) for c in gdf.columns
                          if c != gdf.geometry.name})
    table[ROW] = np.arange(1, len(gdf) + 1)
    geometry = gpd.GeoSeries(gdf.geometry.values, index=table.index)
    return SourceTable(table, filename, used or "UTF-8", geometry, gdf.crs, notes=[*notes, *layer_notes])
