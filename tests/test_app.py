"""The app in Streamlit's AppTest, on the sample district, checked against independent queries."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from geo.vocab import SAMPLE_NOTICE


def _situation_page():
    from dashboard.pages import situation

    situation.render()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('app') / 'app.db'}"


@pytest.fixture
def app(sample_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", sample_db)
    at = AppTest.from_function(_situation_page, default_timeout=120).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_first_run_fills_the_database_and_shows_district_kpis(app, sample_db):
    with create_engine(sample_db).connect() as conn:
        q = lambda sql: conn.execute(text(sql)).scalar()  # noqa: E731
        households, population = q("SELECT sum(households) FROM grids"), q("SELECT sum(population) FROM grids")
        vacancies = q("SELECT count(*) FROM grids WHERE worker IS NULL")
        as_of = date.fromisoformat(q("SELECT max(reported_on) FROM disputes"))
        recent = conn.execute(text("SELECT count(*) FROM disputes WHERE reported_on >= :d"),
                              {"d": (as_of - timedelta(days=29)).isoformat()}).scalar()
        overdue = conn.execute(text(
            "SELECT count(*) FROM disputes WHERE status IN ('received','mediating') AND reported_on < :d"),
            {"d": (as_of - timedelta(days=30)).isoformat()}).scalar()
        communities, grids = q("SELECT count(*) FROM communities"), q("SELECT count(*) FROM grids")
    shown = metrics(app)
    assert shown["一老一少一普完备"] == f"{communities}/{communities} 个社区" == "69/69 个社区"
    assert shown["网格"] == f"{grids:,}"
    assert shown["户数"] == f"{households:,}"
    assert shown["常住人口"] == f"{population:,}" == "669,090"
    assert shown["网格员空缺"] == f"{vacancies:,}"
    assert shown["近30天受理纠纷"] == f"{recent:,}"
    assert shown["超期未结"] == f"{overdue:,}"
    assert shown["调解成功率"].endswith("%")


def test_the_page_says_the_data_is_illustrative(app):
    assert any(SAMPLE_NOTICE in w.value for w in app.sidebar.warning)


def map_args(at: AppTest) -> str:
    """The text streamlit-folium hands to the browser (script, header, links), decoded."""
    maps = [e for e in at.get("component_instance") if "st_folium" in e.proto.component_name]
    assert len(maps) == 1
    return json.dumps(json.loads(maps[0].proto.json_args), ensure_ascii=False)


def test_map_is_drawn_offline_with_the_communities(app):
    args = map_args(app)
    assert "http://" not in args and "https://" not in args
    for name in ("军门社区", "洪山桥社区", "东街街道"):
        assert name in args


def test_overlays_can_be_switched(app):
    before = map_args(app)
    app.toggle(key="layer_compounds").set_value(True).run()
    assert not app.exception
    after = map_args(app)
    compound_codes = re.compile(r"350102\d{6}C\d{3}")
    pies = re.compile(r'counts\\":\[')  # a feature's counts, inside the script's JSON string
    assert not pies.search(before)
    assert len(pies.findall(after)) == 69 and not compound_codes.search(after)  # a pie per community, no compound


# ---------------------------------------------------------------- drill-down

DONGJIE, JUNMEN = "350102004000", "350102004001"


def community_figures(db_url: str, code: str) -> dict[str, str]:
    """The KPI figures of one community, queried independently of the app's code."""
    with create_engine(db_url).connect() as conn:
        row = conn.execute(text(
            "SELECT sum(households), sum(population), count(*), sum(worker IS NULL) FROM grids "
            "WHERE community_code = :c"), {"c": code}).one()
        done, total = conn.execute(text(
            "SELECT sum(status IN ('completed','managed')), count(*) FROM compounds WHERE community_code = :c"),
            {"c": code}).one()
    return {"户数": f"{row[0]:,}", "常住人口": f"{row[1]:,}", "网格": f"{row[2]:,}", "网格员空缺": f"{row[3]:,}",
            "老旧小区改造完成率": f"{done / total:.1%}"}


def select(at: AppTest, label: str, code: str) -> AppTest:
    box = next(b for b in at.sidebar.selectbox if b.label == label)
    return box.set_value(code).run()


def test_selectors_drill_down_and_set_the_url(app, sample_db):
    select(app, "街道（镇）", DONGJIE)
    assert app.query_params["scope"] == DONGJIE
    assert "东街街道" in app.title[0].value
    select(app, "社区", JUNMEN)
    assert not app.exception
    assert app.query_params["scope"] == JUNMEN
    shown = metrics(app)
    for label, value in community_figures(sample_db, JUNMEN).items():
        assert shown[label] == value, label
    assert "军门社区" in app.title[0].value
    crumbs = [b.label for b in app.button if b.key and b.key.startswith("crumb_")]
    assert crumbs == ["鼓楼区", "› 东街街道"]


def test_a_link_with_the_scope_reopens_the_same_view(sample_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sample_db)
    at = AppTest.from_function(_situation_page, default_timeout=120)
    at.query_params["scope"] = JUNMEN
    at.run()
    assert not at.exception
    assert "军门社区" in at.title[0].value
    assert {b.label: b.value for b in at.sidebar.selectbox}["社区"] == JUNMEN
    shown = metrics(at)
    for label, value in community_figures(sample_db, JUNMEN).items():
        assert shown[label] == value, label


def test_breadcrumb_and_back_go_up(app):
    select(app, "街道（镇）", DONGJIE)
    select(app, "社区", JUNMEN)
    app.button(key="go_up").click().run()
    assert app.query_params["scope"] == DONGJIE
    app.button(key="crumb_district").click().run()
    assert "scope" not in app.query_params
    assert "鼓楼区" in app.title[0].value


def test_an_unknown_scope_falls_back_to_the_district(sample_db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sample_db)
    at = AppTest.from_function(_situation_page, default_timeout=120)
    at.query_params["scope"] = "350102999000"
    at.run()
    assert not at.exception and "鼓楼区" in at.title[0].value


def test_a_click_on_a_map_polygon_drills_down(sample_db, monkeypatch):
    import dashboard.mapview as mapview

    clicks = iter([DONGJIE, JUNMEN])
    current = {"code": None}

    def fake_show_folium(m, **kwargs):
        assert kwargs["returned_objects"] == ["last_active_drawing"]
        return {"last_active_drawing": {"properties": {"code": current["code"]}}} if current["code"] else {}

    monkeypatch.setattr(mapview, "show_folium", fake_show_folium)
    monkeypatch.setenv("DATABASE_URL", sample_db)
    at = AppTest.from_function(_situation_page, default_timeout=120).run()
    for expected in clicks:
        current["code"] = expected
        at.run()
        assert not at.exception
        assert at.query_params["scope"] == expected
    assert metrics(at)["户数"] == community_figures(sample_db, JUNMEN)["户数"]


def test_a_grid_is_judged_on_its_communitys_stations(app, sample_db, monkeypatch):
    """一老一少一普 belongs to the community: a grid with none of the three stations inside it still shows its
    community complete (the grid's own stations alone would give 0/1)."""
    with create_engine(sample_db).connect() as conn:
        grid = conn.execute(text(
            "SELECT g.code FROM grids g WHERE NOT EXISTS (SELECT 1 FROM stations s WHERE s.grid_code = g.code "
            "AND s.kind IN ('elderly_home','children','culture')) ORDER BY g.code LIMIT 1")).scalar()
        kinds = conn.execute(text(
            "SELECT count(DISTINCT kind) FROM stations WHERE community_code = :c "
            "AND kind IN ('elderly_home','children','culture') AND closed_on IS NULL"), {"c": grid[:12]}).scalar()
    assert kinds == 3
    monkeypatch.setenv("DATABASE_URL", sample_db)
    at = AppTest.from_function(_situation_page, default_timeout=120)
    at.query_params["scope"] = grid
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert metrics(at)["一老一少一普完备"] == "1/1 个社区"


def test_ranking_shares_read_one_decimal_and_counts_have_separators(app):
    """The ranking holds shares as percentage points shown 「96.3%」 (Streamlit's own "percent" gave 「66.67%」
    beside 「100%」) and counts 「54,961」."""
    ranking = next(d for d in app.dataframe if "renovated_share" in d.value.columns)
    shares = ranking.value["renovated_share"].dropna()
    assert len(shares) and shares.between(0, 100).all() and (shares > 1).any()  # points, not 0–1 fractions
    config = json.loads(ranking.proto.columns)
    assert config["renovated_share"]["type_config"]["format"] == "%.1f%%"
    assert config["households"]["type_config"]["format"] == "localized"
