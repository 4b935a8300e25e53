"""At most a few page runs at a time in one process; the others wait their turn, oldest first.

Streamlit runs every session's page in its own thread, and one interpreter runs one thread at a time. When
forty people open the link in the same minute, forty threads take turns every few milliseconds: each run
takes as long as all of them together, and the server's own network loop (health checks, websocket
messages) waits behind every one of them. Letting ``page_runs`` (a setting) run at once and queueing the
rest gives the same total work in the same time, but the first sessions are done early, the median wait
halves and the process keeps answering its health check.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

WAIT_S = 60.0
"""A run that waited this long runs anyway (a stuck run must not hold the page forever)."""
_LOCK = threading.Lock()
_SLOTS: dict[int, threading.Semaphore] = {}


def _slots(limit: int) -> threading.Semaphore:
    with _LOCK:
        if limit not in _SLOTS:
            _SLOTS[limit] = threading.Semaphore(limit)
        return _SLOTS[limit]


@contextlib.contextmanager
def page_run_slot(limit: int) -> Iterator[bool]:
    """Hold one of ``limit`` slots of this process while the block runs (``limit`` < 1: no limit); yields
    whether a slot was held (False after waiting WAIT_S in vain)."""
    if limit < 1:
        yield False
        return
    slots = _slots(limit)
    held = slots.acquire(timeout=WAIT_S)
    try:
        yield held
    finally:
        if held:
            slots.release()
