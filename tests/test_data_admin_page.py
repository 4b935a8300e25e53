"""The 数据管理 page in AppTest on the sample district: import preview and confirm by role and scope, export,
templates, the audit log and account administration. Uploads are injected through the page's session key."""
from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import pytest
from argon2 import PasswordHasher, profiles
from streamlit.testing.v1 import AppTest

from dashboard.data_admin import importing as imp
from dashboard.data_admin.import_view import UPLOAD_KEY
from dashboard.data_admin.transfer_view import exporter
from data import accounts
from data.accounts import get_account
from data.audit_query import AuditFilter, change_text, query_audit, readable_audit
from data.exchange import export_layer
from data.store import engine_for, open_store, read_layer
from geo.scope import Scope
from geo.settings import Settings
from tests.ingest_helpers import checksum

JUNMEN, NANJIE = "350102004001", "350102005000"


def _data_admin_page():
    from dashboard.pages import data_admin

    data_admin.render()


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    """The sample district with its demo accounts, built once; each test works on a copy."""
    path = tmp_path_factory.mktemp("da") / "sample.db"
    url = f"sqlite:///{path}"
    open_store(Settings.load({"database_url": url}))
    engine_for(url).dispose()
    return path


@pytest.fixture
def db_url(sample_file, tmp_path, monkeypatch) -> str:
    target = tmp_path / "app.db"
    with sqlite3.connect(sample_file) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def open_page(view: str, username: str | None = None, upload: tuple[str, bytes] | None = None,
              url: str | None = None) -> AppTest:
    """The page showing ``view``, logged in as ``username`` (None: logged out), with ``upload`` injected."""
    at = AppTest.from_function(_data_admin_page, default_timeout=120)
    at.session_state["da_view"] = view
    if username:
        at.session_state["auth_account"] = get_account(engine_for(url), username)
        at.session_state["auth_login_at"] = datetime.now(UTC)
    if upload:
        at.session_state[UPLOAD_KEY] = upload
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.success, *at.error, *at.info, *at.warning, *at.caption, *at.markdown])


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def confirm(at: AppTest):
    return at.button(key="imp_confirm")


def junmen_csv(url: str, new_name: str = "测试新村") -> bytes:
    """军门社区's compounds as exported (all updates), one renamed, plus one new compound."""
    table = pd.read_csv(io.BytesIO(export_layer(engine_for(url), "compounds", Scope(JUNMEN), "csv")), dtype=str)
    table.loc[0, "小区名称"] = "改名后的小区"
    new = table.iloc[[1]].copy()
    new["小区编码"], new["小区名称"] = f"{JUNMEN}C901", new_name
    return pd.concat([table, new]).to_csv(index=False).encode("utf-8")


def table_rows(url: str, layer: str = "compounds") -> pd.DataFrame:
    return pd.DataFrame(read_layer(engine_for(url), layer).drop(columns="geometry"))


def test_a_valid_file_previews_and_imports_for_the_dongjie_account(db_url):
    data = junmen_csv(db_url)
    before = table_rows(db_url)
    at = open_page("导入", "dongjie", ("junmen.csv", data), db_url)
    stored = int((before["community_code"] == JUNMEN).sum())
    assert metrics(at)["新增"] == "1" and metrics(at)["更新"] == str(stored) and metrics(at)["问题"] == "0"
    assert "将新增 1 条" in texts(at) and not confirm(at).disabled
    confirm(at).click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "导入完成：新增 1 条、更新" in texts(at)
    after = table_rows(db_url).set_index("code")
    assert len(after) == len(before) + 1 and after.loc[f"{JUNMEN}C901", "name"] == "测试新村"
    assert "改名后的小区" in set(after["name"])
    log = query_audit(engine_for(db_url), AuditFilter(actions=("import",)))
    assert log.iloc[0]["actor"] == "dongjie"


def test_a_bad_file_shows_every_problem_by_row_and_field_and_writes_nothing(db_url):
    table = pd.read_csv(io.BytesIO(junmen_csv(db_url)), dtype=str)
    table.loc[2, "户数"] = "-5"
    table.loc[4, "所属社区"] = "350102099099"
    engine = engine_for(db_url)
    digest = checksum(engine)
    at = open_page("导入", "dongjie", ("bad.csv", table.to_csv(index=False).encode()), db_url)
    report = next(df.value for df in at.dataframe if "问题" in df.value.columns)
    rows = set(zip(report["行号"], report["字段"]))
    assert (4, "户数") in rows and (6, "所属社区") in rows
    assert confirm(at).disabled and "未写入任何数据" in texts(at)
    assert checksum(engine) == digest


def test_logged_out_the_preview_works_but_confirm_is_disabled(db_url):
    digest = checksum(engine_for(db_url))
    at = open_page("导入", None, ("junmen.csv", junmen_csv(db_url)), db_url)
    assert metrics(at)["新增"] == "1" and confirm(at).disabled
    assert "确认导入需要登录" in texts(at)
    assert checksum(engine_for(db_url)) == digest


def test_dongjie_importing_a_nanjie_row_is_refused_and_nothing_changes(db_url):
    compounds = read_layer(engine_for(db_url), "compounds", Scope(NANJIE))
    csv = export_layer(engine_for(db_url), "compounds", Scope(compounds.iloc[0]["community_code"]), "csv")
    before = table_rows(db_url)
    at = open_page("导入", "dongjie", ("nanjie.csv", csv), db_url)
    assert "不在您的辖区" in texts(at)  # the hint; the store decides
    confirm(at).click().run()
    assert "导入被拒绝" in " ".join(e.value for e in at.error) and "东街街道" in " ".join(e.value for e in at.error)
    pd.testing.assert_frame_equal(table_rows(db_url), before)
    assert query_audit(engine_for(db_url), AuditFilter(actions=("denied",))).iloc[0]["actor"] == "dongjie"


def test_the_preview_is_cached_per_file_options_and_version(db_url):
    engine, cache = engine_for(db_url), {}
    options = imp.ImportOptions("compounds")
    data = junmen_csv(db_url)
    first = imp.cached_preview(engine, data, "a.csv", options, 1, cache)
    assert imp.cached_preview(engine, data, "a.csv", options, 1, cache) is first
    assert imp.cached_preview(engine, data, "a.csv", options, 2, cache) is not first
    skip_name = tuple((c, imp.SKIP if f == "name" else f) for c, f in imp.default_mapping(
        imp.source_columns(data, "a.csv", options), "compounds"))
    remapped = imp.cached_preview(engine, data, "a.csv", imp.ImportOptions("compounds", mapping=skip_name), 2, cache)
    assert not remapped.ok and "小区名称" in set(remapped.problems["字段"])


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_export_gives_a_file_geopandas_reads_back(db_url, fmt, tmp_path):
    at = open_page("导出", url=db_url)
    assert "导出范围：**鼓楼区**" in texts(at)
    data = exporter(engine_for(db_url), "compounds", Scope(JUNMEN), fmt, "wgs84")()
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(data)
    back = gpd.read_file(path)
    assert len(back) == len(read_layer(engine_for(db_url), "compounds", Scope(JUNMEN))) and "小区名称" in back


def test_templates_list_the_expected_columns(db_url):
    at = open_page("模板", url=db_url)
    notes = [df.value for df in at.dataframe]
    assert len(notes) == 6
    assert any(set(n["列名"]) >= {"小区名称", "户数"} and "必填" in set(n["是否必填"]) for n in notes)


def test_accounts_are_listed_for_admin_and_refused_to_dongjie(db_url):
    at = open_page("账号", "admin", url=db_url)
    table = next(df.value for df in at.dataframe if "用户名" in df.value.columns)
    assert {"admin", "dongjie", "junmen"} <= set(table["用户名"])
    at = open_page("账号", "dongjie", url=db_url)
    assert not at.dataframe and "只有区级管理员可以管理账号" in texts(at)


def test_admin_creates_an_account_from_the_page(db_url):
    at = open_page("账号", "admin", url=db_url)
    at.selectbox(key="acc_role").set_value(accounts.Role.COMMUNITY).run()
    at.selectbox(key="acc_scope_community").set_value(JUNMEN)
    at.text_input(key="acc_username").input("junmen2")
    at.text_input(key="acc_pw").input("a-long-password")
    at.text_input(key="acc_pw2").input("a-long-password")
    next(b for b in at.button if b.label == "创建账号").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "已创建账号“junmen2”" in texts(at)
    assert get_account(engine_for(db_url), "junmen2").scope_code == JUNMEN


def test_the_audit_log_shows_the_import_to_admin_and_own_entries_to_others(db_url):
    engine = engine_for(db_url)
    preview = imp.make_preview(engine, junmen_csv(db_url), "junmen.csv", imp.ImportOptions("compounds"))
    imp.commit(engine, preview, get_account(engine, "dongjie"))
    at = open_page("操作日志", "admin", url=db_url)
    log = next(df.value for df in at.dataframe if "变更内容" in df.value.columns)
    first = log.iloc[0]
    assert (first["账号"], first["操作"], first["数据表"]) == ("dongjie", "导入", "老旧小区")
    assert "文件：junmen.csv" in first["变更内容"] and "新增：1" in first["变更内容"]
    at = open_page("操作日志", "junmen", url=db_url)
    own = next(df.value for df in at.dataframe if "变更内容" in df.value.columns)
    assert set(own["账号"]) <= {"junmen"} and "只列出账号“junmen”本人" in texts(at)


def test_change_text_reads_before_and_after():
    assert change_text('{"status": "planned"}', '{"status": "under_way"}', "compounds") == \
        "改造状态：已纳入计划 → 施工中"
    assert change_text(None, '{"file": "a.csv", "inserted": 2}', "compounds") == "文件：a.csv；新增：2"
    frame = pd.DataFrame([{"id": 1, "at": datetime(2026, 11, 28, 16, 30, tzinfo=UTC), "actor": "a",
                           "action": "login", "table_name": "accounts", "record_code": "a", "before": None,
                           "after": '{"method": "password"}'}])
    assert readable_audit(frame).iloc[0]["时间（北京）"] == "2026-11-29 00:30:00"


def test_a_hidden_gcj02_offset_is_reported_and_one_click_revalidates_as_gcj02(db_url):
    csv = export_layer(engine_for(db_url), "compounds", Scope(JUNMEN), "csv", "gcj02")
    at = open_page("导入", "junmen", ("gcj.csv", csv), db_url)
    assert "坐标整体偏移" in " ".join(w.value for w in at.warning) and confirm(at).disabled
    at.button(key="imp_use_shift").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert metrics(at)["问题"] == "0" and not confirm(at).disabled
