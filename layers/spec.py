"""What a map layer is: a key, a Chinese label, a builder and a legend; and the options they share.

Every builder has the signature ``build(gdf, **options) -> folium.FeatureGroup`` and every legend
``legend(**options) -> list[(label, colour)]`` (``legend(gdf, **options)`` for a layer with
``frame_legend``, whose classes come from its data). The options are one shared, documented set
(:data:`OPTIONS`), so the dashboard can pass the same keyword arguments to every layer; a
misspelt option is an error naming the allowed ones, never silently ignored.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium

from geo.errors import GuloError
from geo.scope import as_level
from geo.settings import Settings
from geo.vocab import Level

_DEFAULTS = Settings()

OPTIONS: dict[str, str] = {
    "level": "Level of the current view (district / street / community / grid, or geo.vocab.Level).",
    "today": "datetime.date the ages of disputes are counted to; default today.",
    "overdue_days": f"An open dispute older than this many days is overdue (default {_DEFAULTS.overdue_days}).",
    "units": "GeoDataFrame (EPSG:4326) of the polygons records are counted into at district/street level: disputes "
             "(and at every level without case details), compounds, and stations / grids when there are many "
             "(layers.aggregate).",
    "case_details": "Disputes: draw individual cases (popups with address and summary) at community/grid level "
                    "(default False: counts per unit at every level; see geo.access.may_see_case_details).",
    "labels": "Draw unit names on the map: True / False / None = automatic by level.",
    "target_households": f"Standard grid size in households (default {_DEFAULTS.grid_target_households}).",
    "tolerance_m": "Polygon simplification tolerance in metres (default 3).",
    "show": "Whether the layer is visible when the map opens (default True).",
    "dodge": "Move per-unit pies off the unit's point (compounds left, stations right, grids below; disputes stay), "
             "so the marks of several counted layers sit side by side; add_layers sets it when more than one layer "
             "draws one mark per unit (default False).",
    "value_column": "Choropleth: name of the numeric column of its frame that sets the colours (default \"value\").",
    "value_label": "Choropleth: Chinese name of that indicator, e.g. 每千户纠纷数 (layer name, legend title, tooltip).",
    "value_format": "Choropleth: Python format of a value, e.g. \"{:.1f}\" or \"{:.0%}\" (default: up to 2 decimals).",
    "breaks_method": "Choropleth class breaks: quantiles / natural_breaks / equal_interval, or their Chinese labels "
                     "(default quantiles; see geo.classify).",
    "classes": "Choropleth: number of classes, 2 to the palette's length (default 5; fewer when values repeat).",
    "palette": "Choropleth colours, light to dark: YlOrRd / Blues / Greens or a list of #RRGGBB (default YlOrRd).",
}

SWATCH_SHAPES = ("square", "line", "circle")


@dataclass(frozen=True)
class LayerSpec:
    """One overlay of the map.

    ``key`` is also the name of the table (``data.schema``) whose frame the layer draws (except
    derived layers such as "choropleth"); ``label`` is the Chinese name shown in the layer control
    and legend; ``shape`` is the legend swatch: "square" (filled areas), "line" (outlines) or
    "circle" (points). ``title(**options)``, when given, names the layer instead of ``label`` (the
    builder must name its FeatureGroup the same, so the legend follows the layer control);
    ``frame_legend`` layers get their frame as the legend's first argument. ``note(gdf, **options)``,
    when given, is a line of text under the layer's legend items (e.g. how to read counted pies; "" for none).
    ``unit_marks(gdf, **options)``, when given, tells whether the layer draws one mark per unit (on the unit's
    point) for this frame and these options, rather than its records.
    """

    key: str
    label: str
    build: Callable[..., folium.FeatureGroup]
    legend: Callable[..., list[tuple[str, str]]]
    shape: str = "square"
    title: Callable[..., str] | None = None
    frame_legend: bool = False
    note: Callable[..., str] | None = None
    unit_marks: Callable[..., bool] | None = None

    def __post_init__(self):
        if self.shape not in SWATCH_SHAPES:
            raise ValueError(f"图例形状“{self.shape}”无效，可选：{'、'.join(SWATCH_SHAPES)}")

    def section_title(self, **options) -> str:
        """The layer's name in the layer control and legend for these options (default ``label``)."""
        return self.title(**options) if self.title is not None else self.label

    def legend_items(self, gdf, **options) -> list[tuple[str, str]]:
        """The legend's (label, colour) items; ``gdf`` (the layer's frame) is passed on when ``frame_legend``."""
        return self.legend(gdf, **options) if self.frame_legend else self.legend(**options)

    def legend_note(self, gdf, **options) -> str:
        """The line under the legend's items for this frame and these options ("" for none)."""
        return self.note(gdf, **options) if self.note is not None else ""

    def marks_units(self, gdf, **options) -> bool:
        """Whether the layer draws one mark per unit for this frame and these options."""
        return bool(self.unit_marks(gdf, **options)) if self.unit_marks is not None else False


def check_options(options: dict[str, Any]) -> None:
    """GuloError if any option is not one of :data:`OPTIONS` (the message lists them)."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise GuloError(f"未知的图层参数：{'、'.join(unknown)}；可用：{'、'.join(OPTIONS)}")



def auto_labels(labels: bool | None, level: Level | str, when: tuple[Level, ...]) -> bool:
    """Whether to draw name labels: ``labels`` if given, else whether ``level`` is one of ``when``."""
    return bool(labels) if labels is not None else as_level(level) in when
