"""``reference`` command: the reference layers (参考图层: 道路, 建筑, 水系, 地名) of the intranet basemap.

    python -m data.cli reference import road 道路.zip                  # GBK Shapefile, system detected
    python -m data.cli reference import building 建筑.gpkg --sheet 房屋 --crs gcj02 --dry-run
    python -m data.cli reference import place 地名.geojson --map 标准名称=名称 --map 类型=类别
    python -m data.cli reference list                                  # features per kind
    python -m data.cli reference clear water

KIND is ``road``/``building``/``water``/``place`` or its Chinese label. ``import`` replaces every stored
feature of the kind in one transaction (see ``data.reference_import``), as the system operator ``--who``.
Exit codes of ``import``: 0 written (or a clean dry run); 1 problems found (nothing written); 2 a project
error (unreadable file, unknown kind or system). ``list`` and ``clear``: 0, or 2 for a project error.
"""
from __future__ import annotations

import argparse

from data.audit_query import beijing_text
from data.cli_transfer import open_engine, parse_map
from data.reference_import import ReferencePreview, clear_reference, commit_reference, preview_reference, reference_status
from geo.access import system_operator
from geo.ingest_crs import CRS_CHOICES
from geo.reference_fields import check_kind
from geo.vocab import ReferenceKind

KINDS = "、".join(f"{k.value}（{k.label}）" for k in ReferenceKind)


def _print_problems(preview: ReferencePreview) -> None:
    for title, table in (("已修复或改取代表点的几何：", preview.repair_table),
                         ("问题清单（未写入任何数据）：", preview.problem_table)):
        if not len(table):
            continue
        print(title)
        for row in table.itertuples(index=False):
            where = "全表" if row[0] == "全表" else f"第 {row[0]} 个要素"
            value = f"（{row[2]}）" if row[2] else ""
            print(f"  {where}｜{row[1]}{value}：{row[3]}")


def run_import(args: argparse.Namespace) -> int:
    """Check the file, print the report, replace the kind unless --dry-run or problems; exit 1 on problems."""
    kind = check_kind(args.kind)
    engine = open_engine(args)
    preview = preview_reference(engine, args.file, None, kind, crs=args.crs, encoding=args.encoding, sheet=args.sheet,
                                mapping=parse_map(args.map))
    print(preview.summary)
    for note in preview.notes:
        print(f"说明：{note}")
    if len(preview.layers) > 1:
        print(f"说明：GeoPackage 中的图层：{'、'.join(preview.layers)}（用 --sheet 指定）")
    _print_problems(preview)
    if not preview.ok:
        return 1
    if args.dry_run:
        print("试运行：校验通过，未写入")
        return 0
    written = commit_reference(engine, preview, system_operator(args.who))
    print(f"已替换{kind.label}图层：原有 {preview.stored:,} 个要素，现有 {written:,} 个")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Features per kind, with when and from which file they were imported."""
    table = reference_status(open_engine(args))
    for r in table.itertuples():
        when = f"\t{beijing_text(r.imported_at)[:16]}（北京时间）导入自 {r.source}" if r.count else ""
        print(f"{r.label}\t{r.count:,} 个要素{when}")
    print(f"合计\t{int(table['count'].sum()):,} 个要素")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    """Remove every feature of one kind."""
    kind = check_kind(args.kind)
    removed = clear_reference(open_engine(args), kind, system_operator(args.who))
    print(f"已清空{kind.label}图层：删除 {removed:,} 个要素")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``reference`` command (import / list / clear) to ``subparsers``."""
    parser = subparsers.add_parser("reference", help="参考图层（道路、建筑、水系、地名）：导入、查看、清空")
    sub = parser.add_subparsers(dest="reference_command", required=True, metavar="操作")
    p = sub.add_parser("import", help="导入并替换某类参考图层（先全部校验，无问题才在一个事务中写入）")
    p.add_argument("kind", metavar="KIND", help=f"图层类型：{KINDS}")
    p.add_argument("file", metavar="FILE", help="GeoPackage（.gpkg）、压缩的 Shapefile（.zip）或 GeoJSON")
    p.add_argument("--crs", help=f"坐标系（默认：文件声明的，否则自动识别）：{', '.join(CRS_CHOICES)} 或 EPSG:代码")
    p.add_argument("--encoding", help="Shapefile 属性表或 GeoJSON 的文字编码，如 gbk、utf-8（默认自动识别）")
    p.add_argument("--sheet", help="GeoPackage 的图层名（默认：名称与类型相符的图层，否则第一个）")
    p.add_argument("--map", action="append", default=[], metavar="列名=字段",
                   help="指定列映射：字段为 名称（name）或 类别（subtype），- 表示不用该列；可重复")
    p.add_argument("--dry-run", action="store_true", help="只校验并报告，不写入")
    p.add_argument("--who", default="命令行", help="操作人（记入审计日志）")
    p.set_defaults(handler=run_import)
    listing = sub.add_parser("list", help="各类参考图层的要素数")
    listing.set_defaults(handler=run_list)
    clear = sub.add_parser("clear", help="清空某类参考图层")
    clear.add_argument("kind", metavar="KIND", help=f"图层类型：{KINDS}")
    clear.add_argument("--who", default="命令行", help="操作人（记入审计日志）")
    clear.set_defaults(handler=run_clear)
    return parser


__all__ = ["register", "run_clear", "run_import", "run_list"]
