"""The disputes map and export: flat district payload, escaped addresses, neutralised formulas, the page."""
from __future__ import annotations

import io

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from geo.disputes import case_table
from layers.mapbuild import add_layers, build_map
from tests.test_layers import TODAY, XSS, disputes, hand_built_frames


@pytest.fixture
def frames():
    return hand_built_frames()


def district_map_html(frames, n: int) -> str:
    m = build_map(frames["streets"].total_bounds, asset_mode="url", prefix="/app/static/vendor")
    add_layers(m, {"streets": frames["streets"], "disputes": disputes(n)}, level="district", today=TODAY,
               units=frames["communities"])
    return m.get_root().render()


def test_district_map_size_does_not_grow_with_the_cases(frames):
    small, large = len(district_map_html(frames, 2_000)), len(district_map_html(frames, 20_000))
    assert abs(large - small) / small < 0.03, (small, large)


def test_a_hostile_address_is_escaped_in_the_community_map(frames):
    m = build_map(frames["communities"].total_bounds, asset_mode="url", prefix="/app/static/vendor")
    add_layers(m, {"communities": frames["communities"], "disputes": disputes(30)}, level="community", today=TODAY,
               case_details=True)
    html = m.get_root().render()
    assert XSS == "<img src=x onerror=alert(1)>"
    assert "<img src=x" not in html  # never raw
    # the popup carries the HTML-escaped text (&lt;img …&gt;), itself JSON-escaped inside the script
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html


def test_an_exported_formula_is_stored_as_text():
    from data.export import to_xlsx

    cases = disputes(3).assign(address=['=HYPERLINK("http://x")', "+1", "@SUM(A1)"])
    table = case_table(cases, {}, TODAY)
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx({"案件清单": table})))["案件清单"]
    header = [c.value for c in ws[1]]
    cells = [ws.cell(row=r, column=header.index("地址") + 1) for r in range(2, 5)]
    assert all(c.data_type == "s" and not str(c.value).startswith(("=", "+", "@")) for c in cells)
    assert any(str(c.value).endswith('=HYPERLINK("http://x")') for c in cells)


def _disputes_page():
    from dashboard.pages import disputes as page

    page.render()


@pytest.mark.parametrize("scope", ["", "350102004001"])
def test_the_page_renders_for_district_and_community(filled_sample_db, monkeypatch, scope):
    """Logged in as the district (the case list is for accounts in scope: tests/test_case_privacy.py)."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY
    from data.accounts import get_account
    from data.store import engine_for

    monkeypatch.setenv("DATABASE_URL", filled_sample_db)
    at = AppTest.from_function(_disputes_page, default_timeout=180)
    if scope:
        at.query_params["scope"] = scope
    admin = get_account(engine_for(filled_sample_db), "admin")
    at.session_state[AUTH_KEY] = replace(admin, must_change_password=False)  # as after the first login
    at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert {"受理", "办结", "调解成功率", "超期未结"} <= set(shown)
    assert any("编号" in df.value.columns for df in at.dataframe)
