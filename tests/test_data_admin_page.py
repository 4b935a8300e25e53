"""The 数据管理 page in AppTest on the sample district: import preview and confirm by role and scope, export,
templates, the audit log and account administration. Uploads are injected through the page's session key."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
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
from geo.errors import AuthenticationError
from geo.ingest_fields import LAYER_LABELS
from geo.scope import Scope
from geo.settings import Settings
from tests.conftest import sqlite_copy
from tests.demo_accounts import clear_forced_change
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
    clear_forced_change(url)  # the tests act as the demo accounts; their forced change is tested elsewhere
    engine_for(url).dispose()
    return path


@pytest.fixture
def db_url(sample_file, tmp_path, monkeypatch) -> str:
    return sqlite_copy(sample_file, tmp_path, monkeypatch)


def open_page(view: str, username: str | None = None, upload: tuple[str, bytes] | None = None,
              url: str | None = None, upload_key: str = UPLOAD_KEY) -> AppTest:
    """The page showing ``view``, logged in as ``username`` (None: logged out), with ``upload`` injected under
    ``upload_key`` (the import view's; the 参考图层 view has its own)."""
    at = AppTest.from_function(_data_admin_page, default_timeout=120)
    at.session_state["da_view"] = view
    if username:
        at.session_state["auth_account"] = get_account(engine_for(url), username)
        at.session_state["auth_login_at"] = datetime.now(UTC)
    if upload:
        at.session_state[upload_key] = upload
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
    assert len(back) == len(read_layer(engine_for(db_url), "compounds", Scope(JUNMEN)))
    assert ("name" if fmt == "gpkg" else "小区名称") in back  # GeoPackage: short names, Chinese aliases
    assert pd.api.types.is_integer_dtype(back["households" if fmt == "gpkg" else "户数"])


def test_templates_list_the_expected_columns(db_url):
    at = open_page("模板", url=db_url)
    notes = [df.value for df in at.dataframe]
    assert len(notes) == len(LAYER_LABELS)  # one per importable layer, the record layers of 党建引领 included
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
    for weak, rule in (("a-long-password", "至少3类"), ("Junmen2-Office-26", "不能包含用户名"), ("Password123", "过于常见")):
        at.text_input(key="acc_pw").input(weak)
        at.text_input(key="acc_pw2").input(weak)
        next(b for b in at.button if b.label == "创建账号").click().run()
        assert rule in " ".join(e.value for e in at.error) and get_account(engine_for(db_url), "junmen2") is None
        at.text_input(key="acc_username").input("junmen2")
    at.text_input(key="acc_pw").input("Sanfang-Qixiang#26")
    at.text_input(key="acc_pw2").input("Sanfang-Qixiang#26")
    next(b for b in at.button if b.label == "创建账号").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "已创建账号“junmen2”" in texts(at)
    made = get_account(engine_for(db_url), "junmen2")
    assert made.scope_code == JUNMEN and made.must_change_password


def test_admin_lifts_login_locks_from_the_page_and_that_is_audited(db_url):
    engine = engine_for(db_url)
    for client, names in (("192.0.2.10", ["junmen"] * 5), ("198.51.100.7", [f"spray{i}" for i in range(20)])):
        for name in names:
            with pytest.raises(AuthenticationError):
                accounts.authenticate(engine, name, "bad-guess", client)
    at = open_page("账号", "admin", url=db_url)
    locks = next(df.value for df in at.dataframe if "网络地址" in df.value.columns)
    assert sorted(locks[["网络地址", "用户名"]].values.tolist()) == [["192.0.2.10", "junmen"],
                                                                  ["198.51.100.7", "（任意用户名）"]]
    table = next(df.value for df in at.dataframe if "显示名" in df.value.columns).set_index("用户名")
    assert table.loc["junmen", "锁定至"] and not table.loc["dongjie", "锁定至"]
    at.selectbox(key="acc_pick").set_value("junmen").run()
    at.button(key="acc_unlock").click().run()
    assert "已解除“junmen”的登录锁定" in texts(at)
    at.selectbox(key="acc_lock_client").set_value("198.51.100.7").run()
    at.button(key="acc_unlock_client").click().run()
    assert not at.exception and "目前没有生效的登录锁定" in texts(at)
    assert accounts.authenticate(engine, "junmen", "demo-junmen-2026", "192.0.2.10").username == "junmen"
    log = query_audit(engine, AuditFilter(actions=("account_unlock", "client_unlock")))
    assert sorted(zip(log["actor"], log["action"], log["record_code"])) == [
        ("admin", "account_unlock", "junmen"), ("admin", "client_unlock", "198.51.100.7")]


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
    assert not [df for df in at.dataframe if "变更内容" in df.value.columns]  # junmen did nothing yet: in words
    assert "没有符合筛选条件的操作记录。" in texts(at) and "只列出账号“junmen”本人" in texts(at)


def test_change_text_reads_before_and_after():
    assert change_text('{"status": "planned"}', '{"status": "under_way"}', "compounds") == \
        "改造状态：已纳入计划 → 施工中"
    assert change_text(None, '{"file": "a.csv", "inserted": 2}', "compounds") == "文件：a.csv；新增：2"
    frame = pd.DataFrame([{"id": 1, "at": datetime(2026, 11, 28, 16, 30, tzinfo=UTC), "actor": "a",
                           "action": "login", "table_name": "accounts", "record_code": "a", "before": None,
                           "after": '{"method": "password"}'}])
    assert readable_audit(frame).iloc[0]["时间（北京）"] == "2026-11-29 00:30:00"


def test_a_hidden_gcj02_offset_is_reported_and_one_click_revalidates_as_gcj02(db_url):
    named = export_layer(engine_for(db_url), "compounds", Scope(JUNMEN), "csv", "gcj02").decode("utf-8-sig")
    csv = named.replace("经度（GCJ-02）", "经度").replace("纬度（GCJ-02）", "纬度").encode("utf-8-sig")  # the file hides it
    at = open_page("导入", "junmen", ("gcj.csv", csv), db_url)
    assert "坐标整体偏移" in " ".join(w.value for w in at.warning) and confirm(at).disabled
    at.button(key="imp_use_shift").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert metrics(at)["问题"] == "0" and not confirm(at).disabled


# ---------------------------------------------------------------- an office's own ledger, as it really is


def office_ledger(url: str) -> tuple[bytes, pd.DataFrame]:
    """军门社区's ledger as the office keeps it: no code column, a merged title, 户数 as “120户”, 高德 (GCJ-02)
    coordinates, two new compounds missing the date their status wants, a 合计 row and notes under the table.
    Returns the .xlsx bytes and the truth (name, WGS84 lon/lat, households) of every record."""
    from openpyxl import Workbook

    from geo.crs import wgs84_to_gcj02

    stored = read_layer(engine_for(url), "compounds", Scope(JUNMEN)).sort_values("code")
    truth = pd.DataFrame({"name": stored["name"].to_numpy(), "lon": stored.geometry.x.to_numpy(),
                          "lat": stored.geometry.y.to_numpy(), "households": stored["households"].to_numpy()})
    x0, y0 = truth["lon"].mean(), truth["lat"].mean()
    truth.loc[len(truth)] = ["军门新苑", x0 + 0.0004, y0 + 0.0003, 88]
    truth.loc[len(truth)] = ["军门里３号楼", x0 - 0.0004, y0 - 0.0003, 64]
    gx, gy = wgs84_to_gcj02(truth["lon"].to_numpy(), truth["lat"].to_numpy())
    labels = {"not_planned": "未纳入计划", "planned": "已纳入计划", "under_way": "施工中", "completed": "已完工",
              "managed": "长效管理"}
    wb = Workbook()
    ws = wb.active
    ws.append(["军门社区老旧小区台账（2026年11月）"])
    ws.merge_cells("A1:J1")
    ws.append(["填报单位：军门社区", None, None, None, None, "填报日期：2026年11月20日"])
    ws.append(["序号", "小区名称", "所属社区", "户数", "改造状态", "计划年度", "开工日期", "完工日期", "高德经度", "高德纬度"])
    for i, row in enumerate(stored.itertuples(index=False)):
        ws.append([i + 1, row.name, "军门社区", f"{row.households}户", labels[row.status],
                   None if pd.isna(row.plan_year) else int(row.plan_year), None, None, float(gx[i]), float(gy[i])])
    n = len(stored)
    ws.append([n + 1, "军门新苑", "军门社区", "88户", "已完工", 2025, "2025年3月1日", None, float(gx[n]), float(gy[n])])
    ws.append([n + 2, "军门里３号楼", "军门", 64, "施工中", 2026, None, None, float(gx[n + 1]), float(gy[n + 1])])
    ws.append(["合计", None, None, f"{int(truth['households'].sum())}户"])
    ws.append([])
    ws.append(["填表人：张三", None, None, "制表日期：2026-11-20"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), truth


def _metres_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from pyproj import Geod

    return Geod(ellps="WGS84").inv(a[:, 0], a[:, 1], b[:, 0], b[:, 1])[2]


def test_an_office_ledger_without_codes_imports_on_the_page_and_again_as_updates(db_url):
    data, truth = office_ledger(db_url)
    stored = int((table_rows(db_url)["community_code"] == JUNMEN).sum())
    at = open_page("导入", "dongjie", ("军门社区台账.xlsx", data), db_url)
    assert metrics(at)["新增"] == "2" and metrics(at)["更新"] == str(stored) and metrics(at)["问题"] == "0"
    assert metrics(at)["提示"] == "2"
    frames = {tuple(df.value.columns): df.value for df in at.dataframe}
    skipped = next(v for k, v in frames.items() if "问题" in k and v["问题"].str.contains("合计").any())
    total_row = 3 + len(truth) + 1  # title, note, header, the records, then 合计
    assert total_row in set(skipped["行号"])
    assert "按列名“高德经度”" in texts(at)
    confirm(at).click().run()
    assert not at.exception and "导入完成：新增 2 条" in texts(at), texts(at)
    after = read_layer(engine_for(db_url), "compounds", Scope(JUNMEN)).set_index("name")
    got = np.column_stack([after.loc[truth["name"]].geometry.x, after.loc[truth["name"]].geometry.y])
    assert _metres_apart(got, truth[["lon", "lat"]].to_numpy()).max() < 1.0
    assert list(after.loc[truth["name"], "households"]) == list(truth["households"])
    again = open_page("导入", "dongjie", ("军门社区台账.xlsx", data), db_url)
    assert metrics(again)["新增"] == "0" and metrics(again)["更新"] == str(stored + 2)


def test_the_same_ledger_through_the_command_line_exits_0_and_lists_warnings_and_skips(db_url, capsys):
    from data.cli import main

    data, truth = office_ledger(db_url)
    path = Path(db_url.removeprefix("sqlite:///")).with_name("台账.xlsx")
    path.write_bytes(data)
    assert main(["--database-url", db_url, "import", "compounds", str(path)]) == 0
    out = capsys.readouterr().out
    assert "已跳过的非数据行" in out and "合计" in out and "提示（不影响导入" in out and "已导入：新增 2 条" in out
    assert main(["--database-url", db_url, "import", "compounds", str(path)]) == 0
    assert f"新增 0 条，更新 {len(truth)} 条" in capsys.readouterr().out


def test_the_district_role_sees_the_database_state_and_others_do_not(db_url):
    at = open_page("账号", "admin", url=db_url)
    assert [e.label for e in at.expander if e.label.startswith("数据库状态")] == ["数据库状态：正常"]
    lines = [s.value for s in at.success]
    assert any(line.startswith("✓ 数据库连接") for line in lines) and any("迁移版本" in line for line in lines)
    assert any("可写" in line for line in lines)
    assert not [e for e in open_page("账号", "dongjie", url=db_url).expander if e.label.startswith("数据库状态")]
