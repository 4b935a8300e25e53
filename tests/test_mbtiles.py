"""The MBTiles reader: TMS rows flipped, missing tiles, metadata (or what the tiles say), never a write — also on
a read-only file system, where SQLite opens the file immutable."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from geo.errors import SettingsError
from geo.tiles import tile_bounds, tms_row
from layers.mbtiles import connect, read_metadata, read_only_uri, read_tile
from tests.tilegen import png_tile, write_mbtiles

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def file(tmp_path) -> Path:
    tiles = {(3, 6, 2): b"z3-x6-y2 (north)", (3, 6, 5): b"z3-x6-y5 (south)", (4, 13, 6): png_tile()}
    return write_mbtiles(tmp_path / "t.mbtiles", tiles, {"name": "测试", "format": "png", "minzoom": "3",
                                                         "maxzoom": "4", "bounds": "119.0,25.5,120.0,26.5"})


def test_rows_are_flipped_from_the_xyz_the_browser_asks_for_to_the_tms_rows_of_the_file(file):
    assert tms_row(3, 2) == 5 and tms_row(0, 0) == 0 and tms_row(10, 0) == 1023
    assert read_tile(file, 3, 6, 2) == b"z3-x6-y2 (north)"
    assert read_tile(file, 3, 6, 5) == b"z3-x6-y5 (south)"
    with closing(sqlite3.connect(file)) as conn:  # stored under the TMS row: 2 -> 5, 5 -> 2
        stored = dict(conn.execute("SELECT tile_row, tile_data FROM tiles WHERE zoom_level = 3").fetchall())
    assert stored == {5: b"z3-x6-y2 (north)", 2: b"z3-x6-y5 (south)"}


@pytest.mark.parametrize("z, x, y", [(3, 6, 3), (4, 0, 0), (12, 3405, 1739), (3, 8, 0), (3, 0, 8), (-1, 0, 0),
                                     (3, -1, 0), (31, 0, 0)])
def test_a_missing_tile_or_numbers_outside_the_zoom_level_are_none(file, z, x, y):
    assert read_tile(file, z, x, y) is None


def test_metadata_bounds_zooms_and_format(file):
    meta = read_metadata(file)
    assert (meta.name, meta.format, meta.min_zoom, meta.max_zoom) == ("测试", "png", 3, 4)
    assert meta.bounds == (119.0, 25.5, 120.0, 26.5) and not meta.overlay and meta.crs == "wgs84"


def test_without_metadata_the_zooms_and_bounds_come_from_the_tiles(tmp_path):
    path = write_mbtiles(tmp_path / "bare.mbtiles", {(5, 26, 13): png_tile(), (5, 27, 14): png_tile(),
                                                     (7, 106, 54): png_tile()}, {"type": "overlay"})
    meta = read_metadata(path)
    assert (meta.min_zoom, meta.max_zoom, meta.format, meta.overlay) == (5, 7, "png", True)
    west, _, _, north = tile_bounds(5, 26, 13)
    _, south, east, _ = tile_bounds(5, 27, 14)
    assert meta.bounds == pytest.approx((west, south, east, north))


@pytest.mark.parametrize("content, reason", [
    (b"", "文件中没有瓦片"),
    (b"SQLite format 3\x00" + b"\x00" * 200, "不是 MBTiles 文件"),
    (b"plain text, not a database" * 50, "不是 MBTiles 文件"),
])
def test_a_file_that_is_no_raster_mbtiles_is_refused_in_chinese_without_its_path(tmp_path, content, reason):
    path = tmp_path / "x.mbtiles"
    if content:
        path.write_bytes(content)
    else:
        write_mbtiles(path, {}, {"format": "png"})
    with pytest.raises(SettingsError, match=reason) as info:
        read_metadata(path)
    assert str(tmp_path) not in str(info.value)


def test_the_reader_never_writes_and_leaves_no_journal(file):
    before = sorted(p.name for p in file.parent.iterdir())
    with closing(connect(file)) as conn, pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM tiles")
    assert read_tile(file, 3, 6, 2) == b"z3-x6-y2 (north)"
    assert sorted(p.name for p in file.parent.iterdir()) == before


def test_a_read_only_file_is_read(file):
    file.chmod(0o444)
    file.parent.chmod(0o555)
    try:
        assert read_tile(file, 3, 6, 5) == b"z3-x6-y5 (south)" and read_metadata(file).name == "测试"
    finally:
        file.parent.chmod(0o755)


def test_the_uri_is_read_only_and_immutable_on_a_read_only_file_system(file, monkeypatch):
    assert read_only_uri(file) == f"file:{file}?mode=ro"
    odd = file.parent / "a b#c?.mbtiles"
    assert read_only_uri(odd).startswith("file:") and "a%20b%23c%3F.mbtiles?mode=ro" in read_only_uri(odd)

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda _path: ReadOnly())
    assert read_only_uri(file).endswith("?mode=ro&immutable=1")
    assert read_tile(file, 3, 6, 2) == b"z3-x6-y2 (north)"


def test_on_a_real_read_only_mount_tiles_are_read(file, tmp_path):
    """The folder bind-mounted read-only in a mount namespace of its own (as root, with unshare)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a folder read-only")
    where = str(file.parent)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from layers.mbtiles import read_tile, read_only_uri; "
            f"print(read_only_uri({str(file)!r})); print(read_tile({str(file)!r}, 3, 6, 2).decode())")
    script = (f"mount --bind {where} {where} && mount -o remount,ro,bind {where} {where} && "
              f"(touch {where}/probe 2>/dev/null && echo WRITABLE || echo READ-ONLY) && "
              f"{sys.executable} -c \"{code}\" {ROOT}")
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0 and "mount" in done.stderr and "READ-ONLY" not in done.stdout:
        pytest.skip(f"cannot mount here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["READ-ONLY", f"file:{file}?mode=ro&immutable=1", "z3-x6-y2", "(north)"]


def test_the_app_serves_an_mbtiles_file_from_a_read_only_install(tmp_path, monkeypatch):
    """The checkout copied read-only (and, as root, mounted read-only) with the file inside it: the tile route
    reads it where it lies, writes nothing beside it, and answers 404 for a tile it lacks."""
    import json
    import stat
    import urllib.error
    import urllib.request

    from tests.test_readonly_install import _install_copy, _serve

    app = _install_copy(tmp_path / "app")
    app.chmod(app.stat().st_mode | stat.S_IWUSR)
    tile = png_tile((90, 120, 150))
    path = write_mbtiles(app / "gulou.mbtiles", {(14, 13621, 6960): tile}, {"format": "png", "name": "只读影像"})
    path.chmod(0o444)
    app.chmod(app.stat().st_mode & ~0o222)
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("BASEMAPS", json.dumps([{"key": "gis", "mbtiles": str(path)}]))
    try:
        with _serve(app, data) as (base, log_path):
            served = urllib.request.urlopen(f"{base}/app/tiles/gis/14/13621/6960", timeout=10)
            assert served.headers["Content-Type"] == "image/png" and served.read() == tile
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"{base}/app/tiles/gis/14/13621/6961", timeout=10)
            assert missing.value.code == 404 and missing.value.read().decode() == "没有这个瓦片"
            log = log_path.read_text()
        assert log.startswith("READ-ONLY"), log[:200]
        assert "Traceback" not in log and "底图设置有误" not in log
        assert sorted(p.name for p in app.glob("gulou.mbtiles*")) == ["gulou.mbtiles"]  # no journal, no -shm
    finally:
        for p in [app, *app.rglob("*")]:  # let pytest clean up
            if p.is_dir():
                p.chmod(p.stat().st_mode | stat.S_IWUSR)
