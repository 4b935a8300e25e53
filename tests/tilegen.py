"""Generated raster tiles for the basemap tests: PNG tiles, a loopback tile server and MBTiles files.

Nothing here is real geography: a tile is a pale fill with its border and, optionally, a marker dot at a
given lon/lat (degrees in the tiles' own system), so a test can tell where on the page a tile draws it.
"""
from __future__ import annotations

import contextlib
import io
import math
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image, ImageDraw

TILE = 256
MARKER_RGB = (255, 0, 255)
MARKER_RADIUS = 4


def world_pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Web Mercator pixel (x right, y down) of lon/lat at zoom ``z``, 256-pixel tiles."""
    n = TILE * (1 << z)
    s = math.sin(math.radians(lat))
    return (lon + 180) / 360 * n, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n


def marker_tile(lon: float, lat: float, z: int) -> tuple[int, int, float, float]:
    """(x, y, px, py): the XYZ tile holding lon/lat at zoom ``z`` and the pixel inside it."""
    wx, wy = world_pixel(lon, lat, z)
    return int(wx // TILE), int(wy // TILE), wx - TILE * (wx // TILE), wy - TILE * (wy // TILE)


def png_tile(fill=(214, 232, 214), marker: tuple[float, float] | None = None, fmt: str = "PNG",
             clear: bool = False) -> bytes:
    """A 256×256 tile: ``fill`` with a darker border (``clear``: transparent inside, as a label overlay); a
    magenta dot at pixel ``marker`` (x, y) if given."""
    image = Image.new("RGBA" if clear else "RGB", (TILE, TILE), (*fill, 0) if clear else fill)
    draw = ImageDraw.Draw(image)
    border = tuple(max(c - 60, 0) for c in fill)
    draw.rectangle([0, 0, TILE - 1, TILE - 1], outline=(*border, 255) if clear else border)
    if clear:
        draw.line([TILE // 2 - 12, TILE // 2, TILE // 2 + 12, TILE // 2], fill=(*border, 255), width=2)
    if marker is not None:
        x, y = marker
        r = MARKER_RADIUS
        draw.ellipse([x - r, y - r, x + r, y + r], fill=MARKER_RGB)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@dataclass
class TileServer:
    """A loopback tile server: ``/{z}/{x}/{y}.png`` (XYZ) and ``/wmts?…TILEMATRIX=&TILEROW=&TILECOL=`` (KVP).
    ``marker``: lon/lat drawn as a magenta dot in the tile that holds it. ``requests``: every path asked for;
    ``tokens``: the tk= values seen."""

    marker: tuple[float, float] | None = None
    fill: tuple[int, int, int] = (214, 232, 214)
    requests: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def tile(self, z: int, x: int, y: int, clear: bool = False) -> bytes:
        spot = None
        if self.marker is not None:
            mx, my, px, py = marker_tile(*self.marker, z)
            spot = (px, py) if (mx, my) == (x, y) else None
        return png_tile(self.fill, spot, clear=clear)

    def _coords(self, path: str) -> tuple[int, int, int] | None:
        xyz = re.fullmatch(r"/(\d+)/(\d+)/(\d+)\.png", path.split("?")[0])
        if xyz:
            return int(xyz[1]), int(xyz[2]), int(xyz[3])
        q = dict(re.findall(r"([A-Za-z]+)=([^&]*)", path.split("?", 1)[-1]))
        q = {k.upper(): v for k, v in q.items()}
        if q.get("TK"):
            self.tokens.append(q["TK"])
        try:
            return int(q["TILEMATRIX"]), int(q["TILECOL"]), int(q["TILEROW"])
        except (KeyError, ValueError):
            return None

    def handler(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.requests.append(self.path)
                coords = owner._coords(self.path)
                if coords is None:
                    self.send_error(404)
                    return
                body = owner.tile(*coords, clear="SERVICE=WMTS" in self.path.upper())
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def start(self) -> TileServer:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@contextlib.contextmanager
def tile_server(marker: tuple[float, float] | None = None, fill=(214, 232, 214)) -> Iterator[TileServer]:
    server = TileServer(marker=marker, fill=fill).start()
    try:
        yield server
    finally:
        server.stop()


def write_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes], metadata: dict[str, str]) -> Path:
    """An MBTiles file at ``path`` holding ``tiles`` keyed by XYZ (z, x, y) — stored in TMS rows — and
    ``metadata``."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        conn.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        conn.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", list(metadata.items()))
        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                         [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()])
        conn.commit()
    return path


def tiles_covering(bounds: tuple[float, float, float, float], zooms: range) -> list[tuple[int, int, int]]:
    """Every XYZ tile at ``zooms`` that covers lon/lat ``bounds`` (min lon, min lat, max lon, max lat)."""
    out = []
    for z in zooms:
        x0, y0, _, _ = marker_tile(bounds[0], bounds[3], z)
        x1, y1, _, _ = marker_tile(bounds[2], bounds[1], z)
        out += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    return out
