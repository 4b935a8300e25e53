"""参考图层: roads, buildings, water and place names drawn as a light vector basemap under every overlay.

Input: the reference features meeting the view (``data.reference.read_reference(engine, bbox=...)``), EPSG:4326,
columns ``kind`` (``geo.vocab.ReferenceKind`` values), ``name``, ``subtype`` (a road's class). What the view
shows and how coarse follows ``geo.reference_view`` (options ``level`` and ``tolerance_m``: half a pixel of the
view, in metres): small things dropped, minor roads and names left out at district level, roads merged per
class there, everything simplified by the view's tolerance and kept under a vertex budget.

Drawing: features of one style are one (multi-part) path, in a Leaflet pane of their own (``PANE``, z-index
250: above tiles, below the overlay pane's polygons and every marker), not interactive (no tooltip, no click:
a click falls through to the overlays). Water first, then buildings, then roads from minor to main. Names
(place names, main road names; from street level down) are small grey text in a pane just above the overlays'
polygons and below their markers and labels (``NAME_PANE``), shown from zoom ``NAME_ZOOM`` on, an overlapping
name hidden. With nothing to draw there is no legend entry.
"""
from __future__ import annotations

import threading
import weakref

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo.reference_view import EDGE_COLOR, ROAD_WIDTH, draw_rank, name_points, view_features
from geo.vocab import Level, ReferenceKind, RoadClass
from layers.common import HeaderStyle, esc, feature_group, precision_for, round_coords
from layers.features import FeatureLayer
from layers.spec import LayerSpec, auto_labels, check_options

KEY = "reference"
LABEL = ReferenceKind.title()
PANE, PANE_Z = "glBaseReference", 250
NAME_PANE, NAME_PANE_Z = "glBaseReferenceNames", 410
NAME_ZOOM = 15
"""Web-map zoom from which names are shown (about 4.8 m per pixel at 26°N: streets and their names)."""
ROAD_NAME_COLOR = "#8a8172"
_BASE = {"pane": PANE, "interactive": False}

NAME_CSS = f"""
.gl-ref-name span {{ display: inline-block; transform: translate(-50%, -50%); white-space: nowrap;
  font: 11px/1.2 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: {ReferenceKind.PLACE.color};
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; pointer-events: none; }}
.gl-ref-name.gl-ref-road span {{ color: {ROAD_NAME_COLOR}; font-size: 10.5px; letter-spacing: 1px; }}
"""


class ReferencePanes(MacroElement):
    """The two Leaflet panes of the reference layer (created once per map, pointer events off), the names
    pane shown only from zoom ``NAME_ZOOM`` on, and a pass that hides a name overlapping an overlay's name label
    or an earlier reference name (place names come first) after every zoom or move, whenever layers are added and
    whenever a name's size changes (its glyphs drawn late)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this.map_name }};
            function pane(name, z) {
                var p = map.getPane(name) || map.createPane(name);
                p.style.zIndex = z;
                p.style.pointerEvents = "none";
                return p;
            }
            pane({{ this.pane|tojson }}, {{ this.pane_z }});
            var names = pane({{ this.name_pane|tojson }}, {{ this.name_pane_z }}), pending = null;
            // a name's width can change after the pass (its font's glyphs arrive late): measure again then
            var watch = window.ResizeObserver ? new ResizeObserver(function () { later(); }) : null;
            function declutter() {
                var on = map.getZoom() >= {{ this.name_zoom }};
                names.style.display = on ? "" : "none";
                if (!on) { return; }
                var spans = names.querySelectorAll(".gl-ref-name span"), kept = [];
                var theirs = map.getPane("markerPane").querySelectorAll(".gl-label span");  // the overlays' names
                for (var j = 0; j < theirs.length; j++) {
                    if (watch) { watch.observe(theirs[j]); }
                    var t = theirs[j].getBoundingClientRect();
                    if (t.width) { kept.push(t); }
                }
                for (var i = 0; i < spans.length; i++) {
                    if (watch) { watch.observe(spans[i]); }
                    spans[i].style.visibility = "";
                    var r = spans[i].getBoundingClientRect(), clash = false;
                    for (var k = 0; k < kept.length && !clash; k++) {
                        var q = kept[k];
                        clash = r.left < q.right + 4 && q.left < r.right + 4 && r.top < q.bottom + 2 && q.top < r.bottom + 2;
                    }
                    if (clash) { spans[i].style.visibility = "hidden"; } else { kept.push(r); }
                }
            }
            function later() { clearTimeout(pending); pending = setTimeout(declutter, 60); }
            map.on("zoomend moveend overlayadd layeradd resize", later);
            map.whenReady(later);
        })();
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "ReferencePanes"
        self.pane, self.pane_z = PANE, PANE_Z
        self.name_pane, self.name_pane_z = NAME_PANE, NAME_PANE_Z
        self.name_zoom = NAME_ZOOM
        self.map_name = ""

    def render(self, **kwargs) -> None:
        """Render with the name of the map this element's layer lies on (found up the element tree)."""
        parent = self._parent
        while parent is not None and not isinstance(parent, folium.Map):
            parent = getattr(parent, "_parent", None)
        if parent is None:
            raise ValueError("参考图层须添加到地图上")
        self.map_name = parent.get_name()
        super().render(**kwargs)


def _style(kind: str, road_class: str | None, area: bool) -> dict:
    """The Leaflet path style of one kind of reference feature (muted; in the reference pane, not interactive)."""
    if kind == ReferenceKind.WATER.value:
        return {**_BASE, "color": EDGE_COLOR[ReferenceKind.WATER.value], "weight": 0.6 if area else 2.0, "opacity": 1,
                "fillColor": ReferenceKind.WATER.color, "fillOpacity": 0.85, "fill": area}
    if kind == ReferenceKind.BUILDING.value:
        return {**_BASE, "color": EDGE_COLOR[ReferenceKind.BUILDING.value], "weight": 0.5, "opacity": 1,
                "fillColor": ReferenceKind.BUILDING.color, "fillOpacity": 0.9, "fill": True}
    cls = RoadClass(road_class or RoadClass.MINOR.value)
    if area:
        return {**_BASE, "stroke": False, "fillColor": cls.color, "fillOpacity": 1, "fill": True}
    return {**_BASE, "color": cls.color, "weight": ROAD_WIDTH[cls], "opacity": 1, "lineCap": "round",
            "lineJoin": "round", "fill": False}


def style_groups(features: gpd.GeoDataFrame, precision: int) -> tuple[list, list[dict]]:
    """One multi-part geometry per style (coordinates rounded to ``precision`` decimals) and its properties,
    in drawing order. Points are not drawn here (place names are labels)."""
    geoms = np.asarray(features.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    area, line = np.isin(types, (3, 6)), np.isin(types, (1, 2, 5))
    keys = sorted({(k, c, bool(a)) for k, c, a, ln in zip(features["kind"], features["road_class"], area, line)
                   if a or ln}, key=lambda t: draw_rank(*t))
    out_geoms, props = [], []
    for kind, cls, is_area in keys:
        mask = (features["kind"].to_numpy() == kind) & (features["road_class"].to_numpy() == cls) \
            & (area if is_area else line)
        parts = shapely.get_parts(geoms[mask])
        merged = shapely.multipolygons(parts) if is_area else shapely.multilinestrings(parts)
        out_geoms.append(round_coords(np.array([merged], dtype=object), precision)[0])
        props.append({"style": _style(kind, cls, is_area)})
    return out_geoms, props


_LAST: list = [None]  # (weak reference to a frame, level, tolerance, its view_features)
_LOCK = threading.Lock()


def _view(gdf: gpd.GeoDataFrame, level, tolerance_m: float) -> tuple[gpd.GeoDataFrame, float]:
    """``view_features`` of the frame, computed once for the builder and the legend that follows it."""
    key = (str(getattr(level, "value", level)), max(float(tolerance_m), 0.5))
    with _LOCK:
        last = _LAST[0]
        if last is not None and last[0]() is gdf and last[1] == key:
            return last[2]
    result = view_features(gdf, level, key[1])
    with _LOCK:
        _LAST[0] = (weakref.ref(gdf), key, result)
    return result


def _names(gdf: gpd.GeoDataFrame, level) -> FeatureLayer | None:
    """The name labels of the view (place names, then main roads), in the names pane; None when there are none."""
    points = name_points(gdf, level)
    if points.empty:
        return None
    props = [{"label": esc(name), "pane": NAME_PANE,
              "cls": "gl-ref-name gl-ref-road" if kind == ReferenceKind.ROAD.value else "gl-ref-name"}
             for kind, name in zip(points["kind"], points["name"])]
    return FeatureLayer(round_coords(np.asarray(points.geometry.values, dtype=object)), props, points="label")


def build(gdf: gpd.GeoDataFrame, *, level="district", tolerance_m: float = 3.0, labels: bool | None = None,
          show: bool = True, **options) -> folium.FeatureGroup:
    """The reference features of the view: shapes in the reference pane, names (from street level down, or as
    ``labels`` says) in the names pane. ``tolerance_m``: half a pixel of the view, metres."""
    check_options(options)
    fg = feature_group(LABEL, show)
    fg.add_child(ReferencePanes())
    fg.add_child(HeaderStyle("reference", NAME_CSS))
    features, used = _view(gdf, level, tolerance_m)
    if len(features):
        geoms, props = style_groups(features, precision_for(used))
        if geoms:
            fg.add_child(FeatureLayer(geoms, props))
    if auto_labels(labels, level, (Level.STREET, Level.COMMUNITY, Level.GRID)):
        names = _names(gdf, level)
        if names is not None:
            fg.add_child(names)
    return fg


def legend(gdf: gpd.GeoDataFrame | None = None, *, level="district", tolerance_m: float = 3.0,
           **options) -> list[tuple[str, str]]:
    """The kinds the view of ``gdf`` draws shapes of (道路, 建筑, 水系, in that order; every one without a frame);
    none when it draws none."""
    check_options(options)
    shapes = (ReferenceKind.ROAD, ReferenceKind.BUILDING, ReferenceKind.WATER)
    if gdf is None:
        return [(k.label, k.color) for k in shapes]
    kinds = set(_view(gdf, level, tolerance_m)[0]["kind"]) if len(gdf) else set()
    return [(k.label, k.color) for k in shapes if k.value in kinds]


SPEC = LayerSpec(KEY, LABEL, build, legend, shape="square", frame_legend=True)
