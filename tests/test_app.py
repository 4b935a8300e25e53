"""The app in Streamlit's AppTest, on the sample district, checked against independent queries."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from geo.vocab import SAMPLE_NOTICE

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('app') / 'app.db'}"


@pytest.fixture
def app(sample_db, monkeypatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", sample_db)
    at = AppTest.from_file(APP, default_timeout=120).run()
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
    assert shown["社区"] == f"{communities:,}" == "69"
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
    after = map_args(app)
    compound_codes = re.compile(r"350102\d{6}C\d{3}")
    assert not compound_codes.search(before)
    assert len(set(compound_codes.findall(after))) == 867  # every sample compound is drawn
