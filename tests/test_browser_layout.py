"""What a person sees in Chromium: KPI cards and alerts never cut by 「…」 at office and phone sizes; on a phone
the scope is chosen without the sidebar, cards sit two to a row and nothing scrolls the page sideways."""
from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, browser_app, browser_page, wait_idle

VIEWPORTS = ((1366, 768), (1440, 900), (1920, 1080), (390, 844))
PAGES = (("", "治理概况"), ("disputes", "调解成功率"))

CUT = """() => {
  const out = [];
  const sel = "[data-testid=stMetric], [data-testid=stMetric] *, [data-testid=stMain] [data-testid=stPageLink] *";
  for (const e of document.querySelectorAll(sel)) {
    const text = (e.innerText || "").trim();
    if (!text || !e.clientWidth) continue;
    const cs = getComputedStyle(e);  // wider than its box: clipped here or by an ancestor, with or without 「…」
    if (e.scrollWidth > e.clientWidth + 1 || (cs.textOverflow === "ellipsis" && cs.whiteSpace === "nowrap"
        && e.scrollWidth > e.clientWidth) || text.includes("…")) out.push(text.slice(0, 40));
  }
  return out;
}"""
"""Text elements inside cards and the overview's alert links whose text is cut off (clipped or ending in 「…」)."""

BOXES = """() => [...document.querySelectorAll("[data-testid=stMain] [data-testid=stMetric]")]
  .map(e => { const r = e.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top), Math.round(r.width)]; })"""


def _open(page, base: str, path: str, marker: str) -> None:
    page.goto(f"{base}/{path}", wait_until="domcontentloaded")
    page.get_by_text(marker).first.wait_for(timeout=180_000)
    page.locator("[data-testid=stMain] [data-testid=stMetric]").nth(5).wait_for(timeout=60_000)
    wait_idle(page)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with browser_app(tmp_path_factory.mktemp("layout")) as (base, _db):
        yield base


@pytest.mark.parametrize("width, height", VIEWPORTS)
def test_no_card_or_alert_text_is_cut(app, width, height):
    with browser_page(width, height) as (page, _):
        for path, marker in PAGES:
            _open(page, app, path, marker)
            assert page.locator("[data-testid=stMain] [data-testid=stMetric]").count() >= 6
            if not path:  # the overview's alerts are page links; at least one must be there to be checked
                assert page.locator("[data-testid=stMain] [data-testid=stPageLink]").count() >= 3
            assert page.evaluate(CUT) == [], f"cut at {width}×{height} on /{path}"
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"i19_H1_{path or 'overview'}_{width}x{height}.png"))


def test_phone_chooses_scope_in_the_page_with_cards_two_to_a_row(app):
    with browser_page(390, 844) as (page, _):
        _open(page, app, "", "治理概况")
        assert not page.locator("[data-testid=stSidebar]").is_visible() or \
            page.locator("[data-testid=stSidebar]").bounding_box()["x"] < 0  # the sidebar starts folded away
        boxes = page.evaluate(BOXES)
        lefts = sorted({left for left, _, _ in boxes})
        assert len(lefts) == 2, boxes  # two columns of cards
        assert all(w < 390 / 2 for _, _, w in boxes), boxes
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # no sideways page scroll
        page.get_by_role("button", name="范围：鼓楼区").click()
        page.locator("[data-testid=stPopoverBody] [data-testid=stSelectbox]").first.click()
        page.get_by_role("option", name="东街街道").click()
        page.get_by_role("heading", name="东街街道 · 总览").wait_for(timeout=60_000)
        assert "scope=350102004000" in page.url
        assert page.get_by_role("button", name="范围：东街街道").is_visible()
        wait_idle(page)
        page.screenshot(path=str(ARTIFACTS / "i19_H1_overview_dongjie_390x844.png"))


def test_wide_screens_hide_the_phone_scope_picker(app):
    with browser_page(1366, 768) as (page, _):
        _open(page, app, "", "治理概况")
        assert not page.get_by_role("button", name="范围：鼓楼区").is_visible()
        assert page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first.is_visible()
        tops = {top for _, top, _ in page.evaluate(BOXES)[:4]}
        assert len(tops) == 1  # the first four cards (党建引领, four to a row) share a row


BIG_CUT = """() => {
  const out = [];
  for (const box of document.querySelectorAll(".bs-rank-box"))  // the ranking fits its column: nothing to scroll
    if (box.scrollWidth > box.clientWidth + 1) out.push("ranking " + box.scrollWidth + ">" + box.clientWidth);
  for (const v of document.querySelectorAll(".bs-tile .v"))  // a figure stays on one line
    if (v.getClientRects().length && v.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(v).fontSize))
      out.push("tile " + v.innerText);
  return out;
}"""


@pytest.mark.parametrize("width, height", [(1366, 768), (1920, 1080)])
def test_big_screen_ranking_and_tiles_fit(app, width, height):
    """The big screen's party theme (7 ranking columns, 「63/69 个社区」) fits an office screen as well as the wall."""
    with browser_page(width, height) as (page, _):
        page.goto(f"{app}/?screen=big&theme=party", wait_until="domcontentloaded")
        page.locator(".bs-rank").first.wait_for(timeout=180_000)
        wait_idle(page)
        assert page.locator(".bs-tile").count() >= 7
        assert page.evaluate(BIG_CUT) == [], f"cut at {width}×{height}"


@pytest.mark.parametrize("width, height, folded", [(1366, 768, False), (390, 844, True)])
def test_half_width_map_legend_open_on_an_office_screen_folded_on_a_phone(app, width, height, folded):
    """The overview's map is narrower than 600 px at 1366 (half the page), yet a leader sees its classes at once;
    on a phone the legend starts folded so it does not hide the map."""
    with browser_page(width, height) as (page, _):
        _open(page, app, "", "治理概况")
        frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']").first
        legend = frame.locator(".gl-legend").first
        legend.wait_for(timeout=120_000)
        page.wait_for_timeout(500)
        map_width = frame.locator(".leaflet-container").first.bounding_box()["width"]
        classes = legend.get_attribute("class") or ""
        assert ("gl-collapsed" in classes) is folded, (map_width, classes)
        if not folded:
            assert map_width < 600  # the case this test is about: a half-width map on an office screen
