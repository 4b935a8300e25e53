"""Grids (网格) coloured by staffing and size: is there a full-time grid worker, is the grid too big?

Input: the ``grids`` frame (EPSG:4326, MultiPolygon; ``code``, ``name``, ``households``,
``population``, ``worker`` (None = vacant), ``assistants``). A grid is "oversized" above 120 % and
"undersized" below 80 % of the standard size (``target_households``, default 500 households).
"""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.settings import Settings
from geo.vocab import Level
from layers.common import (
    esc,
    feature_group,
    is_missing,
    label_points,
    require_columns,
    simplified,
    valid_rows,
)
from layers.features import FeatureLayer, label_layer
from layers.spec import LayerSpec, auto_labels, check_options

LABEL = "网格"
OVERSIZE_FACTOR = 1.2
UNDERSIZE_FACTOR = 0.8
STAFFED = ("专职网格员在岗", "#26a69a")
VACANT = ("专职网格员空缺", "#e53935")
_COLUMNS = ["code", "name", "households", "population", "worker", "assistants"]
_HIGHLIGHT = {"weight": 3, "fillOpacity": 0.45}
_DEFAULT_TARGET = Settings().grid_target_households


def _oversize(target: int) -> tuple[str, str]:
    return (f"户数超过 {round(target * OVERSIZE_FACTOR)} 户", "#fb8c00")


def _undersize(target: int) -> tuple[str, str]:
    return (f"户数不足 {round(target * UNDERSIZE_FACTOR)} 户", "#1e88e5")


def _style(vacant: bool, households: int, target: int) -> dict:
    """Vacancy first, then size against the standard (over 120 % / under 80 %), else staffed."""
    if vacant:
        colour = VACANT[1]
    elif households > target * OVERSIZE_FACTOR:
        colour = _oversize(target)[1]
    elif households < target * UNDERSIZE_FACTOR:
        colour = _undersize(target)[1]
    else:
        colour = STAFFED[1]
    return {"color": colour, "weight": 1, "opacity": 0.9, "fillColor": colour, "fillOpacity": 0.18}


def _vacant(worker) -> bool:
    return is_missing(worker) or not str(worker).strip()


def _tip(row) -> list[str]:
    worker = "空缺" if _vacant(row.worker) else row.worker
    return [
        esc(row.name),
        f"户数 {esc(row.households)} 户，人口 {esc(row.population)} 人",
        f"专职网格员：{esc(worker)}，协管员 {esc(row.assistants)} 人",
    ]


def build(gdf: gpd.GeoDataFrame, *, level="district", labels: bool | None = None,
          target_households: int = _DEFAULT_TARGET, tolerance_m: float = 3.0, show: bool = True,
          **options) -> folium.FeatureGroup:
    """Grid polygons (properties code, name) coloured by worker vacancy and size; names at community level."""
    check_options(options)
    require_columns(gdf, _COLUMNS, LABEL)
    gdf = valid_rows(gdf, LABEL)
    fg = feature_group(LABEL, show)
    props = []
    for row in gdf[_COLUMNS].itertuples(index=False):
        style = _style(_vacant(row.worker), row.households, target_households)
        props.append({"code": str(row.code), "name": str(row.name), "tip": _tip(row), "style": style})
    fg.add_child(FeatureLayer(simplified(gdf, tolerance_m), props, highlight=_HIGHLIGHT))
    show_labels = auto_labels(labels, level, (Level.COMMUNITY, Level.GRID))
    if show_labels and len(gdf):
        fg.add_child(label_layer(label_points(gdf.geometry), gdf["name"], "gl-grid"))
    return fg


def legend(*, target_households: int = _DEFAULT_TARGET, **options) -> list[tuple[str, str]]:
    """Staffed, vacant, oversized and undersized grid colours."""
    check_options(options)
    return [STAFFED, VACANT, _oversize(target_households), _undersize(target_households)]


SPEC = LayerSpec("grids", LABEL, build, legend, shape="square")
