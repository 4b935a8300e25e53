"""No table on any page holds a cell that reads 「None」, 「nan」, 「NaT」 or 「empty」, and none is drawn empty.

Table cells are drawn on a canvas in the browser, so a scan of the page text cannot see them: this sweep
reads every ``st.dataframe`` / ``st.table`` element's data in AppTest instead, on every page and view, at
the district, at 军门社区 and at one of its grids (the pages of writers logged in as the district admin).
"""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from tests.demo_accounts import clear_forced_change

JUNMEN = "350102004001"
JUNMEN_GRID = "350102004001001"
SCOPES = ("", JUNMEN, JUNMEN_GRID)
BAD_TEXT = frozenset({"none", "nan", "nat", "empty", "null", "<na>"})
"""Cell texts that are a missing value shown raw (compared lower-case and stripped)."""

PAGES = [  # (module under dashboard.pages, session key of its view switch, view, logged in as admin)
    ("overview", None, None, False),
    ("situation", None, None, False),
    ("party", None, None, False),
    *[("renovation", "reno_view", v, v == "台账编辑") for v in ("改造进度", "改造计划", "台账编辑")],
    *[("coverage", "cov_view", v, v in ("网格人员", "站点维护", "网格边界编辑"))
      for v in ("网格标准", "拓扑检查", "服务覆盖", "新增站点选址", "网格人员", "站点维护", "网格边界编辑")],
    ("disputes", None, None, False),
    *[("cases", "case_view", v, True) for v in ("我的待办", "受理新案件", "案件办理")],
    *[("data_admin", "da_view", v, True) for v in ("导入", "导出", "模板", "操作日志", "账号", "参考图层")],
]


def _open_case(url: str) -> dict[str, str]:
    """案件办理 showing an open case (its 办结日期 is missing)."""
    with create_engine(url).connect() as conn:
        code = conn.execute(text("SELECT code FROM disputes WHERE closed_on IS NULL ORDER BY code LIMIT 1")).scalar()
    return {"case_code": code}


def _upload(url: str) -> dict[str, object]:
    """导入 previewing 军门社区's compounds as exported, one of them in an unknown grid (a problem row)."""
    from dashboard.data_admin.import_view import UPLOAD_KEY
    from data.exchange import export_layer
    from data.store import engine_for
    from geo.scope import Scope

    table = pd.read_csv(io.BytesIO(export_layer(engine_for(url), "compounds", Scope(JUNMEN), "csv")), dtype=str)
    table.loc[0, "所属网格"] = "350102004001999"
    return {UPLOAD_KEY: ("junmen.csv", table.to_csv(index=False).encode("utf-8"))}


def _reference_upload(url: str) -> dict[str, object]:
    """参考图层 previewing two generated roads, the second a point (a problem row with missing cells)."""
    from dashboard.data_admin.reference_view import UPLOAD_KEY

    features = [{"type": "Feature", "properties": {"名称": "测试路", "等级": None},
                 "geometry": {"type": "LineString", "coordinates": [[119.295, 26.085], [119.297, 26.086]]}},
                {"type": "Feature", "properties": {"名称": None, "等级": "支路"},
                 "geometry": {"type": "Point", "coordinates": [119.296, 26.085]}}]
    data = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")
    return {UPLOAD_KEY: ("roads.geojson", data)}


EXTRA_STATE = {("cases", "案件办理"): _open_case, ("data_admin", "导入"): _upload,
               ("data_admin", "参考图层"): _reference_upload,
               ("renovation", "改造进度"): lambda _: {"reno_lagging": True, "detail_compound": f"{JUNMEN}C001"}}
"""(page, view) -> session state that brings its tables up (a chosen case, an uploaded file), from the db URL."""


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> str:
    from data.store import engine_for, open_store
    from geo.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('cells') / 'app.db'}"
    open_store(Settings.load({"database_url": url}))
    clear_forced_change(url)
    engine_for(url).dispose()
    return url


def _page():
    import importlib

    import streamlit as st

    importlib.import_module(f"dashboard.pages.{st.session_state['_sweep_page']}").render()


def bad_cells(frame: pd.DataFrame, placeholder: str = "") -> list[tuple[object, str, object]]:
    """(row, column, value) of every cell that reads like a raw missing value: a text 「None」, 「nan」 …, or a
    missing value (None, NaN, NaT, NA) unless the table draws those as ``placeholder`` (st.dataframe's argument;
    without one the browser draws 「None」)."""
    shown = placeholder.strip().lower() not in BAD_TEXT | {""}
    found = []
    for column in frame.columns:
        for row, value in frame[column].items():
            missing = value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))
            if (missing and not shown) or (isinstance(value, str) and value.strip().lower() in BAD_TEXT):
                found.append((row, column, value))
    return found


def table_faults(at: AppTest) -> list[str]:
    """One line per faulty table of the page: empty, or its first bad cells."""
    faults = []
    frames = [(f"dataframe {i}", d.value, d.proto.placeholder) for i, d in enumerate(at.dataframe)]
    frames += [(f"table {i}", t.value, "") for i, t in enumerate(at.table)]
    for name, frame, placeholder in frames:
        if len(frame) == 0:
            faults.append(f"{name} ({list(frame.columns)[:4]}): no rows")
        elif cells := bad_cells(frame, placeholder):
            faults.append(f"{name}: {len(cells)} bad cells, e.g. {cells[:3]}")
    return faults


def open_page(url: str, monkeypatch, page: str, view_key: str | None, view: str | None, admin: bool,
              scope: str) -> AppTest:
    from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY
    from data.accounts import get_account
    from data.store import engine_for

    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(_page, default_timeout=180)
    at.session_state["_sweep_page"] = page
    if view_key:
        at.session_state[view_key] = view
    for key, value in EXTRA_STATE.get((page, view), lambda _: {})(url).items():
        at.session_state[key] = value
    if admin:
        at.session_state[AUTH_KEY] = get_account(engine_for(url), "admin")
        at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)
    if scope:
        at.query_params["scope"] = scope
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.mark.parametrize(("page", "view_key", "view", "admin"), PAGES,
                         ids=[f"{p}-{v}" if v else p for p, _, v, _ in PAGES])
def test_no_table_shows_a_raw_missing_value_or_no_rows(sample_db, monkeypatch, page, view_key, view, admin):
    faults = {}
    seen = 0
    for scope in SCOPES:
        at = open_page(sample_db, monkeypatch, page, view_key, view, admin, scope)
        if view_key:  # the view asked for is the one drawn
            assert at.session_state[view_key] == view
        seen += len(at.dataframe) + len(at.table)
        if lines := table_faults(at):
            faults[scope or "district"] = lines
    assert not faults, faults
    assert seen or (page, view) in NO_TABLES, f"{page} {view}: no table at any scope — is the sweep still reading it?"


NO_TABLES = {("renovation", "台账编辑"), ("coverage", "站点维护"), ("coverage", "网格边界编辑"),
             ("cases", "受理新案件"), ("data_admin", "导出")}
"""(page, view) that hold no table at any of the three scopes: forms, maps and download buttons only."""


def test_the_sweep_sees_a_none_cell_an_empty_table_and_a_nat(monkeypatch):
    def app():
        import pandas as pd
        import streamlit as st

        st.dataframe(pd.DataFrame({"a": [1.0, None], "b": ["x", "x"]}))
        st.dataframe(pd.DataFrame({"a": []}))
        st.table(pd.DataFrame({"d": [pd.NaT], "e": ["empty"]}))
        st.dataframe(pd.DataFrame({"a": ["—", "ok"]}))

    at = AppTest.from_function(app).run()
    faults = table_faults(at)
    assert len(faults) == 3
    assert "no rows" in faults[1] and "'a'" in faults[0] and "'e'" in faults[2] and "'d'" in faults[2]


def test_the_planners_size_table_writes_counts_with_thousands_separators(sample_db, monkeypatch):
    at = open_page(sample_db, monkeypatch, "renovation", "reno_view", "改造计划", False, "")
    sizes = next(d.value for d in at.dataframe if "每个小区户数" in d.value.columns)
    households = [int(t.replace(",", "")) for t in sizes["户数"]]
    assert sizes["户数"].tolist() == [f"{n:,}" for n in households]
    assert any(n >= 1000 for n in households) and any("," in t for t in sizes["户数"])  # 「9,687」, not 「9687」
    shown = {m.label: m.value for m in at.metric}
    assert sum(households) == int(shown["受益户数"].replace(",", ""))


def test_the_disputes_ranking_writes_counts_with_thousands_separators(sample_db, monkeypatch):
    """The 每千户纠纷数排名 shows 户数 「54,961」 (it showed 「54961」) and the rate with two decimals."""
    import json

    at = open_page(sample_db, monkeypatch, "disputes", None, None, False, "")
    ranking = next(d for d in at.dataframe if "每千户件数" in d.value.columns)
    assert (ranking.value["户数"] >= 1000).any()
    config = json.loads(ranking.proto.columns)
    assert config["户数"]["type_config"]["format"] == "localized"
    assert config["受理件数"]["type_config"]["format"] == "localized"
    assert config["每千户件数"]["type_config"]["format"] == "%.2f"
