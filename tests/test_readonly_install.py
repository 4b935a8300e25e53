"""The app runs from a read-only install: it never writes into its own folder.

The map assets (Leaflet from the XStatic packages, Leaflet.draw vendored) are committed under static/vendor,
produced by ``python -m layers.assets --write`` and checked here against the installed packages; the app
serves them through Streamlit's static serving and writes only where ``DATABASE_URL`` / ``DATA_DIR`` point.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

from bench.protocol import open_page
from dashboard.nav import PAGES
from layers.assets import VENDOR_DIR, asset_files, main, stale_assets
from tests.browser import _free_port, _wait_healthy
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
JUNMEN = "350102004001"


def test_the_committed_static_assets_equal_the_installed_packages_files():
    assert stale_assets(VENDOR_DIR) == []
    assert main(["--check"]) == 0
    tracked = subprocess.run(["git", "ls-files", "--others", "--cached", "--exclude-standard", "static/vendor"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert sorted(f"static/vendor/{name}" for name in asset_files()) == sorted(tracked)  # none left to git-ignore


def test_the_check_finds_a_changed_a_missing_and_a_stray_file(tmp_path, capsys):
    main(["--write", str(tmp_path)])
    assert main(["--check", str(tmp_path)]) == 0
    (tmp_path / "leaflet" / "leaflet.js").write_text("// changed")
    (tmp_path / "leaflet.markercluster" / "MarkerCluster.css").unlink()
    (tmp_path / "leaflet" / "stray.js").write_text("")
    assert main(["--check", str(tmp_path)]) == 1
    assert stale_assets(tmp_path) == ["leaflet/leaflet.js", "leaflet.markercluster/MarkerCluster.css",
                                      "leaflet/stray.js"]
    assert "请运行 python -m layers.assets --write" in capsys.readouterr().out


def _install_copy(dest: Path) -> Path:
    """The checkout's files as an installer would lay them down (tracked and not ignored), made read-only."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return dest


def _read_only_command(app: Path, port: int) -> list[str]:
    """``streamlit run`` in ``app``, which the server cannot write to: file modes do not bind root, so as root
    the folder is also bind-mounted read-only in a mount namespace of the server's own. The shell first
    tries to write there and says which it found (READ-ONLY / WRITABLE) in the log."""
    run = shlex.join([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
                      "--server.address", "127.0.0.1", "--server.port", str(port)])
    where = shlex.quote(str(app))
    probe = f"if touch {where}/.probe 2>/dev/null; then echo WRITABLE; else echo READ-ONLY; fi; exec {run}"
    if os.geteuid() != 0:
        return ["sh", "-c", probe]
    if shutil.which("unshare") is None:
        skip_or_fail("running as root without unshare: cannot make the checkout read-only", "REQUIRE_BROWSER")
    mount = f"mount --bind {where} {where} && mount -o remount,ro,bind {where} {where} && {probe}"
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", mount]


@contextlib.contextmanager
def _serve(app: Path, data: Path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{data / 'app.db'}", "HOME": str(data),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DATA_DIR", None)
    log_path = data / "streamlit.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(_read_only_command(app, port), cwd=app, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(proc, port, 120, log_path)
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def test_the_app_serves_every_page_from_a_read_only_checkout(tmp_path):
    app = _install_copy(tmp_path / "app")
    data = tmp_path / "data"
    data.mkdir()
    assert not stat.S_IMODE((app / "static").stat().st_mode) & 0o222
    try:
        with _serve(app, data) as (base, log_path):
            views = [(path, query) for path, _ in PAGES for query in ("", f"scope={JUNMEN}")]
            results = [asyncio.run(open_page(base, "" if path == "overview" else path, query, timeout=180))
                       for path, query in views]
            failed = [(view, r.error) for view, r in zip(views, results) if not r.ok]
            assert not failed, failed
            assert all(r.title for r in results)
            served = urllib.request.urlopen(f"{base}/app/static/vendor/leaflet/leaflet.js", timeout=10).read()
            assert served == asset_files()["leaflet/leaflet.js"].read_bytes()
            log = log_path.read_text()
        assert log.startswith("READ-ONLY"), log[:200]
        assert "Traceback" not in log and "PermissionError" not in log and "只读" not in log, log[-3000:]
        assert "地图静态资源与已安装的软件包不一致" not in log
        assert (data / "app.db").is_file()  # the database went where DATABASE_URL points
        assert not (app / "var").exists() and not any(app.rglob("__pycache__"))
    finally:
        for path in [app, *app.rglob("*")]:  # let pytest clean up
            if path.is_dir():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
