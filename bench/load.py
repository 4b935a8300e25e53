"""Load: N concurrent sessions open a page through the nginx proxy in front of 1, 2 or 4 app processes.

``python -m bench.load [--processes 1,2,4] [--sessions 1,10,20,40,60] [--pages overview,situation]
[--postgres URL] [--out bench/RESULTS.md] [--no-write]``

Each configuration (SQLite with one process; with ``--postgres``, PostGIS with each process count) gets a
fresh database filled with the 1× sample and its own stack (deploy/stack.py). The stack is warmed (one
session per process per page), then for each page and each N, N sessions connect at once and send their
rerun at the same moment (bench.protocol: Streamlit's own websocket protocol, no browser). Measured per
round: each session's seconds from rerun_script to script_finished, errors, the CPU seconds all app
processes spent (per session), each app process's RSS afterwards, and the latency of ``/_stcore/health``
probed through the proxy every 0.1 s meanwhile. The table goes into the section
"## Load: concurrent sessions through the proxy" of bench/RESULTS.md (other sections are kept).
Measurements only: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import math
import os
import platform
import re
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit

from bench.protocol import SessionResult, connect_session, new_route, rerun_message, run_page

DEFAULT_OUT = Path(__file__).with_name("RESULTS.md")
SECTION = "## Load: concurrent sessions through the proxy"
SESSION_TIMEOUT_S = 120
HEALTH_EVERY_S = 0.1
HEALTH_TIMEOUT_S = 2.0
HEALTH_SLOW_S = 1.0
SUB_DISTRICT = "350102004000"  # 东街街道
PAGES = {  # benchmark name -> (url path, query string, label)
    "overview": ("", "", "总览 · 鼓楼区"),
    "situation": ("situation", f"scope={SUB_DISTRICT}", "态势图 · 东街街道"),
}
LOAD_DATABASE = "gulou_load"
"""The database the benchmark creates (and drops) on the PostgreSQL server named by ``--postgres``."""


# ---------------------------------------------------------------- the app processes, from /proc


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, comes first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from each thread's children list)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        kids += [int(k) for k in task.read_text().split()]
    return kids


def process_tree(pid: int, limit: int = 256) -> list[int]:
    """``pid`` and its live descendants (at most ``limit``)."""
    tree, todo = [], [pid]
    while todo and len(tree) < limit:
        current = todo.pop()
        tree.append(current)
        try:
            todo += _children(current)
        except OSError:  # it exited meanwhile
            pass
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds (user + system, reaped children included) spent so far by ``pids`` and their descendants."""
    ticks = 0
    for root in pids:
        for pid in process_tree(root):
            try:
                fields = _stat(pid)
            except OSError:
                continue
            ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds this (benchmark client) process has spent so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (VmRSS), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# ---------------------------------------------------------------- readiness probes and routes


def probe_health(url: str, path: str = "/_stcore/health", cookie: str | None = None) -> float | None:
    """Seconds one ``GET path`` through ``url`` took to answer 200 "ok"; None when it failed or took longer
    than HEALTH_TIMEOUT_S. A fresh connection each time, as a load balancer's check."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=HEALTH_TIMEOUT_S)
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers={"Cookie": f"gulou_route={cookie}"} if cookie else {})
        response = conn.getresponse()
        ok = response.status == 200 and response.read() == b"ok"
        return time.perf_counter() - started if ok else None
    except OSError:
        return None
    finally:
        conn.close()


class HealthProbe:
    """A thread that probes ``/_stcore/health`` through the proxy, one probe at a time HEALTH_EVERY_S apart,
    until stopped (at most ``limit_s``); ``stop()`` returns the latencies (None = failed). At least one probe."""

    def __init__(self, url: str, limit_s: float):
        self.url, self.limit_s = url, limit_s
        self.latencies: list[float | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit_s
        while True:
            self.latencies.append(probe_health(self.url))
            if self._stop.wait(HEALTH_EVERY_S) or time.monotonic() > deadline:
                return

    def start(self) -> HealthProbe:
        self._thread.start()
        return self

    def stop(self) -> list[float | None]:
        self._stop.set()
        self._thread.join(HEALTH_TIMEOUT_S + 5)
        return list(self.latencies)


def served_by(access_log: Path, routes: list[str], wait_s: float = 3.0) -> dict[str, str]:
    """route -> the app process (127.0.0.1:port) that nginx's access log says served the request carrying
    ``route=`` in its query; waits up to ``wait_s`` for lines nginx writes when a connection ends."""
    wanted, found = set(routes), {}
    deadline = time.monotonic() + wait_s
    while True:
        text = access_log.read_text(errors="replace") if access_log.exists() else ""
        for line in text.splitlines():
            hit = re.search(r"[?&]route=([0-9a-f]{32})\b.*? upstream=(.+?) rt=", line)
            if hit and hit.group(1) in wanted:
                found[hit.group(1)] = hit.group(2).split(",")[-1].strip()
        if len(found) == len(wanted) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def routes_per_process(stack, tries: int = 5) -> dict[str, str]:
    """One route cookie for each app process of ``stack`` (app address -> route), found by probing health
    with random routes and reading which process the access log says served each."""
    chosen: dict[str, str] = {}
    for _ in range(tries):
        routes = [new_route() for _ in range(8 * len(stack.apps))]
        for route in routes:
            probe_health(stack.url, f"/_stcore/health?route={route}", cookie=route)
        for route, app in served_by(stack.access_log, routes).items():
            chosen.setdefault(app, route)
        if set(chosen) >= set(stack.apps):
            break
    return chosen


# ---------------------------------------------------------------- one round


@dataclass
class RoundResult:
    """One round: ``n`` sessions opened ``page`` at once. ``cpu_s`` is what all app processes spent in the
    round, ``rss_mb`` each process's memory afterwards, ``health`` the probe latencies (None = failed),
    ``spread`` how many sessions each process served, ``client_cpu_s`` what the benchmark's own process
    (the clients and the prober) spent: it shares the machine's CPUs with the app."""

    page: str
    n: int
    sessions: list[SessionResult]
    cpu_s: float
    rss_mb: dict[str, float]
    health: list[float | None]
    spread: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0

    @property
    def errors(self) -> list[str]:
        return [s.error or "no result" for s in self.sessions if not s.ok]


async def _sessions(url: str, page_path: str, query: str, routes: list[str], timeout: float) -> list[SessionResult]:
    """All sessions connect first, then all send their rerun at once; every one is closed afterwards."""
    pairs = await asyncio.gather(*(connect_session(url, route) for route in routes))
    rerun = rerun_message(url, page_path, query)
    try:
        await asyncio.gather(*(run_page(ws, result, rerun, timeout) for result, ws in pairs if ws is not None))
    finally:
        await asyncio.gather(*(ws.close() for _, ws in pairs if ws is not None), return_exceptions=True)
    return [result for result, _ in pairs]


def load_round(stack, page: str, n: int, *, routes: list[str] | None = None,
               timeout: float = SESSION_TIMEOUT_S) -> RoundResult:
    """``n`` concurrent sessions open ``page`` (a key of PAGES) through ``stack``'s proxy (each with its own
    route cookie: ``routes`` or random ones), with CPU, memory and health probes measured around them."""
    page_path, query, _label = PAGES[page]
    routes = (routes or [])[:n] + [new_route() for _ in range(n - len(routes or []))]
    pids = [proc.pid for proc in stack.apps.values()]
    before, client_before = cpu_seconds(pids), own_cpu_seconds()
    probe = HealthProbe(stack.url, limit_s=timeout + 60).start()
    try:
        sessions = asyncio.run(_sessions(stack.url, page_path, query, routes, timeout))
    finally:
        health = probe.stop()
    cpu, client_cpu = cpu_seconds(pids) - before, own_cpu_seconds() - client_before
    rss = {app: rss_mb(proc.pid) for app, proc in stack.apps.items()}
    spread = Counter(served_by(stack.access_log, routes).values())
    return RoundResult(page, n, sessions, cpu, rss, health, dict(sorted(spread.items())), client_cpu)


def warm(stack, pages: list[str]) -> list[str]:
    """One session per process per page, so that every process's caches are filled; the errors seen."""
    routes = list(routes_per_process(stack).values())
    return [error for page in pages for error in load_round(stack, page, len(routes), routes=routes).errors]


def smoke_rounds(stack, n: int = 5, pages: tuple[str, ...] = ("overview", "situation")) -> list[RoundResult]:
    """For tests: ``n`` concurrent sessions on each page, the first ones routed so that every app process
    serves at least one."""
    routes = list(routes_per_process(stack).values())
    return [load_round(stack, page, max(n, len(routes)), routes=routes) for page in pages]


def problems(results: list[RoundResult]) -> list[str]:
    """What is wrong in ``results`` regardless of time: session errors, failed or missing health probes,
    CPU or memory not measured, an app process that served no session of a round that had enough for all."""
    found = []
    for r in results:
        found += [f"{r.page}: {error}" for error in r.errors]
        if not r.health or None in r.health:
            found.append(f"{r.page}: health probes {r.health}")
        if not r.cpu_s > 0 or not all(v > 0 for v in r.rss_mb.values()):
            found.append(f"{r.page}: CPU {r.cpu_s} s, RSS {r.rss_mb}")
        if r.n >= len(r.rss_mb) and set(r.spread) != set(r.rss_mb):
            found.append(f"{r.page}: sessions per process {r.spread} (processes {list(r.rss_mb)})")
    return found


# ---------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of ``values``; None when empty."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else None


def summarise(r: RoundResult) -> dict:
    """The figures of one round for the table."""
    times = [s.seconds for s in r.sessions if s.ok]
    answered = [h for h in r.health if h is not None]
    waited = [HEALTH_TIMEOUT_S if h is None else h for h in r.health]  # a failed probe waited its timeout
    return {
        "median_s": median(times) if times else None, "p90_s": percentile(times, 0.9),
        "max_s": max(times, default=None), "errors": len(r.errors),
        "cpu_per_session_s": r.cpu_s / r.n if r.n else None,
        "client_cpu_per_session_s": r.client_cpu_s / r.n if r.n else None, "rss_max_mb": max(r.rss_mb.values(), default=0.0),
        "health_p50_ms": _ms(percentile(waited, 0.5)), "health_p99_ms": _ms(percentile(waited, 0.99)),
        "health_max_ms": _ms(max(waited, default=None)), "probes": len(r.health),
        "health_slow": sum(h > HEALTH_SLOW_S for h in answered), "health_failed": len(r.health) - len(answered),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _f(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def table_row(backend: str, processes: int, r: RoundResult) -> str:
    """One Markdown table row for a round."""
    s = summarise(r)
    spread = " / ".join(str(v) for v in r.spread.values()) or "–"
    return (f"| {backend} | {processes} | {PAGES[r.page][2]} | {r.n} | {_f(s['median_s'])} | {_f(s['p90_s'])} | "
            f"{_f(s['max_s'])} | {s['errors']} | {_f(s['cpu_per_session_s'])} | {_f(s['client_cpu_per_session_s'])} | "
            f"{_f(s['rss_max_mb'], 0)} | "
            f"{_f(s['health_p50_ms'], 0)} / {_f(s['health_p99_ms'], 0)} / {_f(s['health_max_ms'], 0)} | "
            f"{s['health_slow']} / {s['health_failed']} of {s['probes']} | {spread} |")


TABLE_HEAD = ("| backend | processes | page | sessions | median s | p90 s | max s | errors | CPU s / session | "
              "client CPU s / session | RSS MB per process (max) | health p50 / p99 / max ms | "
              "health > 1 s / failed | sessions per process |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def _machine(load_before: tuple[float, ...], minutes: float) -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    load = " / ".join(f"{v:.2f}" for v in load_before)
    end = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"Machine: {os.cpu_count()} CPUs, {memory:.1f} GiB memory, Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}. Load average (1/5/15 min) at the start {load}, at the end "
            f"{end}; the run took {minutes:.1f} min. The clients and nginx ran on the same machine as the app.")


HOW = ("**How it was measured.** `python -m bench.load`. Each configuration starts its own stack "
       "(deploy/stack.py: nginx on loopback in front of N `streamlit run streamlit_app.py` processes) on a fresh "
       "database filled with the 1× sample. Before measuring, the stack is warmed: one session per app process "
       "per page, so that every process's caches are filled; the rounds therefore show warm-cache page runs of "
       "new sessions. A session is one Python websocket client speaking Streamlit's protocol (bench/protocol.py, "
       "no browser, nothing drawn) with its own random `gulou_route` cookie, so nginx spreads sessions over the "
       "processes as it spreads browsers (the last column: sessions each process served). In a round all N "
       "sessions connect, then send their `rerun_script` at the same moment; seconds = from sending it to the "
       "`script_finished` message. An error is an exception or error notice on the page, page not found, a "
       f"closed socket, or no `script_finished` within {SESSION_TIMEOUT_S} s. CPU = user + system seconds of "
       "all app processes (from /proc) over the round, divided by N; client CPU = the same for the benchmark's own "
       "process (all sessions' clients and the health prober), which shares the CPUs with the app. "
       "RSS = each app process after the round. "
       "Health = `GET /_stcore/health` through the proxy while the round ran, one probe at a time, 0.1 s after "
       f"the previous one answered (a new connection each, {HEALTH_TIMEOUT_S:.0f} s timeout; a failed probe "
       f"counts as {HEALTH_TIMEOUT_S:.0f} s in the percentiles; counts: slower than 1 s / failed, of all probes).")


def render_section(rows: list[str], notes: list[str], machine: str) -> str:
    """The Markdown section (heading to the end of the section)."""
    parts = [f"{SECTION} ({date.today().isoformat()})", machine, TABLE_HEAD + "\n" + "\n".join(rows)]
    if notes:
        parts.append("\n".join(f"- {note}" for note in notes))
    parts.append(HOW)
    return "\n\n".join(parts) + "\n"


def write_section(out: Path, section: str) -> None:
    """Replace the load section of ``out`` (up to the next ``## `` heading) with ``section``, or append it."""
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    start = re.search(rf"^{re.escape(SECTION)}.*$", text, re.M)
    if start is None:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section
    else:
        after = re.search(r"^## ", text[start.end():], re.M)
        end = start.end() + after.start() if after else len(text)
        text = text[: start.start()] + section + ("\n" + text[end:] if after else "")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- the benchmark


def fill(url: str) -> str:
    """Migrate ``url`` and fill it with the sample (before any app process starts); returns ``url``."""
    from data.store import engine_for, open_store
    from geo.settings import Settings

    open_store(Settings.load({"database_url": url}))
    engine_for(url).dispose()
    return url


def fresh_load_database(postgres: str) -> str:
    """The URL of a freshly created, empty PostGIS database LOAD_DATABASE on ``postgres``'s server."""
    from bench.run import fresh_postgres

    return fresh_postgres(postgres.rsplit("/", 1)[0] + "/" + LOAD_DATABASE)


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database named in ``url``."""
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def configurations(processes: list[int], postgres: str | None) -> list[tuple[str, int]]:
    """(backend, processes) to measure: SQLite with one process, then PostGIS with each count."""
    return [("SQLite", 1)] + ([("PostGIS", p) for p in processes] if postgres else [])


def measure(backend: str, processes: int, db_url: str, pages: list[str], counts: list[int], folder: Path,
            notes: list[str]) -> list[str]:
    """Table rows of one configuration: start its stack, warm it, run every round."""
    from deploy.stack import running_stack

    rows = []
    with running_stack(processes, db_url, folder) as stack:
        if warm_errors := warm(stack, pages):
            notes.append(f"{backend} × {processes}: errors while warming: {sorted(set(warm_errors))[:3]}")
        for page in pages:
            for n in counts:
                result = load_round(stack, page, n)
                rows.append(table_row(backend, processes, result))
                if result.errors:
                    notes.append(f"{backend} × {processes}, {PAGES[page][2]}, {n}: {sorted(set(result.errors))[:3]}")
                _progress(rows[-1])
    return rows


def run(processes: list[int], counts: list[int], pages: list[str], postgres: str | None) -> str:
    """Every configuration's rounds; the Markdown section."""
    notes = [] if postgres else ["PostGIS skipped: no --postgres URL given."]
    rows: list[str] = []
    load_before, started = os.getloadavg(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gulou-load-") as tmp:
        for i, (backend, count) in enumerate(configurations(processes, postgres)):
            folder = Path(tmp) / f"{i}-{backend}-{count}"
            url = fill(f"sqlite:///{folder}.db" if backend == "SQLite" else fresh_load_database(postgres))
            try:
                rows += measure(backend, count, url, pages, counts, folder, notes)
            finally:
                if backend == "PostGIS":
                    drop_database(url)
    return render_section(rows, notes, _machine(load_before, (time.perf_counter() - started) / 60))


def _progress(what: str) -> None:
    print(f"… {what}", file=sys.stderr, flush=True)


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4", help="PostGIS app process counts (default 1,2,4)")
    parser.add_argument("--sessions", default="1,10,20,40,60", help="concurrent sessions per round")
    parser.add_argument("--pages", default="overview,situation", help=f"pages, of {','.join(PAGES)}")
    parser.add_argument("--postgres", default=None, help="a PostGIS server URL (any database on it); the "
                        f"benchmark creates and drops the database {LOAD_DATABASE} there. Without it: SQLite only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-write", action="store_true", help="print the section, do not write --out")
    args = parser.parse_args(argv)
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    if unknown := [p for p in pages if p not in PAGES]:
        parser.error(f"unknown pages {unknown}; known: {', '.join(PAGES)}")
    section = run(_ints(args.processes), _ints(args.sessions), pages, args.postgres)
    if not args.no_write:
        write_section(args.out, section)
    print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
