"""QGIS layer styles (QML documents) that draw a layer as the app does: pure, a style description in, XML text out.

A :class:`LayerStyle` says how one layer is drawn — one symbol for every feature (``single``), one per value of a
field (``categorized``: renovation status, station kind, case status, with the vocabulary's labels and colours) or
one per class of a number (``graduated``: the choropleth's class ranges and colours) — plus the field whose value
labels each feature and the Chinese aliases of the fields. ``style_qml`` writes it as the QML QGIS 3 reads (from a
``.qml`` file beside a Shapefile or from a GeoPackage's ``layer_styles`` table); ``rename`` maps field names to
the ones in the file (a Shapefile's 10-character names), so one description serves both.

A graduated style leaves no unit undrawn: a feature without a value (NULL) is classed by ``coalesce(field, s)``
with ``s`` below every range into the grey 无数据 class, as on the map. Sizes and widths are millimetres (the
map's pixels × 0.26). Every symbol layer is written both as ``<Option>`` (QGIS ≥ 3.16) and ``<prop>`` (older 3.x).
"""
from __future__ import annotations

import dataclasses
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from geo.errors import GuloError

GEOMETRY_TYPES = {"point": ("marker", 0), "polygon": ("fill", 2)}
"""Geometry -> (QGIS symbol type, layerGeometryType)."""
RENDERERS = {"single": "singleSymbol", "categorized": "categorizedSymbol", "graduated": "graduatedSymbol"}
LABEL_FONT = "Microsoft YaHei"
"""Label font family; where it is missing QGIS falls back to a font that has the Chinese glyphs."""
PX_MM = 0.26
"""Millimetres per screen pixel at 96 dpi: the map's widths and radii in pixels × this."""
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
QGIS_VERSION = "3.22.0-Białowieża"


@dataclass(frozen=True)
class Symbol:
    """How a feature is drawn. Polygons: ``fill`` (None: hollow) and an outline (solid or dashed); with
    ``centroid`` a circle of ``size_mm`` at the polygon's inside point in the fill colour instead. Points: a circle
    of ``size_mm`` in ``fill`` with an outline. Colours are #RRGGBB; ``fill_alpha`` 0–1."""

    fill: str | None = "#9e9e9e"
    fill_alpha: float = 1.0
    outline: str = "#ffffff"
    outline_mm: float = PX_MM
    dashed: bool = False
    size_mm: float = 2.0
    centroid: bool = False


@dataclass(frozen=True)
class Category:
    """One value of a categorized style: the value in the field, its legend label, its colour (#RRGGBB)."""

    value: str
    label: str
    colour: str


@dataclass(frozen=True)
class Range:
    """One class of a graduated style: lower ≤ value ≤ upper (the first matching range wins), label, colour."""

    lower: float
    upper: float
    label: str
    colour: str


@dataclass(frozen=True)
class Labels:
    """Feature labels: the field, size in points, bold or not, colour."""

    field: str
    size_pt: float = 9.0
    bold: bool = False
    colour: str = "#263238"


@dataclass(frozen=True)
class LayerStyle:
    """One layer's style: geometry (point / polygon), renderer (single / categorized / graduated) on ``field``,
    the symbol every class starts from, categories or ranges, the colour of features without a value (graduated),
    labels, and field aliases (field name -> Chinese)."""

    geometry: str
    renderer: str
    symbol: Symbol
    field: str | None = None
    categories: tuple[Category, ...] = ()
    ranges: tuple[Range, ...] = ()
    no_data: tuple[str, str] | None = None  # (label, colour) of a feature whose value is NULL (graduated)
    labels: Labels | None = None
    aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)


def check_style(style: LayerStyle) -> LayerStyle:
    """``style`` if it is complete and consistent; GuloError naming what is wrong otherwise."""
    if style.geometry not in GEOMETRY_TYPES:
        raise GuloError(f"图层几何类型“{style.geometry}”无效，可选：{'、'.join(GEOMETRY_TYPES)}")
    if style.renderer not in RENDERERS:
        raise GuloError(f"样式类型“{style.renderer}”无效，可选：{'、'.join(RENDERERS)}")
    if style.renderer != "single" and not style.field:
        raise GuloError("分类或分级样式需要指定字段")
    if style.renderer == "categorized" and not style.categories:
        raise GuloError("分类样式至少需要一个类别")
    if style.renderer == "graduated" and not style.ranges:
        raise GuloError("分级样式至少需要一个级别")
    colours = [c.colour for c in style.categories] + [r.colour for r in style.ranges]
    colours += [c for c in (style.symbol.fill, style.symbol.outline) if c is not None]
    bad = [c for c in colours if not (isinstance(c, str) and _HEX.match(c))]
    if bad:
        raise GuloError(f"颜色应为 #RRGGBB，而不是 {'、'.join(map(str, bad))}")
    return style


def rgba(colour: str, alpha: float = 1.0) -> str:
    """``#RRGGBB`` as QGIS writes a colour: ``R,G,B,A`` (0–255)."""
    return ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5)) + f",{round(alpha * 255)}"


def _number(value: float) -> str:
    """A range bound exactly (the shortest text that reads back as the same double): a value equal to a break
    must fall in the class below it, as on the map, not in the next one through a rounded bound."""
    return repr(float(value))


def _props(parent: ET.Element, props: dict[str, str]) -> None:
    """The symbol layer's properties, as <Option type="Map"> and as legacy <prop k v>."""
    options = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", type="QString", name=key, value=value)
    for key, value in props.items():
        ET.SubElement(parent, "prop", k=key, v=value)


def _symbol_element(kind: str, name: str, layers: list[tuple[str, dict[str, str], ET.Element | None]]) -> ET.Element:
    sym = ET.Element("symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    for cls, props, sub in layers:
        layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
        _props(layer, props)
        if sub is not None:
            layer.append(sub)
    return sym


def _marker_props(colour: str | None, alpha: float, s: Symbol) -> dict[str, str]:
    return {"name": "circle", "color": rgba(colour or "#ffffff", alpha if colour else 0.0),
            "outline_color": rgba(s.outline), "outline_style": "solid", "outline_width": f"{s.outline_mm:g}",
            "outline_width_unit": "MM", "size": f"{s.size_mm:g}", "size_unit": "MM", "angle": "0",
            "offset": "0,0", "offset_unit": "MM", "scale_method": "diameter", "joinstyle": "bevel",
            "horizontal_anchor_point": "1", "vertical_anchor_point": "1"}


def symbol_xml(geometry: str, s: Symbol, name: str, colour: str | None = None) -> ET.Element:
    """The <symbol> of ``s`` for a layer of ``geometry``, in ``colour`` (default: its own fill)."""
    colour = s.fill if colour is None else colour
    kind = GEOMETRY_TYPES[geometry][0]
    if kind == "marker":
        return _symbol_element(kind, name, [("SimpleMarker", _marker_props(colour, s.fill_alpha, s), None)])
    if s.centroid:
        dot = _symbol_element("marker", f"@{name}@0", [("SimpleMarker", _marker_props(colour, s.fill_alpha, s), None)])
        props = {"point_on_surface": "1", "point_on_all_parts": "0", "clip_points": "0",
                 "clip_on_current_part_only": "0"}
        return _symbol_element(kind, name, [("CentroidFill", props, dot)])
    props = {"color": rgba(colour or "#ffffff", s.fill_alpha if colour else 0.0),
             "style": "solid" if colour else "no", "outline_color": rgba(s.outline),
             "outline_style": "dash" if s.dashed else "solid", "outline_width": f"{s.outline_mm:g}",
             "outline_width_unit": "MM", "joinstyle": "bevel", "offset": "0,0", "offset_unit": "MM"}
    return _symbol_element(kind, name, [("SimpleFill", props, None)])


def _field(style: LayerStyle, rename: Mapping[str, str]) -> str:
    return rename.get(style.field or "", style.field or "")


def no_data_value(ranges: tuple[Range, ...]) -> float:
    """The number a NULL value is classed as: 1 below the lowest range (and below 0)."""
    return math.floor(min(0.0, *(r.lower for r in ranges))) - 1.0


def renderer_xml(style: LayerStyle, rename: Mapping[str, str]) -> ET.Element:
    """The <renderer-v2> element of ``style`` (fields renamed by ``rename``)."""
    attr = _field(style, rename)
    el = ET.Element("renderer-v2", type=RENDERERS[style.renderer], symbollevels="0", enableorderby="0",
                    forceraster="0", referencescale="-1")
    symbols = ET.Element("symbols")
    if style.renderer == "single":
        symbols.append(symbol_xml(style.geometry, style.symbol, "0"))
    elif style.renderer == "categorized":
        el.set("attr", attr)
        cats = ET.SubElement(el, "categories")
        for i, c in enumerate(style.categories):
            ET.SubElement(cats, "category", symbol=str(i), value=c.value, label=c.label, render="true")
            symbols.append(symbol_xml(style.geometry, style.symbol, str(i), c.colour))
    else:
        _graduated(el, symbols, style, attr)
    el.append(symbols)
    source = ET.SubElement(el, "source-symbol")
    source.append(symbol_xml(style.geometry, style.symbol, "0"))
    ET.SubElement(el, "rotation")
    ET.SubElement(el, "sizescale")
    return el


def _graduated(el: ET.Element, symbols: ET.Element, style: LayerStyle, attr: str) -> None:
    ranges = list(style.ranges)
    if style.no_data is not None:
        low = no_data_value(style.ranges)
        ranges.insert(0, Range(low, low, *style.no_data))
        attr = f'coalesce("{attr}", {low:g})'
    el.set("attr", attr)
    el.set("graduatedMethod", "GraduatedColor")
    out = ET.SubElement(el, "ranges")
    for i, r in enumerate(ranges):
        ET.SubElement(out, "range", symbol=str(i), lower=_number(r.lower), upper=_number(r.upper), label=r.label,
                      render="true")
        symbols.append(symbol_xml(style.geometry, style.symbol, str(i), r.colour))
    method = ET.SubElement(el, "classificationMethod", id="Custom")
    ET.SubElement(method, "symmetricMode", enabled="0", symmetrypoint="0", astride="0")
    ET.SubElement(method, "labelFormat", format="%1 - %2", labelprecision="4", trimtrailingzeroes="1")


def labeling_xml(labels: Labels, geometry: str, rename: Mapping[str, str]) -> ET.Element:
    """A <labeling type="simple"> with the field's value in Chinese-capable type, a white halo, centred on polygons."""
    el = ET.Element("labeling", type="simple")
    settings = ET.SubElement(el, "settings", calloutType="simple")
    text = ET.SubElement(settings, "text-style", fieldName=rename.get(labels.field, labels.field), isExpression="0",
                         fontFamily=LABEL_FONT, fontSize=f"{labels.size_pt:g}", fontSizeUnit="Point",
                         fontWeight="75" if labels.bold else "50", fontItalic="0", textColor=rgba(labels.colour),
                         textOpacity="1", namedStyle="Bold" if labels.bold else "Regular", multilineHeight="1")
    ET.SubElement(text, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferSizeUnits="MM",
                  bufferColor="255,255,255,255", bufferOpacity="0.85", bufferNoFill="1", bufferJoinStyle="128")
    ET.SubElement(settings, "text-format", wrapChar="", multilineAlign="3", formatNumbers="0", decimals="3")
    placement = "1" if geometry == "polygon" else "6"  # polygons: over the inside point; points: around
    ET.SubElement(settings, "placement", placement=placement, centroidInside="1", centroidWhole="0",
                  fitInPolygonOnly="0", dist="0", distUnits="MM", offsetType="0", quadOffset="4", priority="5",
                  polygonPlacementFlags="2", placementFlags="10")
    ET.SubElement(settings, "rendering", drawLabels="1", obstacle="1", obstacleType="1", displayAll="0",
                  upsidedownLabels="0", labelPerPart="0", mergeLines="0", minFeatureSize="0", limitNumLabels="0",
                  maxNumLabels="2000", scaleVisibility="0", zIndex="0", fontLimitPixelSize="0",
                  unplacedVisibility="0")
    return el


def aliases_xml(aliases: Mapping[str, str], rename: Mapping[str, str]) -> ET.Element:
    """<aliases>: each field (renamed) with its Chinese alias."""
    el = ET.Element("aliases")
    for i, (name, alias) in enumerate(aliases.items()):
        ET.SubElement(el, "alias", field=rename.get(name, name), index=str(i), name=alias)
    return el


def style_qml(style: LayerStyle, rename: Mapping[str, str] | None = None) -> str:
    """The QML document of ``style``; ``rename`` maps field names to those in the file (e.g. Shapefile names)."""
    check_style(style)
    rename = dict(rename or {})
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories",
                      labelsEnabled="1" if style.labels else "0", hasScaleBasedVisibilityFlag="0",
                      minScale="100000000", maxScale="0", readOnly="0", simplifyDrawingHints="1",
                      simplifyAlgorithm="0", simplifyDrawingTol="1", simplifyLocal="1", simplifyMaxScale="1")
    root.append(renderer_xml(style, rename))
    if style.labels is not None:
        root.append(labeling_xml(style.labels, style.geometry, rename))
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "legend", type="default-vector", showLabelLegend="0")
    root.append(aliases_xml(style.aliases, rename))
    ET.SubElement(root, "layerGeometryType").text = str(GEOMETRY_TYPES[style.geometry][1])
    ET.indent(root, space=" ")
    return _DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def categorized(geometry: str, field_name: str, symbol: Symbol, members, aliases: Mapping[str, str],
                labels: Labels | None = None) -> LayerStyle:
    """A categorized style over vocabulary ``members`` (geo.vocab enums): the field holds their Chinese labels
    (as every export writes them), each drawn in the member's colour and listed under its label."""
    cats = tuple(Category(m.label, m.label, m.color) for m in members)
    return LayerStyle(geometry, "categorized", symbol, field_name, categories=cats, labels=labels, aliases=aliases)
