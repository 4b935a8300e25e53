"""Grids (网格) coloured by staffing and size: is there a full-time grid worker, is the grid too big?

Input: the ``grids`` frame (EPSG:4326, MultiPolygon; ``code``, ``name``, ``households``,
``population``, ``worker`` (None = vacant), ``assistants``). A grid is "oversized" above 120 % and
"undersized" below 80 % of the standard size (``target_households``, default 500 households).

Every grid is drawn as a polygon while the frame holds at most ``layers.aggregate.MAX_POINTS`` (1,000)
grids, at every level (the sample's 514 grids, a sub-district's few dozen). Beyond that, at district and
sub-district level, the grids are counted per community (or per sub-district when ``units`` are the
sub-districts): one pie per unit, slices = grids by the four colours above, the tooltip listing each
class's grids and households; properties carry the unit's ``code`` and ``name``.
"""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.settings import Settings
from geo.vocab import Level
from layers.aggregate import DODGE_PX, pie_layer, too_many, unit_word
from layers.common import (
    esc,
    feature_group,
    is_missing,
    label_points,
    require_columns,
    simplified,
    valid_rows,
)
from layers.features import FeatureLayer, PieTable, label_layer
from layers.spec import LayerSpec, auto_labels, check_options

LABEL = "网格"
OVERSIZE_FACTOR = 1.2
UNDERSIZE_FACTOR = 0.8
STAFFED = ("专职网格员在岗", "#26a69a")
VACANT = ("专职网格员空缺", "#e53935")
_COLUMNS = ["code", "name", "households", "population", "worker", "assistants"]
_HIGHLIGHT = {"weight": 3, "fillOpacity": 0.45}
_DEFAULT_TARGET = Settings().grid_target_households
_GROUP_COLUMNS = ("street_code", "community_code")  # grids are counted per community or sub-district


def _oversize(target: int) -> tuple[str, str]:
    return (f"户数超过 {round(target * OVERSIZE_FACTOR)} 户", "#fb8c00")


def _undersize(target: int) -> tuple[str, str]:
    return (f"户数不足 {round(target * UNDERSIZE_FACTOR)} 户", "#1e88e5")


def _classes(target: int) -> list[tuple[str, str]]:
    """The grid classes (label, colour), in legend order: staffed, vacant, oversized, undersized."""
    return [STAFFED, VACANT, _oversize(target), _undersize(target)]


def _class_of(vacant: bool, households, target: int) -> int:
    """Index into ``_classes``: vacancy first, then size against the standard (over 120 % / under 80 %)."""
    if vacant:
        return 1
    if is_missing(households):
        return 0
    if households > target * OVERSIZE_FACTOR:
        return 2
    return 3 if households < target * UNDERSIZE_FACTOR else 0


def _style(vacant: bool, households: int, target: int) -> dict:
    colour = _classes(target)[_class_of(vacant, households, target)][1]
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
          target_households: int = _DEFAULT_TARGET, tolerance_m: float = 3.0, units: gpd.GeoDataFrame | None = None,
          dodge: bool = False, show: bool = True, **options) -> folium.FeatureGroup:
    """Grid polygons (properties code, name) coloured by worker vacancy and size, names at community level;
    pies per community (or unit of ``units``) when there are more than MAX_POINTS grids far out."""
    check_options(options)
    require_columns(gdf, _COLUMNS, LABEL)
    gdf = valid_rows(gdf, LABEL)
    fg = feature_group(LABEL, show)
    if too_many(gdf, level):
        fg.add_child(_pies(gdf, level, units, target_households, dodge))
        return fg
    props = []
    for row in gdf[_COLUMNS].itertuples(index=False):
        style = _style(_vacant(row.worker), row.households, target_households)
        props.append({"code": str(row.code), "name": str(row.name), "tip": _tip(row), "style": style})
    fg.add_child(FeatureLayer(simplified(gdf, tolerance_m), props, highlight=_HIGHLIGHT))
    show_labels = auto_labels(labels, level, (Level.COMMUNITY, Level.GRID))
    if show_labels and len(gdf):
        fg.add_child(label_layer(label_points(gdf.geometry), gdf["name"], "gl-grid"))
    return fg


def _pies(gdf: gpd.GeoDataFrame, level, units: gpd.GeoDataFrame | None, target: int, dodge: bool) -> FeatureLayer:
    """One pie per community (or per unit of ``units``) of the grids by class; below its point when ``dodge``."""
    classes = _classes(target)
    keys = [str(_class_of(_vacant(w), h, target)) for w, h in zip(gdf["worker"], gdf["households"])]
    pie = PieTable(tuple(label for label, _ in classes), tuple(c for _, c in classes), noun=LABEL, unit="个",
                   dy=DODGE_PX if dodge else 0)
    return pie_layer(gdf, keys, [str(i) for i in range(len(classes))], level=level, units=units, pie=pie,
                     name=LABEL, weight="households", columns=_GROUP_COLUMNS)


def legend(gdf: gpd.GeoDataFrame | None = None, *, target_households: int = _DEFAULT_TARGET,
           **options) -> list[tuple[str, str]]:
    """The grid classes drawn (staffed, vacant, oversized, undersized — those in ``gdf``, in that order); every
    class without a frame."""
    check_options(options)
    classes = _classes(target_households)
    if gdf is None:
        return classes
    drawn = {_class_of(_vacant(w), h, target_households) for w, h in zip(gdf["worker"], gdf["households"])}
    return [c for i, c in enumerate(classes) if i in drawn]


def note(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units: gpd.GeoDataFrame | None = None,
         **options) -> str:
    """How to read the pies, when the grids are counted per unit ("" otherwise)."""
    check_options(options)
    if not too_many(gdf, level):
        return ""
    return f"网格较多，按{unit_word(gdf, level, units, _GROUP_COLUMNS)}汇总，圆越大网格越多"


def unit_marks(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", **options) -> bool:
    """Pies per unit when there are more than MAX_POINTS grids far out."""
    return too_many(gdf, level)


SPEC = LayerSpec("grids", LABEL, build, legend, shape="square", note=note, unit_marks=unit_marks, frame_legend=True)
