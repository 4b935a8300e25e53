"""The overview's panels: alerts that link to the page and scope explaining them, per-theme rankings, documents."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import streamlit as st

from dashboard.charts import stacked_bars
from dashboard.context import PageContext
from dashboard.kpi import COUNT_FORMAT, PERCENT_FORMAT, as_points, kpi_cards, rank_config
from dashboard.nav import pages
from dashboard.tables import show_table
from dashboard.text import md_escape
from data.briefing import briefing_pdf, briefing_xlsx
from geo.briefing import DECIMAL_COLUMNS, PERCENT_COLUMNS, THEME_BY_KEY, THEMES, Briefing
from geo.vocab import DisputeCategory

ALERTS_SHOWN = 6  # per theme, before "more"
FORMATS = {"households_per_grid": "%.0f", **{c: "%.1f" for c in DECIMAL_COLUMNS},
           **{c: PERCENT_FORMAT for c in PERCENT_COLUMNS}}
PARTY_PER_ROW = 4  # 7 to a row cuts the labels at 1366 px


def party_cards(b: Briefing) -> None:
    """The 党建引领 figures first, as the district's governance model puts party building first."""
    if not b.party_kpis:
        return
    st.markdown("**党建引领**（恳谈日按数据截至月之前的12个完整月份统计）")
    kpi_cards(b.party_kpis, per_row=PARTY_PER_ROW)


def _link(ctx: PageContext, page: str, label: str, code: str) -> None:
    st.page_link(pages()[page], label=label, query_params={"scope": code, "period": str(ctx.period_days)},
                 help="打开说明此项的页面和范围")


def alerts_panel(ctx: PageContext, b: Briefing) -> None:
    """The alerts grouped by theme; each names the unit and links to the page and scope that explain it."""
    st.markdown(f"**预警事项 · {len(b.alerts)} 条**")
    if b.alerts.empty:
        st.success("本期没有越过预警阈值的事项。")
        return
    with st.container(height=560, border=True):
        for theme in THEMES:
            rows = b.alerts[b.alerts["theme"] == theme.key]
            if rows.empty:
                continue
            st.markdown(f"**{theme.label}**（{len(rows)}）")
            for i, r in enumerate(rows.itertuples()):
                if i == ALERTS_SHOWN:
                    st.caption(f"另有 {len(rows) - ALERTS_SHOWN} 条，见简报或{THEME_BY_KEY[theme.key].label}页面")
                    break
                _link(ctx, r.page, f"{md_escape(r.name)}：{r.message}", r.code)  # a link label is Markdown


def rankings_panel(ctx: PageContext, b: Briefing, child_label: str) -> None:
    """One tab per theme: the units ranked by the theme's indicator (1 = best), with a link to the theme's page."""
    if not b.rankings:
        return
    st.markdown(f"**{child_label}分主题排名**（排名 1 为最好；点击列名可重新排序）")
    for tab, theme in zip(st.tabs([t.label for t in THEMES]), THEMES):
        with tab:
            frame = b.rankings[theme.key]
            formats = {c: None if c == "name" else FORMATS.get(c, COUNT_FORMAT) for c in frame.columns}
            show_table(as_points(frame, formats), "所选范围内没有可排名的单元。", column_config=rank_config(frame, formats),
                       hide_index=True,
                       width="stretch", height=min(38 + 35 * len(frame), 420), key=f"rank_{theme.key}")
            _link(ctx, theme.page, f"查看{theme.label}详情 →", ctx.scope.code)


def _file_stem(b: Briefing) -> str:
    return f"{b.scope_name}社区治理简报_{b.as_of:%Y%m%d}_{b.period.days}天"


def documents(b: Briefing) -> None:
    """One-click briefing PDF and workbook (made when clicked) and the link to the big screen."""
    st.markdown("**简报**")
    cols = st.columns(3)
    cols[0].download_button("下载简报 PDF", lambda: briefing_pdf(replace(b, generated=datetime.now())),
                            file_name=f"{_file_stem(b)}.pdf", mime="application/pdf", type="primary",
                            key="brief_pdf", width="stretch", on_click="ignore")
    cols[1].download_button("下载简报 Excel", lambda: briefing_xlsx(replace(b, generated=datetime.now())),
                            file_name=f"{_file_stem(b)}.xlsx", key="brief_xlsx", width="stretch",
                            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            on_click="ignore")
    query = f"?screen=big&scope={b.scope_code}" if b.scope_code else "?screen=big"
    cols[2].markdown(f"[打开大屏模式 ↗]({query})", help="1920×1080 会议室大屏：深色、大字号，各主题轮播")


def trend(b: Briefing) -> None:
    """Cases per month over twelve months, by category (the same series as the PDF's chart)."""
    st.markdown("**近12个月矛盾纠纷（按类别）**")
    stacked_bars(b.monthly, [c.color for c in DisputeCategory], x_label="月份", y_label="件数", series_label="类别",
                 height=260)

