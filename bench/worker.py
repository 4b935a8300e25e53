"""One measurement in its own process, so that its peak memory is its own: ``python -m bench.worker JOB …``.

Jobs (each prints one JSON object on its last stdout line):

``load``   write ``scaled_sample(scale)`` into an empty database (migrate + write_frames); seconds, counts.
``pages``  every page of the app in AppTest at district scope (first run on cold caches, warm reruns),
           then the situation page at one community (caches as the district pages left them), map
           payloads, and the process's peak RSS.
``naive``  the naive baseline read from the database and built at district and community scope,
           its HTML sizes, its server seconds, its peak RSS and (``--browser``) its draw time.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

COMMUNITY = "350102004001"
"""军门社区 (东街街道): present at every scale (copy 0 keeps the real codes)."""
NAIVE_DRAW_CAP = 10_000
"""The naive map is drawn in Chromium only up to this many markers (beyond, it takes minutes)."""


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(scale: int, db_url: str) -> dict:
    """Seconds to migrate an empty database and write the scaled sample into it, and the record counts."""
    from bench.scale import scaled_sample
    from data.store import engine_for, migrate, write_frames

    frames = scaled_sample(scale)
    engine = engine_for(db_url)
    start = time.perf_counter()
    migrate(engine)
    counts = write_frames(engine, frames, actor="bench", action="sample")
    load_s = time.perf_counter() - start
    engine.dispose()
    return {"load_s": load_s, "records": sum(counts.values()), "disputes": counts["disputes"]}


def pages(db_url: str) -> dict:
    """Every page at district scope and the situation page at one community, through the entry script."""
    os.environ["DATABASE_URL"] = db_url
    from bench.pages import PAGES, import_app, page_times

    import_app()
    out: dict = {"pages": {page: page_times(page) for page in PAGES}}
    out["community"] = page_times("situation", COMMUNITY, cold=False)  # a user drilling in on a running server
    out["rss_mb"] = peak_rss_mb()
    return out


def naive(db_url: str, workdir: Path, browser: bool) -> dict:
    """The naive map built from the database (read included, as nothing is cached), and its sizes."""
    from bench.naive import build_and_render, community_frames, offline_html
    from data.store import engine_for, read_layer

    start = time.perf_counter()
    engine = engine_for(db_url)
    frames = {name: read_layer(engine, name) for name in ("communities", "compounds", "disputes")}
    html, _, markers = build_and_render(frames)
    out = {"server_s": time.perf_counter() - start, "district_bytes": len(html.encode()), "markers": markers,
           "points": len(frames["compounds"]) + len(frames["disputes"])}
    del html
    out["community_bytes"] = len(build_and_render(community_frames(frames, COMMUNITY))[0].encode())
    out["draw_s"] = None
    if browser and markers <= NAIVE_DRAW_CAP:
        from bench.draw import file_draw

        path = workdir / "naive.html"
        path.write_text(offline_html(frames), encoding="utf-8")
        out["draw_s"] = file_draw(path)
    out["rss_mb"] = peak_rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("job", choices=("load", "pages", "naive"))
    parser.add_argument("--db", required=True, help="database URL")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("."))
    parser.add_argument("--browser", action="store_true")
    args = parser.parse_args(argv)
    if args.job == "load":
        result = load(args.scale, args.db)
    elif args.job == "pages":
        result = pages(args.db)
    else:
        result = naive(args.db, args.workdir, args.browser)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
