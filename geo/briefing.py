"""The leaders' view of a scope: headline KPIs with change, per-theme rankings of the children, alerts.

Everything here is computed from the tables of ``geo.rollup`` (``indicators`` + ``with_ratios``, one
row per unit, indexed by unit code, with a ``name`` column); nothing is counted a second time. The
same objects feed the overview page, the big screen, the briefing PDF and the briefing workbook.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import geopandas as gpd
import pandas as pd

from geo import formatting as fmt
from geo.party import CONSULTATION_TARGET, PARTY_RATIOS, QUIET_MONTHS, STANDARD_LABELS, STANDARD_TEXT
from geo.rollup import RATIOS, Period
from geo.vocab import RenovationStatus, StationKind

COLUMN_LABELS = {
    "name": "名称",
    "households": "户数",
    "population": "常住人口",
    "grids": "网格",
    "vacancies": "网格员空缺",
    "compounds": "老旧小区",
    "renovated": "已改造",
    "year_planned": "本年度计划",
    "year_done": "本年度完工",
    "communities": "社区",
    "complete_communities": "完备社区",
    "stations": "服务站点",
    "disputes": "受理纠纷",
    "overdue": "超期未结",
    "covered_compounds": "已覆盖小区",
    "party_orgs": "党组织",
    "party_members": "党员",
    "volunteer_teams": "志愿服务队",
    "volunteers": "志愿者",
    "assisted_grids": "有协管员网格",
    "consultation_days": "恳谈日",
    "standards_ok": "达标社区",
    **RATIOS,
    **PARTY_RATIOS,
}
PERCENT_COLUMNS = frozenset({"vacancy_rate", "renovated_share", "success_rate", "station_completeness",
                             "org_coverage", "building_coverage", "assisted_share", "consultation_rate",
                             "issue_resolution", "standards_share"})
DECIMAL_COLUMNS = frozenset({"disputes_per_1000", "members_per_100", "teams_per_1000", "volunteers_per_1000"})
"""Shown with one decimal."""


# ---------------------------------------------------------------- headline KPIs


@dataclass(frozen=True)
class Kpi:
    """One headline figure: its value now and, where it moves with time, in the previous period.

    ``kind`` is ``count`` (integer), ``percent`` (a share 0–1), ``decimal`` (one decimal) or
    ``fraction`` (``value`` of ``of``); ``lower_is_better`` colours the change (more disputes = worse).
    """

    key: str
    label: str
    value: float | None
    previous: float | None = None
    kind: str = "count"
    of: float | None = None
    lower_is_better: bool = False
    help: str = ""
    change_suffix: str = "较上期"

    @property
    def text(self) -> str:
        """The figure as the page shows it: "12,345", "96.3%", "8.2", "69/69 个社区"; "—" when unknown."""
        return fmt.figure(self.value, self.kind, of=self.of, unit=self.unit)

    @property
    def unit(self) -> str:
        return {"complete_communities": "个社区", "standards_ok": "个社区", "year_done": "个小区"}.get(self.key, "")

    @property
    def change(self) -> float | None:
        """Value minus previous value (percent: in percentage points); None when there is no previous figure."""
        if _missing(self.value) or _missing(self.previous):
            return None
        diff = self.value - self.previous
        return diff * 100 if self.kind == "percent" else diff

    @property
    def change_text(self) -> str | None:
        """"+12 较上期", "-1.5 个百分点", "与上期持平" (no sign when it rounds to zero); None without a previous figure."""
        return fmt.change(self.change, self.kind, self.change_suffix)

    @property
    def direction(self) -> int:
        """+1 / -1 as the change is shown, 0 when level or unknown (drawn grey, without an arrow)."""
        return fmt.direction(self.change, self.kind)

    @property
    def help_text(self) -> str:
        """``help``, plus why the figure shows "—" when it is missing."""
        return fmt.help_with_reason(self.help, self.value,
                                    "no_closed" if self.key == "success_rate" else "no_denominator")


def _missing(x) -> bool:
    return fmt.is_missing(x)


def _num(s: pd.Series, key: str) -> float | None:
    v = s.get(key)
    return None if _missing(v) else float(v)


def headline_kpis(total: pd.Series, previous: pd.Series, period_label: str, overdue_days: int) -> list[Kpi]:
    """The ten headline figures of a scope (``total``/``previous``: one row of ``with_ratios``).

    Households, people, grids, stations and renovation do not move with the period; the dispute
    figures carry the previous period's value, the grid-worker vacancies those on the previous period's
    last day (``previous["vacancies"]``, from the workers' periods).
    """
    t, p = total, previous
    return [
        Kpi("households", "户数", _num(t, "households")),
        Kpi("population", "常住人口", _num(t, "population")),
        Kpi("grids", "网格", _num(t, "grids"), help="约 500 户一个网格，每格配一名专职网格员"),
        Kpi("vacancies", "网格员空缺", _num(t, "vacancies"), _num(p, "vacancies"), lower_is_better=True,
            change_suffix="较上期末", help="没有专职网格员的网格数；变化对比上期末当日的空缺（按网格员在岗记录计算）"),
        Kpi("complete_communities", "一老一少一普完备", _num(t, "complete_communities"), kind="fraction",
            of=_num(t, "communities"), help="同时设有居家养老服务站、少儿成长服务站、文化普及服务站的社区"),
        Kpi("renovated_share", "老旧小区改造完成率", _num(t, "renovated_share"), kind="percent",
            help="已完工与长效管理的小区占全部老旧小区的比例"),
        Kpi("disputes", f"{period_label}受理纠纷", _num(t, "disputes"), _num(p, "disputes"), lower_is_better=True),
        Kpi("success_rate", "调解成功率", _num(t, "success_rate"), _num(p, "success_rate"), kind="percent",
            help="期内办结案件中调解成功的比例（成功 ÷ (成功 + 不成)，转办不计）"),
        Kpi("overdue", "超期未结", _num(t, "overdue"), _num(p, "overdue"), lower_is_better=True,
            change_suffix="较上期末", help=f"截至期末仍在受理或调解中、且受理已超过 {overdue_days} 天的案件"),
        Kpi("disputes_per_1000", "每千户纠纷", _num(t, "disputes_per_1000"), _num(p, "disputes_per_1000"),
            kind="decimal", lower_is_better=True, help="期内受理纠纷数 ÷ 户数 × 1000"),
    ]


def party_kpis(total: pd.Series) -> list[Kpi]:
    """The 党建引领 figures of a scope (``total``: one row of ``with_ratios`` + ``geo.party.with_party_ratios``).
    They do not move with the period: consultation days count the 12 months before the data's month."""
    t = total
    return [
        Kpi("org_coverage", "小区党组织覆盖率", _num(t, "org_coverage"), kind="percent",
            help="有小区党组织（单独或联合设置）的老旧小区占全部小区的比例"),
        Kpi("building_coverage", "楼栋党小组覆盖率", _num(t, "building_coverage"), kind="percent",
            help="建有楼栋党小组的楼栋占全部楼栋的比例（一楼多小组按一栋计）"),
        Kpi("members_per_100", "每百户党员", _num(t, "members_per_100"), kind="decimal",
            help="社区党组织党员人数 ÷ 户数 × 100"),
        Kpi("volunteers_per_1000", "每千人志愿者", _num(t, "volunteers_per_1000"), kind="decimal",
            help="志愿服务队队员人数 ÷ 常住人口 × 1000（网格一级不单列）"),
        Kpi("assisted_share", "网格协管员配备率", _num(t, "assisted_share"), kind="percent",
            help="至少有一名网格协管员的网格占全部网格的比例"),
        Kpi("consultation_rate", "恳谈日开展率", _num(t, "consultation_rate"), kind="percent",
            help="近12个完整月份开展居民恳谈日次数 ÷（社区数 × 12）"),
        Kpi("standards_ok", "社区达标", _num(t, "standards_ok"), kind="fraction", of=_num(t, "communities"),
            help="工作经费不少于 50 万元、办公服务用房不少于 500 ㎡、一老一少一普站点齐全的社区"),
    ]


def plan_kpi(total: pd.Series, year: int) -> Kpi:
    """Compounds of this year's renovation plan that are finished, out of all in the plan."""
    return Kpi("year_done", f"{year}年改造计划完工", _num(total, "year_done"), kind="fraction",
               of=_num(total, "year_planned"), help=f"计划年度为 {year} 年的小区中已完工（含长效管理）的数量")


def kpi_frame(kpis: Sequence[Kpi]) -> pd.DataFrame:
    """The KPIs as a table: 指标, 本期 (as shown), 数值, 上期, 变化 (numbers as numbers)."""
    return pd.DataFrame({
        "指标": [k.label for k in kpis],
        "本期": [k.text for k in kpis],
        "数值": [k.value for k in kpis],
        "上期": [k.previous for k in kpis],
        "变化": [k.change_text or "" for k in kpis],
    })


# ---------------------------------------------------------------- themes and rankings


@dataclass(frozen=True)
class Theme:
    """A theme of the briefing: the columns its ranking shows and the indicator that ranks the units."""

    key: str
    label: str
    columns: tuple[str, ...]
    sort: str
    best_high: bool
    page: str  # url path of the page that explains it
    indicator: str  # the map's choropleth indicator for this theme


THEMES = (
    Theme("party", "党建引领", ("org_coverage", "members_per_100", "volunteers_per_1000", "consultation_rate",
                                "standards_share"),
          "org_coverage", True, "party", "org_coverage"),
    Theme("grids", "网格与力量", ("households", "grids", "households_per_grid", "vacancies", "vacancy_rate"),
          "vacancy_rate", False, "coverage", "vacancy_rate"),
    Theme("renovation", "老旧小区改造", ("compounds", "renovated", "renovated_share", "year_planned", "year_done"),
          "renovated_share", True, "renovation", "renovated_share"),
    Theme("coverage", "服务覆盖", ("communities", "complete_communities", "station_completeness", "stations"),
          "station_completeness", True, "coverage", "station_completeness"),
    Theme("disputes", "矛盾纠纷", ("disputes", "disputes_per_1000", "success_rate", "overdue"),
          "disputes_per_1000", False, "disputes", "disputes_per_1000"),
)
THEME_BY_KEY = {t.key: t for t in THEMES}


def year_plan(compounds: pd.DataFrame, key: str, year: int) -> pd.DataFrame:
    """Per unit ``key``: compounds with plan year ``year`` (``year_planned``) and how many are done (``year_done``).

    Done means 已完工 or 长效管理. Units without such compounds are absent (fill with 0 when joining).
    """
    cols = ["year_planned", "year_done"]
    if not len(compounds):
        return pd.DataFrame(columns=cols, dtype=int)
    this_year = compounds[compounds["plan_year"] == year]
    done = this_year["status"].isin([RenovationStatus.COMPLETED.value, RenovationStatus.MANAGED.value])
    out = pd.DataFrame({"year_planned": 1, "year_done": done.astype(int)}, index=this_year.index)
    return out.groupby(this_year[key]).sum().astype(int).rename_axis(key)


def theme_columns(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` plus the derived columns the themes show: ``renovated`` and ``stations``."""
    out = table.copy()
    out["renovated"] = out[RenovationStatus.COMPLETED.value] + out[RenovationStatus.MANAGED.value]
    out["stations"] = out[[k.value for k in StationKind if k.value in out]].sum(axis=1)
    for col in ("year_planned", "year_done"):
        if col not in out:
            out[col] = 0
    return out


def ranking(table: pd.DataFrame, theme: Theme) -> pd.DataFrame:
    """The units ranked by the theme's indicator, best first (rank 1); units without a value come last.

    Returns columns ``rank``, ``name`` and the theme's columns, indexed by unit code.
    """
    t = theme_columns(table)
    ranks = t[theme.sort].rank(ascending=not theme.best_high, method="min", na_option="bottom").astype(int)
    out = t[["name", *theme.columns]].assign(rank=ranks)[["rank", "name", *theme.columns]]
    return out.sort_values(["rank", "name"])


def cell_text(column: str, value) -> str:
    """A ranking value as shown: shares as "96.3%", households per grid "512", per 1,000 "2.4", counts "1,234"."""
    if column in PERCENT_COLUMNS:
        return fmt.percent(value)
    if column == "households_per_grid":
        return fmt.figure(value, "integer")
    if column in DECIMAL_COLUMNS:
        return fmt.decimal(value)
    if isinstance(value, str):
        return value
    return fmt.count(value) if fmt.is_missing(value) or float(value).is_integer() else str(value)


def labelled(frame: pd.DataFrame, as_text: bool = False) -> pd.DataFrame:
    """A ranking with Chinese column headers (排名, 名称, …); ``as_text`` formats every value as shown."""
    out = frame.reset_index(drop=True)
    if as_text:
        out = pd.DataFrame({c: [cell_text(c, v) if c != "name" else v for v in out[c]] for c in out.columns})
    return out.rename(columns={"rank": "排名", **COLUMN_LABELS})


# ---------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Thresholds:
    """When an alert is raised. ``plan_lag`` is how far (0–1) the share of this year's plan that is done
    may trail the share of the year that has passed."""

    overdue: int = 1
    vacancies: int = 1
    plan_lag: float = 0.25
    incomplete_communities: int = 1


ALERT_COLUMNS = ["theme", "code", "name", "message", "page", "weight"]


def year_elapsed(day: date) -> float:
    """Share of ``day``'s calendar year that has passed at the end of that day (0–1)."""
    start, end = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    return ((day - start).days + 1) / (end - start).days


def find_alerts(table: pd.DataFrame, as_of: date, th: Thresholds = Thresholds(),
                card: pd.DataFrame | None = None) -> pd.DataFrame:
    """The thresholds each unit of ``table`` crosses, one row per (theme, unit).

    Columns: theme (key of ``THEMES``), code, name, message (plain Chinese), page (where it is
    explained) and weight (how many cases/grids/compounds/communities, for ordering). Ordered by
    theme, heaviest first; an empty frame when nothing crosses a threshold. ``card``: the scope's
    communities (``geo.party.scorecard``) for the 党建引领 alerts (``party_alerts``).
    """
    t = theme_columns(table)
    elapsed = year_elapsed(as_of)
    rows = party_alerts(t, card)
    for code, r in t.iterrows():
        rows += _unit_alerts(str(code), r, as_of.year, elapsed, th)
    out = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    order = {th_.key: i for i, th_ in enumerate(THEMES)}
    out["_o"] = out["theme"].map(order)
    return out.sort_values(["_o", "weight", "code"], ascending=[True, False, True]).drop(columns="_o") \
        .reset_index(drop=True)


def _unit_alerts(code: str, r: pd.Series, year: int, elapsed: float, th: Thresholds) -> list[tuple]:
    name, out = r["name"], []
    if r["vacancies"] >= th.vacancies:
        out.append(("grids", code, name, f"{int(r['vacancies'])} 个网格没有专职网格员", "coverage", r["vacancies"]))
    planned, done = int(r["year_planned"]), int(r["year_done"])
    if done < planned and done / planned < elapsed - th.plan_lag:
        out.append(("renovation", code, name,
                    f"{year}年计划完工 {done}/{planned} 个小区，时间进度 {elapsed:.0%}", "renovation", planned - done))
    missing = int(r["communities"] - r["complete_communities"])
    if missing >= th.incomplete_communities:
        out.append(("coverage", code, name, f"{missing} 个社区未配齐一老一少一普站点", "coverage", missing))
    if r["overdue"] >= th.overdue:
        out.append(("disputes", code, name, f"超期未结纠纷 {int(r['overdue'])} 件", "disputes", r["overdue"]))
    return out


_COUNT_WORDS = {1: "一", 2: "两", 3: "三"}
QUIET_TEXT = f"已连续{_COUNT_WORDS.get(QUIET_MONTHS, QUIET_MONTHS)}个月未开展居民恳谈日"
NAMED_COMMUNITIES = 3  # a sub-district's alert names this many communities, then "等"


def party_alerts(table: pd.DataFrame, card: pd.DataFrame | None) -> list[tuple]:
    """党建引领 alerts: communities below a standard, and quiet ones (no consultation day for QUIET_MONTHS months).

    ``card`` is ``geo.party.scorecard`` of the scope's communities. When ``table``'s units are sub-districts,
    each sub-district gets one line per kind naming its communities ("2 个社区未达标：大根社区（工作经费）"); otherwise
    (communities, or the grids of one community) each community gets its own line with the figures."""
    if card is None or card.empty:
        return []
    codes = set(map(str, table.index))
    if codes & set(card["street_code"].astype(str)) and not codes & set(card.index.astype(str)):
        return [row for street, part in card.groupby(card["street_code"].astype(str)) if street in codes
                for row in _street_party(street, table.loc[street, "name"], part)]
    return [row for code, r in card.iterrows() for row in _community_party(str(code), r)]


def _community_party(code: str, r: pd.Series) -> list[tuple]:
    out = []
    if not r["all_ok"]:
        out.append(("party", code, r["name"], f"{r['missed']}{STANDARD_TEXT[False]}（{r['reasons']}）", "party",
                    len(r["missed"].split("、"))))
    if r["quiet"]:
        last = r["last_held_on"]
        when = "无记录" if pd.isna(last) else f"最近一次：{pd.Timestamp(last):%Y-%m-%d}"
        out.append(("party", code, r["name"], f"{QUIET_TEXT}（{when}）", "party", 1))
    return out


def _named(part: pd.DataFrame, detail: str | None = None) -> str:
    names = [f"{n}（{d}）" if detail else n for n, d in zip(part["name"], part[detail] if detail else part["name"])]
    more = "等" if len(names) > NAMED_COMMUNITIES else ""
    return "、".join(names[:NAMED_COMMUNITIES]) + more


def _street_party(code: str, name: str, part: pd.DataFrame) -> list[tuple]:
    out = []
    below = part[~part["all_ok"].astype(bool)]
    if len(below):
        out.append(("party", code, name, f"{len(below)} 个社区{STANDARD_TEXT[False]}：{_named(below, 'missed')}", "party",
                    len(below)))
    quiet = part[part["quiet"].astype(bool)]
    if len(quiet):
        out.append(("party", code, name, f"{len(quiet)} 个社区{QUIET_TEXT}：{_named(quiet)}", "party", len(quiet)))
    return out


def last_held_text(day) -> str:
    """A community's last consultation day as shown: "2026-08-15", or "无记录"."""
    return "无记录" if pd.isna(day) else f"{pd.Timestamp(day):%Y-%m-%d}"


def scorecard_table(card: pd.DataFrame) -> pd.DataFrame:
    """``geo.party.scorecard`` with Chinese headers and 达标 / 未达标 per standard (the workbook's 社区达标 sheet)."""
    if card.empty:
        return pd.DataFrame()
    flags = {f"{label}": card[col].map(lambda ok: STANDARD_TEXT[bool(ok)]) for col, label in STANDARD_LABELS.items()}
    return pd.DataFrame({
        "社区编码": card.index, "社区": card["name"], "工作经费（万元）": card["funds_wan"],
        "办公服务用房（㎡）": card["space_m2"], "社区工作者": card["staff"], "准入事项": card["access_tasks"], **flags,
        "综合": card["all_ok"].map(lambda ok: STANDARD_TEXT[bool(ok)]),
        f"恳谈日（近{CONSULTATION_TARGET}个月）": card["consultation_days"], "未开展月数": card["months_missed"],
        "最近一次恳谈日": card["last_held_on"].map(last_held_text), "情况": card["reasons"],
    }).reset_index(drop=True)


# ---------------------------------------------------------------- the briefing


@dataclass(frozen=True)
class Briefing:
    """Everything a briefing document holds, computed once for one scope and period.

    ``units`` are the child units (EPSG:4326) with ``code``, ``name``, ``value`` and ``fill`` (#rrggbb)
    for the map; ``legend`` the map's (class label, colour) pairs; ``rankings`` maps a theme key to its
    ``ranking`` (English column keys; ``labelled`` gives the Chinese headers); ``monthly`` is cases
    per month by category; ``alerts`` comes from ``find_alerts``; ``party_kpis`` are the 党建引领 figures
    (``party_kpis``) and ``card`` the scope's communities' standards (``geo.party.scorecard``); ``reference`` the
    reference features (roads, buildings, water; ``geo.reference_view.view_features``) drawn under the map's
    units, or None.
    """

    scope_code: str
    scope_name: str
    trail: str
    as_of: date
    period: Period
    period_label: str
    kpis: list[Kpi]
    units: gpd.GeoDataFrame
    indicator_label: str
    legend: list[tuple[str, str]]
    rankings: dict[str, pd.DataFrame]
    monthly: pd.DataFrame
    alerts: pd.DataFrame
    sample: bool
    source: str
    generated: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    party_kpis: list[Kpi] = field(default_factory=list)
    card: pd.DataFrame = field(default_factory=pd.DataFrame)
    reference: gpd.GeoDataFrame | None = None

    @property
    def title(self) -> str:
        return f"{self.scope_name}社区治理简报"

    def below_standard(self) -> pd.DataFrame:
        """The scope's communities below a standard: 社区, 未达标项, 情况 (the figures)."""
        if self.card.empty:
            return pd.DataFrame(columns=["社区", "未达标项", "情况"])
        low = self.card[~self.card["all_ok"].astype(bool)]
        return pd.DataFrame({"社区": low["name"], "未达标项": low["missed"], "情况": low["reasons"]}) \
            .reset_index(drop=True)

    def quiet(self) -> pd.DataFrame:
        """The scope's communities without a consultation day for QUIET_MONTHS months: 社区, 最近一次恳谈日."""
        if self.card.empty:
            return pd.DataFrame(columns=["社区", "最近一次恳谈日"])
        quiet = self.card[self.card["quiet"].astype(bool)]
        return pd.DataFrame({"社区": quiet["name"], "最近一次恳谈日": quiet["last_held_on"].map(last_held_text)}) \
            .reset_index(drop=True)

    def alert_table(self) -> pd.DataFrame:
        """The alerts with Chinese headers: 主题, 单位, 情况."""
        labels = {t.key: t.label for t in THEMES}
        return pd.DataFrame({"主题": self.alerts["theme"].map(labels), "单位": self.alerts["name"],
                             "情况": self.alerts["message"]})
