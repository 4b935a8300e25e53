"""A corpus of office-style files, generated from one truth (nothing binary is committed).

The truth: nine old compounds, four service stations and three disputes with WGS84 positions
strictly inside the right community box of the tiny district (``tests.ingest_helpers``); 军门新村1..3
are already in the store as 350102004001C001..3. Every file below is written from that truth the way
offices write them, mixing several traits, and is expected to be imported (count, positions within
1 m, values), refused (user row and field), or found unreadable (a Chinese message naming the file).

Case  file  [layer options] → expected outcome (user rows: Excel row, CSV line, feature number)
     traits
A01  东街街道老旧小区台账.csv  [compounds] → 6 records, 1 skipped
     GBK CSV; no codes; title + 填报单位 lines; 序号; full-width 户数; 经度(GCJ-02) header; 2025/3/1; 合计
A02  小区台账_UTF8带BOM.csv  [compounds] → 6 records, 3 skipped
     UTF-8 BOM; codes for stored only; 120户/6栋/300万元; 2025年3月1日; DMS; short community names; notes
A03  老旧小区改造（含填表说明）.xlsx  [compounds] → 6 records, a note naming 小区台账
     填表说明 sheet first, data on sheet 2; Excel dates; 东经/北纬 text; community codes as numbers; spaced name
A04  鼓楼区改造台账（合并标题）.xlsx  [compounds] → 9 records, 4 skipped
     two merged title rows; codes for all; 所属网格; Excel dates; 合计 with cached =SUM; notes
A05  改造进度（分街道）.xlsx  [compounds] → 8 records, 5 skipped, 1 warning
     two tables on one sheet; 小计/总计; blank + title rows; repeated header; 施工中 without 开工日期
A06  台账_GB18030.csv  [compounds] → 6 records, 1 skipped
     GB18030 (䶮); 高德经度/高德纬度; 2025.11.28; header repeated after a page break; blank lines
A07  高德坐标_未注明.csv  [compounds crs=gcj02] → 6 records, 1 skipped
     UTF-8; GCJ-02 without hint (crs=gcj02); 军门新村 1 / 军门新村２; 2025.03.01; 汇总 row
A08  小区点位_GBK.zip  [compounds] → 5 records
     Shapefile; GBK .dbf + .cpg; .prj EPSG:4326; Chinese fields; GBK zip member names; no codes
A09  小区点位_无cpg.zip  [compounds] → 4 records
     Shapefile; GBK .dbf without .cpg or language id; .prj EPSG:4490; 120户 text; 军门新村１
A10  小区_高斯投影.zip  [compounds mapping] → 11 records
     Shapefile; .prj GK 3° CM 120E (EPSG:4549); UTF-8 + .cpg; English fields, end_date mapped by hand; codes for all; 䶮
A11  小区_UTM50N_缺shx.zip  [compounds] → 4 records, a note naming .shx
     Shapefile; .prj UTM 50N; no .shx (rebuilt, noted); GBK + .cpg; no codes
A12  小区_无prj.zip  [compounds] → 5 records
     Shapefile without .prj (WGS84 degrees); GBK without .cpg; dates as text 2025/3/1; no codes
A13  小区_GK40带号_无prj.zip  [compounds] → 5 records, 1 warning
     Shapefile without .prj, GK zone 40 with zone number (EPSG:4528); UTF-8; codes blank for new; no dates (warned)
A14  小区点位.geojson  [compounds] → 7 records
     GeoJSON; no codes; 88户/2栋 text; 2025年3月1日
A15  小区点位_CGCS2000.geojson  [compounds] → 4 records
     GeoJSON with legacy crs member EPSG:4490; codes for stored only (null for new); 计划年度 ２０２７
A16  施工进度_缺日期.csv  [compounds] → 5 records, 1 skipped, 3 warnings
     UTF-8; 施工中 w/o 开工日期, 已完工 w/o 完工日期, 已纳入计划 w/o 计划年度 (warnings); 小计; no codes
A17  小区台账_制表.txt  [compounds] → 5 records, 3 skipped, 1 warning
     tab-separated UTF-8 .txt; 119.2975123° text; unlabelled column sums row; 填表人, 制表日期; no 开工日期 column (施工中 warned)
A18  小区台账_汇总.xlsx  [compounds] → 5 records, 1 skipped
     code column partly blank; １５０户, 5栋, 150万元; Excel dates; 合计 in the name column; empty Sheet2/Sheet3
A19  服务站点_高德坐标.csv  [stations] → 4 records
     GBK; no 站点编码; 高德经度/高德纬度; title line; 容量 ３０
A20  服务站点台账.xlsx  [stations] → 3 records, 1 skipped
     merged title; 站点编码 blank; DMS with ASCII ' and "; short community names; 说明 under the table
A21  矛盾纠纷登记_GB18030.csv  [disputes] → 3 records, 1 skipped
     GB18030; no 案件编号; 2026年10月8日; address 杨桥东路１２号; 合计：3件 row
A22  矛盾纠纷台账.xlsx  [disputes] → 3 records
     merged title; 案件编号 blank; Excel dates; 东经/北纬 text
A23  小区台账_Unicode文本.txt  [compounds] → 4 records, 1 skipped
     Excel's “Unicode text”: UTF-16 with BOM, tab-separated; 䶮; ISO dates; 合计 row
A24  分社区台账（社区列合并）.xlsx  [compounds] → 7 records
     所属社区 merged down over each community's rows (beyond the brief's list); merged title; Excel dates
R01  竣工早于开工_GBK.csv  [compounds] → refused at row 3 完工日期
     GBK; no codes; full-width 户数; 合计; 完工日期 before 开工日期
R02  完工日期在将来.xlsx  [compounds] → refused at row 5 完工日期
     merged title; codes; Excel dates; 长效管理 completed 2027-01-15
R03  计划年度晚于完工.csv  [compounds] → refused at row 3 计划年度
     UTF-8 BOM; DMS; 已完工 2025-10-15 with 计划年度 2026
R04  户数有误（含说明页）.xlsx  [compounds] → refused at row 5 户数
     填表说明 sheet first; 户数 约150户 on sheet 2
R05  高德坐标越界.csv  [compounds] → refused at row 4 高德经度
     高德经度/高德纬度; one point outside the district
R06  度分秒有误.csv  [compounds] → refused at row 3 经度
     DMS with 77 minutes
R07  施工进度_缺日期.csv  [compounds strict=True] → refused at row 3 计划年度; row 4 开工日期; row 5 完工日期
     A16 under strict=True: its warnings are problems
R08  社区不存在_GBK.zip  [compounds] → refused at row 4 所属社区
     GBK Shapefile + .cpg; community 不存在社区
R09  日期无效.xlsx  [compounds] → refused at row 4 开工日期
     merged title; 开工日期 2025年13月1日
R10  同名小区重复.csv  [compounds] → refused at row 4 小区名称
     no codes; 军门新村 1 and 军门新村１ in one file
R11  站点类型错误.csv  [stations] → refused at row 4 站点类型
     no codes; 高德经度; 站点类型 宠物服务站
R12  办结早于受理.csv  [disputes] → refused at row 2 办结日期
     no codes; 办结日期 before 受理日期
R13  计划年度晚于完工.geojson  [compounds] → refused at row 3 计划年度
     GeoJSON; no codes; 已完工 2025-11-28 with 计划年度 2027
U01  小区点位_截断.geojson  [compounds] → unreadable
     GeoJSON cut off mid-file
U02  小区点位_损坏.zip  [compounds] → unreadable
     zipped Shapefile cut off
U03  台账_网页导出.xlsx  [compounds] → unreadable
     an HTML table saved as .xlsx
U04  小区_缺shp.zip  [compounds] → unreadable
     zip with .dbf/.shx/.prj but no .shp
U05  台账_旧版Excel.xlsx  [compounds] → unreadable
     an old binary (OLE2) workbook renamed to .xlsx
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from geo.crs import wgs84_to_gcj02
from geo.ingest_fields import merge_mapping
from geo.vocab import DisputeCategory, DisputeSource, DisputeStatus, RenovationStatus, StationKind
from tests.ingest_helpers import COMMUNITIES

TODAY = date(2026, 11, 29)
COMMUNITY_NAMES = {code: name for code, name, _, _ in COMMUNITIES}
COMMUNITY_BOXES = {code: box for code, _, _, box in COMMUNITIES}

# ---------------------------------------------------------------- the truth


@dataclass(frozen=True)
class Truth:
    """One real record: stored-form values by field (code left out), WGS84 position, codes.

    ``code``: the code it already has in the tiny store (None for a new record); ``file_code``: the
    code a file gives a new record when the file has codes for every row.
    """

    key: str
    layer: str
    values: dict
    lon: float
    lat: float
    code: str | None = None
    file_code: str | None = None

    @property
    def community(self) -> str:
        return self.values.get("community_code") or self.values["grid_code"][:12]

    @property
    def grid(self) -> str:
        """The grid of the tiny district the position lies in (two per community, split at mid-latitude)."""
        x0, y0, x1, y1 = COMMUNITY_BOXES[self.community]
        return self.community + ("001" if self.lat < (y0 + y1) / 2 else "002")


def _compound(key, name, community, households, buildings, status, lon, lat, *, plan=None, budget=None,
              started=None, completed=None, code=None, file_code=None) -> Truth:
    values = {"name": name, "community_code": community, "households": households, "buildings": buildings,
              "status": status.value, "plan_year": plan, "budget_wan": budget, "started_on": started,
              "completed_on": completed}
    return Truth(key, "compounds", values, lon, lat, code, file_code)


S = RenovationStatus
COMPOUNDS = {t.key: t for t in (
    _compound("jm1", "军门新村1", "350102004001", 120, 3, S.NOT_PLANNED, 119.291634, 26.081742,
              code="350102004001C001"),
    _compound("jm2", "军门新村2", "350102004001", 96, 2, S.PLANNED, 119.292618, 26.083915, plan=2027, budget=260.0,
              code="350102004001C002"),
    _compound("jm3", "军门新村3", "350102004001", 144, 4, S.NOT_PLANNED, 119.293714, 26.086227,
              code="350102004001C003"),
    _compound("at_new", "安泰新村", "350102004002", 200, 6, S.UNDER_WAY, 119.297526, 26.082538, plan=2026, budget=300.0,
              started=date(2025, 3, 1), file_code="350102004002C101"),
    _compound("atl", "安泰里小区", "350102004002", 88, 2, S.COMPLETED, 119.298417, 26.087129, plan=2025, budget=180.0,
              started=date(2025, 3, 1), completed=date(2025, 10, 15), file_code="350102004002C102"),
    _compound("glf1", "光禄坊1号院", "350102005001", 64, 1, S.MANAGED, 119.302148, 26.081396, plan=2024, budget=120.0,
              started=date(2024, 3, 10), completed=date(2024, 9, 30), file_code="350102005001C101"),
    _compound("wrf", "文儒坊宿舍", "350102005001", 150, 5, S.PLANNED, 119.305627, 26.084553, plan=2027, budget=150.0,
              file_code="350102005001C102"),
    _compound("gx3", "宫巷3号楼", "350102005001", 40, 1, S.NOT_PLANNED, 119.308331, 26.088712,
              file_code="350102005001C103"),
    _compound("yan", "䶮园小区", "350102005001", 72, 2, S.COMPLETED, 119.303916, 26.086184, plan=2025, budget=90.0,
              started=date(2025, 4, 1), completed=date(2025, 11, 28), file_code="350102005001C104"),
    _compound("jm_new", "杨桥巷宿舍", "350102004001", 60, 2, S.NOT_PLANNED, 119.290936, 26.088472,
              file_code="350102004001C004"),
    _compound("jm_new2", "军门里5号", "350102004001", 48, 1, S.PLANNED, 119.294217, 26.080861, plan=2028, budget=80.0,
              file_code="350102004001C005"),
)}
"""The compounds; 䶮 (U+4DAE) is in GB18030 but not in GBK. 杨桥巷宿舍 and 军门里5号 are new in 军门社区,
whose codes C001..C003 are taken: a file may give 杨桥巷宿舍 the next one, C004, by hand."""


def _station(key, name, kind, community, capacity, lon, lat) -> Truth:
    return Truth(key, "stations", {"name": name, "kind": kind.value, "community_code": community,
                                   "capacity": capacity}, lon, lat)


STATIONS = {t.key: t for t in (
    _station("s_jm", "军门社区居家养老服务站", StationKind.ELDERLY_HOME, "350102004001", 30, 119.293052, 26.088217),
    _station("s_at", "安泰社区少儿成长服务站", StationKind.CHILDREN, "350102004002", 40, 119.296553, 26.084661),
    _station("s_glf", "光禄坊社区文化普及服务站", StationKind.CULTURE, "350102005001", 60, 119.307174, 26.083182),
    _station("s_vol", "光禄坊社区志愿服务站", StationKind.VOLUNTEER, "350102005001", 20, 119.301215, 26.087743),
)}


def _dispute(key, category, source, status, reported, closed, grid, address, lon, lat) -> Truth:
    return Truth(key, "disputes", {"category": category.value, "source": source.value, "status": status.value,
                                   "reported_on": reported, "closed_on": closed, "grid_code": grid,
                                   "address": address}, lon, lat)


DISPUTES = {t.key: t for t in (
    _dispute("d1", DisputeCategory.NEIGHBOUR, DisputeSource.PATROL, DisputeStatus.RESOLVED, date(2026, 10, 8),
             date(2026, 10, 12), "350102004001001", "杨桥东路12号", 119.292113, 26.082331),
    _dispute("d2", DisputeCategory.PROPERTY_MGMT, DisputeSource.HOTLINE, DisputeStatus.MEDIATING, date(2026, 11, 3),
             None, "350102004002002", "安泰河沿5号", 119.298031, 26.086712),
    _dispute("d3", DisputeCategory.FAMILY, DisputeSource.VISIT, DisputeStatus.RECEIVED, date(2026, 11, 20),
             None, "350102005001001", "光禄坊路3号", 119.304521, 26.082184),
)}

TRUTH: dict[str, Truth] = {**COMPOUNDS, **STATIONS, **DISPUTES, "jm1b": replace(COMPOUNDS["jm1"], key="jm1b")}
"""Every truth by key; ``jm1b`` is 军门新村1 again (R10 writes it twice in one file under two spellings)."""


def normalise(text) -> str:
    """A name or address folded the way the importer is expected to match them: NFKC (full-width to
    half-width), no spaces, ``#`` read as 号, lower case."""
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", text).replace("#", "号").lower()


# ---------------------------------------------------------------- how offices write values

_FULL = str.maketrans("0123456789.", "０１２３４５６７８９．")


def fullwidth(value) -> str:
    """Digits (and the decimal point) as full-width characters: 120 -> １２０."""
    return str(value).translate(_FULL)


def dms(value: float, ascii_marks: bool = False) -> str:
    """Degrees as degrees-minutes-seconds with seconds to 0.01″ (≤ 0.15 m): 119°17′51.00″."""
    hundredths = round(value * 360_000)
    degrees, rest = divmod(hundredths, 360_000)
    minutes, rest = divmod(rest, 6_000)
    m, s = ("'", '"') if ascii_marks else ("′", "″")
    return f"{degrees}°{minutes:02d}{m}{rest / 100:05.2f}{s}"


def gcj(t: Truth) -> tuple[float, float]:
    """The truth's position in GCJ-02 (Amap) degrees."""
    x, y = wgs84_to_gcj02(np.array([t.lon]), np.array([t.lat]))
    return float(x[0]), float(y[0])


def slash_date(d: date | None) -> str | None:
    return None if d is None else f"{d.year}/{d.month}/{d.day}"


def chinese_date(d: date | None) -> str | None:
    return None if d is None else f"{d.year}年{d.month}月{d.day}日"


def dotted_date(d: date | None) -> str | None:
    return None if d is None else f"{d:%Y.%m.%d}"


def iso_date(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def excel_date(d: date | None) -> date | None:
    """A date cell (openpyxl writes it as an Excel date serial with a date format)."""
    return d


# ---------------------------------------------------------------- columns

SEQ = "_seq"
"""Pseudo-field of a 序号 column: the running number within its table (not imported)."""


@dataclass(frozen=True)
class Col:
    """A column of a generated file: its header, the stored field it fills (None: not imported, or
    ``SEQ``) and how a truth record is written into it."""

    header: str
    field: str | None
    fmt: Callable[[Truth], object]


def value(header: str, name: str, write: Callable | None = None) -> Col:
    """A column of the stored field ``name``, blank where the truth is None, else ``write(value)``."""
    def fmt(t: Truth):
        v = t.values.get(name)
        return None if v is None else (write(v) if write else v)
    return Col(header, name, fmt)


def seq(header: str = "序号") -> Col:
    return Col(header, SEQ, lambda t: None)


def label_of(vocab) -> Callable[[str], str]:
    return lambda v: vocab(v).label


def community(header: str = "所属社区", style: str = "name") -> Col:
    """``style``: code, number (an Excel number), name (军门社区) or short (军门)."""
    writers = {"code": str, "number": int, "name": COMMUNITY_NAMES.get,
               "short": lambda c: COMMUNITY_NAMES[c].removesuffix("社区")}
    return Col(header, "community_code", lambda t: writers[style](t.community))


def name(header: str = "小区名称", variants: dict[str, str] | None = None) -> Col:
    """The name, or the variant given for a truth key (e.g. "军门新村 1")."""
    return Col(header, "name", lambda t: (variants or {}).get(t.key, t.values["name"]))


def code(header: str = "小区编码", new: str = "blank") -> Col:
    """Stored records get their code; new ones a blank cell (``new="blank"``) or their ``file_code``."""
    return Col(header, "code", lambda t: t.code or (t.file_code if new == "given" else None))


def grid(header: str = "所属网格") -> Col:
    return Col(header, "grid_code", lambda t: t.grid)


def lon(header: str = "经度", system: str = "wgs84", style: str = "float") -> Col:
    return Col(header, "lon", lambda t: _coordinate(t, 0, system, style))


def lat(header: str = "纬度", system: str = "wgs84", style: str = "float") -> Col:
    return Col(header, "lat", lambda t: _coordinate(t, 1, system, style))


def _coordinate(t: Truth, axis: int, system: str, style: str):
    number = (t.lon, t.lat)[axis] if system == "wgs84" else gcj(t)[axis]
    if style == "float":
        return round(number, 7)
    if style == "degrees":
        return f"{number:.7f}°"
    if style == "hemisphere":
        return f"{('东经', '北纬')[axis]}{number:.7f}°"
    if style in ("dms", "dms_ascii"):
        return dms(number, style == "dms_ascii")
    raise ValueError(style)


def status(header: str = "改造状态") -> Col:
    return value(header, "status", label_of(RenovationStatus))


def compound_columns(*, households=None, dates=iso_date, extra: tuple[Col, ...] = ()) -> tuple[Col, ...]:
    """户数, 楼栋数, 改造状态, 计划年度, 预算, 开工/完工日期 with the given writers."""
    return (value("户数", "households", households), value("楼栋数", "buildings"), status(),
            value("计划年度", "plan_year"), value("预算（万元）", "budget_wan"),
            value("开工日期", "started_on", dates), value("完工日期", "completed_on", dates), *extra)


# ---------------------------------------------------------------- a sheet as the user sees it


@dataclass(frozen=True)
class Formula:
    """A cell holding ``=text`` whose value Excel cached as ``cached`` (written as both in .xlsx)."""

    text: str
    cached: object


@dataclass(frozen=True)
class Layout:
    """Where things are in a generated file, in the user's row numbers (Excel row, CSV line, feature).

    ``rows``: truth key -> row; ``skipped``: rows that are not records and must be listed in
    ``preview.skipped``; ``blank``: blank rows between records (they may be listed too).
    """

    rows: dict[str, int]
    skipped: frozenset[int] = frozenset()
    blank: frozenset[int] = frozenset()

    @classmethod
    def features(cls, truths) -> Layout:
        return cls({t.key: i for i, t in enumerate(truths, start=1)})


@dataclass
class Sheet:
    """Rows of one worksheet or CSV, each with its kind (title, header, record, skip, blank)."""

    cols: tuple[Col, ...]
    cells: list[list] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)

    def _add(self, kind: str, cells: list, key: str | None = None) -> int:
        self.cells.append(cells + [None] * (len(self.cols) - len(cells)))
        self.kinds.append(kind)
        self.keys.append(key)
        return len(self.cells)

    @property
    def _has_header(self) -> bool:
        return "header" in self.kinds

    def title(self, text: str, merge: bool = True) -> Sheet:
        """A title row (merged across the table): silent above the header, a skipped row below it."""
        row = self._add("skip" if self._has_header else "title", [text])
        if merge:
            self.merges.append(f"A{row}:{get_column_letter(len(self.cols))}{row}")
        return self

    def line(self, *cells) -> Sheet:
        """A free line above the header (填报单位 …): silent."""
        assert not self._has_header
        self._add("title", list(cells))
        return self

    def header(self) -> Sheet:
        """The header; repeated after the first it is a row to skip."""
        self._add("skip" if self._has_header else "header", [c.header for c in self.cols])
        return self

    def records(self, truths, overrides: dict[tuple[str, str], object] | None = None) -> Sheet:
        """One row per truth; ``overrides[(key, header)]`` replaces a cell (None: blank)."""
        overrides = overrides or {}
        for n, t in enumerate(truths, start=1):
            cells = [overrides[(t.key, c.header)] if (t.key, c.header) in overrides
                     else n if c.field == SEQ else c.fmt(t) for c in self.cols]
            self._add("record", cells, t.key)
        return self

    def total(self, label: str, truths, at: str | None = None, formula: bool = False, label_only: bool = False) -> Sheet:
        """A totals row: ``label`` in the column ``at`` (default: the first), sums of 户数 and 楼栋数
        (as cached =SUM formulas when ``formula``; none when ``label_only``)."""
        cells: list = [None] * len(self.cols)
        index = [c.header for c in self.cols].index(at) if at else 0
        cells[index] = label
        if not label_only:
            rows = [r for r, k in enumerate(self.keys, start=1) if k in {t.key for t in truths}]
            for i, c in enumerate(self.cols):
                if c.field in ("households", "buildings"):
                    total = sum(t.values[c.field] for t in truths)
                    letter = get_column_letter(i + 1)
                    cells[i] = Formula(f"SUM({letter}{min(rows)}:{letter}{max(rows)})", total) if formula else total
        self._add("skip", cells)
        return self

    def sums(self, truths) -> Sheet:
        """A row of column sums (户数, 楼栋数) without any label."""
        cells = [sum(t.values[c.field] for t in truths) if c.field in ("households", "buildings") else None
                 for c in self.cols]
        self._add("skip", cells)
        return self

    def note(self, text: str) -> Sheet:
        """A note under the table (说明：…, 填表人：…, 制表日期：…)."""
        self._add("skip", [text])
        return self

    def blank(self) -> Sheet:
        self._add("blank", [])
        return self

    @property
    def layout(self) -> Layout:
        numbered = list(enumerate(self.kinds, start=1))
        return Layout({k: r for r, k in enumerate(self.keys, start=1) if k is not None},
                      frozenset(r for r, kind in numbered if kind == "skip"),
                      frozenset(r for r, kind in numbered if kind == "blank"))


# ---------------------------------------------------------------- writers


def _plain(cell):
    if cell is None:
        return ""
    if isinstance(cell, Formula):
        return cell.cached
    return cell


def csv_of(sheet: Sheet, encoding: str = "utf-8", delimiter: str = ",", bom: bool = False) -> bytes:
    """The sheet as CSV bytes (CRLF line ends, as Excel writes them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for cells in sheet.cells:
        writer.writerow([_plain(c) for c in cells])
    data = buffer.getvalue().encode(encoding)
    return codecs.BOM_UTF8 + data if bom else data


def xlsx_of(*sheets: tuple[str, Sheet | list[list]]) -> bytes:
    """A workbook of named sheets (a Sheet, or plain rows); formulas carry their cached values."""
    wb = Workbook()
    cached: dict[int, list[Formula]] = {}
    for i, (title, sheet) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        rows = sheet.cells if isinstance(sheet, Sheet) else sheet
        for cells in rows:
            ws.append([f"={c.text}" if isinstance(c, Formula) else c for c in cells])
            cached.setdefault(i + 1, []).extend(c for c in cells if isinstance(c, Formula))
        for merge in sheet.merges if isinstance(sheet, Sheet) else ():
            ws.merge_cells(merge)
    buffer = io.BytesIO()
    wb.save(buffer)
    return _with_cached_values(buffer.getvalue(), cached)


def _with_cached_values(data: bytes, cached: dict[int, list[Formula]]) -> bytes:
    """The workbook with each formula's value cached in the sheet XML, as Excel saves it."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            number = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
            for f in cached.get(int(number.group(1)), []) if number else []:
                body, n = re.subn(rf"(<f>{re.escape(f.text)}</f>)<v\s*/>|(<f>{re.escape(f.text)}</f>)<v></v>",
                                  lambda m, f=f: f"{m.group(1) or m.group(2)}<v>{f.cached}</v>", body.decode())
                assert n == 1, f"formula {f.text} not found in the sheet XML"
                body = body.encode()
            dst.writestr(item, body)
    return out.getvalue()


def _properties(truths, cols: tuple[Col, ...]) -> dict[str, list]:
    return {c.header: [c.fmt(t) for t in truths] for c in cols if c.field not in ("lon", "lat")}


class _GbkName(zipfile.ZipInfo):
    """A zip entry whose name is stored in GBK without the UTF-8 flag, as Chinese Windows zips them."""

    def _encodeFilenameFlags(self):  # noqa: N802 (zipfile's own name)
        return self.filename.encode("gbk"), self.flag_bits


def shapefile_zip(truths, cols: tuple[Col, ...], *, epsg: int = 4326, encoding: str = "UTF-8", cpg: bool = True,
                  prj: bool = True, shx: bool = True, gbk_names: bool = False, folder: str = "小区点位",
                  stem: str = "小区") -> bytes:
    """A zipped Shapefile of the truths' points in EPSG:``epsg`` with the columns as attributes.

    ``cpg=False`` also clears the .dbf's language driver id, so nothing in the files names the encoding.
    """
    frame = gpd.GeoDataFrame(_properties(truths, cols), geometry=shapely.points([(t.lon, t.lat) for t in truths]),
                             crs=4326).to_crs(epsg)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer.shp"
        frame.to_file(path, encoding=encoding, engine="pyogrio")
        if not cpg:
            path.with_suffix(".cpg").unlink(missing_ok=True)
            dbf = bytearray(path.with_suffix(".dbf").read_bytes())
            dbf[29] = 0
            path.with_suffix(".dbf").write_bytes(bytes(dbf))
        leave_out = {s for s, keep in ((".prj", prj), (".shx", shx)) if not keep}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                if part.suffix in leave_out:
                    continue
                member = f"{folder}/{stem}{part.suffix}"
                info = _GbkName(member) if gbk_names else zipfile.ZipInfo(member)
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, part.read_bytes())
    return buffer.getvalue()


def geojson_of(truths, cols: tuple[Col, ...], crs_member: int | None = None) -> bytes:
    """A GeoJSON FeatureCollection (UTF-8) of the truths' WGS84 points; optionally a legacy ``crs`` member."""
    props = _properties(truths, cols)
    features = [{"type": "Feature", "properties": {k: v[i] for k, v in props.items()},
                 "geometry": {"type": "Point", "coordinates": [t.lon, t.lat]}} for i, t in enumerate(truths)]
    collection: dict = {"type": "FeatureCollection", "name": "小区点位"}
    if crs_member:
        collection["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs_member}"}}
    collection["features"] = features
    return json.dumps(collection, ensure_ascii=False, default=str, indent=1).encode("utf-8")


# ---------------------------------------------------------------- cases


@dataclass(frozen=True)
class Accepted:
    """Imported: every truth of ``records``; the rows of ``warnings`` (truth key, field) warned about;
    ``notes``: texts expected in ``preview.source.notes``."""

    records: tuple[str, ...]
    warnings: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refused:
    """Refused: exactly these (truth key -> its row, field) problems, on these rows only."""

    problems: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Unreadable:
    """Not readable at all: DataValidationError whose message names the file."""


@dataclass(frozen=True)
class Case:
    """One file of the corpus: ``build()`` returns its bytes and layout; ``cols`` the columns it was
    written with (to know which stored fields to compare); ``options`` go to ``preview_import``;
    ``blanked``: (truth key, header) cells deliberately left blank (stored as None)."""

    name: str
    filename: str
    layer: str
    traits: str
    build: Callable[[], tuple[bytes, Layout]]
    expect: Accepted | Refused | Unreadable
    cols: tuple[Col, ...] = ()
    options: dict = field(default_factory=dict)
    blanked: frozenset[tuple[str, str]] = frozenset()

    @property
    def truths(self) -> list[Truth]:
        return [TRUTH[k] for k in self.expect.records] if isinstance(self.expect, Accepted) else []


def pick(*keys: str) -> list[Truth]:
    return [TRUTH[k] for k in keys]


def _sheet_case(name, filename, layer, traits, cols, make: Callable[[Sheet], Sheet], write: Callable[[Sheet], bytes],
                expect, options=None, blanked=()) -> Case:
    """A case whose file is one sheet (CSV/TXT, or a workbook through ``write``)."""
    def build() -> tuple[bytes, Layout]:
        sheet = make(Sheet(cols))
        return write(sheet), sheet.layout
    return Case(name, filename, layer, traits, build, expect, cols, options or {}, frozenset(blanked))


def _vector_case(name, filename, layer, traits, cols, keys, write: Callable[[list[Truth]], bytes], expect,
                 options=None) -> Case:
    def build() -> tuple[bytes, Layout]:
        truths = pick(*keys)
        return write(truths), Layout.features(truths)
    return Case(name, filename, layer, traits, build, expect, cols, options or {})


# -- A01: GBK CSV, no codes, title lines, 序号, full-width 户数, GCJ-02 hinted header, 合计 row

_A01_COLS = (seq(), name(), community(), *compound_columns(households=fullwidth, dates=slash_date),
             lon("经度(GCJ-02)", "gcj02"), lat("纬度(GCJ-02)", "gcj02"))
_A01_KEYS = ("jm1", "jm2", "jm3", "jm_new2", "at_new", "atl")


def _a01(s: Sheet) -> Sheet:
    truths = pick(*_A01_KEYS)
    return (s.line("鼓楼区东街街道老旧小区改造台账").line("填报单位：东街街道办事处", None, None, None, "填报日期：2026-11-20")
            .header().records(truths).total("合计", truths))


# -- A02: UTF-8 BOM, codes for stored only, units in cells, Chinese dates, DMS, notes under the table

_A02_COLS = (code(), name(variants={"gx3": "宫巷3#楼"}), community(style="short"),
             value("户数", "households", lambda v: f"{v}户"), value("楼栋数", "buildings", lambda v: f"{v}栋"),
             status(), value("计划年度", "plan_year"), value("预算（万元）", "budget_wan", lambda v: f"{v:g}万元"),
             value("开工日期", "started_on", chinese_date), value("完工日期", "completed_on", chinese_date),
             lon(style="dms"), lat(style="dms"))
_A02_KEYS = ("jm1", "jm2", "jm3", "atl", "glf1", "gx3")


def _a02(s: Sheet) -> Sheet:
    return (s.header().records(pick(*_A02_KEYS)).note("说明：坐标为 WGS84 度分秒；户数以物业登记为准。")
            .note("填表人：张三      审核人：李四").note("制表日期：2026年11月20日"))


# -- A03: 填表说明 sheet first, data on sheet 2, Excel dates, 东经/北纬 text, community numbers

_A03_COLS = (name(variants={"jm1": "军门新村 1"}), community(style="number"),
             *compound_columns(dates=excel_date), lon(style="hemisphere"), lat(style="hemisphere"))
_A03_KEYS = ("jm1", "jm2", "at_new", "atl", "glf1", "wrf")
INSTRUCTIONS = [["填表说明"], ["字段", "说明"], ["小区名称", "必填，与不动产登记一致"], ["所属社区", "必填，社区代码或名称"],
                ["户数", "必填，整数"], ["改造状态", "未纳入计划/已纳入计划/施工中/已完工/长效管理"],
                ["经度", "WGS84，东经"], ["纬度", "WGS84，北纬"], [], ["数据请填在“小区台账”工作表"]]


def _a03() -> tuple[bytes, Layout]:
    sheet = Sheet(_A03_COLS).title("老旧小区改造台账").header().records(pick(*_A03_KEYS))
    return xlsx_of(("填表说明", INSTRUCTIONS), ("小区台账", sheet)), sheet.layout


# -- A04: two merged titles, codes for all, grid, Excel dates, 合计 with cached =SUM, notes under the table

_A04_COLS = (seq(), code(new="given"), name(), community(style="code"), grid(), *compound_columns(dates=excel_date),
             lon(), lat())
_A04_KEYS = ("jm1", "jm2", "jm3", "jm_new", "at_new", "atl", "glf1", "wrf", "gx3")


def _a04(s: Sheet) -> Sheet:
    truths = pick(*_A04_KEYS)
    return (s.title("鼓楼区老旧小区改造台账（2026年）").title("填报单位：鼓楼区住建局    单位：户、栋、万元")
            .header().records(truths).total("合计", truths, formula=True)
            .note("说明：1. 坐标为 WGS84；2. 预算以批复为准。").note("填表人：王五").note("制表日期：2026-11-20"))


# -- A05: two tables on one sheet, 小计/总计, blank + title rows, repeated header, a warning

_A05_COLS = (seq(), name(), community(style="short"), *compound_columns(dates=excel_date), lon(), lat())


def _a05(s: Sheet) -> Sheet:
    east, south = pick("jm1", "jm2", "jm3", "at_new", "atl"), pick("glf1", "wrf", "gx3")
    return (s.title("鼓楼区老旧小区改造进度表").title("一、东街街道", merge=False).header()
            .records(east, {("at_new", "开工日期"): None}).total("小计", east)
            .blank().title("二、南街街道", merge=False).header().records(south).total("小计", south)
            .total("总计", east + south))


# -- A06: GB18030 CSV, 䶮, Amap headers, dotted dates, header repeated after a page break, blank lines

_A06_COLS = (name(), community(style="code"), *compound_columns(dates=dotted_date),
             lon("高德经度", "gcj02"), lat("高德纬度", "gcj02"))


def _a06(s: Sheet) -> Sheet:
    return (s.line("老旧小区台账（高德坐标）").header().records(pick("jm3", "at_new", "yan")).blank()
            .header().records(pick("wrf", "gx3", "glf1")).blank())


# -- A07: GCJ-02 without a hint (crs="gcj02"), name variants, dotted dates, 汇总 row

_A07_COLS = (name(variants={"jm1": "军门新村 1", "jm2": "军门新村２"}), community(style="name"),
             *compound_columns(dates=dotted_date), lon(system="gcj02"), lat(system="gcj02"))
_A07_KEYS = ("jm1", "jm2", "jm_new2", "at_new", "atl", "glf1")


def _a07(s: Sheet) -> Sheet:
    truths = pick(*_A07_KEYS)
    return s.header().records(truths).total("汇总", truths, at="小区名称")


# -- Shapefiles (GBK .dbf field names must fit in 10 bytes: at most five Chinese characters)

_SHP_GBK_COLS = (name(), community(), value("户数", "households"), status(), value("计划年度", "plan_year"),
                 value("开工日期", "started_on", iso_date), value("完工日期", "completed_on", iso_date))
_SHP_GBK_TEXT_COLS = (name(variants={"jm1": "军门新村１"}), community(style="short"),
                      value("户数", "households", lambda v: f"{v}户"), status(), value("计划年度", "plan_year"),
                      value("开工日期", "started_on", slash_date), value("完工日期", "completed_on", slash_date))
_SHP_EN_COLS = (code("code", new="given"), name("name"), community("community", style="code"),
                value("households", "households"), status("status"), value("plan_year", "plan_year"),
                value("started_on", "started_on", iso_date), value("end_date", "completed_on", iso_date))
_SHP_EN_MAPPING = merge_mapping([c.header for c in _SHP_EN_COLS], "compounds", {"end_date": "completed_on"})
"""What the user maps by hand (``--map end_date=completed_on``): 完工日期 has no English name that fits the
.dbf's ten bytes and is recognised."""
_SHP_EN_BLANK_COLS = (code("code"), *_SHP_EN_COLS[1:-2])

# -- A14/A15/R13: GeoJSON

_GEOJSON_TEXT_COLS = (name(), community(), value("户数", "households", lambda v: f"{v}户"),
                      value("楼栋数", "buildings", lambda v: f"{v}栋"), status(), value("计划年度", "plan_year"),
                      value("开工日期", "started_on", chinese_date), value("完工日期", "completed_on", chinese_date))
_GEOJSON_CODE_COLS = (code(), name(), community(style="code"), value("户数", "households"), status(),
                      value("计划年度", "plan_year", fullwidth), value("开工日期", "started_on", iso_date))

# -- A16/R07: warnings (missing dates / plan year), 小计 row

_A16_COLS = (name(), community(), *compound_columns(), lon(), lat())
_A16_KEYS = ("jm1", "jm2", "at_new", "atl", "glf1")
_A16_BLANKS = {("jm2", "计划年度"): None, ("at_new", "开工日期"): None, ("atl", "完工日期"): None}
_A16_WARNINGS = (("jm2", "计划年度"), ("at_new", "开工日期"), ("atl", "完工日期"))


def _a16(s: Sheet) -> Sheet:
    truths = pick(*_A16_KEYS)
    return s.header().records(truths, _A16_BLANKS).total("小计", truths, at="小区名称")


# -- A17: tab-separated .txt, degree text, unlabelled column sums, notes

_A17_COLS = (name(), community(style="code"), value("户数", "households"), value("楼栋数", "buildings"), status(),
             value("计划年度", "plan_year"), lon(style="degrees"), lat(style="degrees"))
_A17_KEYS = ("jm1", "jm3", "at_new", "wrf", "gx3")


def _a17(s: Sheet) -> Sheet:
    truths = pick(*_A17_KEYS)
    return s.header().records(truths).sums(truths).note("填表人：赵六").note("制表日期：2026.11.20")


# -- A18: code column partly blank, full-width with units, 合计 in the name column

_A18_COLS = (code(), name(), community(),
             value("户数", "households", lambda v: fullwidth(v) + "户"), value("楼栋数", "buildings", lambda v: f"{v}栋"),
             status(), value("计划年度", "plan_year"), value("预算（万元）", "budget_wan", lambda v: f"{v:g}万元"),
             value("开工日期", "started_on", excel_date), value("完工日期", "completed_on", excel_date), lon(), lat())
_A18_KEYS = ("jm1", "jm2", "wrf", "gx3", "yan")


def _a18(s: Sheet) -> Sheet:
    truths = pick(*_A18_KEYS)
    return s.header().records(truths).total("合计", truths, at="小区名称", label_only=True)


# -- A23: Excel's "Unicode text" export; A24: community cells merged down

_A23_COLS = (name(), community(style="code"), *compound_columns(), lon(), lat())
_A23_KEYS = ("jm2", "atl", "wrf", "yan")


def _a23(s: Sheet) -> Sheet:
    truths = pick(*_A23_KEYS)
    return s.header().records(truths).total("合计", truths, at="小区名称")


_A24_COLS = (seq(), community(), name(), *compound_columns(dates=excel_date), lon(), lat())
_A24_KEYS = ("jm1", "jm2", "jm3", "at_new", "atl", "glf1", "wrf")


def _a24() -> tuple[bytes, Layout]:
    """Each community's name only in the first of its rows, merged down over the others."""
    sheet = Sheet(_A24_COLS).title("鼓楼区老旧小区台账（按社区）").header().records(pick(*_A24_KEYS))
    column = [c.field for c in _A24_COLS].index("community_code")
    letter = get_column_letter(column + 1)
    rows = sheet.layout.rows
    for code in COMMUNITY_NAMES:
        group = sorted(rows[k] for k in _A24_KEYS if TRUTH[k].community == code)
        for row in group[1:]:
            sheet.cells[row - 1][column] = None
        if len(group) > 1:
            sheet.merges.append(f"{letter}{group[0]}:{letter}{group[-1]}")
    return xlsx_of(("台账", sheet)), sheet.layout


# -- stations and disputes

_A19_COLS = (Col("站点名称", "name", lambda t: t.values["name"]), value("站点类型", "kind", label_of(StationKind)),
             community(), value("容量", "capacity", fullwidth), lon("高德经度", "gcj02"), lat("高德纬度", "gcj02"))
_A20_COLS = (code("站点编码"), Col("站点名称", "name", lambda t: t.values["name"]),
             value("站点类型", "kind", label_of(StationKind)), community(style="short"), value("容量", "capacity"),
             lon(style="dms_ascii"), lat(style="dms_ascii"))
_DISPUTE_BASE = (value("纠纷类别", "category", label_of(DisputeCategory)), value("来源", "source", label_of(DisputeSource)),
                 value("办理状态", "status", label_of(DisputeStatus)))
_A21_COLS = (*_DISPUTE_BASE, value("受理日期", "reported_on", chinese_date), value("办结日期", "closed_on", chinese_date),
             value("所属网格", "grid_code"), value("地址", "address", fullwidth), lon(), lat())
_A22_COLS = (code("案件编号"), *_DISPUTE_BASE, value("受理日期", "reported_on", excel_date),
             value("办结日期", "closed_on", excel_date), value("所属网格", "grid_code"), value("地址", "address"),
             lon(style="hemisphere"), lat(style="hemisphere"))

# -- refused

_R01_COLS = (seq(), name(), community(), *compound_columns(households=fullwidth, dates=slash_date), lon(), lat())
_R03_COLS = (name(), community(), *compound_columns(), lon(style="dms"), lat(style="dms"))
_R04_COLS = (name(), community(), *compound_columns(dates=excel_date), lon(), lat())
_R05_COLS = (name(), community(), *compound_columns(), lon("高德经度", "gcj02"), lat("高德纬度", "gcj02"))
_R06_COLS = (name(), community(), *compound_columns(), lon(style="dms"), lat(style="dms"))
_R10_COLS = (name(variants={"jm1": "军门新村 1", "jm1b": "军门新村１"}), community(), *compound_columns(), lon(), lat())
_R11_COLS = _A19_COLS
_R12_COLS = (*_DISPUTE_BASE, value("受理日期", "reported_on", iso_date), value("办结日期", "closed_on", iso_date),
             value("所属网格", "grid_code"), value("地址", "address"), lon(), lat())


def _r02() -> tuple[bytes, Layout]:
    cols = (code(new="given"), name(), community(), *compound_columns(dates=excel_date), lon(), lat())
    sheet = (Sheet(cols).title("老旧小区改造台账").header()
             .records(pick("jm1", "atl", "glf1", "wrf"), {("glf1", "完工日期"): date(2027, 1, 15)}))
    return xlsx_of(("台账", sheet)), sheet.layout


def _r04() -> tuple[bytes, Layout]:
    sheet = (Sheet(_R04_COLS).title("老旧小区台账").header()
             .records(pick("jm1", "at_new", "wrf", "gx3"), {("wrf", "户数"): "约150户"}))
    return xlsx_of(("填表说明", INSTRUCTIONS), ("小区台账", sheet)), sheet.layout


def _r09() -> tuple[bytes, Layout]:
    cols = (name(), community(), *compound_columns(dates=excel_date), lon(), lat())
    sheet = (Sheet(cols).title("老旧小区改造台账").header()
             .records(pick("jm2", "at_new", "glf1"), {("at_new", "开工日期"): "2025年13月1日"}))
    return xlsx_of(("台账", sheet)), sheet.layout


def _r08() -> tuple[bytes, Layout]:
    truths = pick("jm1", "at_new", "glf1", "wrf")
    cols = tuple(Col(c.header, c.field, (lambda t, c=c: "不存在社区" if t.key == "wrf" else c.fmt(t)))
                 for c in _SHP_GBK_COLS)
    return shapefile_zip(truths, cols, encoding="GBK"), Layout.features(truths)


def _r13() -> tuple[bytes, Layout]:
    truths = pick("jm1", "glf1", "yan")
    cols = tuple(Col(c.header, c.field, (lambda t, c=c: 2027 if t.key == "yan" else c.fmt(t)))
                 if c.header == "计划年度" else c for c in _GEOJSON_TEXT_COLS)
    return geojson_of(truths, cols), Layout.features(truths)


# -- unreadable


def _truncated_geojson() -> tuple[bytes, Layout]:
    data = geojson_of(pick("jm1", "jm2", "at_new"), _GEOJSON_TEXT_COLS)
    return data[: len(data) * 3 // 5], Layout({})


def _truncated_zip() -> tuple[bytes, Layout]:
    data = shapefile_zip(pick("jm1", "jm2"), _SHP_GBK_COLS, encoding="GBK")
    return data[: len(data) // 2], Layout({})


def _html_as_xlsx() -> tuple[bytes, Layout]:
    html = ("<html><head><meta charset='gbk'></head><body><table><tr><td>小区名称</td><td>户数</td></tr>"
            "<tr><td>军门新村1</td><td>120</td></tr></table></body></html>")
    return html.encode("gbk"), Layout({})


def _zip_without_shp() -> tuple[bytes, Layout]:
    whole = zipfile.ZipFile(io.BytesIO(shapefile_zip(pick("jm1"), _SHP_EN_COLS)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for item in whole.infolist():
            if not item.filename.endswith(".shp"):
                zf.writestr(item.filename, whole.read(item))
    return buffer.getvalue(), Layout({})


def _ole2_as_xlsx() -> tuple[bytes, Layout]:
    header = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16) + bytes.fromhex("3e000300feff0900")
    return header + bytes(512 - len(header)) + "工作簿".encode("utf-16-le") * 40, Layout({})


def _case_list() -> list[Case]:
    gbk = lambda s: csv_of(s, "gbk")  # noqa: E731
    utf8 = lambda s: csv_of(s)  # noqa: E731
    book = lambda s: xlsx_of(("台账", s))  # noqa: E731
    compounds, stations, disputes = "compounds", "stations", "disputes"
    return [
        _sheet_case("A01", "东街街道老旧小区台账.csv", compounds,
                    "GBK CSV; no codes; title + 填报单位 lines; 序号; full-width 户数; 经度(GCJ-02) header; 2025/3/1; 合计",
                    _A01_COLS, _a01, gbk, Accepted(_A01_KEYS)),
        _sheet_case("A02", "小区台账_UTF8带BOM.csv", compounds,
                    "UTF-8 BOM; codes for stored only; 120户/6栋/300万元; 2025年3月1日; DMS; short community names; notes",
                    _A02_COLS, _a02, lambda s: csv_of(s, bom=True), Accepted(_A02_KEYS)),
        Case("A03", "老旧小区改造（含填表说明）.xlsx", compounds,
             "填表说明 sheet first, data on sheet 2; Excel dates; 东经/北纬 text; community codes as numbers; spaced name",
             _a03, Accepted(_A03_KEYS, notes=("小区台账",)), _A03_COLS),
        _sheet_case("A04", "鼓楼区改造台账（合并标题）.xlsx", compounds,
                    "two merged title rows; codes for all; 所属网格; Excel dates; 合计 with cached =SUM; notes",
                    _A04_COLS, _a04, book, Accepted(_A04_KEYS)),
        _sheet_case("A05", "改造进度（分街道）.xlsx", compounds,
                    "two tables on one sheet; 小计/总计; blank + title rows; repeated header; 施工中 without 开工日期",
                    _A05_COLS, _a05, book,
                    Accepted(("jm1", "jm2", "jm3", "at_new", "atl", "glf1", "wrf", "gx3"), (("at_new", "开工日期"),)),
                    blanked={("at_new", "开工日期")}),
        _sheet_case("A06", "台账_GB18030.csv", compounds,
                    "GB18030 (䶮); 高德经度/高德纬度; 2025.11.28; header repeated after a page break; blank lines",
                    _A06_COLS, _a06, lambda s: csv_of(s, "gb18030"),
                    Accepted(("jm3", "at_new", "yan", "wrf", "gx3", "glf1"))),
        _sheet_case("A07", "高德坐标_未注明.csv", compounds,
                    "UTF-8; GCJ-02 without hint (crs=gcj02); 军门新村 1 / 军门新村２; 2025.03.01; 汇总 row",
                    _A07_COLS, _a07, utf8, Accepted(_A07_KEYS), options={"crs": "gcj02"}),
        _vector_case("A08", "小区点位_GBK.zip", compounds,
                     "Shapefile; GBK .dbf + .cpg; .prj EPSG:4326; Chinese fields; GBK zip member names; no codes",
                     _SHP_GBK_COLS, ("jm1", "jm2", "at_new", "wrf", "gx3"),
                     lambda ts: shapefile_zip(ts, _SHP_GBK_COLS, encoding="GBK", gbk_names=True),
                     Accepted(("jm1", "jm2", "at_new", "wrf", "gx3"))),
        _vector_case("A09", "小区点位_无cpg.zip", compounds,
                     "Shapefile; GBK .dbf without .cpg or language id; .prj EPSG:4490; 120户 text; 军门新村１",
                     _SHP_GBK_TEXT_COLS, ("jm1", "jm3", "atl", "glf1"),
                     lambda ts: shapefile_zip(ts, _SHP_GBK_TEXT_COLS, epsg=4490, encoding="GBK", cpg=False),
                     Accepted(("jm1", "jm3", "atl", "glf1"))),
        _vector_case("A10", "小区_高斯投影.zip", compounds,
                     "Shapefile; .prj GK 3° CM 120E (EPSG:4549); UTF-8 + .cpg; English fields, end_date mapped "
                     "by hand; codes for all; 䶮",
                     _SHP_EN_COLS, tuple(COMPOUNDS),
                     lambda ts: shapefile_zip(ts, _SHP_EN_COLS, epsg=4549), Accepted(tuple(COMPOUNDS)),
                     options={"mapping": _SHP_EN_MAPPING}),
        _vector_case("A11", "小区_UTM50N_缺shx.zip", compounds,
                     "Shapefile; .prj UTM 50N; no .shx (rebuilt, noted); GBK + .cpg; no codes",
                     _SHP_GBK_COLS, ("jm2", "at_new", "atl", "wrf"),
                     lambda ts: shapefile_zip(ts, _SHP_GBK_COLS, epsg=32650, encoding="GBK", shx=False),
                     Accepted(("jm2", "at_new", "atl", "wrf"), notes=(".shx",))),
        _vector_case("A12", "小区_无prj.zip", compounds,
                     "Shapefile without .prj (WGS84 degrees); GBK without .cpg; dates as text 2025/3/1; no codes",
                     _SHP_GBK_TEXT_COLS, ("jm1", "jm3", "atl", "glf1", "gx3"),
                     lambda ts: shapefile_zip(ts, _SHP_GBK_TEXT_COLS, encoding="GBK", cpg=False, prj=False),
                     Accepted(("jm1", "jm3", "atl", "glf1", "gx3"))),
        _vector_case("A13", "小区_GK40带号_无prj.zip", compounds,
                     "Shapefile without .prj, GK zone 40 with zone number (EPSG:4528); UTF-8; codes blank for new; "
                     "no dates (warned)",
                     _SHP_EN_BLANK_COLS, ("jm1", "jm2", "at_new", "wrf", "gx3"),
                     lambda ts: shapefile_zip(ts, _SHP_EN_BLANK_COLS, epsg=4528, prj=False),
                     Accepted(("jm1", "jm2", "at_new", "wrf", "gx3"), (("at_new", "开工日期"),))),
        _vector_case("A14", "小区点位.geojson", compounds, "GeoJSON; no codes; 88户/2栋 text; 2025年3月1日",
                     _GEOJSON_TEXT_COLS, ("jm1", "jm2", "jm3", "jm_new", "atl", "glf1", "yan"),
                     lambda ts: geojson_of(ts, _GEOJSON_TEXT_COLS),
                     Accepted(("jm1", "jm2", "jm3", "jm_new", "atl", "glf1", "yan"))),
        _vector_case("A15", "小区点位_CGCS2000.geojson", compounds,
                     "GeoJSON with legacy crs member EPSG:4490; codes for stored only (null for new); 计划年度 ２０２７",
                     _GEOJSON_CODE_COLS, ("jm2", "at_new", "wrf", "gx3"),
                     lambda ts: geojson_of(ts, _GEOJSON_CODE_COLS, crs_member=4490),
                     Accepted(("jm2", "at_new", "wrf", "gx3"))),
        _sheet_case("A16", "施工进度_缺日期.csv", compounds,
                    "UTF-8; 施工中 w/o 开工日期, 已完工 w/o 完工日期, 已纳入计划 w/o 计划年度 (warnings); 小计; no codes",
                    _A16_COLS, _a16, utf8, Accepted(_A16_KEYS, _A16_WARNINGS), blanked=set(_A16_BLANKS)),
        _sheet_case("A17", "小区台账_制表.txt", compounds,
                    "tab-separated UTF-8 .txt; 119.2975123° text; unlabelled column sums row; 填表人, 制表日期; "
                    "no 开工日期 column (施工中 warned)",
                    _A17_COLS, _a17, lambda s: csv_of(s, delimiter="\t"), Accepted(_A17_KEYS, (("at_new", "开工日期"),))),
        _sheet_case("A18", "小区台账_汇总.xlsx", compounds,
                    "code column partly blank; １５０户, 5栋, 150万元; Excel dates; 合计 in the name column; empty "
                    "Sheet2/Sheet3",
                    _A18_COLS, _a18, lambda s: xlsx_of(("台账", s), ("Sheet2", []), ("Sheet3", [])), Accepted(_A18_KEYS)),
        _sheet_case("A19", "服务站点_高德坐标.csv", stations, "GBK; no 站点编码; 高德经度/高德纬度; title line; 容量 ３０",
                    _A19_COLS, lambda s: s.line("鼓楼区服务站点（高德坐标）").header().records(pick(*STATIONS)), gbk,
                    Accepted(tuple(STATIONS))),
        _sheet_case("A20", "服务站点台账.xlsx", stations,
                    "merged title; 站点编码 blank; DMS with ASCII ' and \"; short community names; 说明 under the table",
                    _A20_COLS, lambda s: (s.title("服务站点台账").header().records(pick("s_jm", "s_at", "s_glf"))
                                          .note("说明：坐标为 WGS84 度分秒")), book,
                    Accepted(("s_jm", "s_at", "s_glf"))),
        _sheet_case("A21", "矛盾纠纷登记_GB18030.csv", disputes,
                    "GB18030; no 案件编号; 2026年10月8日; address 杨桥东路１２号; 合计：3件 row",
                    _A21_COLS, lambda s: s.header().records(pick(*DISPUTES)).total("合计：3件", [], label_only=True),
                    lambda s: csv_of(s, "gb18030"), Accepted(tuple(DISPUTES))),
        _sheet_case("A22", "矛盾纠纷台账.xlsx", disputes, "merged title; 案件编号 blank; Excel dates; 东经/北纬 text",
                    _A22_COLS, lambda s: s.title("矛盾纠纷登记台账（2026年）").header().records(pick(*DISPUTES)), book,
                    Accepted(tuple(DISPUTES))),
        _sheet_case("A23", "小区台账_Unicode文本.txt", compounds,
                    "Excel's “Unicode text”: UTF-16 with BOM, tab-separated; 䶮; ISO dates; 合计 row",
                    _A23_COLS, _a23, lambda s: csv_of(s, "utf-16", delimiter="\t"), Accepted(_A23_KEYS)),
        Case("A24", "分社区台账（社区列合并）.xlsx", compounds,
             "所属社区 merged down over each community's rows (beyond the brief's list); merged title; Excel dates",
             _a24, Accepted(_A24_KEYS), _A24_COLS),
        _sheet_case("R01", "竣工早于开工_GBK.csv", compounds, "GBK; no codes; full-width 户数; 合计; 完工日期 before 开工日期",
                    _R01_COLS, lambda s: s.header().records(pick("jm1", "atl", "glf1"), {("atl", "完工日期"): "2025/1/10"})
                    .total("合计", pick("jm1", "atl", "glf1")), gbk, Refused((("atl", "完工日期"),))),
        Case("R02", "完工日期在将来.xlsx", compounds, "merged title; codes; Excel dates; 长效管理 completed 2027-01-15",
             _r02, Refused((("glf1", "完工日期"),))),
        _sheet_case("R03", "计划年度晚于完工.csv", compounds, "UTF-8 BOM; DMS; 已完工 2025-10-15 with 计划年度 2026",
                    _R03_COLS, lambda s: s.header().records(pick("jm2", "atl", "wrf"), {("atl", "计划年度"): 2026}),
                    lambda s: csv_of(s, bom=True), Refused((("atl", "计划年度"),))),
        Case("R04", "户数有误（含说明页）.xlsx", compounds, "填表说明 sheet first; 户数 约150户 on sheet 2",
             _r04, Refused((("wrf", "户数"),))),
        _sheet_case("R05", "高德坐标越界.csv", compounds, "高德经度/高德纬度; one point outside the district",
                    _R05_COLS, lambda s: s.header().records(pick("jm1", "at_new", "gx3"), {("gx3", "高德经度"): 119.3400}),
                    utf8, Refused((("gx3", "高德经度"),))),
        _sheet_case("R06", "度分秒有误.csv", compounds, "DMS with 77 minutes",
                    _R06_COLS, lambda s: s.header().records(pick("jm1", "at_new", "wrf"),
                                                            {("at_new", "经度"): "119°77′10.00″"}),
                    utf8, Refused((("at_new", "经度"),))),
        _sheet_case("R07", "施工进度_缺日期.csv", compounds, "A16 under strict=True: its warnings are problems",
                    _A16_COLS, _a16, utf8, Refused(_A16_WARNINGS), options={"strict": True}),
        Case("R08", "社区不存在_GBK.zip", compounds, "GBK Shapefile + .cpg; community 不存在社区", _r08,
             Refused((("wrf", "所属社区"),))),
        Case("R09", "日期无效.xlsx", compounds, "merged title; 开工日期 2025年13月1日", _r09, Refused((("at_new", "开工日期"),))),
        _sheet_case("R10", "同名小区重复.csv", compounds, "no codes; 军门新村 1 and 军门新村１ in one file",
                    _R10_COLS, lambda s: s.header().records(pick("jm1", "jm2", "jm1b")), utf8,
                    Refused((("jm1b", "小区名称"),))),
        _sheet_case("R11", "站点类型错误.csv", stations, "no codes; 高德经度; 站点类型 宠物服务站",
                    _R11_COLS, lambda s: s.header().records(pick(*STATIONS), {("s_glf", "站点类型"): "宠物服务站"}), utf8,
                    Refused((("s_glf", "站点类型"),))),
        _sheet_case("R12", "办结早于受理.csv", disputes, "no codes; 办结日期 before 受理日期",
                    _R12_COLS, lambda s: s.header().records(pick(*DISPUTES), {("d1", "办结日期"): "2026-10-01"}), utf8,
                    Refused((("d1", "办结日期"),))),
        Case("R13", "计划年度晚于完工.geojson", compounds, "GeoJSON; no codes; 已完工 2025-11-28 with 计划年度 2027", _r13,
             Refused((("yan", "计划年度"),))),
        Case("U01", "小区点位_截断.geojson", compounds, "GeoJSON cut off mid-file", _truncated_geojson, Unreadable()),
        Case("U02", "小区点位_损坏.zip", compounds, "zipped Shapefile cut off", _truncated_zip, Unreadable()),
        Case("U03", "台账_网页导出.xlsx", compounds, "an HTML table saved as .xlsx", _html_as_xlsx, Unreadable()),
        Case("U04", "小区_缺shp.zip", compounds, "zip with .dbf/.shx/.prj but no .shp", _zip_without_shp, Unreadable()),
        Case("U05", "台账_旧版Excel.xlsx", compounds, "an old binary (OLE2) workbook renamed to .xlsx", _ole2_as_xlsx,
             Unreadable()),
    ]


CASES: list[Case] = _case_list()
BY_NAME: dict[str, Case] = {c.name: c for c in CASES}


def summary(case: Case, layout: Layout) -> str:
    """The case's first line in the module docstring: name, file, layer and options, expected outcome."""
    e = case.expect
    if isinstance(e, Accepted):
        outcome = f"{len(e.records)} records"
        outcome += f", {len(layout.skipped)} skipped" if layout.skipped else ""
        outcome += f", {len(e.warnings)} warning" + "s" * (len(e.warnings) > 1) if e.warnings else ""
        outcome += ", a note naming " + "/".join(e.notes) if e.notes else ""
    elif isinstance(e, Refused):
        outcome = "refused at " + "; ".join(f"row {layout.rows[k]} {f}" for k, f in e.problems)
    else:
        outcome = "unreadable"
    options = "".join(f" {k}" if isinstance(v, dict) else f" {k}={v}" for k, v in case.options.items())
    return f"{case.name}  {case.filename}  [{case.layer}{options}] → {outcome}"
