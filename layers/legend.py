"""The map legend: one small box in a corner of the map, a section per layer, no external assets.

Built as a Leaflet control from a branca MacroElement, so it shows both in a saved HTML file and in
streamlit-folium (which runs the map's script but not its body HTML). Every label and colour is
escaped. A section hides itself when its layer is switched off in the layer control.

The title is a button that folds the legend away (「图例 ▸」) and opens it again; on a screen narrower than
``NARROW_PX`` (a phone) it starts folded, until the reader clicks it. With
``position="auto"`` the legend goes to the corner where it covers the fewest drawn features: in the
browser, for each corner, points on a grid over the legend's box are tested against every polygon,
line and marker on the map but the reference layer's (Leaflet's own hit test), after the first fit, when
layers are added, on resize and when it opens.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from branca.element import MacroElement
from jinja2 import Template

from layers.common import HeaderStyle
from layers.spec import SWATCH_SHAPES

TITLE = "图例"
COLUMN_THRESHOLD = 5  # sections with more items are set in two columns
POSITIONS = ("topleft", "topright", "bottomleft", "bottomright")
AUTO = "auto"  # the corner covering the fewest features, tried in AUTO_ORDER (ties: the earlier)
AUTO_ORDER = ("topleft", "topright", "bottomright", "bottomleft")
NARROW_PX = 600  # on screens narrower than this (pixels) the legend starts folded
SHOW_TEXT, HIDE_TEXT = "展开图例", "收起图例"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$|^[a-zA-Z]{3,20}$")

LEGEND_CSS = """
.gl-legend { background: rgba(255,255,255,0.93); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); overflow-y: auto;
  font: 12px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #263238; }
.gl-legend h4 { margin: 0 0 4px; font-size: 13px; }
.gl-legend button.gl-legend-toggle { all: unset; cursor: pointer; display: block; white-space: nowrap; }
.gl-legend button.gl-legend-toggle:focus-visible { outline: 2px solid #1565c0; }
.gl-legend .gl-caret { display: inline-block; margin-left: 6px; color: #607d8b; font-size: 11px; }
.gl-legend.gl-collapsed { padding: 4px 10px; overflow: hidden; }
.gl-legend.gl-collapsed h4 { margin: 0; }
.gl-legend.gl-collapsed .gl-legend-body { display: none; }
.gl-legend h5 { margin: 6px 0 2px; font-size: 12px; color: #455a64; }
.gl-legend ul { list-style: none; margin: 0; padding: 0; }
.gl-legend li { white-space: nowrap; }
.gl-legend ul.gl-cols2 { columns: 2; column-gap: 14px; }
.gl-legend i { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px;
  border: 1px solid rgba(0,0,0,0.25); box-sizing: border-box; }
.gl-legend i.circle { border-radius: 50%; }
.gl-legend i.line { height: 0; border: none; border-top: 3px solid; vertical-align: 3px; }
.gl-legend p.gl-note { margin: 2px 0 0; max-width: 190px; font-size: 11px; line-height: 1.4; color: #607d8b; }
"""


@dataclass(frozen=True)
class LegendSection:
    """One layer's part of the legend: its label, (label, colour) items, swatch shape and a note under them."""

    title: str
    items: tuple[tuple[str, str], ...]
    shape: str = "square"
    visible: bool = True
    note: str = ""


def _swatch(colour: str, shape: str) -> str:
    if not _COLOUR.match(colour):
        raise ValueError(f"图例颜色“{colour}”无效，应为 #RRGGBB 形式")
    if shape not in SWATCH_SHAPES:
        raise ValueError(f"图例形状“{shape}”无效，可选：{'、'.join(SWATCH_SHAPES)}")
    prop = "border-top-color" if shape == "line" else "background"
    return f'<i class="{shape}" style="{prop}:{html.escape(colour)}"></i>'


def legend_html(sections: list[LegendSection], title: str = TITLE) -> str:
    """The legend's inner HTML, every text escaped: a title button that folds the body, then the sections."""
    head = (f'<h4><button type="button" class="gl-legend-toggle" aria-expanded="true" title="{HIDE_TEXT}">'
            f'{html.escape(title)}<span class="gl-caret" aria-hidden="true">▾</span></button></h4>')
    parts = []
    for sec in sections:
        items = "".join(f"<li>{_swatch(c, sec.shape)}{html.escape(label)}</li>" for label, c in sec.items)
        cols = ' class="gl-cols2"' if len(sec.items) > COLUMN_THRESHOLD else ""
        hidden = "" if sec.visible else ' style="display:none"'
        note = f'<p class="gl-note">{html.escape(sec.note)}</p>' if sec.note else ""
        parts.append(
            f'<div class="gl-legend-section" data-layer="{html.escape(sec.title)}"{hidden}>'
            f"<h5>{html.escape(sec.title)}</h5><ul{cols}>{items}</ul>{note}</div>"
        )
    return f'{head}<div class="gl-legend-body">{"".join(parts)}</div>'


# The legend control: fold / open on its title, start folded on a narrow map, and in "auto" mode move to the
# corner where a grid of 6 x 6 points over its box hits the fewest polygons, lines and markers.
_SCRIPT = """
(function () {
    var map = {{ this._parent.get_name() }};
    var opts = {{ this.js_options|tojson }};
    var legend = L.control({position: opts.auto ? opts.order[0] : opts.position});
    var div = L.DomUtil.create("div", "gl-legend");
    div.innerHTML = {{ this.inner_html|tojson }};
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    legend.onAdd = function () { return div; };
    legend.addTo(map);
    var button = div.querySelector(".gl-legend-toggle"), caret = div.querySelector(".gl-caret");
    var chosenByReader = false;
    function setFolded(folded) {
        L.DomUtil[folded ? "addClass" : "removeClass"](div, "gl-collapsed");
        button.setAttribute("aria-expanded", folded ? "false" : "true");
        button.title = folded ? opts.show : opts.hide;
        caret.textContent = folded ? "\u25b8" : "\u25be";
    }
    function hits(layer, p) {
        if (layer._containsPoint && (layer._parts || layer._point)) { return layer._containsPoint(p) ? 1 : 0; }
        var el = layer.getElement && layer.getElement();
        if (!el || !layer.getLatLng) { return 0; }
        var q = map.latLngToLayerPoint(layer.getLatLng());
        return Math.abs(q.x - p.x) < 8 && Math.abs(q.y - p.y) < 8 ? 1 : 0;
    }
    function covered() {
        var box = div.getBoundingClientRect(), home = map.getContainer().getBoundingClientRect(), n = 0;
        var layers = [];
        map.eachLayer(function (l) {  // not what lies in a basemap pane ("glBase…": the reference layer)
            if (String((l.options || {}).pane || "").indexOf("glBase") === 0) { return; }
            if (l._containsPoint || (l.getLatLng && l.getElement)) { layers.push(l); }
        });
        for (var i = 0; i < 6; i++) {
            for (var j = 0; j < 6; j++) {
                var c = L.point(box.left - home.left + box.width * (i + 0.5) / 6,
                                box.top - home.top + box.height * (j + 0.5) / 6);
                var p = map.containerPointToLayerPoint(c);
                for (var k = 0; k < layers.length; k++) { n += hits(layers[k], p); }
            }
        }
        return n;
    }
    function place() {
        if (!opts.auto || !map.getSize().x) { keepClear(); return; }
        var best = null, bestScore = Infinity;
        for (var i = 0; i < opts.order.length; i++) {
            legend.setPosition(opts.order[i]);
            var score = covered();
            if (score < bestScore) { best = opts.order[i]; bestScore = score; }
        }
        legend.setPosition(best);
        div.setAttribute("data-covered", String(bestScore));
        keepClear();
    }
    function wide() {  // the reader's screen, not the map: a half-width map on an office screen keeps its legend open
        var top = 0;
        try { top = window.top.innerWidth; } catch (e) { top = 0; }  // a map saved and opened alone: its own window
        return (top || map.getSize().x) >= opts.narrow;
    }
    function keepClear() {  // an open legend on a wide map: the fitted scope moves beside it (layers.mapbuild.FitBounds)
        if (!map.glKeepClear) { return; }
        var open = !L.DomUtil.hasClass(div, "gl-collapsed"), w = map.getSize().x, side = legend.getPosition();
        var lw = div.offsetWidth;  // 0 or the whole map while the control is laid out: no room then
        var room = open && wide() && lw > 0 && lw < w / 3 ? lw + 10 : 0;
        map.glKeepClear(side.indexOf("left") >= 0 ? room : 0, side.indexOf("right") >= 0 ? room : 0);
    }
    function fit() {
        div.style.maxHeight = Math.max(120, map.getSize().y - 150) + "px";
        if (!chosenByReader && map.getSize().x) { setFolded(!wide()); }
        place();
    }
    L.DomEvent.on(button, "click", function () {
        chosenByReader = true;
        setFolded(!L.DomUtil.hasClass(div, "gl-collapsed"));
        place();
    });
    setFolded(false);
    fit();
    map.whenReady(function () { setTimeout(fit, 0); });
    map.on("resize", fit);
    var pending = null;  // streamlit-folium adds the layers after this script: place again once they are in
    map.on("layeradd", function () { clearTimeout(pending); pending = setTimeout(place, 60); });
    div.glPlace = place;
    function toggle(e, on) {
        var secs = div.querySelectorAll(".gl-legend-section");
        for (var i = 0; i < secs.length; i++) {
            if (secs[i].getAttribute("data-layer") === e.name) { secs[i].style.display = on ? "" : "none"; }
        }
    }
    map.on("overlayadd", function (e) { toggle(e, true); });
    map.on("overlayremove", function (e) { toggle(e, false); });
})();
"""


class Legend(MacroElement):
    """A legend control on a folium Map: add it to the map itself (not to a FeatureGroup).

    ``position``: a corner (``POSITIONS``) or "auto" (the corner covering the fewest features).
    ``narrow_px``: on screens narrower than this many pixels the legend starts folded.
    """

    _template = Template("{% macro script(this, kwargs) %}" + _SCRIPT + "{% endmacro %}")

    def __init__(self, sections: list[LegendSection], title: str = TITLE, position: str = "bottomright",
                 narrow_px: int = NARROW_PX):
        super().__init__()
        if position not in (*POSITIONS, AUTO):
            raise ValueError(f"图例位置“{position}”无效，可选：{'、'.join((*POSITIONS, AUTO))}")
        self._name = "Legend"
        self.position = position
        self.js_options = {"auto": position == AUTO, "position": position, "order": list(AUTO_ORDER),
                           "narrow": int(narrow_px), "show": SHOW_TEXT, "hide": HIDE_TEXT}
        self.inner_html = legend_html(sections, title)
        self.add_child(HeaderStyle("legend", LEGEND_CSS))
