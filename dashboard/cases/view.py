"""案件办理: one case — its fields, its status and time limit, the next steps as a form, its history."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard.cases.common import CASE_KEY, REFUSALS, flash, show_refusal
from dashboard.cases.todo import cases_of
from dashboard.context import PageContext, engine
from dashboard.text import md_escape, md_format
from data.cases import advance_case, case_history, get_case
from geo.access import Account, can_write
from geo.case_lifecycle import (
    DATE_ORDER,
    FIELD_LABELS,
    STEPS,
    as_date_or_none,
    days_left,
    deadline_text,
    next_steps,
)
from geo.errors import ConflictError, GuloError
from geo.lifecycle import DISTRICT_TZ, district_today
from geo.scope import Scope
from geo.vocab import CLOSED_DISPUTE_STATUSES, CaseStep, DisputeCategory, DisputeSource, DisputeStatus

SHOWN_FIELDS = ("status", "category", "source", "reported_on", "address", "parties", "summary", "mediator",
                "mediating_on", "outcome", "agreement_on", "transferred_to", "closed_on")
RECENT_CLOSED = 200
"""How many of the latest 办结 cases the picker offers besides the open ones."""
LONG_TEXT = ("outcome",)


def _opened_key(code: str) -> str:
    return f"case_opened_{code}"


def _reload(code: str) -> None:
    st.session_state.pop(_opened_key(code), None)


def _choices(ctx: PageContext, account: Account) -> dict[str, str]:
    """Code -> label for the picker: the open cases (fewest days left first), then the latest 办结 ones."""
    open_cases = cases_of(ctx, account)
    labels = {c: f"{c} · {DisputeCategory.labels().get(k, k)} · {DisputeStatus.labels().get(s, s)} · {deadline_text(int(d))}"
              for c, k, s, d in zip(open_cases["code"], open_cases["category"], open_cases["status"],
                                    open_cases["days_left"])}
    cases = ctx.layer("disputes", Scope(account.scope_code))
    closed = cases[cases["closed_on"].notna()].sort_values(["closed_on", "code"], ascending=False).head(RECENT_CLOSED)
    for c, k, day in zip(closed["code"], closed["category"], closed["closed_on"]):
        labels[c] = f"{c} · {DisputeCategory.labels().get(k, k)} · 已于 {pd.Timestamp(day):%Y-%m-%d} 办结"
    return labels


def _picker(ctx: PageContext, account: Account) -> str | None:
    labels = _choices(ctx, account)
    wanted = st.session_state.get(CASE_KEY)
    if wanted and wanted not in labels:
        labels[wanted] = wanted  # a case asked for by link or just saved: get_case decides whether it may be seen
    return st.selectbox("选择案件", list(labels), index=None, format_func=labels.get, key=CASE_KEY,
                        placeholder="输入案件编号搜索，或在“我的待办”中点击一行…")


def _shown(field: str, value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return "—"
    vocab = {"status": DisputeStatus, "category": DisputeCategory, "source": DisputeSource}.get(field)
    if vocab is not None:
        return vocab.labels().get(value, value)
    if field in DATE_ORDER:
        return f"{as_date_or_none(value):%Y-%m-%d}"
    return str(value)


def _facts(ctx: PageContext, case: dict) -> None:
    names = ctx.units.names
    rows = [("案件编号", case["code"]), ("所在网格", f"{names.get(case['community_code'], '')} "
                                                f"{names.get(case['grid_code'], case['grid_code'])}")]
    rows += [(FIELD_LABELS[f], _shown(f, case.get(f))) for f in SHOWN_FIELDS]
    st.dataframe(pd.DataFrame(rows, columns=["项目", "内容"]), hide_index=True, width="stretch",
                 height=38 + 35 * len(rows), column_config={"项目": st.column_config.TextColumn(width=110),
                                                             "内容": st.column_config.TextColumn(width="large")})


def _status_line(case: dict, today: date, overdue_days: int) -> None:
    """The status and the time limit: overdue in red, with days."""
    status = DisputeStatus(case["status"])
    closed = as_date_or_none(case.get("closed_on"))
    if closed is not None:
        st.success(f"{status.label} · 已于 {closed:%Y-%m-%d} 办结", icon=":material/task_alt:")
        return
    left = days_left(case["reported_on"], today, overdue_days)
    waiting = "（调解已结束，待办结）" if status in CLOSED_DISPUTE_STATUSES else ""
    text = f"{status.label}{waiting} · 受理于 {as_date_or_none(case['reported_on']):%Y-%m-%d}，办理时限 {overdue_days} 天"
    if left < 0:
        st.error(f"{text} · **已超期 {-left} 天**", icon=":material/alarm:")
    elif left <= 3:
        st.warning(f"{text} · {deadline_text(left)}", icon=":material/schedule:")
    else:
        st.info(f"{text} · {deadline_text(left)}", icon=":material/schedule:")


def _step_form(case: dict, step: CaseStep, today: date) -> dict | None:
    """A form with exactly the fields ``step`` requires; the values when it is submitted."""
    values = {}
    with st.form(f"step_{case['code']}_{step.value}"):
        for field in STEPS[step].fields:
            label = FIELD_LABELS[field]
            if field in DATE_ORDER:
                values[field] = st.date_input(label, value=today, max_value=today, key=f"{case['code']}_{field}")
            elif field in LONG_TEXT:
                values[field] = st.text_area(label, max_chars=2000, height=90, key=f"{case['code']}_{field}")
            else:
                values[field] = st.text_input(label, max_chars=60, key=f"{case['code']}_{field}")
        if not st.form_submit_button(f"保存：{step.label}", type="primary"):
            return None
    return values


def _next(ctx: PageContext, account: Account, case: dict, today: date) -> None:
    """The steps the case (as it was when opened) may take next, the chosen one as a form; the save is checked
    against that version, so a step someone else took meanwhile is never overwritten."""
    steps = next_steps(case["status"], case.get("closed_on"))
    if not steps:
        return
    if not can_write(account, case["grid_code"]):
        st.caption(md_format("账号“{}”只能办理{}范围内的案件。", account.username, account.where))
        return
    st.markdown("**下一步**")
    key = f"step_{case['code']}"
    if st.session_state.get(key) not in steps:  # new case, or a step taken: the first of the next ones
        st.session_state[key] = steps[0]
    step = st.segmented_control("下一步", steps, format_func=lambda s: s.label, key=key,
                                label_visibility="collapsed") or steps[0]
    values = _step_form(case, step, today)
    if values is None:
        return
    code = case["code"]
    try:
        new = advance_case(engine(ctx), code, step, values, case["version"], account)
    except REFUSALS as exc:
        show_refusal(exc)
        if isinstance(exc, ConflictError):
            st.button("载入最新数据", key=f"reload_{code}", on_click=_reload, args=(code,))
        return
    st.session_state[_opened_key(code)] = new
    flash(f"已保存：{code} {step.label}。")
    st.rerun()


def _history(ctx: PageContext, code: str) -> None:
    history = case_history(engine(ctx), code)
    st.markdown(f"**办理记录（{len(history)} 条）**")
    if not len(history):
        st.caption("该案件是导入或示例数据，尚无在系统中的办理记录。")
        return
    at = pd.to_datetime(history["at"], utc=True).dt.tz_convert(DISTRICT_TZ).dt.strftime("%Y-%m-%d %H:%M")
    lines = [md_format("- **{}** · {}  \n  {}", when, actor, summary)  # wraps on a phone, unlike a table
             for when, actor, summary in zip(at, history["actor"], history["summary"])]
    st.markdown("\n".join(lines))


def case_view(ctx: PageContext, account: Account) -> None:
    """Pick a case of the account's scope; its facts, status and time limit, next step and history."""
    code = _picker(ctx, account)
    if not code:
        return
    try:
        case = get_case(engine(ctx), code, account)
    except GuloError as exc:
        st.error(md_escape(exc))
        return
    opened = st.session_state.setdefault(_opened_key(code), case)  # the steps offered are those of this version
    today = district_today()
    _status_line(case, today, ctx.settings.overdue_days)
    if opened["version"] != case["version"]:
        st.warning(f"该案件已被他人办理或修改（当前版本 {case['version']}，您打开时为版本 {opened['version']}），"
                   "以下办理步骤仍按您打开时的状态显示，保存将被拒绝；请先载入最新数据。")
        st.button("载入最新数据", key=f"reload_top_{code}", on_click=_reload, args=(code,))
    left, right = st.columns([3, 2], gap="medium")
    with left:
        _facts(ctx, case)
    with right:
        _next(ctx, account, opened, today)
        _history(ctx, code)
