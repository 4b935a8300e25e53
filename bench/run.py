"""Measure load, server time, map payload, draw time and memory at several scales, beside a naive baseline.

``python -m bench [--scales 1,10,50] [--postgres URL] [--browser] [--out bench/RESULTS.md]``

Per scale and backend: load (migrate + write_frames), the district view built the way the app
builds it (read_layer of the tables, indicators/totals, build_map + add_layers with the street
choropleth, the dispute overlay and the community outlines) first and repeated (no Streamlit cache:
the repeat is the cost of an uncached rerun), the map HTML size of the district view and of one
community view, peak RSS, and with ``--browser`` the time Chromium takes to draw a saved inline map.
The naive baseline is what a user would write: one folium CircleMarker per dispute and compound and the
raw community polygons in a GeoJson, no aggregation (capped at ``NAIVE_CAP`` markers).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd

from bench.scale import scaled_sample
from data.store import engine_for, migrate, read_layer, write_frames
from geo.rollup import Period, data_as_of, indicators, station_completeness, totals, with_ratios
from geo.scope import DISTRICT, Scope
from geo.settings import Settings
from geo.vocab import OPEN_DISPUTE_STATUSES, Level
from layers.assets import configure_assets, streamlit_mode
from layers.mapbuild import add_layers, build_map

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).with_name("RESULTS.md")
NAIVE_CAP = 20_000
PERIOD_DAYS = 30
STATIC_PREFIX = "/app/static/vendor"  # as dashboard.mapview
INDICATOR = "disputes_per_1000"  # the app's default choropleth indicator
TABLES = ("streets", "communities", "grids", "compounds", "stations", "disputes")


@dataclass
class Row:
    scale: int
    backend: str
    records: int = 0
    disputes: int = 0
    load_s: float = 0.0
    first_s: float = 0.0
    warm_s: float = 0.0
    district_bytes: int = 0
    community_bytes: int = 0
    draw_s: float | None = None
    rss_mb: float = 0.0
    naive_build_s: float = 0.0
    naive_bytes: int = 0
    naive_markers: int = 0
    naive_capped: bool = False
    naive_draw_s: float | None = None
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ the project's way


def _filter_disputes(disputes: pd.DataFrame, period: Period) -> pd.DataFrame:
    """As dashboard.mapview._disputes_to_show: reported in the period or still open at its end."""
    reported = pd.to_datetime(disputes["reported_on"])
    in_period = reported.between(pd.Timestamp(period.start), pd.Timestamp(period.end))
    still_open = disputes["status"].isin([s.value for s in OPEN_DISPUTE_STATUSES])
    return disputes[in_period | (still_open & (reported <= pd.Timestamp(period.end)))]


def scope_view(engine, scope: Scope, settings: Settings, asset_mode: str) -> folium.Map:
    """The map of ``scope`` built as the app builds it (district: streets coloured, community outlines)."""
    level = scope.level
    key = {Level.DISTRICT: "street_code", Level.COMMUNITY: "grid_code"}[level]
    child_table = {Level.DISTRICT: "streets", Level.COMMUNITY: "grids"}[level]
    layers = {name: read_layer(engine, name, scope) for name in TABLES}
    period = Period.last_days(data_as_of(layers["disputes"]), PERIOD_DAYS)
    table = indicators(layers["grids"], layers["compounds"], layers["stations"], layers["disputes"],
                       key=key, period=period, overdue_days=settings.overdue_days)
    complete = station_completeness(layers["stations"], layers["communities"], key, grids=layers["grids"])
    table = with_ratios(table.join(complete, how="left").fillna(0).astype(int))
    totals(table)
    children = layers[child_table]
    children = children.assign(value=children["code"].map(table[INDICATOR]).astype(float))
    m = build_map(children.total_bounds, basemap="none", asset_mode=asset_mode, prefix=STATIC_PREFIX,
                  settings=settings)
    frames = {"choropleth": children, "disputes": _filter_disputes(layers["disputes"], period),
              "communities": layers["communities"]}
    units = layers["communities"] if level is Level.DISTRICT else layers["grids"]
    add_layers(m, frames, list(frames), level=level.value, today=period.end, overdue_days=settings.overdue_days,
               units=units, value_column="value", value_label="每千户纠纷数", value_format="{:.1f}",
               palette="YlOrRd")
    return m


def html_of(m: folium.Map) -> str:
    return m.get_root().render()


# ------------------------------------------------------------------ the naive way


def naive_map(frames: dict[str, gpd.GeoDataFrame], cap: int = NAIVE_CAP) -> tuple[folium.Map, int, bool]:
    """One CircleMarker per dispute and compound, raw community polygons, no aggregation; (map, markers, capped)."""
    minx, miny, maxx, maxy = frames["streets"].total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None)
    folium.GeoJson(frames["communities"][["code", "name", "geometry"]].to_json(), name="社区").add_to(m)
    points = pd.concat([frames["compounds"][["name", "geometry"]],
                        frames["disputes"][["summary", "geometry"]].rename(columns={"summary": "name"})])
    capped = len(points) > cap
    points = points.iloc[:cap]
    for name, geom in zip(points["name"], points.geometry):
        folium.CircleMarker([geom.y, geom.x], radius=4, tooltip=str(name)).add_to(m)
    return m, len(points), capped


# ------------------------------------------------------------------ browser


def browser_missing() -> str | None:
    from tests.browser import chromium_missing

    return chromium_missing()


def draw_time(html_path: Path, timeout_ms: int = 60_000) -> float | None:
    """Seconds from page.goto of the saved file until the first ``path.leaflet-interactive`` exists."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROME_ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
            ctx.route("**/*", lambda r: r.abort() if r.request.url.startswith(("http:", "https:"))
                      else r.continue_())
            page = ctx.new_page()
            start = time.perf_counter()
            page.goto(html_path.as_uri(), wait_until="commit", timeout=timeout_ms)
            page.wait_for_selector("path.leaflet-interactive", state="attached", timeout=timeout_ms)
            return time.perf_counter() - start
        except Exception as exc:  # a map that never draws is reported as missing, not fatal
            print(f"draw of {html_path.name} failed: {exc!s:.200}", file=sys.stderr)
            return None
        finally:
            browser.close()


# ------------------------------------------------------------------ one measurement


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure(frames: dict[str, gpd.GeoDataFrame], scale: int, backend: str, url: str, *, browser: bool,
            workdir: Path, naive: tuple | None) -> Row:
    """Load ``frames`` into ``url`` and measure one row; ``naive`` = (build_s, bytes, markers, capped, draw_s)."""
    settings = Settings()
    row = Row(scale, backend, records=sum(len(f) for f in frames.values()), disputes=len(frames["disputes"]))
    engine = engine_for(url)
    t = time.perf_counter()
    migrate(engine)
    write_frames(engine, frames, actor="bench", action="sample")
    row.load_s = time.perf_counter() - t
    mode = streamlit_mode(settings.asset_mode)
    for attr in ("first_s", "warm_s"):
        t = time.perf_counter()
        m = scope_view(engine, DISTRICT, settings, mode)
        setattr(row, attr, time.perf_counter() - t)
    row.district_bytes = len(html_of(m))
    community = Scope(sorted(frames["communities"]["code"])[0])
    row.community_bytes = len(html_of(scope_view(engine, community, settings, mode)))
    if browser:
        path = workdir / f"district_{backend}_{scale}.html"
        path.write_text(html_of(scope_view(engine, DISTRICT, settings, "inline")), encoding="utf-8")
        row.draw_s = draw_time(path)
    row.naive_build_s, row.naive_bytes, row.naive_markers, row.naive_capped, row.naive_draw_s = naive
    row.rss_mb = _rss_mb()
    engine.dispose()
    return row


def measure_naive(frames: dict[str, gpd.GeoDataFrame], *, browser: bool, workdir: Path, scale: int) -> tuple:
    t = time.perf_counter()
    m, markers, capped = naive_map(frames)
    html = html_of(m)
    build_s = time.perf_counter() - t
    draw_s = None
    if browser:
        path = workdir / f"naive_{scale}.html"
        configure_assets(m, "inline")  # same offline Leaflet as the project's map, so it can draw at all
        path.write_text(html_of(m), encoding="utf-8")
        draw_s = draw_time(path)
    return build_s, len(html), markers, capped, draw_s


# ------------------------------------------------------------------ report


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.3f}"


def _s(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def _kb(v: int) -> str:
    return f"{v / 1024:,.0f}"


def render_table(rows: list[Row], skipped: list[str]) -> str:
    head = [
        f"# Benchmark ({date.today().isoformat()})",
        "",
        f"Machine: {os.cpu_count()} CPUs, {_mem_total()} memory, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}.",
        "",
        "Server times are direct calls of the functions the app uses (no Streamlit cache; \"repeat\" is "
        "an uncached second build). Sizes are `len(m.get_root().render())` in the app's asset mode. "
        "Peak RSS is the process maximum so far (it never goes down). Ratios are project / naive baseline "
        "(one folium CircleMarker per dispute and compound, raw community polygons), measured in the same run.",
        "",
        "| scale | backend | records | disputes | load s | district first s | district repeat s | "
        "district map KB | community map KB | draw s | peak RSS MB | naive build s | naive map KB | "
        "naive markers | naive draw s | build ratio | size ratio | draw ratio |",
        "|" + "---|" * 18,
    ]
    lines = []
    for r in rows:
        markers = f"{r.naive_markers:,}" + (" (capped)" if r.naive_capped else "")
        lines.append(
            f"| {r.scale}× | {r.backend} | {r.records:,} | {r.disputes:,} | {r.load_s:.2f} | {r.first_s:.2f} | "
            f"{r.warm_s:.2f} | {_kb(r.district_bytes)} | {_kb(r.community_bytes)} | {_s(r.draw_s)} | "
            f"{r.rss_mb:,.0f} | {r.naive_build_s:.2f} | {_kb(r.naive_bytes)} | {markers} | {_s(r.naive_draw_s)} | "
            f"{_ratio(r.first_s, r.naive_build_s)} | {_ratio(r.district_bytes, r.naive_bytes)} | "
            f"{_ratio(r.draw_s, r.naive_draw_s)} |")
    notes = [""]
    if any(r.naive_capped for r in rows):
        notes.append(f"The naive baseline is capped at {NAIVE_CAP:,} markers per map; where it says "
                     "\"(capped)\" the real naive map would be larger and slower than shown.")
    notes += [f"- {s}" for s in skipped]
    return "\n".join(head + lines + notes) + "\n"


def run(scales: list[int], *, postgres: str | None = None, browser: bool = False,
        out: Path = DEFAULT_OUT, seed: int | None = None) -> str:
    """Run the benchmark, write the markdown table to ``out`` and return it."""
    skipped: list[str] = []
    if not postgres:
        skipped.append("PostGIS skipped: no TEST_DATABASE_URL and no --postgres URL given.")
    if browser and (why := browser_missing()):
        skipped.append(f"Browser draw time skipped: {why}.")
        browser = False
    elif not browser:
        skipped.append("Browser draw time not measured (run with --browser).")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gulou-bench-") as tmp:
        workdir = Path(tmp)
        for scale in scales:
            frames = scaled_sample(scale) if seed is None else scaled_sample(scale, seed)
            naive = measure_naive(frames, browser=browser, workdir=workdir, scale=scale)
            rows.append(measure(frames, scale, "SQLite", f"sqlite:///{workdir / f'bench_{scale}.db'}",
                                browser=browser, workdir=workdir, naive=naive))
            print(f"… {scale}× SQLite done", file=sys.stderr, flush=True)
            if postgres:
                _reset_postgres(postgres)
                rows.append(measure(frames, scale, "PostGIS", postgres, browser=browser, workdir=workdir,
                                    naive=naive))
                print(f"… {scale}× PostGIS done", file=sys.stderr, flush=True)
    text = render_table(rows, skipped)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text


def _reset_postgres(url: str) -> None:
    """Drop the project's tables (a fresh schema per scale)."""
    from sqlalchemy import text

    engine = engine_for(url)
    with engine.begin() as conn:
        for name in ("audit_log", *reversed(TABLES), "alembic_version"):
            conn.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,50", help="comma-separated factors (default 1,10,50)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostGIS URL (default $TEST_DATABASE_URL); its tables are dropped and rebuilt")
    parser.add_argument("--browser", action="store_true", help="measure Chromium draw time")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    print(run(scales, postgres=args.postgres, browser=args.browser, out=args.out))
    return 0
