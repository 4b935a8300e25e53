"""Saves started at the same moment from several threads, for the optimistic-locking tests of every editor."""
from __future__ import annotations

import threading
from collections.abc import Callable


def race(saves: list[Callable], before: Callable | None = None) -> list:
    """Run every save in its own thread, all released together; returns each one's result or exception.

    ``before``: called in each thread first (e.g. reading the row's version on the thread's own connection)
    and its result passed to that thread's save."""
    barrier, outcomes = threading.Barrier(len(saves)), [None] * len(saves)

    def run(i: int) -> None:
        try:
            seen = before() if before else None
            barrier.wait(timeout=30)
            outcomes[i] = saves[i](seen) if before else saves[i]()
        except Exception as exc:  # the test inspects whatever happened
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(saves))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return outcomes
