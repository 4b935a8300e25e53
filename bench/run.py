"""Measure load, page server times, map payload, draw time and memory at several scales, beside a naive baseline.

``python -m bench [--scales 1,10,50] [--postgres URL] [--browser] [--out bench/RESULTS.md]``

For each scale and backend (SQLite always; PostGIS when ``--postgres`` or ``DATABASE_URL`` names a
PostgreSQL server: the benchmark's own database ``gulou_bench`` on that server is dropped and created
afresh; the database named in the URL is left alone), three processes:
``load`` writes the scaled sample, ``pages`` opens every page of ``streamlit_app.py`` in AppTest (a
first run on empty caches, then warm reruns on the app's own caches) and reports the map payload and
its own peak memory, and, with ``--browser``, ``streamlit run`` on that database is opened in Chromium
to time the map's drawing. The naive baseline (bench.naive) is built once per scale, from the SQLite
database, in a process of its own. See bench/RESULTS.md for the latest table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Result, render_table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).with_name("RESULTS.md")
JOB_TIMEOUT_S = 1500


def job(name: str, db_url: str, *, scale: int = 1, workdir: Path, browser: bool = False) -> dict:
    """Run ``python -m bench.worker name`` and return its JSON result (its stderr goes to ours on failure)."""
    cmd = [sys.executable, "-m", "bench.worker", name, "--db", db_url, "--scale", str(scale),
           "--workdir", str(workdir)] + (["--browser"] if browser else [])
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=JOB_TIMEOUT_S,
                          env={**os.environ, "HOME": str(workdir)})
    if done.returncode != 0:
        raise RuntimeError(f"bench job {name} ({scale}×) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh_postgres(url: str) -> str:
    """Drop and create the database named in ``url`` (with PostGIS); returns ``url``."""
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url


def measure(scale: int, backend: str, db_url: str, *, workdir: Path, browser: bool) -> Result:
    """Load, pages and (``browser``) draw of one scale on one backend."""
    result = Result(scale, backend, **job("load", db_url, scale=scale, workdir=workdir))
    result.pages = job("pages", db_url, workdir=workdir)
    if browser:
        from bench.draw import app_draw

        result.draw = app_draw(db_url, workdir)
    return result


BENCH_DATABASE = "gulou_bench"
"""The database the benchmark creates (and drops first) on the PostGIS server it is given: never the one named
in the URL, which may hold real data or the tests' template."""


def postgres_url(given: str | None) -> str | None:
    """The benchmark's own database BENCH_DATABASE on the PostGIS server of ``given``, else of ``DATABASE_URL``
    when it names PostgreSQL; None without one."""
    url = given or os.environ.get("DATABASE_URL", "")
    return url.rsplit("/", 1)[0] + "/" + BENCH_DATABASE if url.startswith("postgresql") else None


def browser_missing() -> str | None:
    from tests.browser import chromium_missing

    return chromium_missing()


def run(scales: list[int], *, postgres: str | None = None, browser: bool = False, out: Path = DEFAULT_OUT) -> str:
    """Run the benchmark, write the markdown table to ``out`` and return it."""
    notes: list[str] = []
    if not postgres:
        notes.append("PostGIS skipped: no --postgres URL and DATABASE_URL is not a PostgreSQL URL.")
    if browser and (why := browser_missing()):
        notes.append(f"Browser draw time skipped: {why}.")
        browser = False
    elif not browser:
        notes.append("Browser draw time not measured (run with --browser).")
    results: list[Result] = []
    naive: dict[int, dict] = {}
    load_before, started = os.getloadavg(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gulou-bench-") as tmp:
        workdir = Path(tmp)
        for scale in scales:
            sqlite = f"sqlite:///{workdir / f'bench_{scale}.db'}"
            results.append(measure(scale, "SQLite", sqlite, workdir=workdir, browser=browser))
            _progress(f"{scale}× SQLite")
            naive[scale] = job("naive", sqlite, scale=scale, workdir=workdir, browser=browser)
            _progress(f"{scale}× naive")
            if postgres:
                results.append(measure(scale, "PostGIS", fresh_postgres(postgres), workdir=workdir, browser=browser))
                _progress(f"{scale}× PostGIS")
    text = render_table(results, naive, notes, load=(load_before, os.getloadavg()),
                        minutes=(time.perf_counter() - started) / 60)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + _load_section(out), encoding="utf-8")
    return text


def _load_section(out: Path) -> str:
    """The load benchmark's section of ``out`` (``python -m bench.load`` writes it last), kept as it was."""
    from bench.load import SECTION

    old = out.read_text(encoding="utf-8") if out.exists() else ""
    start = old.find(SECTION)
    return "\n" + old[start:] if start >= 0 else ""


def _progress(what: str) -> None:
    print(f"… {what} done", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,50", help="comma-separated factors (default 1,10,50)")
    parser.add_argument("--postgres", default=None,
                        help="a PostGIS server URL (default: $DATABASE_URL when it is PostgreSQL); the benchmark "
                             f"drops and creates its own database {BENCH_DATABASE} there")
    parser.add_argument("--browser", action="store_true", help="measure Chromium draw times")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    print(run(scales, postgres=postgres_url(args.postgres), browser=args.browser, out=args.out))
    return 0
