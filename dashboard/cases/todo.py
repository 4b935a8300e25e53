"""我的待办: the open cases of the account's scope, fewest days left first, overdue ones in red."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.cases.common import open_case
from dashboard.context import PageContext, engine_for_settings
from dashboard.quick import all_clear
from dashboard.text import md_format
from data.cases import my_cases
from geo.access import Account
from geo.case_lifecycle import deadline_text
from geo.formatting import MISSING
from geo.lifecycle import district_today
from geo.vocab import DisputeCategory, DisputeStatus

OVERDUE_STYLE = "color: #b71c1c; font-weight: 600"
TABLE_KEY, CODES_KEY = "todo_table", "todo_codes"


@st.cache_data(max_entries=64, show_spinner=False, hash_funcs={Account: lambda a: (a.username, a.role.value,
                                                                                  a.scope_code, a.active)})
def todo_cases(url: str, version: int, account: Account, today, overdue_days: int) -> pd.DataFrame:
    """``data.cases.my_cases`` on the database at ``url`` at data ``version`` (rebuilt after every save anywhere)."""
    return my_cases(engine_for_settings(), account, today, overdue_days)


def cases_of(ctx: PageContext, account: Account) -> pd.DataFrame:
    """The account's open cases today (Fuzhou), with days left."""
    return todo_cases(ctx.settings.db_url, ctx.version, account, district_today(), ctx.settings.overdue_days)


def table(ctx: PageContext, cases: pd.DataFrame) -> pd.DataFrame:
    """The list as shown: Chinese headers, units by name, the time limit in words."""
    names = ctx.units.names
    return pd.DataFrame({
        "编号": cases["code"],
        "期限": [deadline_text(int(d)) for d in cases["days_left"]],
        "受理日期": pd.to_datetime(cases["reported_on"]).dt.strftime("%Y-%m-%d"),
        "类别": cases["category"].map(DisputeCategory.labels()),
        "状态": cases["status"].map(DisputeStatus.labels()),
        "社区": cases["community_code"].map(lambda c: names.get(c, c)),
        "网格": cases["grid_code"].map(lambda c: names.get(c, c)),
        "地址": cases["address"],
    })


def _picked() -> None:
    rows = st.session_state[TABLE_KEY].selection.rows
    codes = st.session_state.get(CODES_KEY, [])
    if rows and rows[0] < len(codes):
        open_case(codes[rows[0]])


def todo(ctx: PageContext, account: Account) -> None:
    """Counts, then the list; a click on a row opens the case."""
    cases = cases_of(ctx, account)
    overdue = int(cases["overdue"].sum())
    due = int((cases["days_left"].between(0, 3)).sum())
    cols = st.columns(3)
    cols[0].metric("在办案件", f"{len(cases):,} 件")
    cols[1].metric("已超期", f"{overdue:,} 件")
    cols[2].metric("3天内到期", f"{due:,} 件")
    if not len(cases):
        st.info(md_format("{}目前没有在办案件。", account.where))
        return
    if st.toggle("只看已超期的案件", key="todo_overdue_only"):
        cases = cases[cases["overdue"].to_numpy(bool)].reset_index(drop=True)
        if not len(cases):
            all_clear(md_format("{}目前没有超期未结案件。", account.where))
            return
    st.caption(f"办理时限：受理之日起 {ctx.settings.overdue_days} 天；超期案件以红色显示，按剩余天数排列。"
               "点击一行即可办理该案件。")
    shown = table(ctx, cases)
    st.session_state[CODES_KEY] = shown["编号"].tolist()
    late = cases["overdue"].to_numpy()
    styled = shown.style.apply(lambda row: [OVERDUE_STYLE if late[row.name] else ""] * len(row), axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", height=min(38 + 35 * len(shown), 520), placeholder=MISSING,
                 on_select=_picked, selection_mode="single-row", key=TABLE_KEY,
                 column_config={"地址": st.column_config.TextColumn(width="large")})
