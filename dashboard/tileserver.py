"""The app's own tile route: the tiles of the MBTiles files in the ``basemaps`` setting, straight from the file.

``GET /app/tiles/<key>/<z>/<x>/<y>`` (``layers.basemaps.MBTILES_ROUTE``; ``y`` counted from the north, as
Leaflet asks; the file's TMS rows are flipped by ``layers.mbtiles.read_tile``). Only the files configured
in the settings are served, by their key: nothing in the URL is a path, so no request can reach another
file. Answers: 200 with the tile (Content-Type from the file's format, cached by the browser for an hour),
404 for a tile the file lacks, an unknown key or numbers outside the zoom level, 503 while the file cannot
be read (logged once per file with the reason). No answer carries a path, a traceback or SQL.

Served by every app process from the start: ``streamlit_app.py`` hands :func:`tile_routes` to ``st.App``
(Streamlit's documented way to add routes), which ``streamlit run streamlit_app.py`` runs; behind the
nginx of ``deploy/`` the route is proxied like the rest of the app (same origin, no extra location).
"""
from __future__ import annotations

import logging
import sqlite3

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from geo.settings import get_settings
from geo.tiles import TILE_FORMATS
from layers.basemaps import MBTILES_ROUTE, catalogue
from layers.mbtiles import read_tile

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600
_HEADERS = {"X-Content-Type-Options": "nosniff"}
_FAILED: set[str] = set()


def _text(status: int, message: str) -> Response:
    return Response(message, status_code=status, media_type="text/plain; charset=utf-8",
                    headers={**_HEADERS, "Cache-Control": "no-store"})


def tile_response(key: str, z: int, x: int, y: int) -> Response:
    """The answer to a request for XYZ tile (z, x, y) of the configured MBTiles file ``key``."""
    service = catalogue(get_settings()).services.get(key)
    if service is None or not service.mbtiles:
        return _text(404, "没有这个底图")
    try:
        data = read_tile(service.mbtiles, z, x, y)
    except sqlite3.Error as exc:
        if service.mbtiles not in _FAILED:
            _FAILED.add(service.mbtiles)
            log.error("MBTiles 底图 %s 的文件 %s 无法读取：%s", key, service.mbtiles, exc)
        return _text(503, "底图文件暂时无法读取")
    _FAILED.discard(service.mbtiles)
    if data is None:
        return _text(404, "没有这个瓦片")
    return Response(data, media_type=TILE_FORMATS.get(service.format, "application/octet-stream"),
                    headers={**_HEADERS, "Cache-Control": f"public, max-age={CACHE_SECONDS}"})


def tile_endpoint(request: Request) -> Response:
    """Starlette endpoint (a plain function: Starlette runs it in its thread pool, off the event loop)."""
    p = request.path_params
    return tile_response(p["key"], p["z"], p["x"], p["y"])


def not_a_tile(_request: Request) -> Response:
    """Anything else under the tile route: 404 (not the app's page, which Streamlit answers for unknown paths)."""
    return _text(404, "没有这个瓦片")


def tile_routes() -> list[Route]:
    """The routes to hand to ``st.App(..., routes=…)``."""
    return [Route(MBTILES_ROUTE + "/{key}/{z:int}/{x:int}/{y:int}", tile_endpoint, methods=["GET"]),
            Route(MBTILES_ROUTE + "/{rest:path}", not_a_tile, methods=["GET"])]
