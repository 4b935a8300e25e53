"""The app's pages, in menu order: one place that names them, for st.navigation and for links between pages."""
from __future__ import annotations

import streamlit as st

PAGES = (  # url path, menu title
    ("overview", "总览"),
    ("situation", "态势图"),
    ("party", "党建与自治"),
    ("renovation", "老旧小区改造"),
    ("coverage", "网格与服务覆盖"),
    ("disputes", "矛盾纠纷"),
    ("cases", "案件办理"),
    ("data", "数据管理"),
)


def pages() -> dict[str, st.Page]:
    """url path -> st.Page; the first is the landing page."""
    from dashboard.pages import cases, coverage, data_admin, disputes, overview, party, renovation, situation

    render = {"overview": overview.render, "situation": situation.render, "party": party.render, "renovation": renovation.render,
              "coverage": coverage.render, "disputes": disputes.render, "cases": cases.render,
              "data": data_admin.render}
    return {path: st.Page(render[path], title=title, url_path=path, default=i == 0)
            for i, (path, title) in enumerate(PAGES)}
