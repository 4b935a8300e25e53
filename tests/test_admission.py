"""Page runs per process: at most ``page_runs`` at once, the rest wait their turn; the entry point uses it."""
from __future__ import annotations

import threading
import time

from dashboard import admission
from dashboard.admission import page_run_slot


def _crowd(limit: int, n: int, hold_s: float = 0.05) -> tuple[int, list[int]]:
    """``n`` threads each hold a slot for ``hold_s``: the most inside at once, and the order they got in."""
    inside, most, order = 0, 0, []
    lock = threading.Lock()
    started = threading.Barrier(n)

    def work(i: int) -> None:
        nonlocal inside, most
        started.wait()
        time.sleep(0.002 * i)  # arrive in order
        with page_run_slot(limit):
            with lock:
                inside += 1
                most = max(most, inside)
                order.append(i)
            time.sleep(hold_s)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return most, order


def test_no_more_than_the_limit_run_at_once_and_the_others_in_arrival_order():
    most, order = _crowd(2, 8)
    assert most == 2 and sorted(order) == list(range(8))
    assert order[:2] == [0, 1] and order[-1] in (6, 7)


def test_zero_means_no_limit():
    most, _ = _crowd(0, 6, hold_s=0.1)
    assert most == 6


def test_a_run_that_waited_too_long_runs_anyway(monkeypatch):
    monkeypatch.setattr(admission, "WAIT_S", 0.05)
    with page_run_slot(1) as first:
        with page_run_slot(1) as second:
            assert first is True and second is False
    with page_run_slot(1) as again:  # the slot came back, the failed wait took none
        assert again is True


def test_every_page_runs_inside_a_slot_of_the_configured_size(filled_sample_db, monkeypatch):
    import contextlib

    import dashboard.faults as faults
    from bench.pages import open_page

    seen = []

    @contextlib.contextmanager
    def recording(limit):
        seen.append(limit)
        yield True

    monkeypatch.setattr(faults, "page_run_slot", recording)
    monkeypatch.setenv("DATABASE_URL", filled_sample_db)
    monkeypatch.setenv("PAGE_RUNS", "3")
    at = open_page("situation").run()
    assert not at.exception and seen == [3]


def test_the_served_app_neither_watches_its_sources_nor_collects_after_every_run():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none" and config["runner"]["postScriptGC"] is False
