"""Build the dashboard's map: offline assets, basemap, fitted view, scale; then the chosen layers.

Typical use (the dashboard)::

    m = build_map(streets.total_bounds, basemap=settings.basemap,
                  asset_mode=settings.asset_mode, prefix="/app/static/vendor")
    add_layers(m, {"streets": streets, "communities": communities, "disputes": disputes},
               ["communities", "streets", "disputes"], level="district", units=communities)
    st_folium(m, returned_objects=["last_active_drawing"], ...)

    # or, for a drill-down map, the child units filled by an indicator (a click returns properties["code"]):
    add_layers(m, {"choropleth": communities.assign(value=rates), "streets": streets}, level="street",
               value_column="value", value_label="每千户纠纷数", value_format="{:.1f}")

Coordinates are WGS84 lon/lat (EPSG:4326) throughout; a map on the Amap basemap shifts every frame
to GCJ-02 itself. Call ``add_layers`` once per map: it adds the legend and the layer control.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from geo.crs import to_gcj02, wgs84_to_gcj02
from geo.errors import GuloError
from geo.settings import Settings
from layers.assets import configure_assets, normalise_mode
from layers.basemaps import DEFAULT_BASEMAP, add_basemap, get_basemap
from layers.common import HeaderStyle
from layers.legend import NARROW_PX, Legend, LegendSection
from layers.registry import LAYERS, check_options

MAX_ZOOM = 18
MIN_ZOOM = 9
BACKGROUND = "#f3f1ec"
FIT_PADDING = 10  # pixels between the fitted bounds and the map's edge
_BASEMAP_ATTR = "gulou_basemap"
_GCJ02_ATTR = "gulou_gcj02"  # whether the basemap is drawn in GCJ-02 (Amap, a gcj02 service of the settings)
MAP_CSS = (
    f".leaflet-container {{ background: {BACKGROUND}; }}\n"
    ".leaflet-control-layers { font: 13px/1.5 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif; }"
)


class MetricScale(MacroElement):
    """A metric-only Leaflet scale bar (bottom left)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


class FitBounds(folium.map.FitBounds):
    """folium's FitBounds (the scope's bounds with padding in pixels), fitted again whenever the map's
    frame changes size (a column that settles, a rotated phone) until the reader pans or zooms, so that
    a half-width map never shows the scope cut off at an edge.

    ``map.glKeepClear(left, right)`` (pixels) widens the padding on one side and fits again (until the reader
    moves): the legend calls it with its own width, so that an open legend sits beside the scope, not on it."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, ours = false, moved = false, extra = [0, 0];
            function fit() {
                var o = Object.assign({{ this.options|tojson }}, {animate: false});
                o.paddingTopLeft = [(o.paddingTopLeft || [0, 0])[0] + extra[0], (o.paddingTopLeft || [0, 0])[1]];
                o.paddingBottomRight = [(o.paddingBottomRight || [0, 0])[0] + extra[1], (o.paddingBottomRight || [0, 0])[1]];
                ours = true;
                map.fitBounds({{ this.bounds|tojson }}, o);
                ours = false;
            }
            map.glKeepClear = function (left, right) {
                if (left === extra[0] && right === extra[1]) { return; }
                extra = [left, right];
                if (!moved) { fit(); }
            };
            fit();
            map.on("movestart zoomstart", function () { if (!ours) { moved = true; } });
            map.on("resize", function () { if (!moved) { fit(); } });
        })();
        {% endmacro %}
    """)


class LayerControl(folium.LayerControl):
    """folium's layer control, open on a wide map and folded into Leaflet's layers button on a map narrower than
    ``narrow_px`` pixels (a phone, a half-width column), where an open list would cover the map; a tap on the
    button opens it, a tap on the map folds it. Built again when a resize crosses the width. The button's
    tooltip is Chinese (「图层」, not Leaflet's "Layers")."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, control = null, folded = null;
            var text = {{ this.button_text|tojson }};
            var base = {
                {%- for key, val in this.base_layers.items() %}{{ key|tojson }}: {{ val }},{%- endfor %}
            };
            var overlays = {
                {%- for key, val in this.overlays.items() %}{{ key|tojson }}: {{ val }},{%- endfor %}
            };
            function sync() {
                var width = map.getSize().x || window.innerWidth, narrow = width < {{ this.narrow_px }};
                if (control && narrow === folded) { return; }
                if (control) { control.remove(); }
                folded = narrow;
                control = L.control.layers(base, overlays, Object.assign({{ this.options|tojson }}, {collapsed: narrow}));
                control.addTo(map);
                var link = control.getContainer().querySelector(".leaflet-control-layers-toggle");
                if (link) { link.title = text; link.setAttribute("aria-label", text); }
                window.{{ this.get_name() }} = control;
            }
            sync();
            map.whenReady(function () { setTimeout(sync, 0); });
            map.on("resize", sync);
        })();
        {% endmacro %}
    """)

    def __init__(self, position: str = "topright", narrow_px: int = NARROW_PX, button_text: str = "图层"):
        super().__init__(position=position, collapsed=False)
        self.narrow_px = int(narrow_px)
        self.button_text = button_text


def _check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in lon/lat degrees, validated."""
    try:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise GuloError(f"地图范围应为 (最小经度, 最小纬度, 最大经度, 最大纬度)，而不是 {bounds!r}") from exc
    ok = all(math.isfinite(v) for v in (minx, miny, maxx, maxy))
    if not ok or not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GuloError(f"地图范围无效：{bounds!r}（应为 EPSG:4326 经纬度，最小值在前）")
    return minx, miny, maxx, maxy


def build_map(
    bounds: Sequence[float],
    basemap: str = DEFAULT_BASEMAP,
    asset_mode: str = "inline",
    prefix: str = "",
    *,
    settings: Settings | None = None,
    height: str | int = "100%",
    top_padding: int = FIT_PADDING,
) -> folium.Map:
    """A folium Map fitted to ``bounds`` = (minx, miny, maxx, maxy), EPSG:4326 lon/lat degrees.

    ``basemap``: none / osm / amap / tianditu (see ``layers.basemaps``). ``asset_mode``: "url"
    (or "component"; needs ``prefix``, the URL under which ``layers.assets.asset_files()`` are
    served), "inline" (self-contained HTML for ``save()``), or "data" (self-contained, also works in
    st_folium). With no basemap there is no tile layer, no attribution link and a plain background.
    ``top_padding``: pixels kept free above the fitted bounds (10 on the other sides), e.g. for a legend
    along the top.
    """
    settings = settings or Settings()
    choice = get_basemap(basemap, settings)
    minx, miny, maxx, maxy = _check_bounds(bounds)
    if choice.gcj02:
        (minx, maxx), (miny, maxy) = wgs84_to_gcj02([minx, maxx], [miny, maxy])
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None, height=height,
        prefer_canvas=False, attribution_control=bool(choice.tiles), zoom_control=True,
    )
    # No zoom animation: the initial fitBounds must not be left half-animated in a hidden or resized frame.
    m.options.update(max_zoom=MAX_ZOOM, min_zoom=MIN_ZOOM, zoom_snap=0.25, zoom_delta=0.5, zoom_animation=False)
    configure_assets(m, normalise_mode(asset_mode), prefix)
    add_basemap(m, basemap, settings)
    m.add_child(HeaderStyle("map", MAP_CSS))
    m.add_child(MetricScale())
    corners = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
    m.add_child(FitBounds(corners, padding_top_left=(FIT_PADDING, int(top_padding)),
                          padding_bottom_right=(FIT_PADDING, FIT_PADDING)))
    setattr(m, _BASEMAP_ATTR, basemap)
    setattr(m, _GCJ02_ATTR, choice.gcj02)
    return m


def _display_frames(m: folium.Map, frames: dict, options: dict) -> tuple[dict, dict]:
    """Frames (and GeoDataFrame options such as ``units``) shifted to GCJ-02 when the basemap needs it."""
    if not getattr(m, _GCJ02_ATTR, False):
        return frames, options
    frames = {k: to_gcj02(v, LAYERS[k].label if k in LAYERS else k) for k, v in frames.items()}
    options = {k: to_gcj02(v, k) if isinstance(v, gpd.GeoDataFrame) else v for k, v in options.items()}
    return frames, options


def _chosen(frames: dict, keys: Iterable[str] | None) -> list[str]:
    keys = [k for k in LAYERS if k in frames] if keys is None else list(keys)
    unknown = [k for k in keys if k not in LAYERS]
    if unknown:
        raise GuloError(f"未知的图层：{'、'.join(unknown)}；可选：{'、'.join(LAYERS)}")
    missing = [k for k in keys if k not in frames]
    if missing:
        raise GuloError(f"缺少图层数据：{'、'.join(LAYERS[k].label for k in missing)}")
    return [k for k in LAYERS if k in keys]  # registry order: areas below points


def add_layers(
    m: folium.Map,
    frames: dict[str, gpd.GeoDataFrame],
    keys: Iterable[str] | None = None,
    *,
    legend_position: str = "auto",
    **options,
) -> folium.Map:
    """Add the registry layers ``keys`` (default: every layer with a frame) to ``m``.

    ``frames`` maps layer key (= table name) to its GeoDataFrame in EPSG:4326. ``options`` are the
    shared layer options of ``layers.spec.OPTIONS`` (level, today, overdue_days, units, labels …),
    passed to every layer. Adds one legend (``legend_position``: a corner, or "auto": the corner where
    it covers the fewest features; folded on narrow maps) and a layer control (folded on narrow maps too);
    returns ``m``.
    """
    check_options(options)
    keys = _chosen(frames, keys)
    frames, options = _display_frames(m, frames, options)
    if "dodge" not in options:  # several layers marking the same units' points: side by side
        options["dodge"] = sum(LAYERS[k].marks_units(frames[k], **options) for k in keys) > 1
    sections = []
    for key in keys:
        spec = LAYERS[key]
        m.add_child(spec.build(frames[key], **options))
        items = tuple(spec.legend_items(frames[key], **options))
        if items:  # a layer with nothing drawn (no stations in the scope) gets no empty heading
            sections.append(LegendSection(spec.section_title(**options), items, spec.shape,
                                          visible=options.get("show", True),
                                          note=spec.legend_note(frames[key], **options)))
    if sections:
        m.add_child(Legend(sections, position=legend_position), name="legend")
    if keys:
        m.add_child(LayerControl(position="topright"), name="layer_control")
    return m
