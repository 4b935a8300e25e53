"""受理新案件: where (a click on the map or a known compound), what, who — then one save (data.cases.receive_case)."""
from __future__ import annotations

from datetime import date

import streamlit as st

from dashboard.cases.common import REFUSALS, flash, open_case, show_refusal
from dashboard.cases.locate import POINT_KEY, compound_choice, grid_of, map_point
from dashboard.context import PageContext, engine
from dashboard.text import md_format
from data.cases import receive_case
from geo.access import Account, can_write
from geo.case_lifecycle import FIELD_LABELS
from geo.lifecycle import district_today
from geo.vocab import DisputeCategory, DisputeSource

PLACES = ("在地图上点选", "选择已登记的小区")


def _where(ctx: PageContext, account: Account) -> dict:
    """The place of the case: ``location`` (lon, lat) from the map, or ``compound_code``; {} while none is chosen."""
    how = st.radio("案件位置", PLACES, horizontal=True, key="intake_place")
    if how == PLACES[1]:
        code = compound_choice(ctx, account)
        return {"compound_code": code} if code else {}
    st.caption("在地图上点击案件发生地（可放大地图后再点击）。")
    point = map_point(ctx, account)
    if point is None:
        return {}
    grid = grid_of(ctx, point)
    where = f"经度 {point[0]:.6f}，纬度 {point[1]:.6f}"
    if grid is None:
        st.warning(f"已选位置（{where}）不在本区任何网格内，请重新点选。")
    elif not can_write(account, grid["code"]):
        st.warning(md_format("已选位置属于{}{}，不在账号辖区（{}）内，请重新点选。",
                             ctx.units.names.get(grid["community_code"], ""), grid["name"], account.where))
    else:
        st.caption(md_format("已选位置：{}{}（{}）", ctx.units.names.get(grid["community_code"], ""), grid["name"], where))
    return {"location": point}


def _fields(today: date, compound: bool) -> dict | None:
    """The form; its fields when submitted."""
    with st.form("intake_form"):
        cols = st.columns(3)
        category = cols[0].selectbox(FIELD_LABELS["category"], list(DisputeCategory), format_func=lambda c: c.label,
                                     index=None, placeholder="请选择")
        source = cols[1].selectbox(FIELD_LABELS["source"], list(DisputeSource), format_func=lambda s: s.label,
                                   index=None, placeholder="请选择")
        reported = cols[2].date_input(FIELD_LABELS["reported_on"], value=today, max_value=today)
        address = st.text_input(FIELD_LABELS["address"], max_chars=120,
                                placeholder="留空则用小区名称，可补充楼栋、单元" if compound else "如：东街100号3座2单元")
        parties = st.text_area(FIELD_LABELS["parties"], max_chars=2000, height=80,
                               placeholder="当事人姓名、关系、联系方式等")
        summary = st.text_area(FIELD_LABELS["summary"], max_chars=2000, height=100, placeholder="纠纷事由、诉求")
        if not st.form_submit_button("受理", type="primary"):
            return None
    return {"category": category and category.value, "source": source and source.value, "reported_on": reported,
            "address": address, "parties": parties, "summary": summary}


def intake(ctx: PageContext, account: Account) -> None:
    """The whole 受理 view; after a save the new case opens in the 案件办理 view."""
    place = _where(ctx, account)
    fields = _fields(district_today(), "compound_code" in place)
    if fields is None:
        return
    try:
        case = receive_case(engine(ctx), {**fields, **place}, account)
    except REFUSALS as exc:
        show_refusal(exc)
        return
    st.session_state.pop(POINT_KEY, None)
    names = ctx.units.names
    flash(f"已受理：案件编号 {case['code']}（{names.get(case['community_code'], '')}{names.get(case['grid_code'], '')}），"
          f"请在 {ctx.settings.overdue_days} 天内办结。")
    open_case(case["code"])
    st.rerun()
