"""The domain vocabulary: every status, type, kind and category, with its Chinese label and colour.

This is the one place such words are spelled. Code stores and compares the enum *values*
(short English identifiers); the UI shows ``.label``; maps use ``.color``.
"""
from __future__ import annotations

from enum import Enum


class Vocab(str, Enum):
    """A string enum whose members carry a Chinese label and a display colour."""

    def __new__(cls, value: str, label: str, color: str = "#888888"):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        obj.color = color
        return obj

    @classmethod
    def from_label(cls, text: str) -> Vocab:
        """Member whose value or Chinese label equals ``text``; ValueError naming the allowed labels."""
        for m in cls:
            if text in (m.value, m.label):
                return m
        allowed = "、".join(m.label for m in cls)
        raise ValueError(f"“{text}”不是有效的{cls.title()}，可选：{allowed}")

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Mapping value -> Chinese label, in declaration order."""
        return {m.value: m.label for m in cls}

    @classmethod
    def colors(cls) -> dict[str, str]:
        """Mapping value -> colour, in declaration order."""
        return {m.value: m.color for m in cls}

    @classmethod
    def title(cls) -> str:
        return getattr(cls, "_title", cls.__name__)


class Level(Vocab):
    """Levels of the administrative hierarchy, top down."""

    DISTRICT = ("district", "区")
    STREET = ("street", "街道")
    COMMUNITY = ("community", "社区")
    GRID = ("grid", "网格")


class RenovationStatus(Vocab):
    """Lifecycle of an old compound's renovation (老旧小区改造), in order."""

    NOT_PLANNED = ("not_planned", "未纳入计划", "#9e9e9e")
    PLANNED = ("planned", "已纳入计划", "#1e88e5")
    UNDER_WAY = ("under_way", "施工中", "#fb8c00")
    COMPLETED = ("completed", "已完工", "#43a047")
    MANAGED = ("managed", "长效管理", "#00695c")


RenovationStatus._title = "改造状态"


class RenovationType(Vocab):
    """Scope of a renovation under the national scheme."""

    BASIC = ("basic", "基础类", "#90caf9")
    IMPROVED = ("improved", "完善类", "#42a5f5")
    ENHANCED = ("enhanced", "提升类", "#1565c0")


RenovationType._title = "改造类型"


class StationKind(Vocab):
    """Kinds of community service station."""

    ELDERLY_HOME = ("elderly_home", "居家养老服务站", "#e53935")
    ELDERLY_CENTRE = ("elderly_centre", "养老照料中心", "#b71c1c")
    CHILDREN = ("children", "少儿成长服务站", "#fdd835")
    CULTURE = ("culture", "文化普及服务站", "#8e24aa")
    VOLUNTEER = ("volunteer", "志愿服务站", "#43a047")
    GOV_SERVICE = ("gov_service", "政务服务受理点", "#1e88e5")
    PARTY = ("party", "党群服务中心", "#d81b60")
    MEDIATION = ("mediation", "人民调解室", "#6d4c41")


StationKind._title = "站点类型"

# 一老一少一普: the three kinds every community must have (elderly, children, general culture).
ONE_OLD_ONE_YOUNG_ONE_GENERAL = (StationKind.ELDERLY_HOME, StationKind.CHILDREN, StationKind.CULTURE)


class DisputeCategory(Vocab):
    """Categories of neighbourhood dispute (矛盾纠纷)."""

    NEIGHBOUR = ("neighbour", "邻里纠纷", "#5c6bc0")
    PROPERTY_MGMT = ("property_mgmt", "物业纠纷", "#ef6c00")
    FAMILY = ("family", "家庭婚姻纠纷", "#ec407a")
    LABOUR = ("labour", "劳动纠纷", "#26a69a")
    HOUSING_LAND = ("housing_land", "房屋土地纠纷", "#8d6e63")
    OTHER = ("other", "其他纠纷", "#78909c")


DisputeCategory._title = "纠纷类别"


class DisputeSource(Vocab):
    """How a dispute reached the office."""

    PATROL = ("patrol", "网格员巡查")
    VISIT = ("visit", "来访")
    HOTLINE = ("hotline", "12345热线")
    PETITION = ("petition", "信访")


DisputeSource._title = "来源"


class DisputeStatus(Vocab):
    """Lifecycle of a dispute case: 受理 → 调解中 → 调解成功 / 调解不成 / 转办."""

    RECEIVED = ("received", "受理", "#fb8c00")
    MEDIATING = ("mediating", "调解中", "#fdd835")
    RESOLVED = ("resolved", "调解成功", "#43a047")
    FAILED = ("failed", "调解不成", "#e53935")
    TRANSFERRED = ("transferred", "转办", "#8e24aa")


DisputeStatus._title = "办理状态"

OPEN_DISPUTE_STATUSES = (DisputeStatus.RECEIVED, DisputeStatus.MEDIATING)
CLOSED_DISPUTE_STATUSES = (DisputeStatus.RESOLVED, DisputeStatus.FAILED, DisputeStatus.TRANSFERRED)
"""Statuses before and after mediation ended. Whether a case is *open* is decided by its 办结日期 (closed_on
empty) alone: a 调解成功 case awaiting its 办结 step is still open (geo.case_lifecycle)."""


class CaseStep(Vocab):
    """The steps a dispute case is taken through after 受理 (geo.case_lifecycle.STEPS)."""

    MEDIATE = ("mediate", "开始调解", DisputeStatus.MEDIATING.color)
    RESOLVE = ("resolve", "记为" + DisputeStatus.RESOLVED.label, DisputeStatus.RESOLVED.color)
    FAIL = ("fail", "记为" + DisputeStatus.FAILED.label, DisputeStatus.FAILED.color)
    TRANSFER = ("transfer", DisputeStatus.TRANSFERRED.label, DisputeStatus.TRANSFERRED.color)
    CLOSE = ("close", "办结", "#546e7a")


CaseStep._title = "办理步骤"


class ClassifyMethod(Vocab):
    """How a choropleth's class breaks are chosen (geo.classify.class_breaks)."""

    QUANTILES = ("quantiles", "分位数")
    NATURAL_BREAKS = ("natural_breaks", "自然断点")
    EQUAL_INTERVAL = ("equal_interval", "等间距")


ClassifyMethod._title = "分级方法"


class ImportRowState(Vocab):
    """What confirming an import would do with one record of the file (the import preview map).

    Colours from the Okabe–Ito palette, told apart with any colour vision."""

    NEW = ("new", "新增", "#009e73")
    UPDATE = ("update", "更新", "#0072b2")
    PROBLEM = ("problem", "有问题", "#d55e00")


ImportRowState._title = "导入记录"

# Words used in several places of the UI and reports.
DISTRICT_NAME = "鼓楼区"
DISTRICT_CODE = "350102000000"
SAMPLE_NOTICE = "示例数据：社区、网格边界与各项记录均为按公开事实生成的示意数据，仅供演示，不代表真实情况。"


class Role(Vocab):
    """What an account may do (geo.access): every role reads the whole district; writes stop at its scope."""

    DISTRICT = ("district", "区级管理员", "#c62828")
    STREET = ("street", "街道办", "#1565c0")
    COMMUNITY = ("community", "社区/网格督导", "#2e7d32")


Role._title = "角色"


# ---------------------------------------------------------------- 党建引领: party building and self-governance


class PartyOrgLevel(Vocab):
    """Where a party organisation sits in the three-level network (社区、网格、居民小区) and below it."""

    COMMUNITY = ("community", "社区党组织", "#b71c1c")
    GRID = ("grid", "网格党组织", "#d84315")
    COMPOUND = ("compound", "小区党组织", "#ef6c00")
    BUILDING = ("building", "楼栋党小组", "#f9a825")


PartyOrgLevel._title = "组织层级"


class PartyOrgKind(Vocab):
    """The form of a party organisation."""

    COMMITTEE = ("committee", "党委")
    GENERAL_BRANCH = ("general_branch", "党总支")
    BRANCH = ("branch", "党支部")
    GROUP = ("group", "党小组")


PartyOrgKind._title = "组织类型"


class PartyOrgSetup(Vocab):
    """Set up for one unit alone, or jointly for several neighbouring ones (联合设置)."""

    SINGLE = ("single", "单独设置")
    JOINT = ("joint", "联合设置")


PartyOrgSetup._title = "设置方式"


class VolunteerTeamKind(Vocab):
    """What a volunteer team (志愿服务队) does."""

    PARTY_VANGUARD = ("party_vanguard", "党员先锋", "#c62828")
    ELDERLY = ("elderly", "为老服务", "#e53935")
    CHILDREN = ("children", "关爱少儿", "#fdd835")
    CIVILITY = ("civility", "文明宣传", "#8e24aa")
    SAFETY = ("safety", "平安巡防", "#1e88e5")
    ENVIRONMENT = ("environment", "环境卫生", "#43a047")
    LEGAL = ("legal", "法律调解", "#6d4c41")
    OTHER = ("other", "其他", "#78909c")


VolunteerTeamKind._title = "队伍类型"


class ModelLevel(Vocab):
    """Level of a model (示范) title: a model volunteer station (示范驿站) or model volunteer community."""

    PROVINCIAL = ("provincial", "省级示范", "#b71c1c")
    MUNICIPAL = ("municipal", "市级示范", "#ef6c00")


ModelLevel._title = "示范级别"


class PartyCoverage(Vocab):
    """How a residential compound is reached by the party network (the 党建引领 map): a compound-level
    organisation set up for it alone or jointly, with building party groups besides, or none."""

    BUILDINGS = ("buildings", "另设" + PartyOrgLevel.BUILDING.label, "#8e0000")
    SINGLE = ("single", PartyOrgSetup.SINGLE.label, "#e53935")
    JOINT = ("joint", PartyOrgSetup.JOINT.label, "#fb8c00")
    NONE = ("none", "未覆盖", "#90a4ae")


PartyCoverage._title = "小区党组织覆盖"


class GridAssistants(Vocab):
    """How many grid assistants (网格协管员, mostly retired residents) a grid has, for the 党建引领 map."""

    NONE = ("none", "无网格协管员", "#d32f2f")
    ONE = ("one", "协管员 1 人", "#a5d6a7")
    SEVERAL = ("several", "协管员 2 人及以上", "#2e7d32")


GridAssistants._title = "网格协管员"


class StandardState(Vocab):
    """Whether a community meets one of its standards (工作经费, 办公服务用房, 一老一少一普, 恳谈日)."""

    MET = ("met", "达标", "#2e7d32")
    UNMET = ("unmet", "未达标", "#c62828")


StandardState._title = "达标情况"


class ReferenceKind(Vocab):
    """Kind of a reference feature (参考图层) drawn as a light vector basemap under the overlays."""

    ROAD = ("road", "道路", "#b0a898")
    BUILDING = ("building", "建筑", "#d9d0c7")
    WATER = ("water", "水系", "#9cc3e0")
    PLACE = ("place", "地名", "#6b6b6b")


ReferenceKind._title = "参考图层"


class RoadClass(Vocab):
    """Class of a reference road (道路等级), read from its ``subtype`` (``geo.reference_view.road_class``);
    main classes first. Colours are light warm greys, a little darker for the main roads."""

    EXPRESS = ("express", "快速路", "#a39a8b")
    MAJOR = ("major", "主干路", "#aaa192")
    SECONDARY = ("secondary", "次干路", "#b3ab9e")
    MINOR = ("minor", "支路", "#bfb8ac")


RoadClass._title = "道路等级"
