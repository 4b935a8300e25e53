"""Renovation planning for old compounds (老旧小区改造): a transparent priority score and a budgeted batch.

Candidates
    Compounds not yet being renovated: status 未纳入计划 (``not_planned``) and 已纳入计划 (``planned``).
    Planned compounds stay candidates because work has not started and their plan year can still
    move; 施工中, 已完工 and 长效管理 never are.

Factors (raw value → normalised to 0–1 by dividing by the largest raw value among the candidates,
0 when that largest value is 0; an unknown raw value, e.g. no built year, counts as 0)
    ``age`` 房龄: ``as_of.year − built_year`` in years (never below 0);
    ``households`` 户数: households in the compound;
    ``no_property_mgmt`` 无物业: 1 without property management (物业), else 0;
    ``pm_disputes`` 物业纠纷: 物业纠纷 cases reported in the 12 months up to ``as_of`` (both ends
    included) within ``radius_m`` metres of the compound;
    ``coverage_gap`` 服务覆盖缺口: 1 when no 居家养老服务站 lies within ``walk_m`` metres, else 0.
    Dividing by the maximum keeps 0 meaning "none" and points proportional (twice the households,
    twice the points); the yes/no factors stay 0/1.

Score
    ``points_f = 100 × weight_f / Σ weights × normalised_f`` and ``score = Σ points_f`` (0–100).
    Weights are relative: only their shares matter. Each factor's raw value, normalised value,
    weight share and points are columns of the scored frame, so every score can be explained.

Budget rule
    A compound's cost is its ``budget_wan`` (万元) when that is a positive number. Otherwise it is
    estimated at the 基础类 rate: ``25 万元 + 0.9 万元 × households`` (``budget_estimated`` is True).
    A compound without a positive household count cannot be costed and is left out of plans
    (``Plan.excluded``).

Objectives (what a batch maximises, ``OBJECTIVES``)
    ``score``: the sum of the chosen compounds' priority scores — favours many small compounds, since
    each compound's score is at most 100 whatever its size; ``households``: households improved;
    ``score_households``: Σ score × households (priority points per household, summed over households).
    Every objective is solved as the same exact 0/1 knapsack; only the value of each compound changes.

Distances are straight lines in UTM zone 50N (EPSG:32650); inputs are WGS84/CGCS2000 GeoDataFrames
and are never mutated.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from geo.briefing import Thresholds, year_elapsed, year_plan
from geo.crs import metric_crs, require_crs
from geo.errors import GuloError
from geo.nearby import check_metres, in_days, nearest_distance, pairs_within, require_columns, twelve_months_before
from geo.vocab import DisputeCategory, RenovationStatus, StationKind

CANDIDATE_STATUSES = (RenovationStatus.NOT_PLANNED, RenovationStatus.PLANNED)
FACTORS = ("age", "households", "no_property_mgmt", "pm_disputes", "coverage_gap")
FACTOR_LABELS = {"age": "房龄", "households": "户数", "no_property_mgmt": "无物业",
                 "pm_disputes": DisputeCategory.PROPERTY_MGMT.label, "coverage_gap": "服务覆盖缺口"}
FACTOR_UNITS = {"age": "年", "households": "户", "no_property_mgmt": "", "pm_disputes": "件", "coverage_gap": ""}
SCORE_SCALE = 100.0
FIXED_COST_WAN = 25.0
"""Estimated cost of a compound without a budget: fixed part, 万元."""
COST_PER_HOUSEHOLD_WAN = 0.9
"""Estimated cost of a compound without a budget: per household, 万元 (基础类 rate)."""
METHODS = {"milp": "整数规划（精确最优）", "greedy": "贪心（按每万元得分）"}
"""Planning methods and their Chinese names."""
OBJECTIVES = {"score": "总优先级得分最大", "households": "受益户数最多", "score_households": "优先级×户数最大"}
"""What a batch maximises (plan_batch ``objective``) and its Chinese name."""
OBJECTIVE_NOTES = {
    "score": "各小区优先级得分（0–100，与小区大小无关）之和最大：同样的钱倾向于多个小型小区。",
    "households": "受益户数之和最大：倾向于每万元户数多的小区，不看优先级得分。",
    "score_households": "得分 × 户数之和最大：每户按所在小区的优先级计分，兼顾紧迫程度与受益户数。",
}
"""One line per objective saying what it favours (shown beside the choice)."""
HOUSEHOLD_BANDS = ((0, 100), (100, 200), (200, 500), (500, math.inf))
"""Households per compound bands of ``size_distribution`` (lower bound included, upper excluded)."""
MILP_TIME_LIMIT_S = 10.0
_TOL_WAN = 1e-6
COMPOUND_COLUMNS = ("code", "street_code", "status", "built_year", "households", "has_property_mgmt", "budget_wan")


@dataclass(frozen=True)
class PriorityWeights:
    """Relative weights of the priority factors (any non-negative numbers, not all 0).

    ``labels`` gives each factor's Chinese name; ``shares()`` the weights scaled to sum to 1.
    """

    age: float = 0.3
    households: float = 0.25
    no_property_mgmt: float = 0.2
    pm_disputes: float = 0.15
    coverage_gap: float = 0.1
    labels: ClassVar[dict[str, str]] = FACTOR_LABELS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(value) or value < 0:
                raise GuloError(f"“{FACTOR_LABELS[f.name]}”的权重应为不小于 0 的数，实为 {value!r}")
        if sum(self.as_dict().values()) <= 0:
            raise GuloError("各因素权重不能全为 0：至少一个因素的权重应大于 0")

    def as_dict(self) -> dict[str, float]:
        """Factor → weight, in FACTORS order."""
        return {k: float(v) for k, v in asdict(self).items()}

    def shares(self) -> dict[str, float]:
        """Factor → weight / sum of weights (sums to 1)."""
        w = self.as_dict()
        total = sum(w.values())
        return {k: v / total for k, v in w.items()}

    def with_weight(self, factor: str, value: float) -> PriorityWeights:
        """A copy with one factor's weight changed; GuloError naming the factors if unknown."""
        if factor not in FACTORS:
            raise GuloError(f"未知的因素“{factor}”，可选：{'、'.join(FACTORS)}")
        return replace(self, **{factor: value})


# ---------------------------------------------------------------------------------------------- scoring


def estimated_budget_wan(households: pd.Series) -> pd.Series:
    """The budget rule's estimate in 万元: 25 + 0.9 × households (NaN without positive households)."""
    hh = pd.to_numeric(households, errors="coerce").astype(float)
    return (FIXED_COST_WAN + COST_PER_HOUSEHOLD_WAN * hh).where(hh > 0)


def with_budget(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``budget_wan`` numeric (declared if positive, else estimated) and ``budget_estimated``
    (True where estimated, here or in an earlier pass)."""
    out = frame.copy()
    declared = pd.to_numeric(out["budget_wan"], errors="coerce").astype(float)
    usable = declared > 0
    out["budget_wan"] = declared.where(usable, estimated_budget_wan(out["households"]))
    before = out["budget_estimated"].fillna(False).astype(bool) if "budget_estimated" in out else False
    out["budget_estimated"] = (~usable & out["budget_wan"].notna()) | before
    return out


def _check_score_args(compounds, stations, disputes, weights, as_of, radius_m, walk_m) -> None:
    """Every argument of score_compounds, checked before any work (CRS, columns, numbers)."""
    for frame, name in ((compounds, "老旧小区"), (stations, "服务站点"), (disputes, "矛盾纠纷")):
        require_crs(frame, name)
    require_columns(compounds, COMPOUND_COLUMNS, "老旧小区")
    require_columns(stations, ["kind"], "服务站点")
    require_columns(disputes, ["category", "reported_on"], "矛盾纠纷")
    if not isinstance(weights, PriorityWeights):
        raise GuloError(f"权重应为 PriorityWeights，实为 {type(weights).__name__}")
    if not isinstance(as_of, date):
        raise GuloError(f"评估日期应为日期，实为 {as_of!r}")
    check_metres(radius_m, "纠纷统计半径")
    check_metres(walk_m, "步行距离")


def _raw_factors(cand: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, disputes: gpd.GeoDataFrame,
                 as_of: date, radius_m: float, walk_m: float) -> pd.DataFrame:
    """Raw factor values of the candidates (positional rows) and the distance to the nearest elderly station."""
    metric = cand.to_crs(metric_crs())
    elderly = stations[stations["kind"] == StationKind.ELDERLY_HOME.value].to_crs(metric_crs())
    nearest = nearest_distance(metric, elderly)
    recent = in_days(disputes["reported_on"], twelve_months_before(as_of), as_of)
    pm = disputes[(recent & (disputes["category"] == DisputeCategory.PROPERTY_MGMT.value)).to_numpy()]
    pairs = pairs_within(metric, pm.to_crs(metric_crs()), radius_m)
    counts = np.bincount(pairs["left"].to_numpy(int), minlength=len(cand))
    built = pd.to_numeric(cand["built_year"], errors="coerce").to_numpy(float)
    return pd.DataFrame({
        "age": np.maximum(as_of.year - built, 0.0),
        "households": pd.to_numeric(cand["households"], errors="coerce").to_numpy(float),
        "no_property_mgmt": cand["has_property_mgmt"].map({True: 0.0, False: 1.0}).to_numpy(float),
        "pm_disputes": counts.astype(float),
        "coverage_gap": ~(nearest <= walk_m),
        "nearest_elderly_home_m": nearest,
    }).astype(float)


def _score_columns(raw: pd.DataFrame, weights: PriorityWeights) -> pd.DataFrame:
    """Per factor: raw, normalised (÷ candidate maximum), weight share, points; and the total score."""
    shares = weights.shares()
    cols: dict[str, np.ndarray] = {}
    for f in FACTORS:
        values = raw[f].to_numpy(float)
        top = np.nanmax(values) if np.isfinite(values).any() else 0.0
        norm = np.nan_to_num(values / top) if top > 0 else np.zeros(len(values))
        cols |= {f"{f}_raw": values, f"{f}_norm": norm, f"{f}_weight": np.full(len(values), shares[f]),
                 f"{f}_points": SCORE_SCALE * shares[f] * norm}
    out = pd.DataFrame(cols, index=raw.index)
    out["nearest_elderly_home_m"] = raw["nearest_elderly_home_m"]
    out["score"] = out[[f"{f}_points" for f in FACTORS]].sum(axis=1)
    return out


def score_compounds(compounds: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, disputes: gpd.GeoDataFrame,
                    weights: PriorityWeights, as_of: date, radius_m: float = 500.0,
                    walk_m: float = 500.0) -> gpd.GeoDataFrame:
    """Priority scores of the candidate compounds (未纳入计划 and 已纳入计划), highest first.

    Frames in EPSG:4326/4490; ``radius_m`` (物业纠纷 search radius) and ``walk_m`` (walking
    distance to a 居家养老服务站) in metres, measured in EPSG:32650; ``as_of`` ends the 12-month
    dispute window and dates the age. Returns the candidates' rows (same CRS) with ``budget_wan``
    per the budget rule, ``budget_estimated``, per factor ``<f>_raw``, ``<f>_norm``, ``<f>_weight``
    (share) and ``<f>_points``, ``nearest_elderly_home_m``, ``score`` (0–100) and ``rank`` (1 = first);
    ties are broken by code. No candidates → an empty frame with those columns.
    """
    _check_score_args(compounds, stations, disputes, weights, as_of, radius_m, walk_m)
    keep = compounds["status"].isin([s.value for s in CANDIDATE_STATUSES]).to_numpy()
    cand = with_budget(compounds[keep]).reset_index(drop=True)
    scores = _score_columns(_raw_factors(cand, stations, disputes, as_of, radius_m, walk_m), weights)
    out = pd.concat([cand, scores], axis=1)
    out = out.sort_values(["score", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return gpd.GeoDataFrame(out, geometry=compounds.geometry.name, crs=compounds.crs)


def breakdown(scored: pd.DataFrame, code: str) -> pd.DataFrame:
    """How one compound's score was made: one row per factor with label, unit, raw, normalised,
    weight (share), points; the points sum to its ``score``. GuloError if ``code`` is not scored."""
    rows = scored[scored["code"] == code]
    if not len(rows):
        raise GuloError(f"候选小区中没有编码为“{code}”的小区")
    row = rows.iloc[0]
    return pd.DataFrame({
        "factor": list(FACTORS), "label": [FACTOR_LABELS[f] for f in FACTORS],
        "unit": [FACTOR_UNITS[f] for f in FACTORS],
        "raw": [row[f"{f}_raw"] for f in FACTORS], "normalised": [row[f"{f}_norm"] for f in FACTORS],
        "weight": [row[f"{f}_weight"] for f in FACTORS], "points": [row[f"{f}_points"] for f in FACTORS],
    })


# ---------------------------------------------------------------------------------------------- planning


@dataclass(frozen=True, eq=False)
class Plan:
    """A proposed batch: ``chosen`` rows of the scored frame (highest score first) and how they were found.

    ``method`` is a key of METHODS; ``proven_optimal`` is True only when the integer programme was
    solved to proven optimality; ``excluded`` lists codes that could not be costed (no budget and
    no households); ``objective`` is the key of OBJECTIVES that was maximised. Money is in 万元.
    """

    chosen: pd.DataFrame
    method: str
    proven_optimal: bool
    budget_wan: float
    street_caps: Mapping[str, float] = field(default_factory=dict)
    excluded: tuple[str, ...] = ()
    objective: str = "score"

    @property
    def compounds(self) -> int:
        return len(self.chosen)

    @property
    def households(self) -> int:
        return int(self.chosen["households"].sum()) if len(self.chosen) else 0

    @property
    def budget_used_wan(self) -> float:
        return float(self.chosen["budget_wan"].sum()) if len(self.chosen) else 0.0

    @property
    def total_score(self) -> float:
        return float(self.chosen["score"].sum()) if len(self.chosen) else 0.0

    @property
    def method_label(self) -> str:
        return METHODS[self.method]

    @property
    def total_value(self) -> float:
        """The objective's value of the batch (Σ score, Σ households or Σ score × households)."""
        return float(objective_values(self.chosen, self.objective).sum()) if len(self.chosen) else 0.0

    @property
    def mean_households(self) -> float:
        """Households per chosen compound on average; NaN for an empty batch."""
        return self.households / self.compounds if self.compounds else math.nan

    def totals(self) -> dict[str, float]:
        """compounds, households, budget_used_wan, budget_left_wan (万元, to 1 yuan), total_score."""
        used = round(self.budget_used_wan, 4)
        return {"compounds": self.compounds, "households": self.households, "budget_used_wan": used,
                "budget_left_wan": round(self.budget_wan - used, 4), "total_score": self.total_score}

    def by_street(self) -> pd.DataFrame:
        """Per sub-district (street_code): compounds, households and budget used of the batch, and its cap."""
        g = self.chosen.groupby("street_code")
        out = pd.DataFrame({"compounds": g.size(), "households": g["households"].sum(),
                            "budget_used_wan": g["budget_wan"].sum()})
        out["cap_wan"] = out.index.map(lambda s: self.street_caps.get(s, np.nan))
        return out


def _check_budget(budget_wan: float, what: str = "预算") -> float:
    if isinstance(budget_wan, bool) or not isinstance(budget_wan, (int, float, np.integer, np.floating)) \
            or not math.isfinite(budget_wan) or budget_wan < 0:
        raise GuloError(f"{what}应为不小于 0 的金额（万元），实为 {budget_wan!r}")
    return float(budget_wan)


def objective_values(items: pd.DataFrame, objective: str) -> np.ndarray:
    """Each row's value under ``objective`` (a key of OBJECTIVES); unknown households count as 0."""
    score = pd.to_numeric(items["score"], errors="coerce").fillna(0.0).to_numpy(float)
    households = pd.to_numeric(items["households"], errors="coerce").fillna(0.0).to_numpy(float)
    return {"score": score, "households": households, "score_households": score * households}[objective]


def _check_plan_args(scored: pd.DataFrame, budget_wan, street_caps, method: str,
                     objective: str = "score") -> dict[str, float]:
    """Validated arguments of plan_batch; returns the caps as floats."""
    if objective not in OBJECTIVES:
        raise GuloError(f"未知的规划目标“{objective}”，可选：{'、'.join(f'{k}（{v}）' for k, v in OBJECTIVES.items())}")
    if method not in METHODS:
        raise GuloError(f"未知的规划方法“{method}”，可选：{'、'.join(f'{k}（{v}）' for k, v in METHODS.items())}")
    _check_budget(budget_wan)
    require_columns(scored, ["code", "street_code", "households", "budget_wan", "score"], "候选小区评分表")
    if street_caps is not None and not isinstance(street_caps, Mapping):
        raise GuloError("街道预算上限应为“街道代码 → 万元”的映射")
    caps = {str(k): _check_budget(v, f"街道 {k} 的预算上限") for k, v in (street_caps or {}).items()}
    scores = pd.to_numeric(scored["score"], errors="coerce")
    if len(scores) and not ((scores >= 0) & np.isfinite(scores)).all():
        raise GuloError("评分表中的得分应为不小于 0 的有限数；请使用 score_compounds 的结果")
    return caps


def _priced(scored: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """(rows with a positive cost per the budget rule, codes of rows that cannot be costed)."""
    costed = with_budget(scored)
    ok = costed["budget_wan"].notna().to_numpy()
    return costed[ok].reset_index(drop=True), tuple(costed.loc[~ok, "code"].astype(str))


def _constraints(items: pd.DataFrame, budget_wan: float, caps: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """(A, upper): row 0 is the total budget, then one row per capped sub-district among the items."""
    cost = items["budget_wan"].to_numpy(float)
    streets = items["street_code"].astype(str).to_numpy()
    rows, upper = [cost], [budget_wan]
    for street, cap in caps.items():
        mine = streets == street
        if mine.any():
            rows.append(np.where(mine, cost, 0.0))
            upper.append(cap)
    return np.vstack(rows), np.array(upper)


def _feasible(a: np.ndarray, upper: np.ndarray, pick: np.ndarray) -> bool:
    return bool(np.all(a @ pick.astype(float) <= upper + _TOL_WAN))


def _greedy(items: pd.DataFrame, value: np.ndarray, a: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Take compounds by value per 万元 (then value, then code) while they fit every constraint."""
    ratio = value / items["budget_wan"].to_numpy(float)
    order = np.lexsort((items["code"].astype(str).to_numpy(), -value, -ratio))
    return _fill(order, np.zeros(len(items), bool), a, upper)


def _fill(order: np.ndarray, pick: np.ndarray, a: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Add, in ``order``, every compound not yet picked that still fits (so no fundable one is left)."""
    pick = pick.copy()
    used = a @ pick.astype(float)
    for i in order:
        if not pick[i] and np.all(used + a[:, i] <= upper + _TOL_WAN):
            pick[i] = True
            used += a[:, i]
    return pick


def _milp(value: np.ndarray, a: np.ndarray, upper: np.ndarray, time_limit_s: float) -> tuple[np.ndarray, bool]:
    """Exact 0/1 knapsack with side constraints (scipy.optimize.milp, HiGHS, relative gap 0).

    HiGHS presolve is off: it printed a stray debug line on some instances and saved no time here.

    Returns (picked, proven optimal); (nothing, False) when no solution came back in time.
    """
    n = len(value)
    res = milp(c=-value, integrality=np.ones(n), bounds=Bounds(0, 1),
               constraints=LinearConstraint(a, -np.inf, upper),
               options={"time_limit": time_limit_s, "mip_rel_gap": 0.0, "presolve": False})
    if res.x is None:
        return np.zeros(n, bool), False
    pick = res.x > 0.5
    if not _feasible(a, upper, pick):
        return np.zeros(n, bool), False
    return pick, res.status == 0


def _choose(items: pd.DataFrame, value: np.ndarray, a: np.ndarray, upper: np.ndarray, method: str,
            time_limit_s: float) -> tuple[np.ndarray, bool]:
    """Picked compounds and whether proven optimal; the MILP result is never worse than greedy."""
    greedy = _greedy(items, value, a, upper)
    if method == "greedy":
        return greedy, False
    pick, optimal = _milp(value, a, upper, time_limit_s)
    if not optimal and value[greedy].sum() > value[pick].sum():
        return greedy, False
    by_value = np.lexsort((items["code"].astype(str).to_numpy(), -value))
    return _fill(by_value, pick, a, upper), optimal


def plan_batch(scored: pd.DataFrame, budget_wan: float, street_caps: Mapping[str, float] | None = None,
               method: str = "milp", time_limit_s: float = MILP_TIME_LIMIT_S, objective: str = "score") -> Plan:
    """Choose compounds of ``scored`` maximising ``objective`` within the budget.

    ``objective`` (OBJECTIVES): "score" the sum of priority scores, "households" the households
    improved, "score_households" Σ score × households.

    Constraints: total cost (budget rule) ≤ ``budget_wan`` 万元, and per sub-district
    ``street_caps[street_code]`` 万元 (streets without a cap are limited by the total only; caps
    for streets with no candidates are ignored). ``method`` "milp": exact 0/1 programme
    (scipy.optimize.milp); "greedy": by objective value per 万元. Either way no compound that still fits is
    left out. Budget 0 or no candidates → an empty plan. Arguments are checked first (GuloError).
    """
    caps = _check_plan_args(scored, budget_wan, street_caps, method, objective)
    items, excluded = _priced(scored)
    if budget_wan == 0 or not len(items):
        return Plan(items.iloc[0:0], method, method == "milp", float(budget_wan), caps, excluded, objective)
    a, upper = _constraints(items, float(budget_wan), caps)
    pick, optimal = _choose(items, objective_values(items, objective), a, upper, method, time_limit_s)
    chosen = items[pick].sort_values(["score", "code"], ascending=[False, True], kind="stable")
    return Plan(chosen.reset_index(drop=True), method, optimal, float(budget_wan), caps, excluded, objective)


def size_distribution(chosen: pd.DataFrame) -> pd.DataFrame:
    """Compounds and households of a batch per households-per-compound band (HOUSEHOLD_BANDS).

    One row per band, smallest first, with ``band`` (Chinese label, e.g. "100–199 户"), ``compounds``
    and ``households``; bands without compounds are kept with 0 so batches compare row by row.
    Compounds without a household count fall in no band.
    """
    households = pd.to_numeric(chosen["households"], errors="coerce") if len(chosen) else pd.Series(dtype=float)
    rows = []
    for low, high in HOUSEHOLD_BANDS:
        inside = households[(households >= low) & (households < high)]
        label = f"{low} 户及以上" if math.isinf(high) else f"{low}–{high - 1} 户" if low else f"{high} 户以下"
        rows.append({"band": label, "compounds": len(inside), "households": int(inside.sum())})
    return pd.DataFrame(rows, columns=["band", "compounds", "households"])


# ---------------------------------------------------------------------------------------------- years


def too_costly(scored: pd.DataFrame, annual_budget_wan: float) -> pd.DataFrame:
    """Candidates whose cost (budget rule) alone exceeds the annual budget: they can never be funded."""
    _check_budget(annual_budget_wan, "年度预算")
    items, _ = _priced(scored)
    return items[items["budget_wan"] > annual_budget_wan + _TOL_WAN].reset_index(drop=True)


def schedule(scored: pd.DataFrame, annual_budget_wan: float, method: str = "milp",
             objective: str = "score") -> pd.DataFrame | None:
    """Every costable candidate's renovation year (1 = first) when each year's batch is planned
    by priority (``plan_batch`` on what remains with ``objective``, scores kept as given) at this annual budget.

    Returns columns code, year, budget_wan, score; None when the budget is 0 or some compound
    costs more than the whole annual budget (see ``too_costly``) — then not everything can be done.
    """
    _check_budget(annual_budget_wan, "年度预算")
    remaining, _ = _priced(scored)
    if len(remaining) and (annual_budget_wan == 0 or len(too_costly(remaining, annual_budget_wan))):
        return None
    years = []
    year = 0
    while len(remaining):
        year += 1
        plan = plan_batch(remaining, annual_budget_wan, method=method, objective=objective)
        years.append(plan.chosen[["code", "budget_wan", "score"]].assign(year=year))
        remaining = remaining[~remaining["code"].isin(plan.chosen["code"])]
    cols = ["code", "year", "budget_wan", "score"]
    return pd.concat(years, ignore_index=True)[cols] if years else pd.DataFrame(columns=cols)


def years_to_finish(scored: pd.DataFrame, annual_budget_wan: float, method: str = "milp",
                    objective: str = "score") -> int | None:
    """Years until every remaining candidate is renovated at ``annual_budget_wan`` 万元 a year.

    0 when nothing remains; None when the budget is 0 or a single compound costs more than it
    (``too_costly`` names those), since then some compound is never done.
    """
    plan = schedule(scored, annual_budget_wan, method, objective)
    if plan is None:
        return None
    return int(plan["year"].max()) if len(plan) else 0


# ---------------------------------------------------------------------------------------------- this year's plan

DONE_STATUSES = (RenovationStatus.COMPLETED, RenovationStatus.MANAGED)
PROGRESS_COLUMNS = ["planned", "done", "done_share", "elapsed", "lagging"]


def year_plan_progress(compounds: pd.DataFrame, as_of: date, key: str,
                       lag: float = Thresholds().plan_lag) -> pd.DataFrame:
    """Per unit ``key`` with compounds of plan year ``as_of.year``: planned, done (已完工 or 长效管理),
    done_share (0–1), elapsed (share of the year passed at the end of ``as_of``, 0–1) and lagging —
    the overview's alert rule: done < planned and done_share < elapsed − ``lag``. Index: the unit codes;
    an empty frame with those columns when nothing is planned for the year."""
    require_columns(compounds, [key, "plan_year", "status"], "老旧小区")
    if not isinstance(as_of, date):
        raise GuloError(f"评估日期应为日期，实为 {as_of!r}")
    plan = year_plan(compounds, key, as_of.year)
    out = pd.DataFrame({"planned": plan["year_planned"], "done": plan["year_done"]}, index=plan.index)
    out["done_share"] = out["done"] / out["planned"]
    out["elapsed"] = year_elapsed(as_of)
    out["lagging"] = (out["done"] < out["planned"]) & (out["done_share"] < out["elapsed"] - lag)
    return out[PROGRESS_COLUMNS]


def lagging_compounds(compounds: pd.DataFrame, as_of: date, key: str,
                      lag: float = Thresholds().plan_lag) -> pd.DataFrame:
    """The compounds of ``as_of.year``'s plan that are not done yet, in the units whose plan lags
    (``year_plan_progress``); earliest lifecycle status first (not started before under way), then code.
    An empty frame with the input's columns when no unit lags."""
    progress = year_plan_progress(compounds, as_of, key, lag)
    behind = progress.index[progress["lagging"]]
    done = [s.value for s in DONE_STATUSES]
    keep = (compounds["plan_year"] == as_of.year) & ~compounds["status"].isin(done) & compounds[key].isin(behind)
    order = {s.value: i for i, s in enumerate(RenovationStatus)}
    out = compounds[keep.to_numpy()].assign(_o=lambda f: f["status"].map(order))
    return out.sort_values(["_o", "code"], kind="stable").drop(columns="_o")
