"""The briefing of a scope as an A4 PDF (Simplified Chinese, vector map) and as an Excel workbook.

The PDF uses reportlab's built-in CJK font STSong-Light (Adobe-GB1): no font file is needed on the
machine that makes it; PDF viewers supply the glyphs. The map is drawn as vector polygons from the
units' geometry (projected to UTM 50N so that distances look right), filled with the colours the
app's map uses. Both documents take a ``geo.briefing.Briefing``; nothing is computed here.
"""
from __future__ import annotations

import re
from dataclasses import replace
from io import BytesIO

import geopandas as gpd
import pandas as pd
import shapely
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from data.export import to_xlsx
from geo import formatting as fmt
from geo.briefing import QUIET_TEXT, THEME_BY_KEY, Briefing, kpi_frame, labelled, scorecard_table
from geo.crs import metric_crs
from geo.reference_view import EDGE_COLOR, ROAD_WIDTH, draw_rank, view_features
from geo.scope import Scope
from geo.vocab import SAMPLE_NOTICE, DisputeCategory, ReferenceKind, RoadClass

FONT = "STSong-Light"
WIDTH = A4[0] - 36 * mm  # text width between 18 mm margins
MAP_SIZE = (118 * mm, 100 * mm)
_NUMBER = re.compile(r"^[-+]?[\d,./]+ ?(%|个百分点|个社区|个小区|较上期末?)?$|^与上期末?持平$|^—$|^$")
INK, MUTED, RULE, HEAD = (colors.HexColor(c) for c in ("#1f2933", "#5f6b7a", "#cfd8dc", "#eceff1"))
# Every unit and legend swatch is outlined in mid grey, so the lightest class (#ffffcc) shows on white paper.
OUTLINE, OUTLINE_PT = colors.HexColor("#607d8b"), 0.5
REFERENCE_PT_PER_PX = 0.3  # a reference road's width on paper, points per pixel of its width on screen
UNITS_OVER_REFERENCE = 0.75  # the units' fill opacity over the reference features (as on the screen map)


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles() -> dict[str, ParagraphStyle]:
    f = _font()
    base = ParagraphStyle("body", fontName=f, fontSize=9.5, leading=14, textColor=INK, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=26, alignment=TA_CENTER),
        "sub": ParagraphStyle("sub", parent=base, fontSize=9.5, textColor=MUTED, alignment=TA_CENTER),
        "h": ParagraphStyle("h", parent=base, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4),
        "body": base,
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#8a4b00"),
                               backColor=colors.HexColor("#fff4e0"), borderPadding=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
    }


# STSong-Light (Adobe-GB1) has no glyph for these; the PDF uses ones it has.
_NO_GLYPH = str.maketrans({"·": "|", "›": ">", "–": "-", "—": "-", "⚠": "!"})


def _plain(text) -> str:
    """``text`` with characters the CJK font lacks replaced."""
    return str(text).translate(_NO_GLYPH)


def _esc(text) -> str:
    """Text for a reportlab Paragraph (a small markup language): & < > escaped, missing glyphs replaced."""
    return _plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------- tables


def _table(frame: pd.DataFrame, widths: list[float] | None = None, wrap: tuple[int, ...] = ()) -> Table:
    """A ruled table with a grey header; columns in ``wrap`` get wrapping paragraphs."""
    st = _styles()["cell"]
    rows = [[_cell_text(c) for c in frame.columns]]
    for values in frame.itertuples(index=False, name=None):
        rows.append([Paragraph(_esc(_cell_text(v)), st) if i in wrap else _cell_text(v) for i, v in enumerate(values)])
    t = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    numeric = [i for i in range(len(frame.columns)) if i not in wrap and all(_NUMBER.match(r[i]) for r in rows[1:])]
    t.setStyle(TableStyle([*(("ALIGN", (i, 0), (i, -1), "RIGHT") for i in numeric),
        ("FONT", (0, 0), (-1, -1), _font(), 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]))
    return t


def _cell_text(v) -> str:
    """Tables reaching here hold text already (``labelled(..., as_text=True)``, alerts, KPI texts)."""
    return fmt.MISSING if fmt.is_missing(v) else _plain(v)


def _kpi_table(b: Briefing) -> Table:
    frame = pd.DataFrame({
        "指标": [k.label for k in b.kpis],
        "本期": [k.text for k in b.kpis],
        "上期": [replace(k, value=k.previous).text if k.previous is not None else "" for k in b.kpis],
        "变化": [k.change_text or "" for k in b.kpis],
    })
    t = _table(frame, [52 * mm, 42 * mm, 34 * mm, 46 * mm])
    t.setStyle(TableStyle([("ALIGN", (1, 0), (-1, -1), "RIGHT"), ("FONT", (1, 1), (1, -1), _font(), 10)]))
    return t


def _party_kpi_table(b: Briefing) -> Table:
    """The 党建引领 figures two to a row: 指标, 本期, 指标, 本期."""
    cells = [(k.label, k.text) for k in b.party_kpis]
    cells += [("", "")] * (len(cells) % 2)
    half = len(cells) // 2
    frame = pd.DataFrame([(*cells[i], *cells[i + half]) for i in range(half)], columns=["指标", "本期", "指标 ", "本期 "])
    t = _table(frame, [46 * mm, 41 * mm, 46 * mm, 41 * mm])
    t.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT"), ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                           ("FONT", (1, 1), (1, -1), _font(), 10), ("FONT", (3, 1), (3, -1), _font(), 10)]))
    return t


def _party_section(b: Briefing, s: dict) -> list:
    """一、党建引领: its figures, the communities below a standard, the communities without consultation days."""
    out = [Paragraph("一、党建引领", s["h"]), _party_kpi_table(b), Spacer(1, 2 * mm)]
    below, quiet = b.below_standard(), b.quiet()
    out.append(Paragraph(_esc(f"未达标社区（{len(below)} 个）"), s["body"]))
    out.append(_table(below, [30 * mm, 40 * mm, WIDTH - 70 * mm], wrap=(2,)) if len(below)
               else Paragraph("各社区工作经费、办公服务用房、一老一少一普站点均达标。", s["body"]))
    if len(quiet):
        out += [Paragraph(_esc(f"{QUIET_TEXT}的社区（{len(quiet)} 个）"), s["body"]), _table(quiet, [30 * mm, 40 * mm])]
    else:
        out.append(Paragraph(_esc(f"{QUIET_TEXT}的社区：无。"), s["body"]))
    return out


def _ranking_table(frame: pd.DataFrame) -> Table:
    shown = labelled(frame, as_text=True)
    n = len(shown.columns)
    widths = [12 * mm, 34 * mm] + [(WIDTH - 46 * mm) / (n - 2)] * (n - 2)
    return _table(shown, widths)


# ---------------------------------------------------------------- the map


def _rings(geom):
    """(exterior, holes) coordinate lists of each polygon part of ``geom``."""
    parts = getattr(geom, "geoms", [geom])
    return [(list(p.exterior.coords), [list(r.coords) for r in p.interiors]) for p in parts if not p.is_empty]


def _map_drawing(b: Briefing) -> Drawing:
    """The units filled by class colour over the reference features (roads, buildings, water) when the briefing
    has them, named at a point inside each, with the legend on the right."""
    w, h = MAP_SIZE
    d = Drawing(WIDTH, h)
    units = b.units[~b.units.geometry.is_empty & b.units.geometry.notna()]
    reference = getattr(b, "reference", None)  # an object with only the map's fields (a test's) draws none
    if len(units):
        _draw_units(d, units, w, h, reference, Scope(b.scope_code).level if reference is not None else None)
    _draw_legend(d, b, x=w + 6 * mm, top=h - 4 * mm)
    return d


def _draw_units(d: Drawing, units: gpd.GeoDataFrame, w: float, h: float, reference: gpd.GeoDataFrame | None = None,
                level=None) -> None:
    metric = units.to_crs(metric_crs())
    x0, y0, x1, y1 = metric.total_bounds
    scale = min((w - 4) / max(x1 - x0, 1), (h - 4) / max(y1 - y0, 1))
    metric["geometry"] = metric.geometry.simplify(0.6 / scale)  # ~0.6 pt on paper

    def pt(x: float, y: float) -> tuple[float, float]:
        return 2 + (x - x0) * scale, 2 + (y - y0) * scale

    under = reference is not None and _draw_reference(d, reference, level, (x0, y0, x1, y1), scale, pt)
    opacity = UNITS_OVER_REFERENCE if under else 1
    for geom, fill in zip(metric.geometry, metric["fill"]):
        for outer, holes in _rings(geom):
            d.add(Polygon([c for xy in outer for c in pt(*xy[:2])], fillColor=colors.HexColor(fill),
                          fillOpacity=opacity, strokeColor=OUTLINE, strokeWidth=OUTLINE_PT))
            for hole in holes:
                d.add(Polygon([c for xy in hole for c in pt(*xy[:2])], fillColor=colors.white, strokeWidth=0))
    size = 7 if len(metric) > 12 else 8.5
    for geom, name, fill in zip(metric.geometry, metric["name"], metric["fill"]):
        p = geom.representative_point()
        x, y = pt(p.x, p.y)
        ink = colors.white if _dark(fill) else INK
        d.add(String(x, y - size / 3, _plain(name), fontName=_font(), fontSize=size, fillColor=ink,
                     textAnchor="middle"))


def _draw_reference(d: Drawing, reference: gpd.GeoDataFrame, level, box: tuple, scale: float, pt) -> bool:
    """The reference features inside ``box`` (metric CRS bounds of the map) as the screen map shows them
    (``geo.reference_view``: water, buildings, roads by class in their muted colours), simplified for the page (half
    a point: ``0.5 / scale`` metres), drawn first so the units lie over them. Whether anything was drawn."""
    features, _ = view_features(reference, level or "district", 0.5 / scale)
    if features.empty:
        return False
    metric = features.to_crs(metric_crs())
    geoms = shapely.clip_by_rect(metric.geometry.to_numpy(), *box)
    rows = sorted(zip(metric["kind"], metric["road_class"], geoms),
                  key=lambda r: draw_rank(r[0], r[1], shapely.get_dimensions(r[2]) == 2))
    shapes = [s for kind, cls, geom in rows for part in shapely.get_parts(geom) if not part.is_empty
              for s in _reference_shapes(kind, cls, part, pt)]
    for s in shapes:
        d.add(s)
    return bool(shapes)


def _reference_shapes(kind: str, road_class: str | None, part, pt) -> list:
    """The reportlab shape of one polygon or line of a reference feature (points and holes are left out)."""
    if part.geom_type == "Polygon":
        edge = EDGE_COLOR.get(kind)
        fill = RoadClass(road_class).color if road_class else ReferenceKind(kind).color
        return [Polygon([c for xy in part.exterior.coords for c in pt(*xy[:2])], fillColor=colors.HexColor(fill),
                        strokeColor=colors.HexColor(edge) if edge else None, strokeWidth=0.2 if edge else 0)]
    if part.geom_type in ("LineString", "LinearRing"):
        cls = RoadClass(road_class) if road_class else None
        colour = cls.color if cls else EDGE_COLOR.get(kind, ReferenceKind(kind).color)
        width = (ROAD_WIDTH[cls] if cls else 2.0) * REFERENCE_PT_PER_PX
        return [PolyLine([c for xy in part.coords for c in pt(*xy[:2])], strokeColor=colors.HexColor(colour),
                         strokeWidth=width, strokeLineCap=1, strokeLineJoin=1)]
    return []


def _dark(hex_colour: str) -> bool:
    """Whether text on this fill should be white (relative luminance below 0.4)."""
    c = colors.HexColor(hex_colour)
    return 0.2126 * c.red + 0.7152 * c.green + 0.0722 * c.blue < 0.4


def _draw_legend(d: Drawing, b: Briefing, x: float, top: float) -> None:
    d.add(String(x, top, _plain(b.indicator_label), fontName=_font(), fontSize=9, fillColor=INK))
    for i, (label, colour) in enumerate(b.legend):
        y = top - 16 - i * 14
        d.add(Rect(x, y - 2, 10, 10, fillColor=colors.HexColor(colour), strokeColor=OUTLINE, strokeWidth=OUTLINE_PT))
        d.add(String(x + 15, y, _plain(label), fontName=_font(), fontSize=8.5, fillColor=INK))


# ---------------------------------------------------------------- the monthly chart


def _monthly_chart(monthly: pd.DataFrame) -> Drawing:
    """Cases per month, stacked by category, with a legend underneath."""
    d = Drawing(WIDTH, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 12 * mm, 22 * mm, WIDTH - 16 * mm, 44 * mm
    cats = [c for c in DisputeCategory if c.label in monthly.columns]
    chart.data = [list(monthly[c.label].astype(int)) or [0] for c in cats]
    chart.categoryAxis.categoryNames = [m[2:] for m in monthly.index.astype(str)]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.labels.fontName = chart.valueAxis.labels.fontName = _font()
    chart.categoryAxis.labels.fontSize = chart.valueAxis.labels.fontSize = 7.5
    chart.valueAxis.valueMin = 0
    chart.barSpacing = 1
    for i, c in enumerate(cats):
        chart.bars[i].fillColor = colors.HexColor(c.color)
        chart.bars[i].strokeColor = None
    d.add(chart)
    legend = Legend()
    legend.x, legend.y, legend.alignment = 12 * mm, 8 * mm, "right"
    legend.fontName, legend.fontSize, legend.columnMaximum, legend.dx, legend.dy = _font(), 8, 1, 8, 8
    legend.deltax = 28 * mm
    legend.colorNamePairs = [(colors.HexColor(c.color), _plain(c.label)) for c in cats]
    d.add(legend)
    return d


# ---------------------------------------------------------------- the document


def _footer(b: Briefing):
    source = f"数据来源：{b.source}" + ("（示例数据）" if b.sample else "")
    text = f"{source} | 生成时间 {b.generated:%Y-%m-%d %H:%M}"

    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(_font(), 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(18 * mm, 10 * mm, text)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()
    return draw


def _story(b: Briefing) -> list:
    s = _styles()
    p = b.period
    story = [
        Paragraph(_esc(b.title), s["title"]),
        Paragraph(_esc(f"{b.trail} · 统计周期 {p.start:%Y-%m-%d} 至 {p.end:%Y-%m-%d}（{b.period_label}）"
                       f" · 数据截至 {b.as_of:%Y年%m月%d日}"), s["sub"]),
        Spacer(1, 4 * mm),
    ]
    if b.sample:
        story += [Paragraph(_esc(SAMPLE_NOTICE), s["note"]), Spacer(1, 3 * mm)]
    if b.party_kpis:
        story += _party_section(b, s)
    story += [Paragraph("二、治理概况", s["h"]), _kpi_table(b)]
    story += [CondPageBreak(MAP_SIZE[1] + 14 * mm), Paragraph(_esc(f"三、分布图 · {b.indicator_label}"), s["h"]),
              _map_drawing(b)]
    story += _alerts_section(b, s)
    story += [PageBreak(), Paragraph("五、分主题排名", s["h"])]
    for key, frame in b.rankings.items():
        title = Paragraph(_esc(THEME_BY_KEY[key].label), s["body"])
        story.append(KeepTogether([title, _ranking_table(frame), Spacer(1, 3 * mm)]))
    story += [CondPageBreak(80 * mm), Paragraph("六、近12个月矛盾纠纷（按类别）", s["h"]), _monthly_chart(b.monthly)]
    return story


def _alerts_section(b: Briefing, s: dict) -> list:
    head = Paragraph(f"四、预警事项（{len(b.alerts)} 条）", s["h"])
    if b.alerts.empty:
        return [head, Paragraph("本期无越过预警阈值的事项。", s["body"])]
    return [head, _table(b.alert_table(), [26 * mm, 34 * mm, WIDTH - 60 * mm], wrap=(2,))]


def briefing_pdf(b: Briefing) -> bytes:
    """The briefing as an A4 PDF: title, 党建引领 (figures, communities below a standard or without consultation
    days), KPI table, vector map with legend and labels, alerts, rankings, monthly disputes chart; each page's
    footer names the data source and the time it was made."""
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=b.title, author=b.source, subject=b.trail,
                            creator=b.source)
    footer = _footer(b)
    doc.build(_story(b), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def briefing_xlsx(b: Briefing) -> bytes:
    """The briefing's tables as a workbook: 说明, 党建引领, 社区达标, 核心指标, one sheet per theme ranking, 预警,
    月度纠纷, 地图指标."""
    about = pd.DataFrame({"项目": ["标题", "范围", "统计周期", "数据截至", "生成时间", "数据来源", "说明"],
                          "内容": [b.title, b.trail, f"{b.period.start} 至 {b.period.end}（{b.period_label}）",
                                 b.as_of, b.generated, b.source, SAMPLE_NOTICE if b.sample else ""]})
    sheets = {"说明": about, "党建引领": kpi_frame(b.party_kpis), "社区达标": scorecard_table(b.card),
              "核心指标": kpi_frame(b.kpis)}
    sheets.update({f"排名-{THEME_BY_KEY[key].label}": labelled(frame) for key, frame in b.rankings.items()})
    sheets["预警"] = b.alert_table()
    sheets["月度纠纷"] = b.monthly.reset_index()
    sheets["地图指标"] = pd.DataFrame({"编码": b.units["code"], "名称": b.units["name"],
                                   b.indicator_label: b.units["value"]})
    return to_xlsx(sheets)
