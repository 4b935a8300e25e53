"""党建引领 on the map: three overlays, each its own entry in the layer control and the legend.

- ``party_grids`` 网格协管员 — the ``grids`` frame (EPSG:4326, MultiPolygon; ``code``, ``name``,
  ``assistants``, optional ``households``) shaded by :class:`GridAssistants`: none (red, the gap), one, two or
  more. At district level only the grids without an assistant are drawn (the district map stays the size of
  its gaps); below it every grid, while there are at most ``MAX_POINTS``; beyond that far out, pies per unit.
- ``party_compounds`` 小区党组织覆盖 — the ``compounds`` frame with ``party_cover`` (and ``party_org_names``,
  ``party_buildings``) from ``geo.party_map.compound_coverage``: pies per unit at district / sub-district
  level (slices = :class:`PartyCoverage`, weighted by households), one circle per compound drilled in.
- ``party_stations`` 党群服务阵地 — the ``stations`` frame (``kind``, optional ``model_level``): the
  党群服务中心 and 志愿服务站 among them as circles in their StationKind colours; a model station (示范) has a
  ring in its ModelLevel colour and a badge 省级 / 市级 beside it. Pies per unit beyond MAX_POINTS.

Each legend lists only the classes drawn (``frame_legend``). Every string from the data is escaped.
"""
from __future__ import annotations

import folium
import geopandas as gpd

from geo.party_map import PARTY_KINDS, assistant_class, party_stations
from geo.vocab import GridAssistants, Level, ModelLevel, PartyCoverage, StationKind
from layers.aggregate import DODGE_PX, counted, pie_layer, too_many, unit_word
from layers.common import (
    HeaderStyle,
    enum_members,
    esc,
    escaped_values,
    feature_group,
    is_missing,
    point_coords,
    require_columns,
    simplified,
    valid_rows,
)
from layers.compounds import radius_px
from layers.features import FeatureLayer, PieTable
from layers.spec import LayerSpec, as_level, check_options

GRIDS_LABEL = "网格协管员"
COMPOUNDS_LABEL = "小区党组织覆盖"
STATIONS_LABEL = "党群服务阵地"
STATION_RADIUS_PX, MODEL_RADIUS_PX = 6, 8
BADGE_CHARS = 2
"""A model station's badge shows the start of its level's label (省级 / 市级): short enough not to hide names."""
_GRID_COLUMNS = ["code", "name", "assistants"]
_GRID_GROUPS = ("street_code", "community_code")
_COMPOUND_COLUMNS = ["code", "name", "party_cover", "households"]
COMPOUND_FIELDS = ("覆盖情况", "小区党组织", "楼栋党小组", "户数", "楼栋数", "地址")
STATION_FIELDS = (StationKind.title(), ModelLevel.title(), "开放时间", "地址")
_HIGHLIGHT_AREA = {"weight": 3, "fillOpacity": 0.5}
_HIGHLIGHT_POINT = {"weight": 3, "fillOpacity": 1.0}
BADGE_CSS = "".join(
    f".gl-label.gl-badge-{m.value} span {{ background: {m.color}; }}\n" for m in ModelLevel
) + (".gl-label.gl-badge span { transform: translate(9px, -135%); font-size: 10px; line-height: 14px; color: #fff;"
     " padding: 0 3px; border-radius: 3px; text-shadow: none; box-shadow: 0 0 0 1px #fff; }\n")


# ---------------------------------------------------------------- grids by assistants


def _drawn_grids(gdf: gpd.GeoDataFrame, level) -> gpd.GeoDataFrame:
    """The grids drawn one by one: every grid below district level (while not too many), else those without
    an assistant."""
    if as_level(level) is not Level.DISTRICT and not too_many(gdf, level):
        return gdf
    return gdf[[assistant_class(a) is GridAssistants.NONE for a in gdf["assistants"]]]


def _grid_style(cls: GridAssistants) -> dict:
    """A grid without an assistant filled red; the others outlined in their class's colour over a faint fill, so a
    choropleth under them stays readable."""
    none = cls is GridAssistants.NONE
    return {"color": cls.color, "weight": 2.5 if none else 2, "opacity": 0.95, "fillColor": cls.color,
            "fillOpacity": 0.35 if none else 0.08}


def _grid_tip(row: dict) -> list[str]:
    tip = [esc(row["name"]), f"网格协管员 {esc(0 if is_missing(row['assistants']) else row['assistants'])} 人"]
    if not is_missing(row.get("households")):
        tip.append(f"户数 {esc(row['households'])} 户")
    return tip


def build_grids(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", tolerance_m: float = 3.0,
                units: gpd.GeoDataFrame | None = None, dodge: bool = False, show: bool = True,
                **options) -> folium.FeatureGroup:
    """Grid polygons (properties code, name) in their GridAssistants colour; see the module doc for which."""
    check_options(options)
    require_columns(gdf, _GRID_COLUMNS, GRIDS_LABEL)
    gdf = valid_rows(gdf, GRIDS_LABEL)
    fg = feature_group(GRIDS_LABEL, show)
    drawn = _drawn_grids(gdf, level)
    if too_many(drawn, level):
        fg.add_child(_grid_pies(gdf, level, units, dodge))
        return fg
    cols = [c for c in (*_GRID_COLUMNS, "households") if c in drawn.columns]
    props = []
    for row in drawn[cols].to_dict("records"):
        props.append({"code": str(row["code"]), "name": str(row["name"]), "tip": _grid_tip(row),
                      "style": _grid_style(assistant_class(row["assistants"]))})
    fg.add_child(FeatureLayer(simplified(drawn, tolerance_m), props, highlight=_HIGHLIGHT_AREA))
    return fg


def _grid_pies(gdf: gpd.GeoDataFrame, level, units, dodge: bool) -> FeatureLayer:
    classes = [assistant_class(a).value for a in gdf["assistants"]]
    pie = PieTable(tuple(c.label for c in GridAssistants), tuple(c.color for c in GridAssistants), noun="网格",
                   unit="个", dy=DODGE_PX if dodge else 0)
    return pie_layer(gdf, classes, [c.value for c in GridAssistants], level=level, units=units, pie=pie,
                     name=GRIDS_LABEL, columns=_GRID_GROUPS)


def grids_legend(gdf: gpd.GeoDataFrame | None = None, *, level: Level | str = "district",
                 **options) -> list[tuple[str, str]]:
    """The assistant classes of the grids drawn, in order (every class without a frame)."""
    check_options(options)
    if gdf is None:
        return [(c.label, c.color) for c in GridAssistants]
    if not len(gdf) or "assistants" not in gdf:
        return []
    shown = gdf if too_many(_drawn_grids(gdf, level), level) else _drawn_grids(gdf, level)
    present = {assistant_class(a) for a in shown["assistants"]}
    return [(c.label, c.color) for c in GridAssistants if c in present]


def grids_note(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units=None, **options) -> str:
    """Which grids are drawn, when not all of them."""
    check_options(options)
    if not len(gdf) or "assistants" not in gdf:
        return ""
    drawn = _drawn_grids(gdf, level)
    if too_many(drawn, level):
        return f"网格较多，按{unit_word(gdf, level, units, _GRID_GROUPS)}汇总"
    return "只显示无协管员的网格，下钻可见全部网格" if len(drawn) < len(gdf) else ""


def grids_unit_marks(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", **options) -> bool:
    return "assistants" in gdf and too_many(_drawn_grids(gdf, level), level)


# ---------------------------------------------------------------- compounds by organisation coverage


def _compound_popup(row: dict, cover: PartyCoverage) -> list[str | None]:
    """Escaped values in the order of COMPOUND_FIELDS."""
    groups = row.get("party_buildings")
    return escaped_values([cover.label, row.get("party_org_names") or None,
                           f"{int(groups)} 栋" if not is_missing(groups) and groups else None,
                           row["households"], row.get("buildings"), row.get("address")])


def build_compounds(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units: gpd.GeoDataFrame | None = None,
                    dodge: bool = False, show: bool = True, **options) -> folium.FeatureGroup:
    """Pies of coverage classes per unit (district / sub-district), else one circle per compound (properties
    code, name) in its PartyCoverage colour."""
    check_options(options)
    require_columns(gdf, _COMPOUND_COLUMNS, COMPOUNDS_LABEL)
    gdf = valid_rows(gdf, COMPOUNDS_LABEL)
    members = enum_members(gdf["party_cover"], PartyCoverage, COMPOUNDS_LABEL)
    fg = feature_group(COMPOUNDS_LABEL, show)
    if not len(gdf):
        return fg
    if counted(level):
        pie = PieTable(tuple(c.label for c in PartyCoverage), tuple(c.color for c in PartyCoverage), noun="小区",
                       unit="个", weight_unit="户", dx=-DODGE_PX if dodge else 0)
        fg.add_child(pie_layer(gdf, [m.value for m in members], [c.value for c in PartyCoverage], level=level,
                               units=units, pie=pie, name=COMPOUNDS_LABEL, weight="households"))
        return fg
    props = []
    for row, cover in zip(gdf.to_dict("records"), members):
        uncovered = cover is PartyCoverage.NONE
        style = {"color": "#37474f" if uncovered else "#ffffff", "weight": 1.5 if uncovered else 1, "opacity": 1,
                 "fillColor": cover.color, "fillOpacity": 0.95, "radius": radius_px(row["households"])}
        props.append({"code": str(row["code"]), "name": str(row["name"]), "style": style,
                      "tip": [esc(row["name"]), esc(cover.label)], "popup": _compound_popup(row, cover)})
    fg.add_child(FeatureLayer(point_coords(gdf), props, fields=COMPOUND_FIELDS, highlight=_HIGHLIGHT_POINT))
    return fg


def compounds_legend(gdf: gpd.GeoDataFrame | None = None, **options) -> list[tuple[str, str]]:
    """The coverage classes present, in order (every class without a frame)."""
    check_options(options)
    if gdf is None:
        return [(c.label, c.color) for c in PartyCoverage]
    if not len(gdf) or "party_cover" not in gdf:
        return []
    present = set(enum_members(gdf["party_cover"], PartyCoverage, COMPOUNDS_LABEL))
    return [(c.label, c.color) for c in PartyCoverage if c in present]


def compounds_note(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units=None, **options) -> str:
    check_options(options)
    return f"按{unit_word(gdf, level, units)}汇总，圆越大小区越多" if counted(level) and len(gdf) else ""


def compounds_unit_marks(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", **options) -> bool:
    return counted(level)


# ---------------------------------------------------------------- party-service centres and volunteer stations


def _model(value) -> ModelLevel | None:
    if is_missing(value) or value == "":
        return None
    try:
        return ModelLevel.from_label(str(getattr(value, "value", value)))
    except ValueError:
        return None


def _station_props(row: dict, kind: StationKind) -> dict:
    model = _model(row.get("model_level"))
    style = {"color": model.color if model else "#263238", "weight": 3 if model else 1, "opacity": 1,
             "fillColor": kind.color, "fillOpacity": 0.95, "radius": MODEL_RADIUS_PX if model else STATION_RADIUS_PX}
    tip = [esc(row["name"]), esc(kind.label)] + ([esc(model.label)] if model else [])
    popup = escaped_values([kind.label, model.label if model else None, row.get("opening_hours"), row.get("address")])
    return {"code": str(row["code"]), "name": str(row["name"]), "style": style, "tip": tip, "popup": popup}


def _badges(gdf: gpd.GeoDataFrame) -> FeatureLayer | None:
    """Badges 省级示范 / 市级示范 beside the model stations (None when there are none)."""
    models = [_model(v) for v in gdf["model_level"]]
    keep = [m is not None for m in models]
    if not any(keep):
        return None
    props = [{"label": esc(m.label[:BADGE_CHARS]), "cls": f"gl-badge gl-badge-{m.value}"} for m in models if m is not None]
    return FeatureLayer(point_coords(gdf[keep]), props, points="label")


def build_stations(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units: gpd.GeoDataFrame | None = None,
                   dodge: bool = False, show: bool = True, **options) -> folium.FeatureGroup:
    """The 党群服务中心 and 志愿服务站 of ``gdf`` as circles (properties code, name), model ones ringed and
    badged; pies per unit beyond MAX_POINTS far out."""
    check_options(options)
    require_columns(gdf, ["code", "name", "kind"], STATIONS_LABEL)
    gdf = party_stations(valid_rows(gdf, STATIONS_LABEL))
    kinds = enum_members(gdf["kind"], StationKind, STATIONS_LABEL)
    fg = feature_group(STATIONS_LABEL, show)
    fg.add_child(HeaderStyle("party-badges", BADGE_CSS))
    if too_many(gdf, level):
        pie = PieTable(tuple(k.label for k in PARTY_KINDS), tuple(k.color for k in PARTY_KINDS), noun="站点",
                       unit="个", dx=DODGE_PX if dodge else 0)
        fg.add_child(pie_layer(gdf, [k.value for k in kinds], [k.value for k in PARTY_KINDS], level=level,
                               units=units, pie=pie, name=STATIONS_LABEL))
        return fg
    props = [_station_props(row, kind) for row, kind in zip(gdf.to_dict("records"), kinds)]
    fg.add_child(FeatureLayer(point_coords(gdf), props, fields=STATION_FIELDS, highlight=_HIGHLIGHT_POINT))
    badges = _badges(gdf)
    if badges is not None:
        fg.add_child(badges)
    return fg


def stations_legend(gdf: gpd.GeoDataFrame | None = None, *, level: Level | str = "district",
                    **options) -> list[tuple[str, str]]:
    """The kinds drawn, then the model levels drawn (the rings' colours); every item without a frame."""
    check_options(options)
    if gdf is None:
        return [(k.label, k.color) for k in PARTY_KINDS] + [(f"{m.label}站点", m.color) for m in ModelLevel]
    if not len(gdf) or "kind" not in gdf:
        return []
    shown = party_stations(gdf)
    kinds = set(enum_members(shown["kind"], StationKind, STATIONS_LABEL))
    items = [(k.label, k.color) for k in PARTY_KINDS if k in kinds]
    if too_many(shown, level):
        return items
    models = {_model(v) for v in shown["model_level"]}
    return items + [(f"{m.label}站点", m.color) for m in ModelLevel if m in models]


def stations_note(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", units=None, **options) -> str:
    check_options(options)
    shown = party_stations(gdf) if "kind" in gdf else gdf
    return f"站点较多，按{unit_word(gdf, level, units)}汇总" if too_many(shown, level) else ""


def stations_unit_marks(gdf: gpd.GeoDataFrame, *, level: Level | str = "district", **options) -> bool:
    return "kind" in gdf and too_many(party_stations(gdf), level)


GRIDS = LayerSpec("party_grids", GRIDS_LABEL, build_grids, grids_legend, shape="square", frame_legend=True,
                  note=grids_note, unit_marks=grids_unit_marks)
COMPOUNDS = LayerSpec("party_compounds", COMPOUNDS_LABEL, build_compounds, compounds_legend, shape="circle",
                      frame_legend=True, note=compounds_note, unit_marks=compounds_unit_marks)
STATIONS = LayerSpec("party_stations", STATIONS_LABEL, build_stations, stations_legend, shape="circle",
                     frame_legend=True, note=stations_note, unit_marks=stations_unit_marks)
