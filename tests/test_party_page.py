"""The 党建与自治 page in AppTest on the sample district: KPI cards, gap lists, scorecard and Excel downloads checked
against independent SQL (rows counted with sqlalchemy ``text()`` queries, never through geo.party), the scope in
the URL, and the drill-down of a map click."""
from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from data.store import engine_for
from geo.lifecycle import district_today

DONGJIE, JUNMEN = "350102004000", "350102004001"
LISTS = ("未覆盖党组织的小区", "未达标社区", "未开展恳谈日的月份", "社区达标评分表")
ONE_OLD_ONE_YOUNG = ("elderly_home", "children", "culture")


def _party_page():
    from dashboard.pages import party

    party.render()


@pytest.fixture
def kept_files(monkeypatch) -> list:
    """The media stores AppTest makes (download buttons' files are kept there)."""
    import streamlit.testing.v1.app_test as app_test

    stores = []

    class KeptStorage(app_test.MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptStorage)
    return stores


def open_page(url: str, monkeypatch, scope: str = "") -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(_party_page, default_timeout=180)
    if scope:
        at.query_params["scope"] = scope
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


# ---------------------------------------------------------------- the same figures by SQL


def _where(scope: str) -> tuple[str, dict]:
    return ("community_code = :s", {"s": scope}) if len(scope) == 12 and not scope.endswith("000") else \
        ("street_code = :s", {"s": scope}) if scope else ("1 = 1", {})


def _window(conn) -> tuple[date, date]:
    """The 12 complete calendar months before the data's month (the newest dispute report)."""
    as_of = date.fromisoformat(str(conn.execute(text("SELECT max(reported_on) FROM disputes")).scalar())[:10])
    end_month = (as_of.year * 12 + as_of.month - 1) - 1
    start_month = end_month - 11
    start = date(start_month // 12, start_month % 12 + 1, 1)
    after = date((end_month + 1) // 12, (end_month + 1) % 12 + 1, 1)
    return start, date.fromordinal(after.toordinal() - 1)


def sql_figures(url: str, scope: str) -> dict:
    """The scope's party figures, counted in SQL (and plain Python for the comma-separated compound lists)."""
    where, params = _where(scope)
    with engine_for(url).connect() as conn:
        q = lambda sql, **kw: conn.execute(text(sql), {**params, **kw})  # noqa: E731
        listed = {c.strip() for (codes,) in q("SELECT compound_codes FROM party_orgs WHERE level = 'compound'")
                  for c in (codes or "").replace("，", ",").split(",") if c.strip()}
        compounds = [c for (c,) in q(f"SELECT code FROM compounds WHERE {where}")]
        communities = [c for (c,) in q(f"SELECT code FROM communities WHERE {where.replace('community_code', 'code')}")]
        start, end = _window(conn)
        today = max(date.fromisoformat(str(conn.execute(text("SELECT max(reported_on) FROM disputes")).scalar())[:10]),
                    district_today())
        ok = 0
        for code in communities:
            funds, space = q("SELECT funds_wan, space_m2 FROM community_resources WHERE community_code = :c",
                             c=code).one()
            kinds = {k for (k,) in q("SELECT DISTINCT kind FROM stations WHERE community_code = :c AND "
                                     "(opened_on IS NULL OR opened_on <= :t) AND (closed_on IS NULL OR closed_on > :t)",
                                     c=code, t=today)}
            ok += funds is not None and funds >= 50 and space is not None and space >= 500 and \
                set(ONE_OLD_ONE_YOUNG) <= kinds
        held = q(f"SELECT community_code, held_on FROM consultation_days WHERE {where} AND held_on BETWEEN :a AND :b",
                 a=start, b=end).all()
        months = {(c, str(d)[:7]) for c, d in held}
        return {
            "compounds": len(compounds), "covered": sum(c in listed for c in compounds),
            "communities": len(communities), "standards_ok": ok, "days": len(held),
            "missed": 12 * len(communities) - len(months),
            "teams": q(f"SELECT count(*) FROM volunteer_teams WHERE {where}").scalar(),
            "model_stations": q(f"SELECT count(*) FROM stations WHERE {where} AND kind = 'volunteer' "
                                "AND model_level IS NOT NULL").scalar(),
            "model_communities": q(f"SELECT count(*) FROM community_resources WHERE {where} "
                                   "AND volunteer_model IS NOT NULL").scalar(),
        }


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, column: str):
    """The dataframe whose columns include ``column``."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def workbooks(at: AppTest, stores: list) -> dict[str, openpyxl.Workbook]:
    """Each download button's workbook, by the button's label."""
    out = {}
    for button in at.get("download_button"):
        url = button.proto.url
        content = next(s.get_file(url.rsplit("/", 1)[-1].split(".")[0]).content for s in stores[-1:])
        out[button.proto.label] = openpyxl.load_workbook(io.BytesIO(content))
    return out


# ---------------------------------------------------------------- the page


@pytest.mark.parametrize("scope", ["", JUNMEN])
def test_cards_show_the_figures_sql_counts(filled_sample_db, monkeypatch, scope):
    at = open_page(filled_sample_db, monkeypatch, scope)
    want = sql_figures(filled_sample_db, scope)
    shown = metrics(at)
    assert shown["小区党组织覆盖率"] == f"{want['covered'] / want['compounds']:.1%}"
    assert shown["社区达标"] == f"{want['standards_ok']}/{want['communities']}"
    assert shown["恳谈日开展率"] == f"{want['days'] / (12 * want['communities']):.1%}"
    assert shown["志愿服务队"] == f"{want['teams']:,} 支"
    assert shown["示范站点 / 示范社区"] == f"{want['model_stations']} / {want['model_communities']}"
    assert len(shown) == 10 and not [v for v in shown.values() if v in ("None", "nan") or "nan" in v]


@pytest.mark.parametrize("scope", ["", JUNMEN])
def test_gap_lists_and_scorecard_hold_the_rows_sql_counts(filled_sample_db, monkeypatch, scope):
    at = open_page(filled_sample_db, monkeypatch, scope)
    want = sql_figures(filled_sample_db, scope)
    card = table(at, "综合达标")
    assert len(card) == want["communities"]
    assert (card["综合达标"] == "达标").sum() == want["standards_ok"]
    assert set(card["经费≥50万元"]) <= {"达标", "未达标"} and card["社区"].notna().all()
    uncovered = [df.value for df in at.dataframe if "小区名称" in df.value.columns]
    assert (len(uncovered[0]) if uncovered else 0) == want["compounds"] - want["covered"]
    missed = [df.value for df in at.dataframe if "月份" in df.value.columns]
    assert (len(missed[0]) if missed else 0) == want["missed"]
    tabs = [t.label for t in at.tabs]
    assert tabs == [f"{LISTS[0]}（{want['compounds'] - want['covered']}）",
                    f"{LISTS[1]}（{want['communities'] - want['standards_ok']}）",
                    f"{LISTS[2]}（{want['missed']}）", f"{LISTS[3]}（{want['communities']}）"]


def test_the_district_has_gaps_to_show(filled_sample_db):
    want = sql_figures(filled_sample_db, "")
    assert 0 < want["covered"] < want["compounds"] and 0 < want["standards_ok"] < want["communities"]
    assert want["missed"] > 0  # the sample seeds each kind of gap, so the lists above are not trivially empty


def test_each_list_downloads_as_a_workbook_with_its_rows(filled_sample_db, monkeypatch, kept_files):
    at = open_page(filled_sample_db, monkeypatch, DONGJIE)
    want = sql_figures(filled_sample_db, DONGJIE)
    books = workbooks(at, kept_files)
    assert sorted(books) == sorted(f"下载 Excel（{name}）" for name in LISTS)
    rows = {label: book.active.max_row - 1 for label, book in books.items()}
    assert rows[f"下载 Excel（{LISTS[0]}）"] == want["compounds"] - want["covered"]
    assert rows[f"下载 Excel（{LISTS[1]}）"] == want["communities"] - want["standards_ok"]
    assert rows[f"下载 Excel（{LISTS[2]}）"] == want["missed"]
    sheet = books[f"下载 Excel（{LISTS[3]}）"].active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["社区", "所属街道", "工作经费（万元）"]
    codes = {row[header.index("社区编码")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    with engine_for(filled_sample_db).connect() as conn:
        assert codes == {c for (c,) in conn.execute(text("SELECT code FROM communities WHERE street_code = :s"),
                                                    {"s": DONGJIE})}
    funds = [row[header.index("工作经费（万元）")] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(f, (int, float)) for f in funds)


def test_a_bad_scope_in_the_url_falls_back_to_the_district(filled_sample_db, monkeypatch):
    at = open_page(filled_sample_db, monkeypatch, "350102999000")
    assert at.title[0].value == "鼓楼区 · 党建与自治"
    assert [t.value for t in at.toast if "350102999000" in t.value]
    assert "scope" not in at.query_params


def test_a_click_on_the_map_drills_down(filled_sample_db, monkeypatch):
    import dashboard.mapview as mapview

    clicked = {"code": None}

    def fake_show_folium(m, **kwargs):
        assert kwargs["returned_objects"] == ["last_active_drawing"]
        return {"last_active_drawing": {"properties": {"code": clicked["code"]}}} if clicked["code"] else {}

    monkeypatch.setattr(mapview, "show_folium", fake_show_folium)  # the drill-down map of every page
    at = open_page(filled_sample_db, monkeypatch)
    for code, title in ((DONGJIE, "东街街道 · 党建与自治"), (JUNMEN, "军门社区 · 党建与自治")):
        clicked["code"] = code
        at.run()
        clicked["code"] = None
        at.run()
        assert not at.exception and at.title[0].value == title and at.query_params["scope"] == code
