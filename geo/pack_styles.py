"""The app's look as QGIS styles: which ``geo.qgis_style.LayerStyle`` each layer of the GIS data pack gets.

- the filled unit layer (the scope's child units, as on the map): graduated by the indicator with the map's class
  breaks, legend ranges and colours (``geo.map_classes.classify``, ``geo.classify.class_ranges``), grey 无数据;
- the other unit layers as outlines: sub-districts bold (the map's colour), communities thin and dashed, grids thin;
  names as labels on sub-districts and communities (and on the filled layer);
- compounds by renovation status, stations by kind, cases by status: the vocabulary's labels and colours
  (the fields hold the Chinese labels, as every export writes them);
- the disputes per grid (``dispute_stats``, when case points may not be shown): a circle at each grid's inside
  point, graduated by cases received, classed like the map's choropleth.

Pure: frames and field names in, style descriptions out. Sizes follow the map's pixels (× ``PX_MM``).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from geo.classify import class_ranges
from geo.map_classes import (
    COMMUNITY_COLOR,
    DEFAULT_INDICATOR,
    INDICATORS,
    NO_DATA,
    STREET_COLOR,
    classify,
    palette_colours,
)
from geo.qgis_style import PX_MM, Labels, LayerStyle, Range, Symbol, categorized
from geo.vocab import DisputeStatus, RenovationStatus, StationKind

GRID_COLOR = "#78909c"
STATS_FORMAT, STATS_PALETTE = "{:.0f}", "YlOrRd"
"""The received-cases classes of ``dispute_stats``: whole numbers, the map's default sequential palette."""
_OUTLINES = {  # unit layer -> (outline colour, width in pixels, dashed, label size in points, bold labels)
    "streets": (STREET_COLOR, 2.5, False, 11.0, True),
    "communities": (COMMUNITY_COLOR, 1.2, True, 8.0, False),
    "grids": (GRID_COLOR, 0.8, False, 0.0, False),
}
_POINTS = {  # point layer -> (vocabulary, field, circle diameter in pixels, outline colour)
    "compounds": (RenovationStatus, "status", 9.0, "#ffffff"),
    "stations": (StationKind, "kind", 12.0, "#263238"),
    "disputes": (DisputeStatus, "status", 10.0, "#ffffff"),
}


def outline_style(layer: str, aliases: Mapping[str, str], labelled: bool = True) -> LayerStyle:
    """A hollow unit layer: the map's outline of sub-districts, communities or grids; names as labels."""
    colour, width, dashed, size, bold = _OUTLINES[layer]
    labels = Labels("name", size_pt=size, bold=bold) if labelled and size else None
    symbol = Symbol(fill=None, outline=colour, outline_mm=round(width * PX_MM, 2), dashed=dashed)
    return LayerStyle("polygon", "single", symbol, labels=labels, aliases=dict(aliases))


def graduated_ranges(values: pd.Series, fmt: str | None, palette) -> tuple[Range, ...]:
    """The map's classes of ``values`` as ranges: lower = the class's previous break (the first: the minimum),
    upper = its break, label = the map legend's range, colour = the map's."""
    y, breaks, colours = classify(values, fmt, palette_colours(palette))
    if not breaks:
        return ()
    labels = class_ranges(y, breaks, fmt)
    lows = [float(y.min()), *breaks[:-1]]
    return tuple(Range(lo, hi, label, colour) for lo, hi, label, colour in zip(lows, breaks, labels, colours))


def choropleth_style(values: pd.Series, field: str, aliases: Mapping[str, str], indicator: str = DEFAULT_INDICATOR,
                     label_size: float = 8.0) -> LayerStyle:
    """The filled unit layer: ``field`` (holding ``indicator``'s ``values``) graduated as the map's choropleth,
    white outlines, names as labels; grey 无数据 for units without a value (all of them when none has one)."""
    fmt, palette = INDICATORS[indicator]
    symbol = Symbol(fill=NO_DATA[1], fill_alpha=0.75, outline="#ffffff", outline_mm=PX_MM)
    labels = Labels("name", size_pt=label_size)
    ranges = graduated_ranges(values, fmt, palette)
    if not ranges:
        return LayerStyle("polygon", "single", symbol, labels=labels, aliases=dict(aliases))
    missing = NO_DATA if pd.to_numeric(values, errors="coerce").isna().any() else None
    return LayerStyle("polygon", "graduated", symbol, field, ranges=ranges, no_data=missing, labels=labels,
                      aliases=dict(aliases))


def point_style(layer: str, aliases: Mapping[str, str]) -> LayerStyle:
    """Compounds, stations or cases: a circle per feature in its status's or kind's colour, as on the map."""
    vocab, field, diameter, outline = _POINTS[layer]
    symbol = Symbol(fill="#9e9e9e", outline=outline, outline_mm=PX_MM, size_mm=round(diameter * PX_MM, 2))
    return categorized("point", field, symbol, list(vocab), aliases)


def stats_style(received: pd.Series, field: str, aliases: Mapping[str, str]) -> LayerStyle:
    """``dispute_stats``: a circle at each grid's inside point, coloured by the class of cases received; grids
    without a case in the period get no circle (and take no part in the classes)."""
    symbol = Symbol(fill=NO_DATA[1], outline="#37474f", outline_mm=PX_MM, size_mm=round(10 * PX_MM, 2),
                    centroid=True)
    counts = pd.to_numeric(received, errors="coerce").astype(float)
    ranges = graduated_ranges(counts.where(counts > 0), STATS_FORMAT, STATS_PALETTE)
    if not ranges:
        return LayerStyle("polygon", "single", symbol, aliases=dict(aliases))
    return LayerStyle("polygon", "graduated", symbol, field, ranges=ranges, aliases=dict(aliases))
