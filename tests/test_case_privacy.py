"""Case details by role (issue 15, 个人信息保护法): who sees a dispute's address, summary, the case list and its export.

- the rule itself (``geo.access``) on a table of accounts and scopes;
- every page in AppTest, logged out, at district, sub-district, community and grid scope: no dispute address,
  summary or case number anywhere — texts, tables, the map's HTML — and no case-list download;
- a role × page matrix: who sees the case list and the addresses;
- exports (数据管理, the library, the command line, the case-list workbook): refused without the right, audited
  with it; the briefing carries no case detail.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest
from google.protobuf import text_format
from streamlit.testing.v1 import AppTest

from data.store import engine_for, read_layer
from geo.access import (
    Account,
    case_detail_note,
    case_rows_visible,
    disputes_for,
    may_see_case_details,
    redact_case_details,
    require_case_details,
    strip_case_details,
    system_operator,
)
from geo.errors import PermissionDenied
from geo.scope import Scope
from geo.vocab import Role
from tests.conftest import sqlite_copy

DONGJIE, NANJIE = "350102004000", "350102005000"
JUNMEN, DONGJIE_OTHER = "350102004001", "350102004003"  # 军门社区 and another community of 东街街道
JUNMEN_GRID = "350102004001001"
SCOPES = {"district": "", "sub-district": DONGJIE, "community": JUNMEN, "grid": JUNMEN_GRID}
CASE_CODE = re.compile(r"JF\d{7}")
CASE_LIST = "下载 Excel（案件清单）"

ADMIN = Account("admin", Role.DISTRICT)
STREET = Account("dongjie", Role.STREET, DONGJIE, scope_name="东街街道")
COMMUNITY = Account("junmen", Role.COMMUNITY, JUNMEN, scope_name="军门社区")


# ---------------------------------------------------------------- the rule (pure)

@pytest.mark.parametrize("account, scope, allowed", [
    (None, "", False), (None, JUNMEN, False), (None, JUNMEN_GRID, False),
    (ADMIN, "", True), (ADMIN, NANJIE, True), (ADMIN, JUNMEN_GRID, True),
    (system_operator("命令行"), JUNMEN, True),
    (STREET, DONGJIE, True), (STREET, JUNMEN, True), (STREET, JUNMEN_GRID, True),
    (STREET, "", False), (STREET, NANJIE, False), (STREET, "350102005001", False),
    (COMMUNITY, JUNMEN, True), (COMMUNITY, JUNMEN_GRID, True),
    (COMMUNITY, "", False), (COMMUNITY, DONGJIE, False), (COMMUNITY, DONGJIE_OTHER, False),
    (COMMUNITY, "350102004003001", False),
    (Account("old", Role.DISTRICT, active=False), "", False),
    (Account("old", Role.COMMUNITY, JUNMEN, active=False), JUNMEN, False),
])
def test_who_may_see_case_details(account, scope, allowed):
    assert may_see_case_details(account, Scope(scope)) is allowed
    note = case_detail_note(account, Scope(scope))
    assert (note == "") is allowed
    if allowed:
        assert require_case_details(account, Scope(scope)) is account
    else:
        assert "统计汇总" in note
        with pytest.raises(PermissionDenied, match="案件"):
            require_case_details(account, Scope(scope))


def test_the_out_of_scope_note_names_the_accounts_own_scope():
    assert "军门社区" in case_detail_note(COMMUNITY, Scope(DONGJIE))
    assert "登录" in case_detail_note(None, Scope(JUNMEN))


def _cases() -> pd.DataFrame:
    return pd.DataFrame({"code": ["A", "B", "C"], "street_code": [DONGJIE, DONGJIE, NANJIE],
                         "community_code": [JUNMEN, DONGJIE_OTHER, "350102005001"],
                         "grid_code": [JUNMEN_GRID, DONGJIE_OTHER + "001", "350102005001001"],
                         "address": ["甲1座1单元", "乙2号", "丙3号"], "summary": ["噪音", "漏水", "欠薪"],
                         "compound_code": ["K1", None, None], "status": ["received"] * 3})


def test_stripping_drops_the_detail_columns_and_leaves_the_input_alone():
    cases = _cases()
    stripped = strip_case_details(cases)
    assert not {"address", "summary", "compound_code"} & set(stripped.columns)
    assert list(stripped["code"]) == ["A", "B", "C"] and "address" in cases
    assert disputes_for(None, Scope(JUNMEN), cases).columns.tolist() == stripped.columns.tolist()
    assert disputes_for(COMMUNITY, Scope(JUNMEN), cases) is cases


@pytest.mark.parametrize("account, visible", [
    (None, [False, False, False]), (ADMIN, [True, True, True]),
    (STREET, [True, True, False]), (COMMUNITY, [True, False, False]),
])
def test_rows_are_redacted_one_by_one_outside_the_accounts_scope(account, visible):
    cases = _cases()
    assert list(case_rows_visible(account, cases)) == visible
    redacted = redact_case_details(account, cases)
    assert [a is not None for a in redacted["address"]] == visible
    assert [s is not None for s in redacted["summary"]] == visible
    assert list(cases["address"]) == ["甲1座1单元", "乙2号", "丙3号"]  # the input is untouched


# ---------------------------------------------------------------- helpers for the pages

def _page():
    import importlib
    import os

    importlib.import_module(f"dashboard.pages.{os.environ['PRIVACY_TEST_PAGE']}").render()


@pytest.fixture(scope="module")
def sample_url(filled_sample_db) -> str:
    return filled_sample_db


@pytest.fixture(scope="module")
def details(sample_url) -> dict:
    """What must never reach a logged-out visitor: every dispute address not also part of a station's or
    compound's name or address (public facts: "东大路128号大院"), every summary, and the case numbers (by pattern)."""
    engine = engine_for(sample_url)
    cases = read_layer(engine, "disputes")
    public = [read_layer(engine, n)[c] for n in ("stations", "compounds") for c in ("name", "address")]
    other = " ".join(pd.concat(public).dropna())
    addresses = {a for a in cases["address"].dropna() if a not in other}
    return {"addresses": addresses, "summaries": set(cases["summary"].dropna()), "cases": cases}


def open_page(url: str, monkeypatch, page: str, scope: str = "", account: str | None = None,
              state: dict | None = None, params: dict | None = None) -> AppTest:
    """Page ``page`` (module of dashboard.pages) at ``scope``, logged in as ``account`` (None: logged out)."""
    from dashboard.auth import AUTH_KEY, LOGIN_AT_KEY
    from data.accounts import get_account

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PRIVACY_TEST_PAGE", page)
    at = AppTest.from_function(_page, default_timeout=180)
    for key, value in {"scope": scope, **(params or {})}.items():
        if value:
            at.query_params[key] = value
    for key, value in (state or {}).items():
        at.session_state[key] = value
    if account:  # as after the first login, once the initial password has been changed
        at.session_state[AUTH_KEY] = replace(get_account(engine_for(url), account), must_change_password=False)
        at.session_state[LOGIN_AT_KEY] = datetime.now(UTC)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def page_text(at: AppTest) -> str:
    """Everything the page sends to the browser: every element's text, every table's cells, the map's HTML."""
    parts = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if getattr(node, "type", "") == "component_instance":
            parts.append(json.dumps(json.loads(proto.json_args or "{}"), ensure_ascii=False))
        elif type(node).__name__ == "Dataframe":
            parts.append(node.value.to_csv())
        else:
            parts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(parts)


def downloads(at: AppTest) -> list[str]:
    """The labels of every download button on the page."""
    return [n.proto.label for n in _walk(at._tree)
            if getattr(n, "type", "") == "download_button" or type(n).__name__ == "DownloadButton"]


def found_in(text: str, needles: set[str]) -> set[str]:
    """The strings of ``needles`` that occur in ``text`` (fast for thousands of addresses in a page of HTML)."""
    if not needles:
        return set()
    lengths = sorted({len(n) for n in needles})
    ends = re.compile("[" + re.escape("".join({n[-1] for n in needles})) + "]")
    hits = set()
    for m in ends.finditer(text):
        end = m.end()
        hits.update(text[end - n:end] for n in lengths if text[end - n:end] in needles)
    return hits


def leaked(at: AppTest, details: dict) -> dict[str, list[str]]:
    text = page_text(at)
    return {k: sorted(v)[:5] for k, v in {
        "addresses": found_in(text, details["addresses"]),
        "summaries": {s for s in details["summaries"] if s in text},
        "case numbers": set(CASE_CODE.findall(text)),
        "case-list downloads": {d for d in downloads(at) if "案件清单" in d or d.startswith("下载 矛盾纠纷")},
    }.items() if v}


def _busiest_compound(details: dict, scope: str) -> str:
    """The compound of ``scope`` with the most disputes (its detail panel lists the cases nearby)."""
    cases = details["cases"]
    inside = cases[cases["grid_code"].map(Scope(scope).contains)]
    return inside["compound_code"].dropna().value_counts().index[0]


def anonymous_views(details: dict, scope: str) -> list[tuple[str, dict, dict]]:
    """(page, session state, query parameters) of every page and view a visitor can open."""
    views = [("overview", {}, {}), ("overview", {}, {"screen": "big", "theme": "disputes"}),
             ("situation", {"layer_compounds": True, "layer_stations": True, "layer_grids": True}, {}),
             ("disputes", {}, {}), ("disputes", {}, {"period": "365"})]
    views += [("renovation", {"reno_view": "改造进度", "detail_compound": _busiest_compound(details, scope)}, {}),
              ("renovation", {"reno_view": "改造计划"}, {}), ("renovation", {"reno_view": "台账编辑"}, {})]
    views += [("coverage", {"cov_view": v}, {}) for v in ("网格标准", "拓扑检查", "服务覆盖", "新增站点选址")]
    views += [("data_admin", {"da_view": "导入", "imp_layer": "disputes"}, {}),
              ("data_admin", {"da_view": "导出", "exp_layer": "disputes"}, {})]
    views += [("data_admin", {"da_view": v}, {}) for v in ("模板", "操作日志", "账号")]
    return views


# ---------------------------------------------------------------- (1) a logged-out visitor, every page

@pytest.mark.parametrize("level", list(SCOPES))
def test_a_logged_out_visitor_sees_no_case_detail_on_any_page(sample_url, details, monkeypatch, level):
    scope = SCOPES[level]
    seen = {}
    for page, state, params in anonymous_views(details, scope):
        at = open_page(sample_url, monkeypatch, page, scope, state=state, params=params)
        found = leaked(at, details)
        if found:
            seen[f"{page} {state} {params}"] = found
    assert not seen, seen


def test_the_leak_check_would_see_a_case_list(sample_url, details, monkeypatch):
    """The check above is not blind: logged in, the same collection finds the addresses, numbers and download."""
    at = open_page(sample_url, monkeypatch, "disputes", JUNMEN, account="junmen")
    found = leaked(at, details)
    assert {"addresses", "summaries", "case numbers", "case-list downloads"} <= set(found), found


def test_the_anonymous_disputes_page_says_why_and_keeps_the_aggregates(sample_url, monkeypatch):
    at = open_page(sample_url, monkeypatch, "disputes", JUNMEN)
    assert any("未登录，仅显示统计汇总" in i.value for i in at.info)
    assert {"受理", "办结", "调解成功率", "超期未结"} <= {m.label for m in at.metric}
    assert any("重复发生地址" in m.value for m in at.markdown)
    assert not any("编号" in df.value.columns for df in at.dataframe)
    args = map_html(at)
    assert "纠纷" in args and "件" in args and "gl-cluster" not in args  # counts per grid, no case points


def map_html(at: AppTest) -> str:
    maps = [n for n in _walk(at._tree) if getattr(n, "type", "") == "component_instance"
            and "st_folium" in n.proto.component_name]
    assert len(maps) == 1
    return json.dumps(json.loads(maps[0].proto.json_args), ensure_ascii=False)


# ---------------------------------------------------------------- (2) role × page

MATRIX = [  # account, scope, sees case details
    (None, JUNMEN, False),
    ("admin", "", True), ("admin", JUNMEN, True),
    ("dongjie", DONGJIE, True), ("dongjie", JUNMEN, True), ("dongjie", "", False), ("dongjie", NANJIE, False),
    ("junmen", JUNMEN, True), ("junmen", JUNMEN_GRID, True), ("junmen", DONGJIE, False),
    ("junmen", DONGJIE_OTHER, False),
]


def _in_scope_addresses(details: dict, scope: str) -> set[str]:
    cases = details["cases"]
    inside = cases["grid_code"].map(Scope(scope).contains)
    return set(cases.loc[inside, "address"]) & details["addresses"]


@pytest.mark.parametrize("account, scope, allowed", MATRIX)
def test_disputes_page_case_list_by_role_and_scope(sample_url, details, monkeypatch, account, scope, allowed):
    at = open_page(sample_url, monkeypatch, "disputes", scope, account=account, params={"period": "365"})
    lists = [df.value for df in at.dataframe if "编号" in df.value.columns]
    assert (CASE_LIST in downloads(at)) is allowed
    assert bool(lists) is allowed
    shown = found_in(page_text(at), _in_scope_addresses(details, scope))
    assert bool(shown) is allowed
    notes = [i.value for i in at.info if "统计汇总" in i.value]
    assert bool(notes) is not allowed
    if account and not allowed:
        assert "辖区" in notes[0]
    if lists:
        assert set(lists[0]["地址"]) <= _in_scope_addresses(details, scope) | set(details["cases"]["address"])


@pytest.mark.parametrize("account, scope, allowed", [m for m in MATRIX if m[1] in (JUNMEN, JUNMEN_GRID, DONGJIE_OTHER)])
def test_situation_map_draws_cases_only_for_those_who_may_see_them(sample_url, details, monkeypatch, account,
                                                                   scope, allowed):
    at = open_page(sample_url, monkeypatch, "situation", scope, account=account, params={"period": "365"})
    html = map_html(at)
    assert ("gl-cluster" in html) is allowed  # individual cases, clustered
    assert bool(found_in(html, details["addresses"])) is allowed
    assert bool(CASE_CODE.search(html)) is allowed
    assert any("按网格计数" in c.value for c in at.caption) is not allowed


@pytest.mark.parametrize("account, scope, allowed", [
    (None, JUNMEN, False), ("junmen", JUNMEN, True), ("junmen", DONGJIE, False), ("dongjie", DONGJIE, True),
    ("dongjie", NANJIE, False), ("admin", "", True),
])
def test_data_admin_export_of_disputes_by_role_and_scope(sample_url, monkeypatch, account, scope, allowed):
    at = open_page(sample_url, monkeypatch, "data_admin", scope, account=account,
                   state={"da_view": "导出", "exp_layer": "disputes"})
    assert any(d.startswith("下载 矛盾纠纷_") for d in downloads(at)) is allowed
    assert any("只能由辖区内的登录账号导出" in i.value for i in at.info) is not allowed
    other = open_page(sample_url, monkeypatch, "data_admin", scope, account=account,
                      state={"da_view": "导出", "exp_layer": "compounds"})
    assert any(d.startswith("下载 老旧小区_") for d in downloads(other))  # other layers stay open to all


@pytest.mark.parametrize("account, scope, allowed", [
    (None, JUNMEN, False), ("junmen", JUNMEN, True), ("dongjie", JUNMEN, True), ("junmen", DONGJIE_OTHER, False),
])
def test_renovation_detail_lists_nearby_cases_only_in_scope(sample_url, details, monkeypatch, account, scope,
                                                            allowed):
    at = open_page(sample_url, monkeypatch, "renovation", scope, account=account,
                   state={"reno_view": "改造进度", "detail_compound": _busiest_compound(details, scope)})
    nearby = [df.value for df in at.dataframe if "距离（米）" in df.value.columns and "类别" in df.value.columns]
    counted = [df.value for df in at.dataframe if "件数" in df.value.columns and "状态" in df.value.columns]
    assert bool(nearby) is allowed and bool(counted) is not allowed
    if allowed:  # addresses of the cases inside the account's own scope; any nearby case outside it blanked
        addresses = set(nearby[0]["地址"]) - {"（辖区外，不显示）"}
        own = _in_scope_addresses(details, _account_scope(account))
        assert addresses and addresses <= own | (set(details["cases"]["address"]) - details["addresses"])


def _account_scope(name: str) -> str:
    return {"admin": "", "dongjie": DONGJIE, "junmen": JUNMEN}[name]


# ---------------------------------------------------------------- (3) exports

@pytest.fixture
def db_url(filled_sample_db, tmp_path, monkeypatch) -> str:
    """A private copy of the sample database (exports write audit entries)."""
    return sqlite_copy(filled_sample_db, tmp_path, monkeypatch)


def export_audits(url: str) -> pd.DataFrame:
    from data.audit_query import AuditFilter, query_audit

    return query_audit(engine_for(url), AuditFilter(actions=("export",)))


def _account(url: str, name: str):
    from data.accounts import get_account

    return get_account(engine_for(url), name)


@pytest.mark.parametrize("who, scope", [(None, JUNMEN), (None, ""), ("junmen", DONGJIE), ("junmen", DONGJIE_OTHER),
                                        ("dongjie", NANJIE), ("dongjie", "")])
def test_a_disputes_export_outside_the_accounts_scope_is_refused_in_chinese(db_url, who, scope):
    from data.exchange import case_workbook, export_layer

    account = _account(db_url, who) if who else None
    engine = engine_for(db_url)
    with pytest.raises(PermissionDenied, match="案件明细"):
        export_layer(engine, "disputes", Scope(scope), "csv", account=account)
    with pytest.raises(PermissionDenied, match="案件"):
        case_workbook(engine, account, Scope(scope), {"案件清单": pd.DataFrame({"地址": ["x"]})})
    assert export_audits(db_url).empty


@pytest.mark.parametrize("who, scope", [("junmen", JUNMEN), ("junmen", JUNMEN_GRID), ("dongjie", DONGJIE),
                                        ("admin", "")])
def test_an_in_scope_disputes_export_has_the_details_and_is_audited(db_url, who, scope):
    from data.exchange import export_layer
    from data.store import data_version

    engine = engine_for(db_url)
    version = data_version(engine)
    data = export_layer(engine, "disputes", Scope(scope), "csv", account=_account(db_url, who))
    table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    expected = read_layer(engine, "disputes", Scope(scope))
    assert {"地址", "简要情况"} <= set(table.columns) and len(table) == len(expected)
    assert set(table["地址"]) == set(expected["address"])
    log = export_audits(db_url)
    assert len(log) == 1 and log.iloc[0]["actor"] == who and log.iloc[0]["table_name"] == "disputes"
    after = json.loads(log.iloc[0]["after"])
    assert after == {"layer": "disputes", "what": "矛盾纠纷", "scope": scope or "350102000000", "format": "csv",
                     "rows": len(expected)}
    assert data_version(engine) == version  # an export changes no data: the pages' caches stay


def test_other_layers_export_without_an_account_and_without_audit(db_url):
    from data.exchange import export_layer

    data = export_layer(engine_for(db_url), "compounds", Scope(JUNMEN), "csv")
    assert len(pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")) > 0
    assert export_audits(db_url).empty


def test_a_deactivated_account_still_logged_in_cannot_export(db_url):
    from data.accounts import deactivate
    from data.exchange import export_layer

    junmen = _account(db_url, "junmen")
    deactivate(engine_for(db_url), _account(db_url, "admin"), "junmen")
    with pytest.raises(PermissionDenied):
        export_layer(engine_for(db_url), "disputes", Scope(JUNMEN), "csv", account=junmen)  # the session's copy
    assert export_audits(db_url).empty


def test_the_case_list_workbook_is_audited_with_its_rows(db_url):
    import openpyxl

    from data.exchange import case_workbook

    table = pd.DataFrame({"编号": ["JF2600001", "JF2600002"], "地址": ["甲", "乙"]})
    data = case_workbook(engine_for(db_url), _account(db_url, "junmen"), Scope(JUNMEN),
                         {"案件清单": table, "重复发生地址": pd.DataFrame({"地址": []})})
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["案件清单", "重复发生地址"]
    log = export_audits(db_url)
    assert len(log) == 1 and json.loads(log.iloc[0]["after"])["rows"] == 2
    assert json.loads(log.iloc[0]["after"])["what"] == "案件清单"


def test_the_data_admin_exporter_checks_and_audits_as_the_logged_in_account(db_url):
    from dashboard.data_admin.transfer_view import exporter

    engine = engine_for(db_url)
    with pytest.raises(PermissionDenied):
        exporter(engine, "disputes", Scope(JUNMEN), "geojson", "wgs84")()
    data = exporter(engine, "disputes", Scope(JUNMEN), "geojson", "wgs84", _account(db_url, "junmen"))()
    features = json.loads(data)["features"]
    assert features and "地址" in features[0]["properties"]
    assert export_audits(db_url).iloc[0]["actor"] == "junmen"


def test_the_command_line_exports_everything_as_the_system_operator_and_audits_it(db_url, tmp_path):
    from data.audit_query import readable_audit
    from data.cli import main

    out = tmp_path / "纠纷.csv"
    code = main(["--database-url", db_url, "export", "disputes", "--format", "csv", "-o", str(out),
                 "--who", "区数据局"])
    assert code == 0
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert "地址" in table and len(table) == len(read_layer(engine_for(db_url), "disputes"))
    log = export_audits(db_url)
    assert len(log) == 1 and log.iloc[0]["actor"] == "区数据局"
    line = readable_audit(log).to_string()
    assert "导出" in line


def test_the_briefing_carries_no_case_detail(filled_sample_db, details, monkeypatch):
    import pypdf

    from data.briefing import briefing_pdf, briefing_xlsx
    from tests.test_overview_page import briefing_for

    for scope in (JUNMEN, DONGJIE, ""):
        b = briefing_for(filled_sample_db, monkeypatch, scope)
        book = pd.read_excel(io.BytesIO(briefing_xlsx(b)), sheet_name=None)
        pages = pypdf.PdfReader(io.BytesIO(briefing_pdf(b))).pages
        text = "\n".join([frame.to_csv() for frame in book.values()] + [p.extract_text() for p in pages])
        assert not found_in(text, details["addresses"])
        assert not {s for s in details["summaries"] if s in text} and not CASE_CODE.search(text)

