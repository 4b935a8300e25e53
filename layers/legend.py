"""The map legend: one small box in a corner of the map, a section per layer, no external assets.

Built as a Leaflet control from a branca MacroElement, so it shows both in a saved HTML file and in
streamlit-folium (which runs the map's script but not its body HTML). Every label and colour is
escaped. A section hides itself when its layer is switched off in the layer control.
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
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$|^[a-zA-Z]{3,20}$")

LEGEND_CSS = """
.gl-legend { background: rgba(255,255,255,0.93); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); overflow-y: auto;
  font: 12px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #263238; }
.gl-legend h4 { margin: 0 0 4px; font-size: 13px; }
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
    """The legend's inner HTML, every text escaped."""
    parts = [f"<h4>{html.escape(title)}</h4>"]
    for sec in sections:
        items = "".join(f"<li>{_swatch(c, sec.shape)}{html.escape(label)}</li>" for label, c in sec.items)
        cols = ' class="gl-cols2"' if len(sec.items) > COLUMN_THRESHOLD else ""
        hidden = "" if sec.visible else ' style="display:none"'
        note = f'<p class="gl-note">{html.escape(sec.note)}</p>' if sec.note else ""
        parts.append(
            f'<div class="gl-legend-section" data-layer="{html.escape(sec.title)}"{hidden}>'
            f"<h5>{html.escape(sec.title)}</h5><ul{cols}>{items}</ul>{note}</div>"
        )
    return "".join(parts)


class Legend(MacroElement):
    """A legend control on a folium Map: add it to the map itself (not to a FeatureGroup)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "gl-legend");
                div.innerHTML = {{ this.inner_html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            legend.addTo(map);
            function fit() { legend.getContainer().style.maxHeight = Math.max(120, map.getSize().y - 150) + "px"; }
            fit();
            map.on("resize", fit);
            function toggle(e, on) {
                var secs = legend.getContainer().querySelectorAll(".gl-legend-section");
                for (var i = 0; i < secs.length; i++) {
                    if (secs[i].getAttribute("data-layer") === e.name) { secs[i].style.display = on ? "" : "none"; }
                }
            }
            map.on("overlayadd", function (e) { toggle(e, true); });
            map.on("overlayremove", function (e) { toggle(e, false); });
        })();
        {% endmacro %}
    """)

    def __init__(self, sections: list[LegendSection], title: str = TITLE, position: str = "bottomright"):
        super().__init__()
        if position not in POSITIONS:
            raise ValueError(f"图例位置“{position}”无效，可选：{'、'.join(POSITIONS)}")
        self._name = "Legend"
        self.position = position
        self.inner_html = legend_html(sections, title)
        self.add_child(HeaderStyle("legend", LEGEND_CSS))

