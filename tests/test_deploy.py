"""deploy/: nginx in front of two app processes on one PostGIS database, started by deploy/stack.py.

Needs nginx (apt-get install nginx) and PostGIS; the browser test also Chromium. Each skips with the reason —
or fails where REQUIRE_NGINX=1 (and REQUIRE_POSTGIS / REQUIRE_BROWSER) says it must run, as in CI.
"""
from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.load import problems, smoke_rounds
from deploy.stack import SQLITE_REFUSED, StackError, find_nginx, nginx_config, running_stack
from tests.browser import browser_page, chromium_missing, wait_idle
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parent.parent
CSP = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-inline' 'wasm-unsafe-eval'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}
VIOLATIONS = """document.addEventListener('securitypolicyviolation', e => {
  (window.top.__csp = window.top.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI);
});"""


def need_nginx() -> None:
    if not find_nginx():
        skip_or_fail("nginx not installed (apt-get install nginx)", "REQUIRE_NGINX")


@pytest.fixture(scope="module")
def filled_postgis():
    """A fresh PostGIS database for this module, filled with the sample once before any app process starts
    (so that two processes never race to fill it); dropped afterwards."""
    need_nginx()
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        skip_or_fail("PostGIS not available: set TEST_DATABASE_URL (bash .ci/start-postgres)", "REQUIRE_POSTGIS")
    from data.store import engine_for, open_store
    from geo.settings import Settings

    template, name = base.rsplit("/", 1)[1], f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    open_store(Settings.load({"database_url": url}))
    yield url
    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def stack(filled_postgis, tmp_path_factory):
    with running_stack(2, filled_postgis, tmp_path_factory.mktemp("stack")) as running:
        yield running


def get(url: str, cookie: str | None = None):
    """(status, headers) of a GET; HTTP errors count as responses."""
    request = urllib.request.Request(url, headers={"Cookie": f"gulou_route={cookie}"} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def upstream_of(stack, marker: str) -> str:
    """The app process (127.0.0.1:port) that served the request whose line in the access log holds ``marker``."""
    for _ in range(50):
        for line in stack.access_log.read_text().splitlines():
            if marker in line:
                return re.search(r"upstream=(\S+)", line).group(1).split(",")[-1].strip()
        time.sleep(0.1)
    raise AssertionError(f"{marker} not in the access log")


def test_every_response_carries_the_security_headers_and_no_version(stack):
    status, headers, html = get(f"{stack.url}/")
    assert status == 200
    script = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', html).group(1).decode()
    for path in ("/", "/situation?scope=350102004000", f"/{script}", "/_stcore/health", "/no-such-page.png"):
        status, headers, _ = get(f"{stack.url}{path}", cookie="fixed")
        assert status in (200, 404), path
        policy = dict(d.strip().split(" ", 1) for d in headers["Content-Security-Policy"].split(";"))
        assert policy == CSP, path
        assert headers["X-Frame-Options"] == "SAMEORIGIN"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Server"] == "nginx", headers["Server"]  # no version
    assert "127.0.0.1:" not in str(headers)  # the upstream is not told to the client


def test_the_route_cookie_is_set_once_and_keeps_a_browser_on_one_process(stack):
    _status, headers, _ = get(f"{stack.url}/")
    cookie = next(c for c in headers.get_all("Set-Cookie") if c.startswith("gulou_route="))
    assert re.fullmatch(r"gulou_route=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Strict", cookie)
    route = cookie.split(";")[0].split("=")[1]
    seen = set()
    for i in range(6):
        _status, again, _ = get(f"{stack.url}/_stcore/health?same={route}{i}", cookie=route)
        assert not any("gulou_route" in c for c in again.get_all("Set-Cookie") or [])  # stable: never replaced
        seen.add(upstream_of(stack, f"same={route}{i}"))
    assert len(seen) == 1 and seen <= set(stack.apps)
    # different browsers (routes) land on different processes
    spread = set()
    for _ in range(30):
        other = uuid.uuid4().hex
        get(f"{stack.url}/_stcore/health?spread={other}", cookie=other)
        spread.add(upstream_of(stack, f"spread={other}"))
    assert spread == set(stack.apps)


def test_concurrent_sessions_through_the_proxy_reach_every_process_without_error(stack):
    """The smoke load of bench/load.py on the 2-process PostGIS stack: 6 sessions open 总览 (district) and
    态势图 (东街街道) at once, each through Streamlit's own websocket protocol."""
    results = smoke_rounds(stack, 6)
    assert problems(results) == []  # no session error, every health probe answered, CPU and RSS measured
    assert all(set(r.spread) == set(stack.apps) for r in results)  # both processes served sessions


def test_the_websocket_upgrade_goes_through(stack):
    host, port = stack.url.removeprefix("http://").split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Origin: {stack.url}\r\nCookie: gulou_route=ws\r\n\r\n").encode())
        reply = sock.recv(4096).decode("latin-1")
    assert reply.startswith("HTTP/1.1 101"), reply
    assert "upgrade: websocket" in reply.lower()


def test_more_than_one_process_on_sqlite_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with pytest.raises(StackError, match="SQLite 数据库只能由一个应用进程使用"), running_stack(2, url, tmp_path):
        pass
    done = subprocess.run([sys.executable, "deploy/stack.py", "--processes", "2", "--database-url", url,
                           "--folder", str(tmp_path / "run")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and SQLITE_REFUSED in done.stderr
    assert not (tmp_path / "app.db").exists()  # refused before anything started


def test_the_generated_config_is_the_site_file_with_servers_and_port_filled_in(tmp_path):
    site = (ROOT / "deploy/nginx/gulou.conf").read_text(encoding="utf-8")
    conf = nginx_config(site, ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"], 8088, tmp_path)
    servers = re.findall(r"^\s*server (127\.0\.0\.1:\d+) max_fails=1 fail_timeout=10s;$", conf, re.M)
    assert servers == ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"]
    directives = "\n".join(line.split("#")[0] for line in conf.splitlines())
    assert "listen 127.0.0.1:8088;" in directives and "/etc/" not in directives and "/var/log" not in directives
    assert "ip_hash" not in directives and "hash $gulou_route consistent;" in directives
    if find_nginx():  # nginx itself accepts it
        (tmp_path / "temp").mkdir()
        (tmp_path / "nginx.conf").write_text(conf, encoding="utf-8")
        check = subprocess.run([find_nginx(), "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox labelled ``label`` (opened again if a rerun closed it)."""
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text=label).first
    for _ in range(3):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 - the list closed under a rerun: open it again
            page.keyboard.press("Escape")
    page.get_by_role("option", name=option).click(timeout=10_000)


def test_a_browser_through_the_proxy_drills_down_downloads_and_survives_its_process(filled_postgis, tmp_path):
    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    with running_stack(2, filled_postgis, tmp_path / "run") as stack, browser_page(1400, 1000) as (page, external):
        page.context.add_init_script(VIOLATIONS)
        console: list[str] = []
        page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{stack.url}/", wait_until="domcontentloaded")
        page.get_by_role("heading", name="鼓楼区 · 总览").wait_for(timeout=120_000)
        wait_idle(page)
        choose(page, "街道", "东街街道")  # drill down
        page.get_by_role("heading", name="东街街道 · 总览").wait_for(timeout=60_000)
        wait_idle(page)
        assert "scope=350102004000" in page.url
        with page.expect_download(timeout=90_000) as download:
            page.get_by_role("button", name="下载简报 PDF").click()
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF")
        served = upstream_of(stack, "GET /media/")  # the download came from this browser's process
        assert served in stack.apps
        assert page.evaluate("window.__csp || []") == [] and console == []

        os.killpg(stack.apps[served].pid, signal.SIGKILL)  # its process dies; the tab reconnects to the other
        page.wait_for_timeout(4000)
        choose(page, "着色指标", "每千户纠纷数")  # the next interaction: a fresh session on the other process
        page.get_by_role("heading", name="东街街道 · 总览").wait_for(timeout=60_000)  # scope back from the URL
        wait_idle(page)
        assert "scope=350102004000" in page.url
        survivor = next(addr for addr in stack.apps if addr != served)
        assert stack.apps[survivor].poll() is None
        assert page.evaluate("window.__csp || []") == [] and console == []
        assert external == []
