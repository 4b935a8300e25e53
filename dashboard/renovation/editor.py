"""编辑: change a compound's status, type, plan year, budget and dates — validated, locked, audited."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard.auth import current_account
from dashboard.context import PageContext, engine
from dashboard.edit_ui import may_edit, saved
from data.edits import compound_history, update_compound
from geo.access import Account
from geo.lifecycle import FIELD_LABELS, allowed_next
from geo.vocab import RenovationStatus, RenovationType


def _version_key(code: str) -> str:
    return f"edit_version_{code}"


def _form(row: pd.Series, code: str) -> dict | None:
    """The edit form for one compound; the changes when it is submitted."""
    statuses = allowed_next(row["status"])
    types = [None, *RenovationType]
    with st.form(f"edit_{code}"):
        cols = st.columns(3)
        status = cols[0].selectbox(FIELD_LABELS["status"], statuses, format_func=lambda s: s.label,
                                   help="只能沿生命周期前进（已纳入计划可退回未纳入计划）")
        reno = cols[1].selectbox(FIELD_LABELS["reno_type"], types, format_func=lambda t: "未定" if t is None else t.label,
                                 index=0 if pd.isna(row["reno_type"]) else types.index(RenovationType(row["reno_type"])))
        year = cols[2].number_input(FIELD_LABELS["plan_year"], 2000, 2040, value=_int_or_none(row["plan_year"]), step=1)
        cols = st.columns(3)
        budget = cols[0].number_input(FIELD_LABELS["budget_wan"], 0.0, value=_float_or_none(row["budget_wan"]), step=10.0)
        started = cols[1].date_input(FIELD_LABELS["started_on"], value=_date_or_none(row["started_on"]))
        completed = cols[2].date_input(FIELD_LABELS["completed_on"], value=_date_or_none(row["completed_on"]))
        if not st.form_submit_button("保存修改", type="primary"):
            return None
    return {"status": status.value, "reno_type": None if reno is None else reno.value,
            "plan_year": year, "budget_wan": budget, "started_on": started, "completed_on": completed}


def _int_or_none(v) -> int | None:
    return None if pd.isna(v) else int(v)


def _float_or_none(v) -> float | None:
    return None if pd.isna(v) else float(v)


def _date_or_none(v) -> date | None:
    return None if pd.isna(v) else pd.Timestamp(v).date()


def _save(ctx: PageContext, code: str, changes: dict, account: Account | None) -> None:
    new = saved(lambda version: update_compound(engine(ctx), code, changes, version, account, today=date.today()),
                _version_key(code))
    if new is None:
        return
    st.session_state[_version_key(code)] = new["version"]
    st.success(f"已保存（版本 {new['version']}）。")
    st.rerun()


def editor(ctx: PageContext, code: str) -> None:
    """Edit one compound of the scope; the version read when the form was opened guards the save."""
    row = ctx.layer("compounds").set_index("code").loc[code]
    st.session_state.setdefault(_version_key(code), int(row["version"]))
    st.caption(f"当前状态：{RenovationStatus(row['status']).label} · 记录版本 {st.session_state[_version_key(code)]}"
               "（若他人已先保存，本次修改将被拒绝，不会覆盖他人的修改）")
    account = current_account()
    if may_edit(account, row["community_code"], "修改小区信息", "小区"):
        changes = _form(row, code)
        if changes is not None:
            _save(ctx, code, changes, account)
    history = compound_history(engine(ctx), code)
    st.markdown(f"**修改记录（{len(history)} 条）**")
    if len(history):
        st.dataframe(pd.DataFrame({"时间": pd.to_datetime(history["at"]).dt.strftime("%Y-%m-%d %H:%M"),
                                   "操作人": history["actor"], "修改内容": history["summary"]}),
                     hide_index=True, width="stretch")
