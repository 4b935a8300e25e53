"""CLI command ``pack``: the GIS data pack of a scope (``data.gis_pack``) as a GeoPackage or a zipped Shapefile set.

    python -m data.cli pack                                    # the district, WGS84, GeoPackage
    python -m data.cli pack --scope 350102004000 --crs gcj02 --format shp -o 东街.zip --who 区数据局

The command line exports as the system operator ``--who`` (a district-wide role): the pack holds the case points,
and the export is written to the audit log under that name, like ``export disputes``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from data.cli_transfer import open_engine
from data.gis_pack import PACK_FORMATS, gis_pack_gpkg, gis_pack_shp, pack_filename, unit_name
from geo.access import system_operator
from geo.export_crs import EXPORT_SYSTEMS
from geo.ingest_crs import WGS84
from geo.scope import Scope


def register(subparsers) -> None:
    """Add ``pack``."""
    p = subparsers.add_parser("pack", help="导出 GIS 数据包：某范围的全部图层及与态势图一致的 QGIS 样式")
    p.add_argument("--scope", default="", help="街道、社区（12位）或网格（15位）代码；默认全区")
    p.add_argument("--crs", default=WGS84, choices=EXPORT_SYSTEMS, help="坐标系（默认 wgs84）")
    p.add_argument("--format", default="gpkg", choices=tuple(PACK_FORMATS),
                   help="gpkg：一个 GeoPackage（样式存于 layer_styles 表）；shp：压缩的 Shapefile，每层附 .qml 样式")
    p.add_argument("-o", "--output", help="输出文件（默认按范围、坐标系命名）")
    p.add_argument("--who", default="命令行", help="操作人（数据包含矛盾纠纷案件明细，记入审计日志）")
    p.set_defaults(handler=run_pack)


def run_pack(args: argparse.Namespace) -> int:
    """Write the pack of ``--scope`` in ``--crs`` and ``--format`` as the system operator ``--who``."""
    engine = open_engine(args)
    scope = Scope(args.scope)
    make = gis_pack_gpkg if args.format == "gpkg" else gis_pack_shp
    data = make(engine, scope, args.crs, system_operator(args.who))
    out = Path(args.output or pack_filename(scope, args.crs, args.format, unit_name(engine, scope)))
    out.write_bytes(data)
    print(f"已导出 GIS 数据包到 {out}（{len(data):,} 字节）")
    return 0
