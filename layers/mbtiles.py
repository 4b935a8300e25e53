"""Read raster tiles from an MBTiles file (SQLite: ``tiles(zoom_level, tile_column, tile_row, tile_data)`` with
rows in TMS order, i.e. counted from the south, and ``metadata(name, value)``), read-only.

The file is opened through SQLite's URI with ``mode=ro`` (never written, no journal created) and, where its
file system is mounted read-only, also ``immutable=1`` (no locks, which a read-only mount cannot take). One
short connection per call: a file replaced in place is read afresh, and no handle is shared between the
server's threads. Nothing is extracted: tiles go from the file to the response.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from geo.errors import SettingsError
from geo.tiles import MBTilesMeta, parse_metadata, tile_bounds, tms_row

MAX_TILE_ZOOM = 30


def read_only_uri(path: str | Path) -> str:
    """The SQLite URI that opens ``path`` read-only (``immutable=1`` as well on a read-only file system)."""
    path = os.path.abspath(path)
    uri = f"file:{quote(path)}?mode=ro"
    return uri + "&immutable=1" if _read_only_fs(path) else uri


def _read_only_fs(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def connect(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to the MBTiles file ``path`` (sqlite3.Error when it cannot be opened)."""
    if not Path(path).is_file():  # SQLite would report a missing file only at the first query
        raise sqlite3.OperationalError("unable to open database file")
    return sqlite3.connect(read_only_uri(path), uri=True, timeout=2.0, check_same_thread=False)


def read_metadata(path: str | Path) -> MBTilesMeta:
    """The checked metadata of the MBTiles file ``path``; zoom range and bounds from its tiles where the
    metadata lacks them. SettingsError in Chinese (no path in it) when it cannot be read or drawn."""
    try:
        with closing(connect(path)) as conn:
            rows = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
            rows = {str(k).strip().lower(): str(v) for k, v in rows.items() if k is not None and v is not None}
            zooms = conn.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
            zooms = None if zooms[0] is None else (int(zooms[0]), int(zooms[1]))
            bounds = _tiles_bounds(conn, zooms[0]) if zooms and "bounds" not in rows else None
    except sqlite3.Error as exc:
        raise SettingsError("文件不存在、无法读取或不是 MBTiles 文件") from exc
    try:
        return parse_metadata(rows, zooms, bounds)
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


def _tiles_bounds(conn: sqlite3.Connection, z: int) -> tuple[float, float, float, float]:
    """Lon/lat bounds of the tiles at zoom ``z`` (rows in TMS order)."""
    x0, x1, r0, r1 = conn.execute("SELECT MIN(tile_column), MAX(tile_column), MIN(tile_row), MAX(tile_row) "
                                  "FROM tiles WHERE zoom_level = ?", (z,)).fetchone()
    west, south, _, _ = tile_bounds(z, int(x0), tms_row(z, int(r0)))
    _, _, east, north = tile_bounds(z, int(x1), tms_row(z, int(r1)))
    return west, south, east, north


def read_tile(path: str | Path, z: int, x: int, y: int) -> bytes | None:
    """The bytes of XYZ tile (z, x, y) (``y`` counted from the north, as Leaflet asks) from the MBTiles file
    ``path``, or None when the file has no such tile or the numbers lie outside the zoom level.
    sqlite3.Error when the file cannot be read."""
    if not (0 <= z <= MAX_TILE_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)):
        return None
    with closing(connect(path)) as conn:
        row = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                           (z, x, tms_row(z, y))).fetchone()
    return None if row is None or row[0] is None else bytes(row[0])
