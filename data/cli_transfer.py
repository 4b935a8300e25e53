"""CLI commands ``import``, ``export`` and ``template`` (see ``data.cli``).

Exit codes of ``import``: 0 written (or a clean dry run), also when only warnings (提示) were listed;
1 problems found (nothing written); 2 a project error (unreadable file, unknown layer, data changed
since the preview …).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from data.exchange import EXPORT_CRS, EXPORT_FORMATS, export_filename, export_layer, formats_of, template_xlsx
from data.ingest import commit_import, preview_import, read_source
from data.store import engine_for, migrate
from geo.access import system_operator
from geo.errors import GuloError
from geo.ingest_crs import CRS_CHOICES
from geo.ingest_fields import LAYER_FIELDS, merge_mapping
from geo.scope import Scope
from geo.settings import Settings

LAYERS = tuple(LAYER_FIELDS)


def open_engine(args: argparse.Namespace) -> Engine:
    """The configured database, migrated (never filled with the sample: imports go into what is there)."""
    url = args.database_url or Settings.load().db_url
    engine = engine_for(url)
    migrate(engine)
    return engine


def register(subparsers) -> None:
    """Add ``import``, ``export`` and ``template``."""
    _register_import(subparsers)
    _register_export(subparsers)
    t = subparsers.add_parser("template", help="生成某图层的 Excel 导入模板")
    t.add_argument("layer", choices=LAYERS)
    t.add_argument("-o", "--output", required=True, help="输出 .xlsx 文件")
    t.set_defaults(handler=run_template)


def _register_import(subparsers) -> None:
    p = subparsers.add_parser("import", help="导入文件（先全部校验，无问题才在一个事务中写入）")
    p.add_argument("layer", choices=LAYERS)
    p.add_argument("file", help="CSV、XLSX、GeoJSON、GeoPackage 或压缩的 Shapefile（.zip）")
    p.add_argument("--dry-run", action="store_true", help="只校验并报告，不写入")
    p.add_argument("--encoding", help="文字编码，如 gbk、utf-8（默认自动识别）")
    p.add_argument("--crs", help=f"坐标系（默认自动识别）：{', '.join(CRS_CHOICES)} 或 EPSG:代码")
    p.add_argument("--map", action="append", default=[], metavar="列名=字段",
                   help="指定列映射（字段可写英文名或中文列名；字段为 - 表示不导入该列），可重复")
    p.add_argument("--sheet", help="工作表或图层名（默认：表头与该图层最相符的工作表，通常是第一个）")
    p.add_argument("--repair", action="store_true", help="用 make_valid 修复无效多边形（逐条报告）")
    p.add_argument("--no-shift-check", action="store_true", help="不检查 GCJ-02/BD-09 误作 WGS84 的偏移")
    p.add_argument("--strict", action="store_true",
                   help="严格模式：状态所需但缺失的开工日期、完工日期、计划年度也视为错误（默认只提示，照常导入）")
    p.add_argument("--who", default="命令行", help="操作人（记入审计日志）")
    p.set_defaults(handler=run_import)


def _register_export(subparsers) -> None:
    p = subparsers.add_parser("export", help="导出某图层（可限定范围）")
    p.add_argument("layer", choices=LAYERS)
    p.add_argument("--scope", default="", help="街道、社区（12位）或网格（15位）代码；默认全区")
    p.add_argument("--format", default=None, choices=tuple(EXPORT_FORMATS),
                   help="默认 geojson；党组织、志愿服务队等无地图位置的数据默认 xlsx（只能 xlsx 或 csv）")
    p.add_argument("--crs", default="wgs84", choices=EXPORT_CRS)
    p.add_argument("-o", "--output", help="输出文件（默认按图层、范围、坐标系命名）")
    p.add_argument("--who", default="命令行", help="操作人（导出矛盾纠纷案件明细时记入审计日志）")
    p.set_defaults(handler=run_export)


def parse_map(items: list[str]) -> dict[str, str] | None:
    """``["列名=field", …]`` as a mapping (None when empty); GuloError for an item without ``=``."""
    mapping = {}
    for item in items:
        col, sep, field = item.partition("=")
        if not sep or not col.strip() or not field.strip():
            raise GuloError(f"列映射“{item}”格式应为 列名=字段")
        mapping[col.strip()] = field.strip()
    return mapping or None


def _print_report(problems: pd.DataFrame, title: str) -> None:
    print(title)
    for row in problems.itertuples(index=False):
        where = "全表" if row[0] == "全表" else f"第 {row[0]} 行"
        value = f"（值：{row[2]}）" if row[2] else ""
        print(f"  {where}｜{row[1]}{value}：{row[3]}")


def _progress(done: int, total: int) -> None:
    print(f"已写入 {done}/{total} 行", file=sys.stderr, flush=True)


def run_import(args: argparse.Namespace) -> int:
    """Validate, print the report, and write unless --dry-run or problems; exit 1 on problems."""
    engine = open_engine(args)
    overrides = parse_map(args.map)
    mapping = None
    if overrides:
        src = read_source(Path(args.file), layer=args.layer, encoding=args.encoding, sheet=args.sheet)
        mapping = merge_mapping(src.columns, args.layer, overrides)
    preview = preview_import(engine, Path(args.file), args.layer, mapping=mapping, encoding=args.encoding,
                             crs=args.crs, sheet=args.sheet, repair=args.repair,
                             check_shift=not args.no_shift_check, strict=args.strict)
    print(preview.summary)
    for note in preview.notes:
        print(f"说明：{note}")
    print("列映射：" + "、".join(f"{c}→{f}" for c, f in preview.mapping.items()))
    for frame, title in ((preview.skipped, "已跳过的非数据行："), (preview.repairs, "已修复的几何："),
                         (preview.warnings, "提示（不影响导入；加 --strict 则视为错误）：")):
        if len(frame):
            _print_report(frame, title)
    if not preview.ok:
        _print_report(preview.problems, "问题清单（未写入任何数据）：")
        return 1
    if args.dry_run:
        print("试运行：校验通过，未写入")
        return 0
    result = commit_import(engine, preview, system_operator(args.who), progress=_progress)
    warned = f"，提示 {len(preview.warnings)} 条" if len(preview.warnings) else ""
    print(f"已导入：新增 {result.inserted} 条，更新 {result.updated} 条{warned}（审计日志 #{result.audit_id}）")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export as the system operator ``--who``: every layer, case details included (audited)."""
    engine = open_engine(args)
    scope = Scope(args.scope)
    fmt = args.format or formats_of(args.layer)[0]
    data = export_layer(engine, args.layer, scope, fmt, args.crs, account=system_operator(args.who))
    out = Path(args.output or export_filename(args.layer, scope, fmt, args.crs))
    out.write_bytes(data)
    print(f"已导出到 {out}（{len(data):,} 字节）")
    return 0


def run_template(args: argparse.Namespace) -> int:
    Path(args.output).write_bytes(template_xlsx(args.layer))
    print(f"模板已保存到 {args.output}")
    return 0
