"""The app's own CSS, in one place, injected once per page by ``dashboard.context.setup_page``.

- Cards (``st.metric``) never cut their label, figure or change with 「…」: the text wraps instead, and the
  figure's size follows the window (1366 px office screens hold six cards to a row).
- Page links (the overview's alerts) wrap instead of ending in 「…」.
- Phones (≤ 640 px, where Streamlit stacks columns one per row): cards two to a row, the main-area scope
  picker (``dashboard.scope_ui.PHONE_SCOPE_KEY``) shown — on wider screens it is hidden, the sidebar has it.
  Tables (``st.dataframe``) scroll inside their own frame at any width.
"""
from __future__ import annotations

import streamlit as st

PHONE_MAX_PX = 640
"""Widest window treated as a phone (Streamlit stacks columns at this width)."""

_CARD_ROW = ('[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] > [data-testid="stVerticalBlock"]'
             ' > [data-testid="stElementContainer"] > [data-testid="stMetric"])')
"""A row of columns whose columns hold cards (not an outer layout that has cards deeper inside)."""

CSS = f"""<style>
[data-testid="stMetricLabel"] *, [data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricDelta"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: break-word;
}}
[data-testid="stMetricLabel"] {{ height: auto !important; min-height: 1.5rem; }}
[data-testid="stMetricValue"] {{ font-size: clamp(1.25rem, 1.6vw, 2.1rem); line-height: 1.25; }}
[data-testid="stMetricValue"] * {{ word-break: keep-all; }}  /* 「69/69 个社区」 breaks at its space only */
[data-testid="stMain"] [data-testid="stPageLink"] *, [data-testid="stMain"] [data-testid="stPageLink-NavLink"] * {{
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}}
.st-key-phone_scope {{ display: none; }}
@media (max-width: {PHONE_MAX_PX}px) {{
  .st-key-phone_scope {{ display: block; }}
  {_CARD_ROW} {{ flex-flow: row wrap !important; gap: 0.5rem 0.75rem !important; }}
  {_CARD_ROW} > [data-testid="stColumn"] {{
    flex: 1 1 calc(50% - 0.75rem) !important; width: calc(50% - 0.75rem) !important;
    min-width: calc(50% - 0.75rem) !important; max-width: calc(50% - 0.375rem) !important;
  }}
  {_CARD_ROW} > [data-testid="stColumn"]:not(:has([data-testid="stMetric"])) {{ display: none; }}
  [data-testid="stMetricValue"] {{ font-size: 1.4rem; }}
  [data-testid="stDataFrame"], [data-testid="stTable"] {{ max-width: 100%; overflow-x: auto; }}
}}
</style>"""


def apply_style() -> None:
    """Inject the app's CSS (no visible element)."""
    st.html(CSS)
