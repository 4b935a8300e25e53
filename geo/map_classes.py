"""The choropleth's indicators, palettes and classes: one definition for the map, the briefing and the QGIS styles.

The map (``layers.choropleth``), the briefing PDF and the GIS data pack's QGIS styles (``geo.qgis_style``) colour
units by the same rule: class breaks from ``geo.classify.class_breaks`` (quantiles, 5 classes by default), classes
whose legend labels would read the same merged (``readable_breaks``), colours spread evenly over a sequential
ColorBrewer palette (light = low), grey for a unit without a value. Pure: numbers in, numbers and colours out.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo.classify import class_breaks, numeric_values, readable_breaks
from geo.party import PARTY_RATIOS
from geo.rollup import RATIOS
from geo.vocab import ClassifyMethod

NO_DATA = ("无数据", "#bdbdbd")
"""Legend entry (label, colour) of a unit without a value."""
DEFAULT_PALETTE = "YlOrRd"
# ColorBrewer 9-class sequential schemes (Cynthia Brewer, colorbrewer2.org), light to dark.
PALETTES: dict[str, tuple[str, ...]] = {
    "YlOrRd": ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026",
               "#800026"),
    "Blues": ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c",
              "#08306b"),
    "Greens": ("#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c",
               "#00441b"),
}
REDS = ("#fff5f0", "#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d")
"""ColorBrewer Reds (light to dark), the 党建引领 indicators' colour."""
PURPLES = ("#fcfbfd", "#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d")
STREET_COLOR = "#283593"
"""Outline of a sub-district (bold) on every map."""
COMMUNITY_COLOR = "#546e7a"
"""Outline of a community (thin, dashed) on every map."""
DEFAULT_CLASSES = 5
DEFAULT_METHOD = ClassifyMethod.QUANTILES

DEFAULT_INDICATOR = "disputes_per_1000"
"""The indicator the overview's map is coloured by until the user picks another."""
INDICATORS: dict[str, tuple[str, str | tuple[str, ...]]] = {  # choropleth indicator -> (format, palette)
    "households_per_grid": ("{:.0f}", "Blues"),
    "vacancy_rate": ("{:.0%}", "YlOrRd"),
    "renovated_share": ("{:.0%}", "Greens"),
    "disputes_per_1000": ("{:.1f}", "YlOrRd"),
    "station_completeness": ("{:.0%}", "Greens"),
    "org_coverage": ("{:.0%}", REDS),
    "building_coverage": ("{:.0%}", REDS),
    "members_per_100": ("{:.1f}", REDS),
    "volunteers_per_1000": ("{:.1f}", "Greens"),
    "assisted_share": ("{:.0%}", "Blues"),
    "consultation_rate": ("{:.0%}", PURPLES),
    "standards_share": ("{:.0%}", "Greens"),
}
INDICATOR_LABELS = {**RATIOS, **PARTY_RATIOS}
"""Chinese name of every choropleth indicator."""
DEFAULT_PERIOD_DAYS = 30
"""The period the pages show until the user picks another (近30天), in days up to the data cut-off."""


def palette_colours(palette: str | Sequence[str]) -> tuple[str, ...]:
    """The colours of a palette name (a key of ``PALETTES``) or the given colours themselves, light to dark."""
    return PALETTES[palette] if isinstance(palette, str) else tuple(palette)


def class_colours(n: int, palette: Sequence[str]) -> list[str]:
    """``n`` colours spread evenly over ``palette`` (its ends included; one class: the middle)."""
    if n <= 0:
        return []
    if n == 1:
        return [palette[len(palette) // 2]]
    return [palette[i] for i in np.round(np.linspace(0, len(palette) - 1, n)).astype(int)]


def classify(values: Iterable[Any], fmt: str | None, palette: Sequence[str], classes: int = DEFAULT_CLASSES,
             method: ClassifyMethod | str = DEFAULT_METHOD, name: str = "指标") -> tuple[pd.Series, list[float], list[str]]:
    """(float values, class upper bounds, class colours) of ``values``, exactly as the map draws them: breaks by
    ``method``, classes whose labels would share a number even with one decimal more than ``fmt`` merged, colours
    spread over ``palette`` (a sequence of #RRGGBB). ``name`` is the indicator's Chinese name for error messages."""
    y = numeric_values(values, name)
    breaks = readable_breaks(y, class_breaks(y, classes, method), fmt)
    return y, breaks, class_colours(len(breaks), palette)
