"""The fields of each importable layer: Chinese headers, aliases, kinds, and the column-name guess.

A ``FieldSpec`` says how one stored column is filled from a file: its Chinese label (the
template header), the other headers it is recognised by (Chinese and English), its kind (text,
int, float, bool, date, enum, code), whether it is required, and its limits. ``guess_mapping``
maps a file's headers to fields; the user may override it with a dict ``{source column: field}``.
Pure: no files, no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import GuloError
from geo.lifecycle import FIELD_LABELS as RENO_LABELS
from geo.lifecycle import PLAN_YEAR_RANGE
from geo.vocab import (
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    Level,
    ModelLevel,
    PartyOrgKind,
    PartyOrgLevel,
    PartyOrgSetup,
    RenovationStatus,
    RenovationType,
    StationKind,
    VolunteerTeamKind,
)

LON, LAT, WKT = "lon", "lat", "wkt"
"""Pseudo-fields: point coordinates from two columns, or any geometry as WKT text."""
TOWN = "镇"
STREET_KINDS = (Level.STREET.label, TOWN)


@dataclass(frozen=True)
class FieldSpec:
    """How one stored column is read from a file.

    ``lo``/``hi`` bound numbers (inclusive); ``not_future`` forbids a year or date after today (UTC+8).
    """

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_len: int | None = None
    lo: float | None = None
    hi: float | None = None
    vocab: type | None = None
    example: object = None
    not_future: bool = False
    units: tuple[str, ...] = ()
    """Units an office writes after a number (“120户”, “300万元”): accepted and dropped."""
    blank_words: tuple[str, ...] = ()
    """Words an office writes for “none” in an optional field (“否”, “无” under 示范级别): read as blank."""
    note: str = ""
    """What the template's 填写说明 adds for this field (Chinese), e.g. how several compounds are separated."""


def _f(name, label, kind="text", required=False, aliases=(), **kw) -> FieldSpec:
    return FieldSpec(name, label, kind, required, tuple(aliases), **kw)


_POINT = (
    _f(LON, "经度", "float", True, ("lon", "lng", "long", "longitude", "x", "东经", "经度坐标", "x坐标", "坐标x"),
       example=119.2965),
    _f(LAT, "纬度", "float", True, ("lat", "latitude", "y", "北纬", "纬度坐标", "y坐标", "坐标y"), example=26.0795),
)
_SHAPE = (_f(WKT, "几何(WKT)", "text", True, ("wkt", "geometry", "geom", "几何", "图形", "shape"),
             example="POLYGON ((119.296 26.079, 119.298 26.079, 119.298 26.081, 119.296 26.081, 119.296 26.079))"),)
_COMMUNITY = _f("community_code", "所属社区", "code", True,
                ("社区", "社区代码", "社区编码", "所属社区代码", "community", "community_code"), example="350102004001")
_GRID = _f("grid_code", "所属网格", "code", False, ("网格", "网格编码", "网格代码", "所属网格编码", "grid", "grid_code"),
           example="350102004001001")
_STREET = _f("street_code", "所属街道", "code", False,
             ("街道", "街道代码", "所属街道代码", "街镇", "street", "street_code"), example="350102004000")
_ADDRESS = _f("address", "地址", "text", False, ("详细地址", "位置", "address", "addr"), max_len=120, example="东街100号")
_NOT_MODEL = ("否", "无", "不是", "非示范", "-", "—", "/")
_FOUNDED = _f("founded_on", "成立日期", "date", False, ("成立时间", "组建日期", "组建时间", "founded_on"),
              not_future=True, example="2021-07-01")
_RECORD_COMMUNITY = replace(_COMMUNITY, aliases=_COMMUNITY.aliases + ("社区名称", "所在社区"))
_PEOPLE = ("人", "名")
_ISSUES = ("个", "件", "条", "项")

LAYER_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "streets": (
        _f("code", "街道代码", "code", True, ("区划代码", "统计用区划代码", "代码", "编码", "code"), example="350102004000"),
        _f("name", "街道名称", "text", True, ("名称", "街道", "街镇名称", "name"), max_len=40, example="东街街道"),
        _f("kind", "类型", "text", False, ("街镇类型", "kind"), max_len=10, example=Level.STREET.label),
    ) + _SHAPE,
    "communities": (
        _f("code", "社区代码", "code", True, ("区划代码", "社区编码", "代码", "编码", "code"), example="350102004001"),
        _f("name", "社区名称", "text", True, ("名称", "社区", "name"), max_len=40, example="军门社区"),
        _STREET,
        _f("centre_known", "中心点已公布", "bool", False, ("centre_known",), example="否"),
    ) + _SHAPE,
    "grids": (
        _f("code", "网格编码", "code", True, ("网格代码", "网格编号", "编码", "代码", "code"), example="350102004001001"),
        _f("name", "网格名称", "text", True, ("网格", "名称", "name"), max_len=40, example="网格01"),
        _COMMUNITY, _STREET,
        _f("households", "户数", "int", True, ("户", "总户数", "households"), lo=0, hi=100_000, example=500,
           units=("户",)),
        _f("population", "人口", "int", True, ("人数", "常住人口", "总人口", "population"), lo=0, hi=1_000_000,
           example=1300, units=("人",)),
        _f("worker", "专职网格员", "text", False, ("网格员", "worker"), max_len=20, example="张三"),
        _f("assistants", "网格协管员人数", "int", False, ("协管员", "协管员人数", "assistants"), lo=0, hi=1000, example=1,
           units=("人", "名")),
    ) + _SHAPE,
    "compounds": (
        _f("code", "小区编码", "text", False, ("小区代码", "小区编号", "编码", "编号", "code"), max_len=20,
           example="350102004001C001"),
        _f("name", "小区名称", "text", True, ("小区", "名称", "小区名", "name"), max_len=60, example="军门新村"),
        _COMMUNITY, _GRID, _STREET, _ADDRESS,
        _f("built_year", "建成年份", "int", False, ("建成年代", "建成时间", "建成年", "竣工年份", "built_year"),
           lo=1900, not_future=True, example=1988, units=("年",)),
        _f("buildings", "楼栋数", "int", False, ("栋数", "幢数", "楼幢数", "buildings"), lo=0, hi=1000, example=6,
           units=("栋", "幢", "座")),
        _f("households", "户数", "int", True, ("总户数", "住户数", "households"), lo=0, hi=100_000, example=240,
           units=("户",)),
        _f("has_property_mgmt", "有无物业", "bool", False, ("物业", "有物业", "物业管理", "has_property_mgmt"),
           example="是"),
        _f("status", RENO_LABELS["status"], "enum", True, ("状态", "status"), vocab=RenovationStatus,
           example=RenovationStatus.PLANNED.label),
        _f("reno_type", RENO_LABELS["reno_type"], "enum", False, ("类型", "reno_type"), vocab=RenovationType,
           example=RenovationType.BASIC.label),
        _f("plan_year", RENO_LABELS["plan_year"], "int", False, ("计划年份", "改造年度", "plan_year"),
           lo=PLAN_YEAR_RANGE[0], hi=PLAN_YEAR_RANGE[1], example=2027, units=("年度", "年")),
        _f("budget_wan", RENO_LABELS["budget_wan"], "float", False, ("预算", "预算万元", "投资", "budget", "budget_wan"),
           lo=0, hi=1_000_000, example=300, units=("万元", "万")),
        _f("started_on", RENO_LABELS["started_on"], "date", False, ("开工时间", "started_on")),
        _f("completed_on", RENO_LABELS["completed_on"], "date", False, ("完工时间", "竣工日期", "completed_on"), not_future=True),
    ) + _POINT + _SHAPE,
    "stations": (
        _f("code", "站点编码", "text", False, ("站点编号", "编码", "编号", "code"), max_len=20, example="350102004001S001"),
        _f("name", "站点名称", "text", True, ("名称", "站点", "name"), max_len=60, example="军门社区居家养老服务站"),
        _f("kind", StationKind.title(), "enum", True, ("类型", "类别", "kind"), vocab=StationKind,
           example=StationKind.ELDERLY_HOME.label),
        _COMMUNITY, _GRID, _STREET, _ADDRESS,
        _f("capacity", "容量", "int", False, ("床位", "床位数", "容纳人数", "capacity"), lo=0, hi=100_000, example=30,
           units=("张", "床", "人", "个")),
        _f("opening_hours", "开放时间", "text", False, ("服务时间", "opening_hours"), max_len=40, example="08:30-17:30"),
        _f("stars", "星级", "int", False, ("stars",), lo=1, hi=5, units=("星", "星级")),
        _f("model_level", "示范级别", "enum", False, ("示范", "示范站点", "示范驿站", "示范等级", "model_level"),
           vocab=ModelLevel, blank_words=_NOT_MODEL, note="示范站点（驿站）的级别；不是示范站点的留空或填“否”"),
    ) + _POINT + _SHAPE,
    "disputes": (
        _f("code", "案件编号", "text", False, ("编号", "案件编码", "编码", "code"), max_len=20, example="JF2600001"),
        _f("category", DisputeCategory.title(), "enum", True, ("类别", "纠纷类型", "category"), vocab=DisputeCategory,
           example=DisputeCategory.NEIGHBOUR.label),
        _f("source", DisputeSource.title(), "enum", True, ("案件来源", "source"), vocab=DisputeSource,
           example=DisputeSource.PATROL.label),
        _f("status", DisputeStatus.title(), "enum", True, ("状态", "status"), vocab=DisputeStatus,
           example=DisputeStatus.RECEIVED.label),
        _f("reported_on", "受理日期", "date", True, ("登记日期", "受理时间", "reported_on"),
           example="2026-11-01", not_future=True),
        _f("closed_on", "办结日期", "date", False, ("办结时间", "结案日期", "closed_on"), not_future=True),
        replace(_GRID, required=True), replace(_COMMUNITY, required=False), _STREET,
        _f("compound_code", "所属小区编码", "text", False, ("小区编码", "compound_code"), max_len=20),
        _f("address", "地址", "text", True, _ADDRESS.aliases, max_len=120, example="东街100号"),
        _f("summary", "简要情况", "text", False, ("摘要", "事由", "内容", "summary"), max_len=2000,
           example="楼上噪音扰民"),
    ) + _POINT + _SHAPE,
}
"""Layer -> its fields, in template order. Point layers take LON/LAT (or WKT); polygon layers WKT;
record layers (``RECORD_LAYERS``) no geometry at all."""

LAYER_FIELDS.update({
    "party_orgs": (
        _f("code", "组织编码", "text", False, ("党组织编码", "编码", "编号", "code"), max_len=20,
           example="350102004001P001", note="可不填：按所属社区和组织名称匹配库中组织，新组织自动编号"),
        _f("name", "组织名称", "text", True, ("党组织名称", "党组织", "名称", "name"), max_len=80,
           example="军门新村小区党支部"),
        _f("level", PartyOrgLevel.title(), "enum", True, ("层级", "级别", "组织级别", "level"), vocab=PartyOrgLevel,
           example=PartyOrgLevel.COMPOUND.label),
        _f("kind", PartyOrgKind.title(), "enum", True, ("类型", "组织形式", "kind"), vocab=PartyOrgKind,
           example=PartyOrgKind.BRANCH.label),
        _f("setup", PartyOrgSetup.title(), "enum", False, ("设置", "组建方式", "setup"), vocab=PartyOrgSetup,
           example=PartyOrgSetup.SINGLE.label,
           note=f"不填为{PartyOrgSetup.SINGLE.label}；{PartyOrgSetup.JOINT.label}须覆盖至少两个小区"),
        _RECORD_COMMUNITY, _GRID, _STREET,
        _f("compound_codes", "覆盖小区", "text", False,
           ("覆盖小区编码", "覆盖居民小区", "覆盖小区名称", "所在小区", "所属小区", "小区", "小区名称", "compound_codes"),
           max_len=2000, example="军门新村",
           note=f"小区编码或小区全称，须在所属社区内，多个小区用顿号（、）分隔；{PartyOrgLevel.COMPOUND.label}、"
                f"{PartyOrgLevel.BUILDING.label}必填，{PartyOrgLevel.BUILDING.label}只填一个小区"),
        _f("building", "楼栋", "text", False, ("楼号", "楼栋号", "栋号", "所在楼栋", "building"), max_len=40,
           note=f"{PartyOrgLevel.BUILDING.label}必填，如“3号楼”"),
        _f("secretary", "书记", "text", False, ("书记姓名", "党组织书记", "组长", "书记（组长）", "secretary"), max_len=20,
           example="张三"),
        _f("members", "党员人数", "int", False, ("党员数", "党员", "members"), lo=0, hi=100_000, example=25,
           units=_PEOPLE),
        _FOUNDED,
    ),
    "volunteer_teams": (
        _f("code", "队伍编码", "text", False, ("服务队编码", "编码", "编号", "code"), max_len=20,
           example="350102004001V001", note="可不填：按所属社区和队伍名称匹配库中队伍，新队伍自动编号"),
        _f("name", "队伍名称", "text", True, ("服务队名称", "志愿服务队", "志愿服务队名称", "队名", "名称", "name"), max_len=80,
           example="军门社区党员先锋志愿服务队"),
        _f("kind", VolunteerTeamKind.title(), "enum", True, ("类型", "服务类型", "服务领域", "kind"), vocab=VolunteerTeamKind,
           example=VolunteerTeamKind.PARTY_VANGUARD.label),
        _RECORD_COMMUNITY, _STREET,
        _f("members", "人数", "int", True, ("志愿者人数", "队员人数", "成员人数", "members"), lo=0, hi=100_000, example=30,
           units=_PEOPLE),
        _FOUNDED,
    ),
    "consultation_days": (
        _f("code", "恳谈日编号", "text", False, ("编号", "编码", "code"), max_len=20, example="350102004001K2610",
           note="可不填：自动编为 社区代码＋K＋年月；同一社区同一月份再次导入即更新该月记录"),
        _f("held_on", "日期", "date", True, ("恳谈日期", "举办日期", "活动日期", "召开日期", "时间", "held_on"),
           not_future=True, example="2026-10-15"),
        _RECORD_COMMUNITY, _STREET,
        _f("attendance", "参加人数", "int", False, ("参与人数", "参会人数", "到会人数", "人数", "attendance"), lo=0,
           hi=100_000, example=40, units=(*_PEOPLE, "人次")),
        _f("issues_raised", "收集问题数", "int", False, ("收集问题", "征集问题数", "问题数", "issues_raised"), lo=0,
           hi=10_000, example=6, units=_ISSUES),
        _f("issues_resolved", "已解决问题数", "int", False, ("解决问题数", "已解决", "已解决问题", "解决数", "issues_resolved"),
           lo=0, hi=10_000, example=5, units=_ISSUES, note="不多于收集问题数"),
        _f("topics", "主要议题", "text", False, ("议题", "恳谈主题", "主题", "内容", "topics"), max_len=500,
           example="楼道堆物清理；加装电梯意见"),
        _f("dispute_codes", "关联案件编号", "text", False, ("关联案件", "关联纠纷", "案件编号", "dispute_codes"),
           max_len=2000, note="库中已有的矛盾纠纷案件编号，多个用顿号（、）分隔"),
    ),
    "community_resources": (
        _RECORD_COMMUNITY, _STREET,
        _f("year", "年度", "int", False, ("年份", "经费年度", "year"), lo=2000, hi=2100, example=2026, units=("年度", "年")),
        _f("funds_wan", "工作经费（万元）", "float", False, ("工作经费", "年度工作经费", "社区工作经费", "经费", "funds_wan"),
           lo=0, hi=100_000, example=65, units=("万元", "万")),
        _f("space_m2", "办公服务用房面积（平方米）", "float", False,
           ("办公服务用房面积", "办公和服务用房面积", "办公用房面积", "用房面积", "面积", "space_m2"), lo=0, hi=1_000_000,
           example=620, units=("平方米", "平米", "m2", "㎡", "m²")),
        _f("staff", "社区工作者人数", "int", False, ("社区工作者", "社工人数", "工作人员数", "staff"), lo=0, hi=10_000,
           example=12, units=_PEOPLE),
        _f("access_tasks", "准入事项数", "int", False, ("准入事项", "社区准入事项数", "access_tasks"), lo=0, hi=10_000,
           example=20, units=("项", "个", "件")),
        _f("volunteer_model", "示范社区", "enum", False, ("志愿服务示范社区", "示范", "示范级别", "volunteer_model"),
           vocab=ModelLevel, blank_words=_NOT_MODEL, note="志愿服务示范社区的级别；不是示范社区的留空或填“否”"),
    ),
})

LAYER_LABELS: dict[str, str] = {
    "streets": "街道", "communities": "社区", "grids": "网格",
    "compounds": "老旧小区", "stations": "服务站点", "disputes": "矛盾纠纷",
    "party_orgs": "党组织", "volunteer_teams": "志愿服务队", "consultation_days": "居民恳谈日",
    "community_resources": "社区经费与用房",
}
POINT_LAYERS = ("compounds", "stations", "disputes")
RECORD_LAYERS = ("party_orgs", "volunteer_teams", "consultation_days", "community_resources")
"""Layers without geometry (tables of records that belong to a community): no coordinates, no map preview."""
GEOMETRY_FIELDS = (LON, LAT, WKT)
KEY_COLUMNS = {"community_resources": "community_code"}
"""Layer -> the stored column that identifies a record, where it is not ``code`` (one row per community)."""


SHP_SHORT = {
    "community_code": "comm_code", "community_name": "comm_name", "street_code": "strt_code",
    "street_name": "strt_name", "compound_code": "cmpd_code", "compound_name": "cmpd_name",
    "compound_codes": "cmpd_codes", "compound_names": "cmpd_names", "has_property_mgmt": "prop_mgmt",
    "completed_on": "done_on", "opening_hours": "open_hours", "model_level": "model_lvl",
    "centre_known": "centre_kno", "issues_raised": "iss_raised", "issues_resolved": "iss_solved",
    "dispute_codes": "disp_codes", "volunteer_model": "vol_model", "access_tasks": "acc_tasks",
}
"""Field name -> its Shapefile (dBASE, at most 10 characters) name where the field name is longer; an
export's Shapefile uses them and the import recognises them."""


def key_column(layer: str) -> str:
    """The stored column that identifies a record of ``layer``: ``code``, or ``community_code`` for
    ``community_resources`` (one row per community)."""
    return KEY_COLUMNS.get(layer, "code")


def has_geometry(layer: str) -> bool:
    """Whether records of ``layer`` carry a geometry (everything but ``RECORD_LAYERS``)."""
    return layer not in RECORD_LAYERS


def check_layer(layer: str) -> str:
    """``layer`` if it is importable; GuloError naming the layers otherwise."""
    if layer not in LAYER_FIELDS:
        allowed = "、".join(f"{k}（{v}）" for k, v in LAYER_LABELS.items())
        raise GuloError(f"未知的图层“{layer}”，可选：{allowed}")
    return layer


def fields_of(layer: str) -> dict[str, FieldSpec]:
    """Field name -> spec for ``layer`` (geometry pseudo-fields included)."""
    return {f.name: f for f in LAYER_FIELDS[check_layer(layer)]}


def template_columns(layer: str) -> list[FieldSpec]:
    """The fields a template shows, in order: every field, with lon/lat for point layers, WKT for polygons."""
    skip = {WKT} if layer in POINT_LAYERS else set()
    return [f for f in LAYER_FIELDS[check_layer(layer)] if f.name not in skip]


_PUNCT = re.compile(r"[\s_\-·.:：/\\*]+")


def normalise_header(text) -> str:
    """A header folded for matching: full-width brackets to ASCII, no spaces/punctuation, lower case."""
    text = str(text).translate(str.maketrans("（）【】", "()[]"))
    return _PUNCT.sub("", text).lower()


def _bare(text: str) -> str:
    """A normalised header without a bracketed unit, e.g. ``预算(万元)`` -> ``预算``."""
    return re.sub(r"[(\[].*?[)\]]", "", text)


def _lookup(layer: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in LAYER_FIELDS[check_layer(layer)]:
        for name in (spec.label, spec.name, SHP_SHORT.get(spec.name, spec.name), *spec.aliases):
            table.setdefault(normalise_header(name), spec.name)
    return table


_CRS_WORDS = re.compile(r"高德|百度|腾讯|天地图|火星|gcj0?2|bd0?9|wgs0?84|cgcs(?:2000)?|gps")


def _without_crs(key: str) -> str:
    """A normalised header without the coordinate system it names: ``高德经度`` -> ``经度``."""
    return _CRS_WORDS.sub("", _bare(key))


def guess_mapping(columns, layer: str) -> dict[str, str]:
    """Source column -> field for the columns recognised by label, name or alias (first match wins).

    Exact (normalised) matches beat matches without a bracketed unit, which beat matches without a
    coordinate system's name (``高德经度`` is 经度); each field is taken once. Unrecognised columns are
    left out (they are not imported).
    """
    table = _lookup(layer)
    out: dict[str, str] = {}
    for how in (normalise_header, lambda c: _bare(normalise_header(c)), lambda c: _without_crs(normalise_header(c))):
        for col in columns:
            if col in out:
                continue
            field = table.get(how(col))
            if field is not None and field not in out.values():
                out[col] = field
    return {c: out[c] for c in columns if c in out}


def header_score(cells, layer: str) -> int:
    """How many of ``cells`` name a field of ``layer``: used to find the header row under a title."""
    table = _lookup(layer)
    return sum(1 for c in cells if c is not None and str(c).strip()
               and (normalise_header(c) in table or _without_crs(normalise_header(c)) in table))


def check_mapping(mapping: dict[str, str], columns, layer: str) -> list[str]:
    """Problems with a user's mapping (unknown source column or field, a field mapped twice), in Chinese."""
    fields = fields_of(layer)
    problems = []
    for col, field in mapping.items():
        if col not in columns:
            problems.append(f"映射中的列“{col}”不在文件中；文件的列为：{'、'.join(map(str, columns))}")
        if field not in fields:
            allowed = "、".join(f"{f.label}（{f.name}）" for f in fields.values())
            problems.append(f"映射目标“{field}”不是{LAYER_LABELS[layer]}的字段；可选：{allowed}")
    for field in {f for f in mapping.values() if list(mapping.values()).count(f) > 1}:
        cols = "、".join(c for c, f in mapping.items() if f == field)
        problems.append(f"字段“{fields[field].label if field in fields else field}”被映射了多次：{cols}")
    return problems


def display_frame(gdf: gpd.GeoDataFrame, layer: str, coordinates: str = "lonlat") -> gpd.GeoDataFrame:
    """A stored layer as the office sees it: Chinese headers, enum labels, 是/否, template column order.

    ``gdf`` is a GeoDataFrame as read from the store (WGS84, or shifted to GCJ-02 for export).
    ``coordinates``: ``lonlat`` adds 经度/纬度 columns (degrees, 7 decimals) to point layers and a
    几何(WKT) column to polygon layers, ``wkt`` adds 几何(WKT) to every layer, ``none`` adds nothing.
    The geometry and CRS are kept (for GeoJSON/GPKG); the input is not mutated. Re-importing the
    result maps every column automatically.
    """
    out = display_records(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), layer)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    labels = {s.name: s.label for s in LAYER_FIELDS[layer]}
    if coordinates == "lonlat" and layer in POINT_LAYERS:
        out[labels[LON]] = np.round(shapely.get_x(geoms), 7)
        out[labels[LAT]] = np.round(shapely.get_y(geoms), 7)
    elif coordinates in ("lonlat", "wkt"):
        out[labels[WKT]] = shapely.to_wkt(geoms, rounding_precision=7)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=gdf.index), crs=gdf.crs)


def display_records(frame: pd.DataFrame, layer: str) -> pd.DataFrame:
    """The stored columns of ``frame`` that are fields of ``layer`` under their Chinese labels, in template order:
    enum labels, 是/否, dates as datetime64 (a date column in GPKG/XLSX). No geometry; the input is not mutated.

    For a record layer (``RECORD_LAYERS``) this is the whole office view (re-importing it maps every column)."""
    specs = [s for s in LAYER_FIELDS[check_layer(layer)] if s.name not in GEOMETRY_FIELDS and s.name in frame]
    out = pd.DataFrame(index=frame.index)
    for spec in specs:
        column = frame[spec.name].astype(object)
        if spec.kind == "date":
            column = pd.to_datetime(frame[spec.name])
        elif spec.vocab is not None:
            labels = spec.vocab.labels()
            column = column.map(lambda v, lab=labels: lab.get(v, v))
        elif spec.kind == "bool":
            column = column.map(lambda v: None if v is None or v != v else ("是" if v else "否"))
        out[spec.label] = column
    return out


def merge_mapping(columns, layer: str, overrides: dict[str, str] | None) -> dict[str, str]:
    """The guessed mapping with the user's ``overrides`` on top.

    An override's target may be a field name or its Chinese label; an empty target or ``-``
    leaves the column out. A field taken by an override is dropped from the guessed columns.
    """
    mapping = guess_mapping(columns, layer)
    by_label = {s.label: s.name for s in LAYER_FIELDS[check_layer(layer)]}
    for col, target in (overrides or {}).items():
        target = by_label.get(str(target).strip(), str(target).strip())
        mapping = {c: f for c, f in mapping.items() if c != col and f != target}
        if target not in ("", "-"):
            mapping[col] = target
    return mapping
