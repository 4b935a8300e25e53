"""Render a GIS data pack (GeoPackage) with QGIS and its stored default styles, as a person opening it would see it.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 -m tests.render_pack OUT.png PACK.gpkg

Run with Debian's python3 and its QGIS bindings (python3-qgis, 3.22); never imported by the test suite (CI has
no QGIS). Every feature layer of the pack is opened through GDAL, gets its default style from the pack's
``layer_styles`` table (``loadDefaultStyle``; the script stops if QGIS cannot load a style or the renderer is not
the expected kind), and the map of all layers is drawn with a legend beside it. Prints one line per layer.
"""
from __future__ import annotations

import sqlite3
import sys
from contextlib import closing
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsLayerTree,
    QgsLayerTreeModel,
    QgsLegendRenderer,
    QgsLegendSettings,
    QgsLegendStyle,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRenderContext,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QRectF, QSize, Qt
from qgis.PyQt.QtGui import QColor, QFont, QImage, QPainter

EXPECTED = {"communities": ("graduatedSymbol", "singleSymbol"), "grids": ("graduatedSymbol", "singleSymbol"),
            "streets": ("singleSymbol", "graduatedSymbol"), "compounds": ("categorizedSymbol",),
            "stations": ("categorizedSymbol",), "disputes": ("categorizedSymbol",),
            "dispute_stats": ("graduatedSymbol", "singleSymbol")}
MAP_PX, LEGEND_PX, DPI = (1500, 1300), 520, 120


def feature_tables(path: str) -> list[tuple[str, str]]:
    """(table, Chinese title) of the pack's feature tables in the order they were written (bottom layer first)."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT table_name, identifier FROM gpkg_contents WHERE data_type = 'features' "
                            "ORDER BY rowid")
        return [(r[0], r[1] or r[0]) for r in rows]


def open_layer(path: str, name: str, title: str) -> QgsVectorLayer:
    """The layer, named by its title, with its default style from ``layer_styles``; SystemExit when QGIS cannot
    load the style or draws the layer with another kind of renderer than expected."""
    layer = QgsVectorLayer(f"{path}|layername={name}", title, "ogr")
    if not layer.isValid():
        raise SystemExit(f"{name}: QGIS cannot open the layer")
    message, ok = layer.loadDefaultStyle()
    kind = layer.renderer().type()
    print(f"{name}: features={layer.featureCount()} style_loaded={ok} renderer={kind} "
          f"labels={layer.labelsEnabled()} crs={layer.crs().authid() or layer.crs().description()}")
    if not ok or kind not in EXPECTED.get(name, (kind,)):
        raise SystemExit(f"{name}: default style not loaded ({message}) or renderer {kind} unexpected")
    return layer


def draw_map(layers: list[QgsVectorLayer]) -> QImage:
    settings = QgsMapSettings()
    settings.setLayers(list(reversed(layers)))  # QGIS lists the top layer first
    settings.setDestinationCrs(layers[0].crs())
    extent = layers[0].extent()
    for layer in layers[1:]:
        extent.combineExtentWith(layer.extent())
    settings.setExtent(extent.buffered(extent.width() * 0.02))
    settings.setOutputSize(QSize(*MAP_PX))
    settings.setOutputDpi(DPI)
    settings.setBackgroundColor(QColor("white"))
    settings.setFlag(QgsMapSettings.DrawLabeling, True)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def draw_legend(painter: QPainter, layers: list[QgsVectorLayer], x: int, y: int) -> None:
    root = QgsLayerTree()
    for layer in reversed(layers):
        root.addLayer(layer)
    model = QgsLayerTreeModel(root)
    settings = QgsLegendSettings()
    for style in (QgsLegendStyle.Group, QgsLegendStyle.Subgroup, QgsLegendStyle.SymbolLabel):
        font = QFont("Noto Sans CJK SC", 7 if style == QgsLegendStyle.SymbolLabel else 8)
        font.setBold(style != QgsLegendStyle.SymbolLabel)
        legend_style = settings.style(style)
        legend_style.setFont(font)
        settings.setStyle(style, legend_style)
    renderer = QgsLegendRenderer(model, settings)
    painter.save()
    painter.translate(x, y)
    dots_per_mm = DPI / 25.4
    painter.scale(dots_per_mm, dots_per_mm)
    context = QgsRenderContext.fromQPainter(painter)
    context.setFlag(QgsRenderContext.Antialiasing, True)
    renderer.drawLegend(context)
    painter.restore()


def render(out: str, path: str) -> None:
    """Open every layer of the pack at ``path`` with its stored style and save the map and legend to ``out``."""
    app = QgsApplication([], False)
    app.initQgis()
    layers = [open_layer(path, name, title) for name, title in feature_tables(path)]
    image = QImage(MAP_PX[0] + LEGEND_PX, MAP_PX[1], QImage.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.drawImage(0, 0, draw_map(layers))
    painter.fillRect(QRectF(MAP_PX[0], 0, LEGEND_PX, MAP_PX[1]), Qt.white)
    painter.setPen(QColor("#263238"))
    painter.setFont(QFont("Noto Sans CJK SC", 9))
    painter.drawText(QRectF(MAP_PX[0] + 10, 10, LEGEND_PX - 20, 80), Qt.TextWordWrap,
                     f"{Path(path).name}\nQGIS {Qgis.QGIS_VERSION.split('-')[0]}，按包内 layer_styles 默认样式绘制")
    draw_legend(painter, layers, MAP_PX[0] + 10, 100)
    painter.end()
    image.save(out)
    print(f"saved {out} ({image.width()}×{image.height()})")
    app.exitQgis()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python3 -m tests.render_pack OUT.png PACK.gpkg")
    render(sys.argv[1], sys.argv[2])
