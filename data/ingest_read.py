"""Reading office files into raw tables: CSV, XLSX, GeoJSON, GeoPackage and zipped Shapefile.

Every reader returns a ``SourceTable``: the raw cell values (object dtype, headers as in the
file) with ``_row`` = the row number the user sees (Excel row, CSV line, or feature number of a
vector file), plus a vector file's geometries and declared CRS. Encodings: UTF-8 (with or without
BOM) and GBK/GB18030 are detected, or taken from the caller; a Shapefile whose .dbf has no .cpg
is checked byte by byte. Nothing here validates values: see ``geo.ingest``.
"""
from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from openpyxl import load_workbook

from geo.errors import DataValidationError
from geo.ingest import ROW
from geo.ingest_fields import header_score

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".shp")
SUFFIXES = TABLE_SUFFIXES + VECTOR_SUFFIXES
HEADER_SEARCH_ROWS = 15
"""How many rows at the top of a sheet are searched for the header (title rows may come first)."""
MAX_UNZIPPED_BYTES = 2 << 30


@dataclass
class SourceTable:
    """A file's rows as read: raw values with ``_row``, and for vector files geometry and CRS."""

    table: pd.DataFrame
    filename: str
    encoding: str | None = None
    geometry: gpd.GeoSeries | None = None
    declared_crs: object = None
    header_row: int | None = None

    @property
    def columns(self) -> list[str]:
        """The file's column headers, in order."""
        return [c for c in self.table.columns if c != ROW]


def _fail(message: str) -> DataValidationError:
    return DataValidationError(message, [(None, "文件", "", message)])


def read_source(source: bytes | str | Path, filename: str | None = None, layer: str | None = None, *,
                encoding: str | None = None, sheet: str | int | None = None) -> SourceTable:
    """Read ``source`` (bytes, or a path) by the suffix of ``filename`` (default: the path's name).

    ``layer`` helps find the header row under title rows; ``encoding`` forces a text encoding
    (CSV, GeoJSON, Shapefile .dbf); ``sheet`` picks a worksheet or GeoPackage layer (name or
    0-based index). Raises DataValidationError with a Chinese message for unreadable files.
    """
    if isinstance(source, str | Path):
        filename = filename or Path(source).name
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise _fail(f"不支持的文件类型“{suffix or filename}”，可导入：{'、'.join(SUFFIXES)}（.xls 请另存为 .xlsx）")
    try:
        if not isinstance(source, str | Path):
            data = bytes(source)
        else:
            data = Path(source).read_bytes() if suffix != ".shp" else None
        if suffix in (".csv", ".txt"):
            return read_csv(data, filename, layer, encoding)
        if suffix in (".xlsx", ".xlsm"):
            return read_xlsx(data, filename, layer, sheet)
        if suffix == ".shp":
            return _read_vector_path(Path(source), filename, encoding, sheet)
        return read_vector(data, filename, encoding, sheet)
    except (UnicodeDecodeError, LookupError) as exc:
        raise _fail(f"无法按编码“{encoding}”读取文件：{exc}") from exc
    except (zipfile.BadZipFile, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise _fail(f"无法读取文件“{filename}”：{exc}") from exc


# ---------------------------------------------------------------- text and tables


def decode_text(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used): the given encoding, else UTF-8 (BOM allowed), GB18030, or a detector's guess."""
    if encoding:
        return data.decode(encoding), encoding
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate), "utf-8" if candidate == "utf-8-sig" else candidate
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise _fail("无法识别文件的文字编码，请指定编码（如 utf-8 或 gbk）")
    return str(best), best.encoding


def _header_index(rows: list[tuple[int, list]], layer: str | None) -> int:
    """Index in ``rows`` of the header: the top row naming most fields (else the first with 2+ cells)."""
    top = rows[:HEADER_SEARCH_ROWS]
    if layer:
        scores = [header_score(cells, layer) for _, cells in top]
        if scores and max(scores) > 0:
            return scores.index(max(scores))
    for i, (_, cells) in enumerate(top):
        if sum(1 for c in cells if c is not None and str(c).strip()) >= 2:
            return i
    return 0


def _headers(cells: list) -> list[str]:
    out: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = str(cell).strip() if cell is not None and str(cell).strip() else f"列{i}"
        base, n = name, 1
        while name in out:
            n += 1
            name = f"{base}({n})"
        out.append(name)
    return out


def _table(rows: list[tuple[int, list]], layer: str | None) -> tuple[pd.DataFrame, int | None]:
    """Rows (row number, cells) -> a frame of the rows under the header, blank rows left out."""
    if not rows:
        return pd.DataFrame({ROW: []}), None
    h = _header_index(rows, layer)
    header_row, header = rows[h][0], _headers(rows[h][1])
    body = [(n, cells) for n, cells in rows[h + 1:] if any(c is not None and str(c).strip() for c in cells)]
    width = len(header)
    data = {name: [(cells[i] if i < len(cells) else None) for _, cells in body] for i, name in enumerate(header)}
    frame = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()})
    for n, cells in body:  # cells beyond the header are data the user may have misplaced
        if len(cells) > width and any(c not in (None, "") for c in cells[width:]):
            raise _fail(f"第 {n} 行的列数多于表头（{width} 列），请检查是否有未加表头的列")
    frame[ROW] = [n for n, _ in body]
    return frame, header_row


def read_csv(data: bytes, filename: str, layer: str | None = None, encoding: str | None = None) -> SourceTable:
    """A CSV (comma, semicolon or tab separated) with its line numbers; empty cells become None."""
    text, used = decode_text(data, encoding)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows, line = [], 0
    for cells in reader:
        rows.append((line + 1, [c if c.strip() else None for c in cells]))
        line = reader.line_num
    frame, header_row = _table(rows, layer)
    return SourceTable(frame, filename, used, header_row=header_row)


def read_xlsx(data: bytes, filename: str, layer: str | None = None, sheet: str | int | None = None) -> SourceTable:
    """The first (or named) worksheet; ``_row`` is the Excel row number. Merged title rows are skipped."""
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb[names[0]]
        elif isinstance(sheet, int) or str(sheet).isdigit():
            ws = wb[names[int(sheet)]]
        elif sheet in names:
            ws = wb[sheet]
        else:
            raise _fail(f"工作簿中没有工作表“{sheet}”，现有：{'、'.join(names)}")
        rows = [(i, list(cells)) for i, cells in enumerate(ws.iter_rows(values_only=True), start=1)]
    finally:
        wb.close()
    frame, header_row = _table(rows, layer)
    return SourceTable(frame, filename, header_row=header_row)


# ---------------------------------------------------------------- vector files


def dbf_encoding(dbf: Path) -> str:
    """The encoding of a .dbf without .cpg: UTF-8 if its records decode as UTF-8, else GB18030 (GBK)."""
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    try:
        raw[header_len:].decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GB18030"


def _safe_extract(data: bytes, folder: Path) -> Path:
    """Extract the Shapefile parts of a zip (names flattened, so no path escapes ``folder``); the .shp path."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [m for m in zf.infolist() if not m.is_dir() and not Path(m.filename).name.startswith(".")]
        if sum(m.file_size for m in members) > MAX_UNZIPPED_BYTES:
            raise _fail("压缩包解压后过大")
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if len(shps) != 1:
            found = "、".join(m.filename for m in shps) or "无"
            raise _fail(f"压缩包中应有且只有一个 .shp 文件，实有：{found}")
        stem = Path(shps[0].filename).with_suffix("").as_posix()
        for m in members:
            if Path(m.filename).with_suffix("").as_posix() == stem:
                (folder / ("layer" + Path(m.filename).suffix.lower())).write_bytes(zf.read(m))
    return folder / "layer.shp"


def read_vector(data: bytes, filename: str, encoding: str | None = None, sheet: str | int | None = None) -> SourceTable:
    """GeoJSON, GeoPackage or zipped Shapefile bytes, through a temporary folder."""
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if suffix == ".zip":
            path = _safe_extract(data, folder)
        elif suffix in (".geojson", ".json"):
            text, _ = decode_text(data, encoding)
            path = folder / "layer.geojson"
            path.write_text(text, encoding="utf-8")
            encoding = None
        else:
            path = folder / ("layer" + suffix)
            path.write_bytes(data)
        return _read_vector_path(path, filename, encoding, sheet)


def _read_vector_path(path: Path, filename: str, encoding: str | None, sheet) -> SourceTable:
    used = encoding
    if path.suffix.lower() == ".shp" and not encoding:
        cpg, dbf = path.with_suffix(".cpg"), path.with_suffix(".dbf")
        if not cpg.exists() and dbf.exists():
            used = dbf_encoding(dbf)
    layer = sheet if sheet is None or not str(sheet).isdigit() else int(sheet)
    gdf = pyogrio.read_dataframe(path, encoding=used, layer=layer)
    table = pd.DataFrame({c: gdf[c].astype(object).where(gdf[c].notna(), None) for c in gdf.columns
                          if c != gdf.geometry.name})
    table[ROW] = np.arange(1, len(gdf) + 1)
    geometry = gpd.GeoSeries(gdf.geometry.values, index=table.index)
    return SourceTable(table, filename, used or "UTF-8", geometry, gdf.crs)
