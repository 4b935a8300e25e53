"""The app's pages in Streamlit's AppTest: server time of a cold first run and of warm reruns, map payload.

Every page of ``streamlit_app.py`` (registered with ``st.navigation``) is opened through the real
entry script. A first run starts from empty Streamlit caches (as a freshly started server), the
warm reruns reuse the app's own ``st.cache_data`` / ``st.cache_resource`` entries, as a user's click
on a widget would. Nothing here is asserted on time; these are measurements.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.nav import PAGES as NAV_PAGES

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
MEASURED = ("overview", "situation", "renovation", "coverage", "disputes")
"""The pages people read (the data-management page is an editor's form, not measured)."""
PAGES: dict[str, str] = {path: title for path, title in NAV_PAGES if path in MEASURED}
"""url_path -> menu title of the measured pages of ``streamlit_app.py``, in menu order (dashboard.nav)."""
HEADINGS = {"situation": "社区治理态势", "renovation": "老旧小区改造", "coverage": "网格与服务覆盖", "disputes": "矛盾纠纷"}
"""Words in the heading of pages that have one, to check that the page asked for is the page that ran."""
WARM_RUNS = 2
TIMEOUT_S = 1800


class PageFailed(RuntimeError):
    """A page raised while the benchmark ran it."""


def open_page(page: str, scope: str = "") -> AppTest:
    """An AppTest of the entry script set to open ``page`` (a url_path) at ``scope`` (a unit code)."""
    if page not in PAGES:
        raise ValueError(f"未知页面“{page}”，可选：{'、'.join(PAGES)}")
    from streamlit.util import calc_hash

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    # st.Page names a page by the hash of its url_path; AppTest.switch_page only accepts page files.
    at._page_hash = calc_hash(page)
    if scope:
        at.query_params["scope"] = scope
    return at


def timed_run(at: AppTest) -> float:
    """Seconds one run of the script takes (the server's work for one page view)."""
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise PageFailed("; ".join(e.message for e in at.exception)[:500])
    return elapsed


def import_app() -> None:
    """Import the pages' modules once, so that no page's first run pays for Python imports."""
    from dashboard.nav import pages

    pages()  # imports every page's module; builds st.Page objects, runs nothing


def clear_caches() -> None:
    """Empty the app's Streamlit caches, as a restarted server would have them."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def map_payload(at: AppTest) -> int:
    """Bytes (UTF-8) of what st_folium hands to the browser for the page's map (0 when there is none)."""
    maps = [e for e in at.get("component_instance") if "st_folium" in e.proto.component_name]
    return sum(len(m.proto.json_args.encode()) for m in maps)


def map_html(at: AppTest) -> dict:
    """The decoded st_folium arguments of the page's (first) map: ``script``, ``html``, ``header``, …"""
    maps = [e for e in at.get("component_instance") if "st_folium" in e.proto.component_name]
    return json.loads(maps[0].proto.json_args) if maps else {}


def page_times(page: str, scope: str = "", *, cold: bool = True) -> dict:
    """First and warm (the fastest of ``WARM_RUNS`` reruns: the least disturbed by other work) seconds,
    and map bytes, of one page; ``cold``: the first run starts from empty caches."""
    if cold:
        clear_caches()
    at = open_page(page, scope)
    first = timed_run(at)
    warm = min(timed_run(at) for _ in range(WARM_RUNS))
    title = at.title[0].value if at.title else ""
    if HEADINGS.get(page, "") not in title:
        raise PageFailed(f"页面“{page}”未打开，标题为“{title}”")
    return {"first_s": first, "warm_s": warm, "map_bytes": map_payload(at)}
