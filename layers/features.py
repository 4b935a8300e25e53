"""FeatureLayer: GeoJSON features drawn by one compact Leaflet script (our replacement for folium.GeoJson).

Why not folium.GeoJson: it serialises with ``tojson`` (every Chinese character becomes a 6-byte
``\\uXXXX``), repeats each feature's style, needs prebuilt tooltip/popup HTML per feature (every
``<`` again 6 bytes) and its own popups need jQuery. Here:

- data are JSON with UTF-8 text, only ``<``, ``>``, ``&``, ``'`` escaped (safe inside ``<script>``);
- styles are interned: each feature carries ``style_id`` into one table per layer;
- a feature's ``tip`` is a list of already HTML-escaped lines (the first shown bold) and its ``popup``
  a list of already escaped values aligned with the layer's ``fields``; the script only joins them.

Feature properties keep the raw ``code`` and ``name`` for drill-down (streamlit-folium returns them
as ``last_active_drawing.properties``). Points are circle markers (radius in the style) or, with
``points="label"``, non-interactive text labels from ``properties.label`` (escaped; in the Leaflet pane
``properties.pane``, default the marker pane), or, with
``points="pie"``, pies: a circle (radius in the style) cut into slices by ``properties.counts`` (of
``properties.total``), coloured and named by the layer's :class:`PieTable`; their tooltip adds one line
per slice (count, and ``properties.weights`` when given).
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element
from folium.elements import ElementAddToElement
from jinja2 import Template

from layers.common import (
    enum_members,
    esc,
    feature_group,
    point_coords,
    require_columns,
    round_coords,
    valid_rows,
)

POINT_KINDS = ("circle", "label", "pie")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

_SCRIPT = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
    var styles = {{ this.styles_json }}, fields = {{ this.fields_json }}, hl = {{ this.highlight_json }};
    function tip(p) {
        return p.tip ? "<b>" + p.tip[0] + "</b>" + p.tip.slice(1).map(function (x) { return "<br>" + x; }).join("")
            {%- if this.points == "pie" %} + slices(p){% endif %} : null;
    }
    {%- if this.points == "pie" %}
    var pie = {{ this.pie_json }};
    function num(x) { return Math.round(x).toLocaleString("en-US"); }
    function slices(p) {
        var weight = p.weights ? p.weights.reduce(function (a, b) { return a + b; }, 0) : 0;
        var out = "<br>" + pie.noun + " " + num(p.total) + " " + pie.unit
            + (p.weights ? "，" + num(weight) + " " + pie.weight_unit : "");
        for (var i = 0; i < p.counts.length; i++) {
            out += '<br><i class="gl-dot" style="background:' + pie.colors[i] + '"></i>' + pie.labels[i] + " "
                + num(p.counts[i]) + " " + pie.unit + (p.weights ? "，" + num(p.weights[i]) + " " + pie.weight_unit : "");
        }
        return out;
    }
    function pieIcon(p) {
        var r = (styles[p.style_id] || {}).radius || 8, at = 0, stops = [];
        for (var i = 0; i < p.counts.length; i++) {
            if (!p.counts[i]) { continue; }
            var end = at + 100 * p.counts[i] / p.total;
            stops.push(pie.colors[i] + " " + at.toFixed(2) + "% " + end.toFixed(2) + "%");
            at = end;
        }
        return L.divIcon({className: "gl-pie", iconSize: [2 * r, 2 * r], iconAnchor: [r - pie.dx, r - pie.dy],
            html: '<div style="background:' + (stops.length ? "conic-gradient(" + stops.join(",") + ")" : "#fff")
                + '"></div>'});
    }
    {%- endif %}
    function popup(p) {
        var rows = "";
        for (var i = 0; i < fields.length; i++) {
            if (p.popup[i] !== null) { rows += "<tr><th>" + fields[i] + "</th><td>" + p.popup[i] + "</td></tr>"; }
        }
        return '<div class="gl-popup"><b>' + (p.tip ? p.tip[0] : "") + "</b><table>" + rows + "</table></div>";
    }
    function point(f, latlng) {
        {%- if this.points == "label" %}
        return L.marker(latlng, {interactive: false, keyboard: false, pane: f.properties.pane || "markerPane", icon: L.divIcon({
            className: "gl-label " + (f.properties.cls || ""), iconSize: null,
            html: "<span>" + f.properties.label + "</span>"})});
        {%- elif this.points == "pie" %}
        // the shadow pane lies above polygons and circles and below name labels: a pie never hides a name
        return L.marker(latlng, {icon: pieIcon(f.properties), pane: "shadowPane", riseOnHover: true});
        {%- else %}
        return L.circleMarker(latlng, styles[f.properties.style_id] || {});
        {%- endif %}
    }
    function each(f, layer) {
        var p = f.properties, t = tip(p);
        if (t) { layer.bindTooltip(t, {sticky: true, direction: "top"}); }
        if (p.popup) { layer.bindPopup(popup(p), {maxWidth: 320}); }
        if (hl && layer.setStyle) {
            layer.on("mouseover", function (e) { e.target.setStyle(hl); });
            layer.on("mouseout", function (e) { e.target.setStyle(styles[p.style_id] || {}); });
        }
    }
    var layer = L.geoJson(null, {
        style: function (f) { return styles[f.properties.style_id] || {}; },
        pointToLayer: point, onEachFeature: each
    });
    layer.addData({{ this.data_json }});
    return layer;
})();
{% endmacro %}
""")


def script_json(obj: Any) -> str:
    """Compact JSON (UTF-8 text kept) that is safe to place inside a ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def intern_styles(properties: list[dict]) -> list[dict]:
    """Replace each feature's ``style`` dict by a ``style_id``; returns the style table (in place)."""
    table: dict[str, int] = {}
    styles: list[dict] = []
    for props in properties:
        style = props.pop("style", None) or {}
        key = json.dumps(style, sort_keys=True)
        if key not in table:
            table[key] = len(styles)
            styles.append(style)
        props["style_id"] = table[key]
    return styles


@dataclass(frozen=True)
class PieTable:
    """The slices of a pie layer: their names and colours (aligned with each feature's ``counts``), the
    name of what is counted (the tooltip's total line: "老旧小区 12 个，3,456 户"), the word after a count
    (个) and after a weight (户), and the pies' offset in pixels from their point (so pies of two layers at
    one unit's point sit side by side)."""

    labels: tuple[str, ...]
    colors: tuple[str, ...]
    noun: str = ""
    unit: str = "个"
    weight_unit: str = "户"
    dx: int = 0
    dy: int = 0

    def __post_init__(self):
        if len(self.labels) != len(self.colors):
            raise ValueError(f"饼图的类别（{len(self.labels)} 个）与颜色（{len(self.colors)} 个）数目不符")
        bad = [c for c in self.colors if not _COLOUR.match(c)]
        if bad:
            raise ValueError(f"饼图颜色“{'、'.join(bad)}”无效，应为 #RRGGBB 形式")

    def as_json(self) -> dict:
        """The table for the page's script, every text HTML-escaped."""
        return {"labels": [html.escape(t) for t in self.labels], "colors": list(self.colors),
                "noun": html.escape(self.noun), "unit": html.escape(self.unit), "weight_unit": html.escape(self.weight_unit),
                "dx": int(self.dx), "dy": int(self.dy)}


class RenderedScript(Element):
    """Script text that is already rendered, placed in the page as it is.

    branca's ``MacroElement.render`` wraps each element's rendered script in ``Element(text)``, which
    compiles that text as a Jinja template: for a layer of thousands of features that is most of
    the render time, and a ``{{`` inside user data would be evaluated as a template expression."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "RenderedScript"
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class FeatureLayer(folium.map.Layer):
    """Features (shapely geometries, lon/lat) with property dicts, drawn by :data:`_SCRIPT`.

    ``properties`` may hold ``style`` (a Leaflet path style dict), ``tip`` (escaped lines),
    ``popup`` (escaped values aligned with ``fields``), ``label`` (escaped, for ``points="label"``),
    ``counts`` / ``total`` / ``weights`` (numbers, for ``points="pie"``, which needs ``pie``) and anything
    else (``code``, ``name`` …), which is passed through. ``fields`` are escaped here.
    """

    _template = _SCRIPT

    def __init__(
        self,
        geoms: Iterable,
        properties: Iterable[dict],
        *,
        fields: Sequence[str] = (),
        highlight: dict | None = None,
        points: str = "circle",
        pie: PieTable | None = None,
    ):
        super().__init__(name=None, overlay=True, control=False, show=True)
        if points not in POINT_KINDS:
            raise ValueError(f"点要素画法“{points}”无效，可选：{'、'.join(POINT_KINDS)}")
        if (points == "pie") != (pie is not None):
            raise ValueError("饼图（points=\"pie\"）须且只须与 pie 类别表一起使用")
        self._name = "FeatureLayer"
        props = [dict(p) for p in properties]
        self.styles = intern_styles(props)
        self.fields = [html.escape(f) for f in fields]
        self.points = points
        self.styles_json = script_json(self.styles)
        self.fields_json = script_json(self.fields)
        self.highlight_json = script_json(highlight)
        self.pie_json = script_json(pie.as_json() if pie is not None else None)
        # Only the JSON text is kept: a map is deep-copied on every Streamlit rerun (dashboard.mapview),
        # and copying one string is free where copying the nested dicts of every coordinate is not.
        self.data_json = script_json(feature_collection(geoms, props))

    def render(self, **kwargs) -> None:
        """As folium's ``Layer.render``, but the script goes into the page as :class:`RenderedScript`."""
        if self.show:
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        script = self._template.module.__dict__["script"]
        self.get_root().script.add_child(RenderedScript(script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)

    @property
    def data(self) -> dict:
        """The GeoJSON FeatureCollection drawn (decoded from ``data_json``, for tests and debugging)."""
        return json.loads(self.data_json)

    def styled_properties(self) -> list[dict]:
        """Each feature's properties with its style dict put back (for tests and debugging)."""
        return [{**f["properties"], "style": self.styles[f["properties"]["style_id"]]}
                for f in self.data["features"]]


def feature_collection(geoms: Iterable, properties: Iterable[dict]) -> dict:
    """A GeoJSON FeatureCollection dict from shapely geometries and property dicts."""
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p in zip(geoms, properties)
    ]
    return json.loads(json.dumps({"type": "FeatureCollection", "features": features}, default=_plain))


def _plain(value: Any) -> Any:
    """JSON form of numpy scalars, dates and enums inside feature properties."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"无法写入 GeoJSON 的属性值：{value!r}")


def label_layer(points: Iterable[shapely.Point], texts: Iterable[str], css_class: str) -> FeatureLayer:
    """Non-interactive name labels (DivIcons) at points; texts are escaped here."""
    props = [{"label": esc(t), "cls": css_class} for t in texts]
    return FeatureLayer(round_coords(np.asarray(list(points), dtype=object)), props, points="label")


def categorised_points(gdf, *, label: str, columns: list[str], optional: list[str], category: str,
                       enum, style, popup, fields: Sequence[str], highlight: dict | None,
                       show: bool = True) -> folium.FeatureGroup:
    """One circle per point row of ``gdf`` (EPSG:4326), coloured by the enum member in ``category``.

    ``style(row, member)`` gives the Leaflet style dict, ``popup(row, member)`` the escaped values in
    the order of ``fields``; each feature carries ``code`` and ``name`` and the tooltip name · label.
    """
    require_columns(gdf, columns, label)
    gdf = valid_rows(gdf, label)
    members = enum_members(gdf[category], enum, label)
    cols = columns + [c for c in optional if c in gdf.columns]
    props = [{"code": str(row["code"]), "name": str(row["name"]), "style": style(row, member),
              "tip": [esc(row["name"]), esc(member.label)], "popup": popup(row, member)}
             for row, member in zip(gdf[cols].to_dict("records"), members)]
    fg = feature_group(label, show)
    fg.add_child(FeatureLayer(point_coords(gdf), props, fields=fields, highlight=highlight))
    return fg
