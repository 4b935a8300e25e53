"""网格人员: a grid's full-time worker, its history and figures — recorded where they change.

Pick a grid of the scope; see its worker (or the vacancy), the workers' periods and the grid's audit
history; an account whose scope holds the grid records a worker taking up the grid (到岗), leaving it
(离岗), or new households / residents / assistants. Every save goes through ``data.staffing`` (scope, version
and values checked in the store) and moves the data version, so 网格标准 and every roll-up show it at the
next run.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard.auth import current_account
from dashboard.context import PageContext, engine
from dashboard.edit_ui import history_table, may_edit, saved
from dashboard.kpi import metric
from dashboard.text import md_escape, md_format
from data.staffing import assign_worker, grid_history, update_grid_figures, vacate_grid
from geo import formatting as fmt
from geo.access import Account, can_write
from geo.lifecycle import district_today
from geo.staffing import FIELD_LABELS, FIGURE_LABELS, vacancy_days, vacant_grids, worker_periods

GRID_KEY = "staff_grid"
FLASH_KEY = "staff_flash"


def _version_key(code: str) -> str:
    return f"grid_version_{code}"


def _vacant(row: pd.Series) -> bool:
    worker = row["worker"]
    return worker is None or pd.isna(worker) or not str(worker).strip()


def staffing_view(ctx: PageContext) -> None:
    """The 网格人员 view of the coverage workspace."""
    grids = ctx.layer("grids")
    if not len(grids):
        st.info("所选范围内没有网格。")
        return
    periods = ctx.grid_periods()
    _summary(ctx, grids, periods)
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    code = _pick_grid(ctx, grids)
    if code is None:
        _vacancy_table(ctx, grids, periods)
        return
    _grid_panel(ctx, grids.set_index("code").loc[code], code, periods)


def _summary(ctx: PageContext, grids: pd.DataFrame, periods: pd.DataFrame) -> None:
    """Vacancies now and a month earlier, from the grid workers' periods."""
    before = ctx.as_of - timedelta(days=30)
    now, then = int(grids["worker"].isna().sum()), len(vacant_grids(periods, grids, before))
    cols = st.columns(3)
    cols[0].metric("网格", f"{len(grids):,}")
    metric(cols[1], "专职网格员空缺", fmt.count(now), now - then, suffix="较30天前", lower_is_better=True,
           help=f"30天前（{before.isoformat()}）空缺 {then} 个，按网格员到岗、离岗记录计算")
    cols[2].metric("网格协管员", f"{int(grids['assistants'].sum()):,}")


def _pick_grid(ctx: PageContext, grids: pd.DataFrame) -> str | None:
    """The grid chosen in the selector (vacant ones marked), or None."""
    names = ctx.units.names
    labels = {code: f"{names.get(com, com)} · {name}（{'空缺' if _vacant({'worker': w}) else w}）"
              for code, com, name, w in zip(grids["code"], grids["community_code"], grids["name"], grids["worker"])}
    chosen = st.selectbox("选择网格", list(labels), index=None, format_func=labels.get, key=GRID_KEY,
                          placeholder="输入社区或网格员姓名搜索…")
    return chosen if chosen in labels else None


def _vacancy_table(ctx: PageContext, grids: pd.DataFrame, periods: pd.DataFrame) -> None:
    """The scope's vacant grids: since when, and vacant days in the last 12 months."""
    vacant = grids[grids["worker"].isna()]
    if not len(vacant):
        st.success("所选范围内每个网格都有专职网格员。")
        return
    start = ctx.today - timedelta(days=364)
    last_left = periods.dropna(subset=["ended_on"]).groupby("grid_code")["ended_on"].max()
    table = pd.DataFrame({
        "网格": vacant["name"], "所属社区": vacant["community_code"].map(ctx.units.names),
        "上一任离岗日期": vacant["code"].map(last_left).dt.strftime("%Y-%m-%d").fillna("无记录"),
        "近12个月空缺天数": [vacancy_days(periods, dict(r), start, ctx.today) for _, r in vacant.iterrows()],
    })
    st.markdown(f"**空缺网格（{len(table)} 个）** · 选择上方网格可登记到岗")
    st.dataframe(table, hide_index=True, width="stretch")


def _grid_panel(ctx: PageContext, row: pd.Series, code: str, periods: pd.DataFrame) -> None:
    st.session_state.setdefault(_version_key(code), int(row["version"]))
    account = current_account()
    writer = account is not None and can_write(account, row["community_code"])
    _current(ctx, row, code, periods, writer)
    if may_edit(account, row["community_code"], "登记网格员到岗、离岗和修改网格户数", "网格"):
        first = _assign_form(ctx, code, account) if _vacant(row) else _vacate_form(ctx, row, code, account)
        second = _figures_form(ctx, row, code, account)
        for submitted in (first, second):  # saved outside the forms: a conflict offers a button
            if submitted is not None:
                _save(code, *submitted)
    _periods_table(ctx, code, periods, writer)
    _audit_table(ctx, code)


def _current(ctx: PageContext, row: pd.Series, code: str, periods: pd.DataFrame, writer: bool) -> None:
    """The grid's worker (or vacancy) and figures."""
    cols = st.columns(5)
    since = "" if pd.isna(row["worker_since"]) else f"自 {pd.Timestamp(row['worker_since']):%Y-%m-%d}"
    cols[0].metric("专职网格员", "空缺" if _vacant(row) else md_escape(row["worker"]), help=since or None)
    cols[1].metric("户数", f"{int(row['households']):,}")
    cols[2].metric("常住人口", f"{int(row['population']):,}")
    cols[3].metric("协管员", f"{int(row['assistants'])} 人")
    start = ctx.today - timedelta(days=364)
    days = vacancy_days(periods, {**row.to_dict(), "code": code}, start, ctx.today)
    cols[4].metric("近12个月空缺", f"{days} 天")
    if writer and not _vacant(row) and not pd.isna(row["worker_phone"]):
        st.caption(md_format("联系电话：{} · {}（记录版本 {}）", row["worker_phone"], since or "到岗日期未登记",
                             st.session_state[_version_key(code)]))
    else:
        st.caption(f"记录版本 {st.session_state[_version_key(code)]}（若他人已先保存，本次修改将被拒绝，不会覆盖他人的修改）")


Submitted = tuple[Callable[[int], dict], str] | None
"""A submitted form: the save to run with the expected version, and what to say when it is done."""


def _assign_form(ctx: PageContext, code: str, account: Account) -> Submitted:
    today = district_today()
    with st.form(f"assign_{code}"):
        st.markdown("**登记专职网格员到岗**")
        cols = st.columns(3)
        worker = cols[0].text_input(FIELD_LABELS["worker"], max_chars=20, placeholder="姓名")
        phone = cols[1].text_input(FIELD_LABELS["worker_phone"], max_chars=20, placeholder="手机或 0591-87654321")
        started = cols[2].date_input(FIELD_LABELS["worker_since"], value=today, max_value=today, format="YYYY-MM-DD")
        if not st.form_submit_button("登记到岗", type="primary"):
            return None
    return lambda v: assign_worker(engine(ctx), code, worker, phone, started, v, account), "已登记到岗"


def _vacate_form(ctx: PageContext, row: pd.Series, code: str, account: Account) -> Submitted:
    today = district_today()
    with st.form(f"vacate_{code}"):
        st.markdown(md_format("**登记专职网格员离岗**（{}）", row["worker"]))
        ended = st.columns(3)[0].date_input(FIELD_LABELS["ended_on"], value=today, max_value=today, format="YYYY-MM-DD",
                                            help="离岗当天起该网格计为空缺")
        if not st.form_submit_button("登记离岗", type="primary"):
            return None
    return lambda v: vacate_grid(engine(ctx), code, ended, v, account), "已登记离岗，该网格现为空缺"


def _figures_form(ctx: PageContext, row: pd.Series, code: str, account: Account) -> Submitted:
    with st.form(f"figures_{code}"):
        st.markdown("**修改户数与人员**")
        cols = st.columns(3)
        values = {
            "households": cols[0].number_input(FIGURE_LABELS["households"], 1, 100_000, int(row["households"]), 1),
            "population": cols[1].number_input(FIGURE_LABELS["population"], 1, 1_000_000, int(row["population"]), 1),
            "assistants": cols[2].number_input(FIGURE_LABELS["assistants"], 0, 100, int(row["assistants"]), 1),
        }
        if not st.form_submit_button("保存修改"):
            return None
    return lambda v: update_grid_figures(engine(ctx), code, values, v, account), "已保存户数与人员"


def _save(code: str, write: Callable[[int], dict], done: str) -> None:
    """Run ``write(expected_version)``; on success remember the new version and rerun, else say why in Chinese."""
    new = saved(write, _version_key(code))
    if new is None:
        return
    st.session_state[_version_key(code)] = int(new["version"])
    st.session_state[FLASH_KEY] = f"{done}（记录版本 {int(new['version'])}）。"
    st.rerun()


def _periods_table(ctx: PageContext, code: str, periods: pd.DataFrame, writer: bool) -> None:
    mine = worker_periods(periods, code, ctx.today)
    st.markdown(f"**任职记录（{len(mine)} 段）**")
    if not len(mine):
        st.caption("该网格尚无网格员任职记录。")
        return
    table = pd.DataFrame({
        "专职网格员": mine["worker"],
        "到岗日期": pd.to_datetime(mine["started_on"]).dt.strftime("%Y-%m-%d"),
        "离岗日期": pd.to_datetime(mine["ended_on"]).dt.strftime("%Y-%m-%d").fillna("在岗"),
        "在岗天数": mine["days"],
    })
    if writer:
        table.insert(1, "联系电话", mine["phone"].fillna("—"))
    st.dataframe(table, hide_index=True, width="stretch")


def _audit_table(ctx: PageContext, code: str) -> None:
    history_table(grid_history(engine(ctx), code))
