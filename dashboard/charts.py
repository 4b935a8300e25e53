"""Stacked bar charts as plain Vega-Lite specifications.

``st.bar_chart`` builds an Altair chart and validates it against the Vega-Lite schema on every script run
(about 25 ms a chart, the largest share of a warm page run); the specification here is a small dict built
from the frame, with Chinese tooltip titles instead of Streamlit's generated "value" and "color".
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

X, SERIES, VALUE = "x", "series", "value"
LEGEND_COLUMNS = 2  # the legend wraps instead of running past a half-width column (3 cut 「家庭婚姻纠纷」 at 1366)


def long_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """One row per (x, series) from a frame indexed by x with one column per series; x as text."""
    long = wide.rename_axis(X).reset_index().melt(id_vars=X, var_name=SERIES, value_name=VALUE)
    long[X] = long[X].astype(str)
    long[SERIES] = long[SERIES].astype(str)
    return long


def bar_spec(wide: pd.DataFrame, colors: Sequence[str], x_label: str, y_label: str, series_label: str,
             height: int) -> dict:
    """Bars of ``wide`` (index: x in display order; columns: series in stacking and legend order)."""
    series = [str(c) for c in wide.columns]
    return {
        "mark": {"type": "bar"},
        "height": height,
        "encoding": {
            "x": {"field": X, "type": "ordinal", "title": x_label, "sort": [str(v) for v in wide.index],
                  "axis": {"grid": False, "labelOverlap": False, "labelAngle": 0 if len(wide.index) <= 6 else -45}},
            "y": {"field": VALUE, "type": "quantitative", "title": y_label, "stack": "zero",
                  "axis": {"grid": True, "tickMinStep": 1}},
            "color": {"field": SERIES, "type": "nominal", "title": None,
                      "scale": {"domain": series, "range": list(colors)[: len(series)]},
                      "legend": {"orient": "bottom", "offset": 5, "columns": LEGEND_COLUMNS, "labelLimit": 0,
                                 "symbolLimit": 0}},
            "order": {"field": "order", "type": "quantitative"},
            "tooltip": [{"field": X, "type": "ordinal", "title": x_label},
                        {"field": SERIES, "type": "nominal", "title": series_label},
                        {"field": VALUE, "type": "quantitative", "title": y_label}],
        },
    }


def stacked_bars(wide: pd.DataFrame, colors: Sequence[str], *, x_label: str, y_label: str, series_label: str,
                 height: int) -> None:
    """Draw ``wide`` as stacked bars across the container's width."""
    order = {str(c): i for i, c in enumerate(wide.columns)}
    data = long_frame(wide)
    data["order"] = data[SERIES].map(order)
    st.vega_lite_chart(data, bar_spec(wide, colors, x_label, y_label, series_label, height), width="stretch")
