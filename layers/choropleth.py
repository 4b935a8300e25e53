"""Units (sub-districts, communities or grids) filled by the class of one numeric indicator.

Input: any frame of unit polygons (EPSG:4326, MultiPolygon) with ``code``, ``name`` and the numeric
column named by the ``value_column`` option (default ``value``), e.g. the communities of a street with
``disputes_per_1000``. Classes come from ``geo.classify.class_breaks`` (``breaks_method``,
``classes``); colours from a sequential ``palette``, light = low, dark = high; units without a value
are grey ("无数据"). The legend lists the class ranges under the indicator's name (``value_label``),
which also names the layer in the layer control.

This is the clickable layer of the drill-down: every polygon carries its raw ``code`` and ``name``
(and ``value``, ``class_index``) in its GeoJSON properties, which streamlit-folium returns as
``last_active_drawing["properties"]`` when it is clicked. Draw it above the boundary layers (the
registry does), or their fills catch the click first.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.classify import (
    NO_CLASS,
    as_method,
    assign_classes,
    check_format,
    class_ranges,
    format_value,
)
from geo.errors import GuloError
from geo.map_classes import DEFAULT_PALETTE, NO_DATA, PALETTES, class_colours, classify
from geo.vocab import ClassifyMethod, Level
from layers.common import (
    esc,
    feature_group,
    label_points,
    require_columns,
    simplified,
    valid_rows,
)
from layers.features import FeatureLayer, label_layer
from layers.spec import LayerSpec, auto_labels, check_options

LABEL = "指标分级"
DEFAULT_COLUMN = "value"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_UNSAFE_LABEL = re.compile(r"[<>&\"']")
_HIGHLIGHT = {"weight": 3, "color": "#263238", "fillOpacity": 0.9}


@dataclass(frozen=True)
class Scheme:
    """The checked choropleth options: column, indicator name, value format, method, classes, colours."""

    column: str
    label: str
    fmt: str | None
    method: ClassifyMethod
    classes: int
    palette: tuple[str, ...]


def check_palette(palette: str | Sequence[str]) -> tuple[str, ...]:
    """The colours of a palette name (YlOrRd / Blues / Greens) or of a list of #RRGGBB, light to dark."""
    if isinstance(palette, str):
        if palette not in PALETTES:
            raise GuloError(f"配色“{palette}”无效，可选：{'、'.join(PALETTES)}，或 #RRGGBB 颜色列表")
        return PALETTES[palette]
    colours = tuple(palette)
    if len(colours) < 2 or not all(isinstance(c, str) and _HEX.match(c) for c in colours):
        raise GuloError(f"配色应为至少两个 #RRGGBB 颜色（由浅到深），而不是 {palette!r}")
    return tuple(c.lower() for c in colours)


def check_label(value_label: str | None) -> str | None:
    """``value_label`` if it is None or plain text (no < > & quotes, which would need escaping)."""
    if value_label is not None and (not isinstance(value_label, str) or not value_label.strip()
                                    or _UNSAFE_LABEL.search(value_label)):
        raise GuloError(f"指标名称应为不含 < > & 引号的文字，而不是 {value_label!r}")
    return value_label


def scheme(value_column: str = DEFAULT_COLUMN, value_label: str | None = None, value_format: str | None = None,
           breaks_method: ClassifyMethod | str = ClassifyMethod.QUANTILES, classes: int = 5,
           palette: str | Sequence[str] = DEFAULT_PALETTE) -> Scheme:
    """Check the choropleth options (GuloError naming the allowed values) and bundle them."""
    if not isinstance(value_column, str) or not value_column:
        raise GuloError(f"指标字段 value_column 应为字段名，而不是 {value_column!r}")
    colours = check_palette(palette)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or not 2 <= classes <= len(colours):
        raise GuloError(f"分级数 classes 应为 2 到 {len(colours)} 的整数（配色的颜色数），而不是 {classes!r}")
    label = check_label(value_label) or value_column
    return Scheme(value_column, label, check_format(value_format), as_method(breaks_method), int(classes), colours)


def title(*, value_label: str | None = None, **_options) -> str:
    """The layer's name in the layer control and legend: the indicator name, else "指标分级"."""
    return check_label(value_label) or LABEL


def _classified(gdf: gpd.GeoDataFrame, sch: Scheme) -> tuple[pd.Series, list[float], list[str]]:
    """(float values, class upper bounds, class colours) of the frame's indicator column; classes whose legend
    labels would share a number even with one decimal more than the format are merged (fewer, readable)."""
    return classify(gdf[sch.column], sch.fmt, sch.palette, sch.classes, sch.method, sch.label)


def _style(colour: str) -> dict:
    return {"color": "#ffffff", "weight": 1, "opacity": 1, "fillColor": colour, "fillOpacity": 0.75}


def _properties(gdf: gpd.GeoDataFrame, values: pd.Series, breaks: list[float], colours: list[str],
                sch: Scheme) -> list[dict]:
    """Each unit's GeoJSON properties: raw code/name/value, class, escaped tip, fill style."""
    props = []
    for code, name, value, cls in zip(gdf["code"], gdf["name"], values, assign_classes(values, breaks)):
        missing = cls == NO_CLASS
        text = NO_DATA[0] if missing else format_value(value, sch.fmt)
        props.append({"code": str(code), "name": str(name), "value": None if missing else float(value),
                      "class_index": int(cls), "tip": [f"{esc(name)} · {esc(sch.label)}: {esc(text)}"],
                      "style": _style(NO_DATA[1] if missing else colours[cls])})
    return props


def build(gdf: gpd.GeoDataFrame, *, value_column: str = DEFAULT_COLUMN, value_label: str | None = None,
          value_format: str | None = None, breaks_method: ClassifyMethod | str = ClassifyMethod.QUANTILES,
          classes: int = 5, palette: str | Sequence[str] = DEFAULT_PALETTE, level="district",
          labels: bool | None = None, tolerance_m: float = 3.0, show: bool = True,
          **options) -> folium.FeatureGroup:
    """Unit polygons (EPSG:4326) filled by class of ``value_column``, with hover highlight and name labels.

    Names are drawn unless ``labels=False``. Polygons are simplified by ``tolerance_m`` metres and
    rounded to 6 decimals; tooltips read "名称 · 指标: 值" (escaped).
    """
    check_options(options)
    sch = scheme(value_column, value_label, value_format, breaks_method, classes, palette)
    require_columns(gdf, ["code", "name", sch.column], LABEL)
    gdf = valid_rows(gdf, LABEL)
    values, breaks, colours = _classified(gdf, sch)
    fg = feature_group(title(value_label=value_label), show)
    props = _properties(gdf, values, breaks, colours, sch)
    fg.add_child(FeatureLayer(simplified(gdf, tolerance_m), props, highlight=_HIGHLIGHT))
    if auto_labels(labels, level, tuple(Level)) and len(gdf):
        fg.add_child(label_layer(label_points(gdf.geometry), gdf["name"], "gl-choropleth"))
    return fg


def legend(gdf: gpd.GeoDataFrame | None = None, *, value_column: str = DEFAULT_COLUMN,
           value_label: str | None = None, value_format: str | None = None,
           breaks_method: ClassifyMethod | str = ClassifyMethod.QUANTILES, classes: int = 5,
           palette: str | Sequence[str] = DEFAULT_PALETTE, **options) -> list[tuple[str, str]]:
    """The class ranges ("450–520", from the lowest to the highest value in the class, no number shared
    by two classes) and their colours, low to high, then "无数据" if a unit lacks a value.

    Needs the layer's frame (the same one ``build`` gets) to know the ranges; without it, the
    colour ramp labelled 第1级（低） … 第n级（高）.
    """
    check_options(options)
    sch = scheme(value_column, value_label, value_format, breaks_method, classes, palette)
    if gdf is None:
        return _ramp(sch)
    require_columns(gdf, [sch.column], LABEL)
    values, breaks, colours = _classified(valid_rows(gdf, LABEL), sch)
    items = list(zip(class_ranges(values, breaks, sch.fmt), colours)) if breaks else []
    return items + [NO_DATA] if values.isna().any() else items


def unit_fills(gdf: gpd.GeoDataFrame, *, value_column: str = DEFAULT_COLUMN, value_label: str | None = None,
               value_format: str | None = None, breaks_method: ClassifyMethod | str = ClassifyMethod.QUANTILES,
               classes: int = 5, palette: str | Sequence[str] = DEFAULT_PALETTE) -> tuple[list[str], list[tuple[str, str]]]:
    """The fill colour of each row of ``gdf`` (grey without a value) and the legend, exactly as the map draws them.

    For drawings outside Leaflet (the briefing PDF), so that paper and screen agree.
    """
    sch = scheme(value_column, value_label, value_format, breaks_method, classes, palette)
    require_columns(gdf, [sch.column], LABEL)
    values, breaks, colours = _classified(gdf, sch)
    fills = [NO_DATA[1] if c == NO_CLASS else colours[c] for c in assign_classes(values, breaks)]
    return fills, legend(gdf, value_column=value_column, value_label=value_label, value_format=value_format,
                         breaks_method=breaks_method, classes=classes, palette=palette)


def _ramp(sch: Scheme) -> list[tuple[str, str]]:
    colours = class_colours(sch.classes, sch.palette)
    names = [f"第{i + 1}级" for i in range(len(colours))]
    names[0], names[-1] = f"{names[0]}（低）", f"{names[-1]}（高）"
    return list(zip(names, colours))


SPEC = LayerSpec("choropleth", LABEL, build, legend, shape="square", title=title, frame_legend=True)
