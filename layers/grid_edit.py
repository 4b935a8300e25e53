"""Maps of the grid boundary editor: drawing on a community's grids, and the checked result.

:func:`draw_map` shows one community's grids (the ones being edited outlined in colour) with Leaflet.draw's
toolbar (folium ``plugins.Draw``; its files are served locally, ``layers.assets``), Chinese throughout
(``L.drawLocal``). Only the tool the edit needs is offered: ``"polygon"`` (a grid's new shape) or
``"polyline"`` (a split line). What the user draws comes back through streamlit-folium's ``all_drawings``
(GeoJSON, lon/lat of the map: convert with :func:`drawn_to_wgs84` when the basemap is Amap's GCJ-02).

:func:`result_map` shows the community's grids after the edit (the changed ones in blue) and the pieces that
make the edit fail, in the colours of ``geo.grid_edit.PROBLEM_KINDS``: overlaps filled red, gaps hatched
orange, parts outside the community purple, cut-off pieces brown; each with a tooltip naming the problem,
the grids and the area in m².

Inputs are EPSG:4326 frames (``grids``: code, name, households; ``community``: the community polygon;
``offending``: kind, label, grids, area_m2, as ``geo.grid_edit.EditCheck.offending``). Every text is escaped.
"""
from __future__ import annotations

import json

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo.crs import from_gcj02, require_crs, to_gcj02
from geo.grid_edit import PROBLEM_KINDS
from geo.settings import Settings
from layers.assets import normalise_mode
from layers.basemaps import needs_gcj02
from layers.common import esc, is_missing, label_points, label_style, require_columns, round_coords
from layers.features import FeatureLayer, label_layer
from layers.legend import Legend, LegendSection
from layers.mapbuild import build_map

TOOLS = ("polygon", "polyline")
EDITED_COLOR = "#1565c0"
NEIGHBOUR_COLOR = "#00897b"
OTHER_COLOR = "#78909c"
COMMUNITY_COLOR = "#37474f"
DRAWN_COLOR = "#e65100"
HATCH_ID = "gl-hatch"
GAP_FILL = f"url(#{HATCH_ID})"
_HIGHLIGHT = {"weight": 4}

DRAW_LOCALE = {
    "draw": {
        "toolbar": {
            "actions": {"title": "取消绘制", "text": "取消"},
            "finish": {"title": "完成绘制", "text": "完成"},
            "undo": {"title": "删除最后画的一个点", "text": "删除最后一点"},
            "buttons": {"polyline": "画折线（拆分线）", "polygon": "画多边形（网格新范围）", "rectangle": "画矩形",
                        "circle": "画圆", "marker": "放置标记", "circlemarker": "放置圆点"},
        },
        "handlers": {
            "circle": {"tooltip": {"start": "按住并拖动鼠标画圆"}, "radius": "半径"},
            "circlemarker": {"tooltip": {"start": "单击地图放置圆点"}},
            "marker": {"tooltip": {"start": "单击地图放置标记"}},
            "polygon": {"tooltip": {"start": "单击地图开始画多边形", "cont": "单击继续添加顶点",
                                    "end": "单击第一个点（或“完成”）闭合多边形"}},
            "polyline": {"error": "<strong>错误：</strong>边线不能交叉！",
                         "tooltip": {"start": "单击地图开始画线（从网格外开始）", "cont": "单击继续画线",
                                     "end": "单击最后一个点（或“完成”）结束画线"}},
            "rectangle": {"tooltip": {"start": "按住并拖动鼠标画矩形"}},
            "simpleshape": {"tooltip": {"end": "松开鼠标完成绘制"}},
        },
    },
    "edit": {
        "toolbar": {
            "actions": {"save": {"title": "保存对图形的修改", "text": "确定"},
                        "cancel": {"title": "取消编辑，放弃修改", "text": "取消"},
                        "clearAll": {"title": "清除所有画出的图形", "text": "全部清除"}},
            "buttons": {"edit": "修改画出的图形", "editDisabled": "没有可修改的图形",
                        "remove": "删除画出的图形", "removeDisabled": "没有可删除的图形"},
        },
        "handlers": {
            "edit": {"tooltip": {"text": "拖动顶点修改图形", "subtext": "单击“取消”撤销修改"}},
            "remove": {"tooltip": {"text": "单击图形将其删除"}},
        },
    },
}
"""Leaflet.draw's texts in Chinese (the keys of its ``L.drawLocal``)."""


class DrawLocale(MacroElement):
    """Sets Leaflet.draw's texts (``L.drawLocal``) to :data:`DRAW_LOCALE`; add it before the Draw control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (target, source) {
            function merge(t, s) {
                for (var k in s) {
                    if (typeof s[k] === "object" && t[k]) { merge(t[k], s[k]); } else { t[k] = s[k]; }
                }
            }
            merge(target, source);
        })(L.drawLocal, {{ this.locale }});
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "DrawLocale"
        self.locale = json.dumps(DRAW_LOCALE, ensure_ascii=False)


class DrawnItems(MacroElement):
    """Names the Draw control's layer group ``window.drawnItems``, where streamlit-folium reads ``all_drawings``
    (its own renaming expects an older folium's variable name)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.drawnItems = drawnItems_{{ this.draw.get_name() }};
        {% endmacro %}
    """)

    def __init__(self, draw: folium.plugins.Draw):
        super().__init__()
        self._name = "DrawnItems"
        self.draw = draw


class HatchPattern(MacroElement):
    """Defines the SVG pattern ``#gl-hatch`` (orange diagonal hatching) in the map's SVG, for gap pieces."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            function add() {
                var svg = map.getPanes().overlayPane.querySelector("svg");
                if (!svg || svg.querySelector("#{{ this.pattern_id }}")) { return; }
                var ns = svg.namespaceURI;
                function el(name, attrs) {
                    var e = document.createElementNS(ns, name);
                    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
                    return e;
                }
                var defs = el("defs", {});
                var p = el("pattern", {id: "{{ this.pattern_id }}", patternUnits: "userSpaceOnUse", width: 8, height: 8,
                                       patternTransform: "rotate(45)"});
                p.appendChild(el("rect", {width: 8, height: 8, fill: "{{ this.colour }}", "fill-opacity": 0.18}));
                p.appendChild(el("line", {x1: 0, y1: 0, x2: 0, y2: 8, stroke: "{{ this.colour }}", "stroke-width": 3}));
                defs.appendChild(p);
                svg.insertBefore(defs, svg.firstChild);
            }
            add();
            map.on("layeradd", add);
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, colour: str):
        super().__init__()
        self._name = "HatchPattern"
        self.pattern_id = HATCH_ID
        self.colour = colour


def _shown(frame: gpd.GeoDataFrame, basemap: str, name: str) -> gpd.GeoDataFrame:
    return to_gcj02(frame, name) if needs_gcj02(basemap) and len(frame) else frame


def drawn_to_wgs84(geom: shapely.Geometry, basemap: str) -> shapely.Geometry:
    """A shape drawn on a map with ``basemap`` as true WGS84 lon/lat (Amap maps are drawn in GCJ-02)."""
    if not needs_gcj02(basemap):
        return geom
    return from_gcj02(gpd.GeoDataFrame(geometry=[geom], crs="EPSG:4326"), "所画图形").geometry.iloc[0]


def _grid_style(colour: str, weight: float, fill: float) -> dict:
    return {"color": colour, "weight": weight, "opacity": 0.95, "fillColor": colour, "fillOpacity": fill}


def _grid_tip(row: dict) -> list[str]:
    tip = [esc(row["name"])]
    if not is_missing(row.get("households")):
        tip.append(f"{int(row['households']):,} 户")
    return tip


def _grids_layer(grids: gpd.GeoDataFrame, styles: dict[str, dict], default: dict) -> FeatureLayer:
    """The grids as polygons (style by code, else ``default``) with name tooltips."""
    cols = [c for c in ("code", "name", "households") if c in grids.columns]
    props = [{"code": str(r["code"]), "style": styles.get(str(r["code"]), default), "tip": _grid_tip(r)}
             for r in grids[cols].to_dict("records")]
    return FeatureLayer(round_coords(np.asarray(grids.geometry.values, dtype=object)), props, highlight=_HIGHLIGHT)


def _outline_layer(community: gpd.GeoDataFrame) -> FeatureLayer:
    style = {"color": COMMUNITY_COLOR, "weight": 2.5, "opacity": 0.9, "fill": False, "dashArray": "6 4"}
    props = [{"style": style} for _ in range(len(community))]
    return FeatureLayer(round_coords(np.asarray(community.geometry.values, dtype=object)), props)


def _labels(grids: gpd.GeoDataFrame) -> FeatureLayer:
    return label_layer(label_points(grids.geometry), grids["name"].astype(str), "gl-grid")


def _base(grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame, extra: gpd.GeoDataFrame | None, asset_mode: str,
          prefix: str, settings: Settings, top_padding: int = 10) -> folium.Map:
    require_crs(grids, "网格")
    require_crs(community, "社区边界")
    require_columns(grids, ["code", "name"], "网格")
    frames = [f for f in (community, grids, extra) if f is not None and len(f)]
    bounds = np.array([f.total_bounds for f in frames])
    box = (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max())
    return build_map(box, basemap=settings.basemap, asset_mode=normalise_mode(asset_mode), prefix=prefix,
                     settings=settings, top_padding=top_padding)


def draw_map(grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame, *, tool: str = "polygon",
             edited: tuple[str, ...] = (), asset_mode: str = "inline", prefix: str = "",
             settings: Settings | None = None) -> folium.Map:
    """The community's ``grids`` over its outline with a Leaflet.draw toolbar offering ``tool`` (polygon or
    polyline). ``edited``: codes outlined in colour (the first blue, the second teal, as the editor names them)."""
    if tool not in TOOLS:
        raise ValueError(f"绘图工具“{tool}”无效，可选：{'、'.join(TOOLS)}")
    settings = settings or Settings()
    m = _base(grids, community, None, asset_mode, prefix, settings)
    basemap = settings.basemap
    colours = dict(zip(edited, (EDITED_COLOR, NEIGHBOUR_COLOR)))
    styles = {code: _grid_style(colour, 3, 0.12) for code, colour in colours.items()}
    m.add_child(_grids_layer(_shown(grids, basemap, "网格"), styles, _grid_style(OTHER_COLOR, 1.2, 0.06)))
    m.add_child(_outline_layer(_shown(community, basemap, "社区边界")))
    m.add_child(_labels(_shown(grids, basemap, "网格")))
    m.add_child(label_style())
    shape = {"color": DRAWN_COLOR, "weight": 3, "opacity": 1, "fillColor": DRAWN_COLOR, "fillOpacity": 0.15}
    options = {k: False for k in ("polyline", "polygon", "rectangle", "circle", "marker", "circlemarker")}
    options[tool] = ({"allowIntersection": False, "showArea": False, "shapeOptions": shape} if tool == "polygon"
                     else {"showLength": False, "shapeOptions": {**shape, "fill": False}})
    m.add_child(DrawLocale())
    draw = folium.plugins.Draw(position="topleft", show_geometry_on_click=False, draw_options=options,
                               edit_options={"edit": True, "remove": True})
    m.add_child(draw)
    m.add_child(DrawnItems(draw))
    names = dict(zip(grids["code"].astype(str), grids["name"].astype(str)))
    items = tuple((names.get(code, code), colour) for code, colour in colours.items())
    sections = [LegendSection("网格", items + (("其他网格", OTHER_COLOR), ("社区边界", COMMUNITY_COLOR),
                                             ("所画图形", DRAWN_COLOR)), "line")]
    m.add_child(Legend(sections, title="图例", position="bottomright"), name="legend")
    return m


def _problem_tip(row: dict) -> list[str]:
    tip = [esc(row["label"])]
    if row.get("grids"):
        tip.append(esc(row["grids"]))
    tip.append(f"约 {float(row['area_m2']):,.0f} 平方米")
    return tip


def _problem_style(kind: str) -> dict:
    colour = PROBLEM_KINDS[kind][1]
    if kind == "gap":
        return {"color": colour, "weight": 2, "opacity": 1, "fillColor": GAP_FILL, "fillOpacity": 1, "dashArray": "4 3"}
    return {"color": colour, "weight": 2, "opacity": 1, "fillColor": colour, "fillOpacity": 0.55}


def _problems_layer(offending: gpd.GeoDataFrame) -> FeatureLayer:
    rows = offending[["kind", "label", "grids", "area_m2"]].to_dict("records")
    props = [{"kind": r["kind"], "style": _problem_style(r["kind"]), "tip": _problem_tip(r)} for r in rows]
    return FeatureLayer(round_coords(np.asarray(offending.geometry.values, dtype=object)), props, highlight=_HIGHLIGHT)


def result_map(grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame, offending: gpd.GeoDataFrame,
               changed: tuple[str, ...] = (), *, asset_mode: str = "inline", prefix: str = "",
               settings: Settings | None = None) -> folium.Map:
    """The community's ``grids`` after an edit (``changed`` ones in blue) and the ``offending`` pieces that make
    it fail (empty when it passes), coloured by kind, with a legend of what is on the map."""
    settings = settings or Settings()
    require_crs(offending, "问题区域")
    require_columns(offending, ["kind", "label", "grids", "area_m2"], "问题区域")
    m = _base(grids, community, offending, asset_mode, prefix, settings)
    basemap = settings.basemap
    styles = {str(code): _grid_style(EDITED_COLOR, 2.5, 0.12) for code in changed}
    m.add_child(_grids_layer(_shown(grids, basemap, "网格"), styles, _grid_style(OTHER_COLOR, 1.2, 0.06)))
    m.add_child(_outline_layer(_shown(community, basemap, "社区边界")))
    if len(offending):
        m.add_child(_problems_layer(_shown(offending, basemap, "问题区域")))
        m.add_child(HatchPattern(PROBLEM_KINDS["gap"][1]))
    m.add_child(_labels(_shown(grids, basemap, "网格")))
    m.add_child(label_style())
    sections = [LegendSection("网格", (("调整后的网格", EDITED_COLOR), ("未改动的网格", OTHER_COLOR),
                                     ("社区边界", COMMUNITY_COLOR)), "line")]
    kinds = [k for k in PROBLEM_KINDS if k in set(offending["kind"])]
    if kinds:
        sections.append(LegendSection("问题", tuple((PROBLEM_KINDS[k][0], PROBLEM_KINDS[k][1]) for k in kinds)))
    m.add_child(Legend(sections, title="图例", position="bottomright"), name="legend")
    return m
