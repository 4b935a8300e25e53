"""Ways to move through the hierarchy: breadcrumb, back button, sidebar selectors, period choice.

Every control writes the scope into the URL through ``go_to``; widget keys carry the current scope,
so the selectors always show the scope of the URL, whichever way the user got there.
"""
from __future__ import annotations

import streamlit as st

from dashboard.context import PERIOD_PARAM, PERIODS, PageContext, go_to
from dashboard.text import md_escape
from geo.scope import Scope
from geo.vocab import Level

ALL = ""  # the "全部" entry of a selector
PHONE_SCOPE_KEY = "phone_scope"  # the main-area scope picker shown on phones (see dashboard.style)
PHONE_PICKER_KEY = "phone_scope_picker"
"""Key prefix of the phone picker's popover; the key ends in the scope's code (see ``phone_picker_key``)."""


def breadcrumb(ctx: PageContext) -> None:
    """鼓楼区 › 东街街道 › 军门社区 › 网格04 — every part above the current one goes back up."""
    trail = ctx.units.trail(ctx.scope)
    cols = st.columns([1] * len(trail) + [max(1, 8 - len(trail))], gap="small", vertical_alignment="center")
    for i, (scope, name) in enumerate(trail):
        shown = md_escape(name)  # unit names come from imported data; all three strings below are Markdown
        label = shown if i == 0 else f"› {shown}"
        if scope == ctx.scope:
            cols[i].markdown(f"**{label}**")
        else:
            cols[i].button(label, key=f"crumb_{scope.code or 'district'}", type="tertiary",
                           on_click=go_to, args=(scope,), help=f"回到{shown}")
    if ctx.scope.level is not Level.DISTRICT:
        cols[-1].button("⬆ 返回上一级", key="go_up", on_click=go_to, args=(ctx.scope.parent(),))


def _on_select(key: str, parent: Scope) -> None:
    code = st.session_state[key]
    go_to(Scope(code) if code else parent)


def _selector(ctx: PageContext, label: str, parent: Scope, current: Scope | None, where=None,
              prefix: str = "select") -> None:
    """One selectbox in ``where`` (default: the sidebar) listing the children of ``parent``; choosing one (or 全部)
    moves the scope. ``prefix`` keeps the sidebar's and the phone picker's widgets apart."""
    options = [ALL] + [s.code for s in ctx.units.children(parent)]
    value = current.code if current is not None else ALL
    key = f"{prefix}_{label}_{ctx.scope.code or 'district'}"
    chosen = (where or st.sidebar).selectbox(label, options, index=options.index(value), key=key,
                                             format_func=lambda c: ctx.units.names.get(c, c) if c else "全部",
                                             on_change=_on_select, args=(key, parent))
    _missed_change(chosen, value, lambda: _on_select(key, parent))


def _missed_change(chosen, expected, apply) -> None:
    """Apply a choice whose on_change never ran: the first interaction after a server restart reaches a new
    session that has not drawn the widget yet, so Streamlit has no callback to call (the change would be lost)."""
    if chosen != expected:
        apply()
        st.rerun()


def _chain(ctx: PageContext, where=None, prefix: str = "select") -> None:
    chain = ctx.scope.chain()  # district, street?, community?, grid?
    for depth, label in enumerate(("街道（镇）", "社区", "网格")):
        parent = chain[depth] if depth < len(chain) else None
        if parent is None:
            break
        current = chain[depth + 1] if depth + 1 < len(chain) else None
        _selector(ctx, label, parent, current, where, prefix)


def selectors(ctx: PageContext) -> None:
    """Sub-district → community → grid selectors, each shown once its parent is chosen: in the sidebar, and on a
    phone also at the top of the page (a 「范围」 button; ``dashboard.style`` hides it on wider screens), so a
    grid supervisor changes scope without opening the sidebar. The picker is keyed by the scope, so a choice in it
    draws a new, closed picker for the new scope instead of leaving the old one open over the title."""
    st.sidebar.subheader("范围")
    _chain(ctx)
    with st.container(key=PHONE_SCOPE_KEY), st.popover(f"范围：{md_escape(ctx.units.name(ctx.scope))}",
                                                       icon=":material/location_on:", width="stretch",
                                                       key=phone_picker_key(ctx.scope)):
        _chain(ctx, st, "phone")


def phone_picker_key(scope: Scope) -> str:
    """The phone picker's key for ``scope``: a new key is a new element, which the browser draws closed (a
    popover that tracked its state to be closed by a callback would rerun the page at every open and close)."""
    return f"{PHONE_PICKER_KEY}_{scope.code or 'district'}"


def _on_period(key: str) -> None:
    st.query_params[PERIOD_PARAM] = st.session_state[PERIOD_PARAM] = st.session_state[key]


def period_selector(ctx: PageContext) -> None:
    """The dispute period (ending on the data cut-off day)."""
    key = f"period_{ctx.period_days}"
    options = list(PERIODS)
    chosen = st.sidebar.selectbox("统计周期", options, index=options.index(str(ctx.period_days)), key=key,
                                  format_func=PERIODS.get, on_change=_on_period, args=(key,),
                                  help=f"截至数据最新日期 {ctx.as_of:%Y-%m-%d}；变化量与前一个等长周期比较。")
    _missed_change(chosen, str(ctx.period_days), lambda: _on_period(key))
