"""「常用问题」: one click sets a workspace's view for a common question, and an empty answer is said in words.

A question is the widget values that answer it (``state``: session-state key → value) plus the widget values
it puts back to their defaults (``clear``). Asking sets them in a button's callback, before the page's widgets
are drawn, so the page then simply shows its answer. ``?q=<key>`` asks the same question from a link (the
overview links to them), so the view a question gives can be shared. A question whose values are all in
place is shown as the chosen one (primary button): nothing besides the widgets remembers it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import streamlit as st

from dashboard.nav import pages
from geo.coverage import LIFE_CIRCLES
from geo.vocab import ONE_OLD_ONE_YOUNG_ONE_GENERAL, StationKind

QUESTION_PARAM = "q"
"""``?q=<key>`` asks question ``key`` of the page when it opens."""
HEADING = "常用问题"


@dataclass(frozen=True)
class QuickQuestion:
    """One common question: ``key`` (URL value), ``label`` (the button), ``help`` (what the answer shows),
    ``page`` (the navigation key of the page that answers it), the widget values that answer it and the
    widget keys put back to their defaults."""

    key: str
    label: str
    help: str
    page: str
    state: Mapping[str, object] = field(default_factory=dict)
    clear: tuple[str, ...] = ()

    def ask(self) -> None:
        """Set the page's widgets to this question's view (call before they are drawn, e.g. as a callback)."""
        for name in self.clear:
            st.session_state.pop(name, None)
        for name, value in self.state.items():
            st.session_state[name] = list(value) if isinstance(value, (list, tuple)) else value

    def is_set(self) -> bool:
        """True when every widget value of the question is in place (the page shows its answer)."""
        return all(_same(st.session_state.get(name), value) for name, value in self.state.items())


def _same(now: object, wanted: object) -> bool:
    if isinstance(wanted, (list, tuple)):
        return isinstance(now, (list, tuple)) and sorted(map(str, now)) == sorted(map(str, wanted))
    return now == wanted


_ELDERLY = StationKind.ELDERLY_HOME.value
_COVERAGE_VIEW = "服务覆盖"
NO_ELDERLY_STATION = QuickQuestion(
    "elderly10", f"无{StationKind.ELDERLY_HOME.label}（10分钟）",
    f"步行 {LIFE_CIRCLES['10分钟']} 米（10分钟生活圈）内没有{StationKind.ELDERLY_HOME.label}的老旧小区", "coverage",
    {"cov_view": _COVERAGE_VIEW, "cov_kinds": [_ELDERLY], "cov_circle": "10分钟", "cov_detour": 1.0,
     "gap_kind": _ELDERLY}, clear=("cov_day",))
MISSING_ONE_OLD_ONE_YOUNG = QuickQuestion(
    "oldyoung5", "缺少一老一少一普（5分钟）",
    f"步行 {LIFE_CIRCLES['5分钟']} 米（5分钟生活圈）内缺少"
    f"{'、'.join(k.label for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL)}中任一种的老旧小区", "coverage",
    {"cov_view": _COVERAGE_VIEW, "cov_kinds": [k.value for k in ONE_OLD_ONE_YOUNG_ONE_GENERAL], "cov_circle": "5分钟",
     "cov_detour": 1.0, "gap_kind": _ELDERLY}, clear=("cov_day",))
VACANT_GRIDS = QuickQuestion(
    "vacant", "网格员空缺", "没有专职网格员的网格", "coverage",
    {"cov_view": "网格标准", "grid_only_vacant": True})
OVERDUE_CASES = QuickQuestion(
    "overdue", "超期未结案件", "受理超过办理时限仍未办结的案件", "disputes",
    {"dispute_overdue_only": True}, clear=("dispute_categories", "dispute_sources", "dispute_statuses"))
MY_OVERDUE_CASES = QuickQuestion(
    "overdue", "超期未结案件", "我的待办中已超期的案件", "cases",
    {"case_view": "我的待办", "todo_overdue_only": True})
PLAN_BEHIND = QuickQuestion(
    "planlag", "本年计划滞后", "本年度计划完工进度落后于时间进度的单元及其尚未完工的小区", "renovation",
    {"reno_view": "改造进度", "reno_lagging": True})

PAGE_QUESTIONS: dict[str, tuple[QuickQuestion, ...]] = {
    "coverage": (NO_ELDERLY_STATION, MISSING_ONE_OLD_ONE_YOUNG, VACANT_GRIDS),
    "disputes": (OVERDUE_CASES,),
    "cases": (MY_OVERDUE_CASES,),
    "renovation": (PLAN_BEHIND,),
}
"""The questions each workspace answers (navigation key → questions, in button order)."""
OVERVIEW_QUESTIONS = (NO_ELDERLY_STATION, MISSING_ONE_OLD_ONE_YOUNG, OVERDUE_CASES, VACANT_GRIDS, PLAN_BEHIND)
"""The questions the overview links to, each on the page that answers it."""


def ask_from_url(questions: Sequence[QuickQuestion]) -> None:
    """Ask the question named by ``?q=`` (then drop it from the URL, so the user's later choices stay)."""
    wanted = st.query_params.get(QUESTION_PARAM)
    if wanted is None:
        return
    st.query_params.pop(QUESTION_PARAM, None)
    for q in questions:
        if q.key == wanted:
            q.ask()


def quick_questions(page: str) -> QuickQuestion | None:
    """The 「常用问题」 row of ``page`` (a key of PAGE_QUESTIONS): one button per question; returns the question
    whose view is shown, if any. Call before the page's own widgets."""
    questions = PAGE_QUESTIONS[page]
    ask_from_url(questions)
    shown = next((q for q in questions if q.is_set()), None)
    row = st.container(horizontal=True, vertical_alignment="center")  # buttons wrap, never cut by 「…」
    row.markdown(f"**{HEADING}**", width="content")
    for q in questions:
        row.button(q.label, key=f"quick_{page}_{q.key}", on_click=q.ask, help=q.help, width="content",
                   type="primary" if q is shown else "secondary", icon=":material/help:")
    return shown


def all_clear(text: str) -> None:
    """An empty answer said in words (instead of an empty table)."""
    st.success(text, icon=":material/task_alt:")


def question_links(scope_code: str, period_days: int) -> None:
    """「常用问题」 on the overview: one link per question to the page that answers it, for the same scope."""
    found = pages()
    row = st.container(horizontal=True, vertical_alignment="center")
    row.markdown(f"**{HEADING}**", width="content")
    for q in OVERVIEW_QUESTIONS:
        params = {QUESTION_PARAM: q.key, "period": str(period_days)} | ({"scope": scope_code} if scope_code else {})
        row.page_link(found[q.page], label=q.label, query_params=params, help=q.help, icon=":material/help:")
