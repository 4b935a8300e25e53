"""The benchmark's markdown: machine, load average, three tables (pages, maps, naive ratios) and the targets."""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bench.pages import PAGES

TARGET_MAP_BYTES = 1_000_000
TARGET_WARM_S = 0.3
TARGET_DRAW_S = 1.5
TARGET_FIRST_S, TARGET_FIRST_SCALE = 5.0, 50  # a page's first run on empty caches at 50× the sample
FLAT_GROWTH = 1.2  # "flat": the payload grows at most this much between the two largest scales


@dataclass
class Result:
    """What the ``load`` and ``pages`` jobs and the draw measured for one scale and backend."""

    scale: int
    backend: str
    load_s: float = 0.0
    records: int = 0
    disputes: int = 0
    pages: dict = field(default_factory=dict)
    draw: dict | None = None

    def page(self, name: str) -> dict:
        return self.pages["pages"][name]

    @property
    def district_bytes(self) -> int:
        return self.page("situation")["map_bytes"]

    @property
    def community_bytes(self) -> int:
        return self.pages["community"]["map_bytes"]


def _mem_total() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return "unknown"


def _s(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def _kb(v: int | None) -> str:
    return "–" if v is None else f"{v / 1024:,.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.3g}"


def _header(load: tuple, minutes: float) -> list[str]:
    before, after = (" / ".join(f"{v:.2f}" for v in avg) for avg in load)
    return [
        f"# Benchmark ({date.today().isoformat()})", "",
        f"Machine: {os.cpu_count()} CPUs, {_mem_total()} memory, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}. Load average (1/5/15 min) at the start {before}, "
        f"at the end {after}; the run took {minutes:.1f} min. Other work shared the machine, so times are noisy.", "",
    ]


def pages_table(results: list[Result]) -> list[str]:
    """Server seconds of every page: first run on empty caches / warm rerun on the app's caches."""
    names = list(PAGES)
    lines = ["## Server time per page (seconds: first run on empty caches / warm rerun on the app's caches)", "",
             "| scale | backend | records | disputes | load s | " + " | ".join(PAGES[n] for n in names)
             + " | 态势图 at a community | peak RSS MB |",
             "|" + "---|" * (len(names) + 7)]
    for r in results:
        cells = [f"{_s(r.page(n)['first_s'])} / {_s(r.page(n)['warm_s'])}" for n in names]
        comm = r.pages["community"]
        lines.append(f"| {r.scale}× | {r.backend} | {r.records:,} | {r.disputes:,} | {_s(r.load_s)} | "
                     + " | ".join(cells) + f" | {_s(comm['first_s'])} / {_s(comm['warm_s'])} | {r.pages['rss_mb']:,.0f} |")
    return lines + [""]


def maps_table(results: list[Result], naive: dict[int, dict]) -> list[str]:
    """The project beside the naive baseline, each figure also as a ratio project / naive."""
    lines = ["## Map and memory, project vs naive baseline (ratio = project / naive)", "",
             "| scale | backend | district map KB (naive; ratio) | community map KB (naive; ratio) | "
             "态势图 warm s (naive rerun s; ratio) | 态势图 first s (ratio) | draw s (naive; ratio) | "
             "time to map s | peak RSS MB (naive; ratio) |",
             "|" + "---|" * 9]
    for r in results:
        n = naive[r.scale]
        first, warm = r.page("situation")["first_s"], r.page("situation")["warm_s"]
        draw = (r.draw or {}).get("draw_s")
        markers = f"{n['markers']:,} markers" + ("" if n["markers"] == n["points"] else f" of {n['points']:,}")
        lines.append(
            f"| {r.scale}× | {r.backend} | {_kb(r.district_bytes)} ({_kb(n['district_bytes'])}, {markers}; "
            f"{_ratio(r.district_bytes, n['district_bytes'])}) | {_kb(r.community_bytes)} ({_kb(n['community_bytes'])}; "
            f"{_ratio(r.community_bytes, n['community_bytes'])}) | {_s(warm)} ({_s(n['server_s'])}; "
            f"{_ratio(warm, n['server_s'])}) | {_s(first)} ({_ratio(first, n['server_s'])}) | "
            f"{_s(draw)} ({_s(n['draw_s'])}; {_ratio(draw, n['draw_s'])}) | {_s((r.draw or {}).get('to_map_s'))} | "
            f"{r.pages['rss_mb']:,.0f} ({n['rss_mb']:,.0f}; {_ratio(r.pages['rss_mb'], n['rss_mb'])}) |")
    return lines + [""]


def payload_table(results: list[Result]) -> list[str]:
    """Bytes of every page's map at district scope (the page's default layers), per scale and backend."""
    names = list(PAGES)
    lines = ["## Map payload of every page (KB, district scope, the page's default layers)", "",
             "| scale | backend | " + " | ".join(PAGES[n] for n in names) + " |", "|" + "---|" * (len(names) + 2)]
    for r in results:
        lines.append(f"| {r.scale}× | {r.backend} | " + " | ".join(_kb(r.page(n)["map_bytes"]) for n in names) + " |")
    return lines + [""]


def _slowest_first(results: list[Result], scale: int) -> tuple[float, str] | None:
    runs = [(r.page(n)["first_s"], f"{PAGES[n]}, {r.backend}") for r in results if r.scale == scale for n in PAGES]
    return max(runs) if runs else None


def flatness(results: list[Result]) -> str:
    """How the district payload moves between the two largest scales, beside how the disputes move."""
    by_scale = {r.scale: r for r in results}
    sizes = ", ".join(f"{k}× {_kb(r.district_bytes)} KB" for k, r in sorted(by_scale.items()))
    if len(by_scale) < 2:
        return f"Sizes: {sizes}."
    small, large = (by_scale[k] for k in sorted(by_scale)[-2:])
    grows = large.district_bytes / small.district_bytes
    flat = "flat" if grows <= FLAT_GROWTH else "**not flat**"
    return (f"As disputes grow: {flat} (sizes {sizes}; from {small.scale}× to {large.scale}× the disputes grow "
            f"×{large.disputes / small.disputes:.1f} and the payload ×{grows:.2f}; it follows the units drawn, "
            "never the cases).")


def targets(results: list[Result]) -> list[str]:
    """Each issue-9 target, met or not, with the figures it rests on."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    sizes = [r.district_bytes for r in results]
    ten = [r for r in results if r.scale == 10]
    draws = [r.draw["draw_s"] for r in results if r.draw]
    lines = ["## Targets", "",
             f"- District map payload ≤ 1 MB: {verdict(max(sizes) <= TARGET_MAP_BYTES)} (largest {max(sizes) / 1e6:.2f} MB). "
             + flatness(results),
             f"- Warm rerun ≤ {TARGET_WARM_S} s at 10× (态势图): " + (
                 verdict(all(r.page('situation')['warm_s'] <= TARGET_WARM_S for r in ten)) + " ("
                 + ", ".join(f"{r.backend} {r.page('situation')['warm_s']:.2f} s" for r in ten) + ")"
                 if ten else "no 10× run.")]
    largest = max((r.page(n)["map_bytes"], f"{PAGES[n]}, {r.scale}×") for r in results for n in PAGES)
    lines.append(f"- Every page's map ≤ 1 MB: {verdict(largest[0] <= TARGET_MAP_BYTES)} (largest "
                 f"{largest[0] / 1e6:.2f} MB, {largest[1]})")
    slowest = _slowest_first(results, TARGET_FIRST_SCALE)
    lines.append(f"- First run of every page at {TARGET_FIRST_SCALE}× ≤ {TARGET_FIRST_S:.0f} s: " + (
        f"{verdict(slowest[0] <= TARGET_FIRST_S)} (slowest {slowest[0]:.2f} s, {slowest[1]})" if slowest
        else f"no {TARGET_FIRST_SCALE}× run."))
    lines.append(f"- Chromium draws the map within {TARGET_DRAW_S} s: "
                 + (f"{verdict(max(draws) <= TARGET_DRAW_S)} (slowest {max(draws):.2f} s)" if draws else "not measured."))
    return lines + [""]


def notes_section(naive: dict[int, dict], notes: list[str]) -> list[str]:
    from bench.naive import MARKER_CAP
    from bench.worker import NAIVE_DRAW_CAP

    lines = ["## How it was measured", "",
             "- Server time: the entry script `streamlit_app.py` in `streamlit.testing.v1.AppTest`, one page at a time "
             "(district scope unless said), the app's modules imported beforehand. First = caches emptied before the run, as on "
             "a freshly started server; warm = the faster of two reruns of the same session on the app's own caches "
             "(what a widget click costs). 态势图 at a community (军门社区) runs after the district pages, on the caches "
             "they left, as a user drilling in. Peak RSS is the maximum of that process, which ran every page and keeps "
             "every table cached; the naive process built one map, so the memory ratio is not like for like.",
             "- Map payload: the bytes st_folium hands to the browser for the 态势图 map (district scope, and 军门社区), "
             "Leaflet itself served as static files, as in the app.",
             "- Draw: `streamlit run` on the same database in Chromium (no internet); the page is opened once to warm the "
             "server, then again: draw = from the map's iframe appearing until Leaflet has drawn its first shape; time to "
             "map = from navigation to the same moment.",
             "- Naive baseline (bench/naive.py): read the tables, one folium Marker with a tooltip per dispute and compound, "
             "the raw community polygons, rendered on every run (no cache; its first run equals its rerun). Built once per "
             f"scale from the SQLite database; at most {MARKER_CAP:,} markers are built, so where fewer markers than "
             "points are shown the real naive map would be larger and slower still. It is drawn from a saved file "
             f"(its best case) and only up to {NAIVE_DRAW_CAP:,} markers; beyond that its draw takes minutes and is "
             "shown as –.",
             *[f"- {note}" for note in notes]]
    return lines + [""]


def render_table(results: list[Result], naive: dict[int, dict], notes: list[str], *, load: tuple,
                 minutes: float) -> str:
    """The whole RESULTS.md text."""
    return "\n".join(_header(load, minutes) + pages_table(results) + payload_table(results) + maps_table(results, naive)
                     + targets(results)
                     + notes_section(naive, notes))
