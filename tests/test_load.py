"""bench.load and bench.protocol: concurrent sessions through the proxy, without a browser.

The smoke test needs nginx (apt-get install nginx): it skips with the reason, or fails where REQUIRE_NGINX=1.
The client tests run a tiny Streamlit app of their own (no nginx, no database). No timing asserts.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from bench.load import SECTION, load_round, percentile, problems, smoke_rounds, summarise, write_section
from bench.protocol import open_page
from deploy.stack import find_nginx, free_port, running_stack
from tests.conftest import skip_or_fail

TINY_APP = """
import time
import streamlit as st

def fine():
    st.title("fine")

def raises():
    st.write("before")
    raise RuntimeError("boom")

def notice():
    st.error("出错了")

def slow():
    time.sleep(30)

st.navigation([st.Page(fine, url_path="fine", default=True), st.Page(raises, url_path="raises"),
               st.Page(notice, url_path="notice"), st.Page(slow, url_path="slow")]).run()
"""


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory):
    """One app process behind nginx on a fresh SQLite database filled with the sample beforehand."""
    if not find_nginx():
        skip_or_fail("nginx not installed (apt-get install nginx)", "REQUIRE_NGINX")
    from bench.load import fill

    folder = tmp_path_factory.mktemp("load")
    url = fill(f"sqlite:///{folder / 'app.db'}")
    with running_stack(1, url, folder / "run") as stack:
        yield stack


def test_five_sessions_open_each_page_through_the_proxy(sqlite_stack):
    results = smoke_rounds(sqlite_stack, 5)
    assert problems(results) == []
    overview, situation = results
    assert [r.n for r in results] == [5, 5] and overview.spread == situation.spread == {next(iter(sqlite_stack.apps)): 5}
    assert {s.title for s in overview.sessions} == {"总览"} and {s.title for s in situation.sessions} == {"态势图"}
    for r in results:
        figures = summarise(r)
        assert figures["errors"] == 0 and figures["health_failed"] == 0 and figures["probes"] >= 1
        assert figures["cpu_per_session_s"] > 0 and figures["rss_max_mb"] > 0
        assert all(s.seconds > 0 and s.messages > 0 for s in r.sessions)


def test_an_unknown_page_through_the_proxy_is_an_error(sqlite_stack):
    result = asyncio.run(open_page(sqlite_stack.url, "no-such-page", timeout=60))
    assert not result.ok and "page not found" in result.error


@pytest.fixture(scope="module")
def tiny_app(tmp_path_factory):
    """A four-page Streamlit app of our own (fine / raises / notice / slow), served directly, no proxy."""
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "app.py").write_text(textwrap.dedent(TINY_APP), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=folder, env={**os.environ, "HOME": str(folder)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the tiny app did not start (exit code {proc.poll()})")


@pytest.mark.parametrize(("page", "expected"), [
    ("raises", "exception RuntimeError"),
    ("notice", "error notice: 出错了"),
    ("no-such-page", "page not found"),
])
def test_a_failing_or_unknown_page_is_an_error_not_a_hang(tiny_app, page, expected):
    result = asyncio.run(open_page(tiny_app, page, timeout=30))
    assert not result.ok and result.seconds is None
    assert result.error.startswith(expected), result.error


def test_a_fine_page_succeeds_and_a_slow_one_times_out(tiny_app):
    fine = asyncio.run(open_page(tiny_app, "", timeout=30))  # the default page answers at "/"
    assert fine.ok and fine.title == "fine" and fine.seconds > 0, fine
    started = time.monotonic()
    slow = asyncio.run(open_page(tiny_app, "slow", timeout=1))
    assert not slow.ok and slow.error == "no script_finished within 1 s"
    assert time.monotonic() - started < 15


def test_nothing_listening_is_a_connect_error():
    result = asyncio.run(open_page(f"http://127.0.0.1:{free_port()}", "", timeout=5))
    assert not result.ok and result.error.startswith("connect failed")


def test_percentiles_and_the_section_replaces_only_itself(tmp_path):
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0 and percentile([1.0], 0.9) == 1.0 and percentile([], 0.9) is None
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmark\n\n## Pages\n\ntable\n", encoding="utf-8")
    write_section(out, f"{SECTION} (1)\n\nfirst\n")
    write_section(out, f"{SECTION} (2)\n\nsecond\n")
    assert out.read_text(encoding="utf-8") == f"# Benchmark\n\n## Pages\n\ntable\n\n{SECTION} (2)\n\nsecond\n"
    out.write_text(f"# B\n\n{SECTION} (1)\n\nold\n\n## Targets\n\nkept\n", encoding="utf-8")
    write_section(out, f"{SECTION} (3)\n\nnew\n")
    assert out.read_text(encoding="utf-8") == f"# B\n\n{SECTION} (3)\n\nnew\n\n## Targets\n\nkept\n"


def test_load_round_is_usable_on_its_own(sqlite_stack):
    result = load_round(sqlite_stack, "situation", 2)
    assert result.n == 2 and len(result.sessions) == 2 and problems([result]) == []
