"""Run the app on loopback and look at it in Debian's Chromium through Playwright (no internet)."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
ARTIFACTS = ROOT / "artifacts"


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"Chromium not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright not installed (pip install -r requirements-test.txt)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(db_url: str, workdir: Path, timeout: float = 120, port: int | None = None):
    """``streamlit run streamlit_app.py`` on ``db_url``, loopback only, its log in ``workdir``; yields
    (base URL, server pid) and stops the server's process group afterwards. ``port``: a given one (to start
    the server again where a browser expects it), else a free one."""
    port = port or _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "HOME": str(workdir)}
    log_path = workdir / "streamlit.log"
    with open(log_path, "a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_healthy(proc, port, timeout, log_path)
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)


@contextlib.contextmanager
def running_app(db_path: Path, timeout: float = 120):
    """`streamlit run streamlit_app.py` on the SQLite database ``db_path`` (filled on first run); yields the base URL."""
    with app_server(f"sqlite:///{db_path}", db_path.parent, timeout) as (url, _pid):
        yield url


@contextlib.contextmanager
def browser_app(folder: Path):
    """The app on a fresh sample database in ``folder`` for a browser test: yields (base URL, database URL).

    Skips when Chromium is missing — or fails where REQUIRE_BROWSER=1 says browser tests must run."""
    from tests.conftest import skip_or_fail

    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    db = folder / "app.db"
    with running_app(db) as url:
        yield url, f"sqlite:///{db}"


def log_in(page, db_url: str, username: str) -> None:
    """Log in through the sidebar as the demo account ``username`` with its published password, its first
    password change marked done in the test database (the forced change has a test of its own)."""
    from tests.demo_accounts import DEMO_PASSWORDS, clear_forced_change

    clear_forced_change(db_url, [username])
    page.get_by_text("登录（修改数据需登录）").click()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    page.get_by_text("当前用户").first.wait_for(timeout=60_000)


def _wait_healthy(proc, port: int, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return
        time.sleep(0.2)
    raise RuntimeError("app never became healthy")


@contextlib.contextmanager
def browser_page(width: int = 1600, height: int = 1000):
    """Yield (page, external): every request to a non-loopback host is aborted and listed in external."""
    from playwright.sync_api import sync_playwright

    external: list[str] = []

    def route(r):
        url = r.request.url
        host = url.split("/")[2].split(":")[0] if "://" in url else ""
        if host in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:", "about:")):
            return r.continue_()
        external.append(url)
        return r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        ctx.route("**/*", route)
        try:
            yield ctx.new_page(), external
        finally:
            browser.close()


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Until Streamlit no longer shows its running indicator."""
    page.wait_for_timeout(300)
    with contextlib.suppress(Exception):
        page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=timeout_ms)
    page.wait_for_timeout(300)


def map_paths(page, at_least: int, timeout_ms: int = 60_000):
    """Wait until the Leaflet map in the folium iframe holds ``at_least`` interactive paths; return the frame."""
    page.wait_for_selector(MAP_IFRAME, state="attached", timeout=timeout_ms)
    frame = page.frame_locator(MAP_IFRAME).first
    frame.locator("path.leaflet-interactive").first.wait_for(state="attached", timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while frame.locator("path.leaflet-interactive").count() < at_least and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(1.0)  # let Leaflet finish fitting the view (zoom animation) before anyone looks or clicks
    return frame


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG under artifacts/ (ignored by git) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    out = ARTIFACTS / name
    page.screenshot(path=str(out), full_page=True)
    return out


def have_cjk_font() -> bool:
    return shutil.which("fc-list") is None or "CJK" in subprocess.run(
        ["fc-list"], capture_output=True, text=True).stdout
