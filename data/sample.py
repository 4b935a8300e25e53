"""The deterministic sample district: illustrative geometry and records built from public facts.

Facts (``data/divisions.csv``, NBS division codes via Vonng/adcode, CC BY 4.0, and the seed
article): the real names and 12-digit codes of the 10 sub-districts and 69 communities, the
approximate centres of 47 communities, 669,090 residents, about 35 km², grids of about 500
households with one full-time grid worker each, 246 renovated compounds and 321 under long-term
management, stations of every kind in every community. Everything else — boundaries, grids,
compounds, stations and dispute cases — is generated, and the same seed always gives the same,
byte-identical data (coordinates rounded to 7 decimals, no clock, no hash ordering).

``build_sample()`` returns GeoDataFrames in EPSG:4326 whose columns are exactly those of the
tables in :mod:`data.schema`, with the geometry column called ``geometry``. Enum columns hold the
English values of :mod:`geo.vocab`; date columns hold ``datetime.date`` or None; nullable columns
have object dtype holding None where empty.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data import sample_party
from data.schema import GEO_TABLES
from geo import tessellate as tess
from geo.settings import Settings
from geo.vocab import (
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    Level,
    RenovationStatus,
    RenovationType,
    StationKind,
)

DIVISIONS_CSV = Path(__file__).with_name("divisions.csv")
DEFAULT_SEED = Settings().sample_seed
AS_OF = date(2026, 11, 28)
DISTRICT_AREA_KM2 = 35.0
TOTAL_HOUSEHOLDS = 257_000
TOTAL_POPULATION = 669_090
GRID_HOUSEHOLDS = 500
DECIMALS = 7
TOWN_KIND = "镇"

STATUS_COUNTS = {
    RenovationStatus.MANAGED: 321,
    RenovationStatus.COMPLETED: 246,
    RenovationStatus.UNDER_WAY: 48,
    RenovationStatus.PLANNED: 62,
    RenovationStatus.NOT_PLANNED: 190,
}
"""How many compounds have each renovation status (246 and 321 are the published figures)."""

_STREAMS = ("geometry", "grids", "people", "compounds", "stations", "disputes", "history", "party")
"""One random stream per part; a new part is appended, so the parts before it stay byte-identical."""

# Roads (and lanes) of each sub-district, used for compound names and addresses.
ROADS = {
    "350102001000": ("鼓屏路", "五四路", "东大路", "中山路", "庆城路", "树兜路", "开元路", "观风亭街", "湖东路"),
    "350102002000": ("湖滨路", "西湖路", "梦山路", "北大路", "杨桥中路", "后县路", "达明路", "保定巷", "白马北路"),
    "350102003000": ("温泉路", "温泉支路", "五四路", "东大路", "湖东路", "汤门路", "琼东路", "金汤路", "河东路"),
    "350102004000": ("东街", "八一七北路", "杨桥东路", "津泰路", "旗汛口路", "竹林境", "大根路", "省府路"),
    "350102005000": ("南后街", "杨桥路", "通湖路", "光禄坊", "文儒坊", "安泰河沿", "灵响巷", "驿里巷", "白马中路"),
    "350102006000": ("乌山路", "道山路", "八一七中路", "吉庇路", "于山路", "法海路", "南门兜", "东街"),
    "350102007000": ("华林路", "屏山路", "琴亭路", "北江路", "湖头街", "北环中路", "五四北路", "思儿亭路", "龙峰路"),
    "350102008000": ("福新路", "五一北路", "古田路", "六一中路", "水部路", "莲宅路", "乐天泉路", "建华路", "闽都路"),
    "350102009000": ("铜盘路", "西二环北路", "屏西路", "左海路", "白龙路", "龙泉路", "湖前路", "凤仪路", "梅峰路", "天元路"),
    "350102100000": ("工业路", "西洪路", "洪山桥路", "凤湖路", "国光路", "象山路", "西二环中路", "杨桥西路",
                     "金牛山路", "洪甘路", "怡山路", "福屿路"),
}
"""Roads by sub-district code (illustrative; most are real roads of Gulou)."""

_SUFFIXES = ("新村", "小区", "宿舍", "大院", "花园", "公寓", "新苑", "里")
_SUFFIX_WEIGHTS = (0.22, 0.22, 0.14, 0.1, 0.1, 0.08, 0.07, 0.07)
_WORK_UNITS = (
    "省电力公司", "市自来水公司", "省邮电局", "福州一中", "省立医院", "协和医院", "市第二医院", "省粮食厅",
    "省水利厅", "省交通厅", "市建一公司", "市建二公司", "福州纺织厂", "福州机床厂", "福州电瓷厂", "市公交公司",
    "省气象局", "市煤气公司", "省新华书店", "工商银行", "人民银行", "市百货公司", "省二轻局", "福州大学",
    "省建筑设计院", "省机械厅", "市供销社", "福州铅笔厂", "市粮食局", "福州卷烟厂", "省地质局", "市园林局",
    "省农科院", "福州日报社", "省出版社", "市房管局", "福州三中", "市环卫处", "省外贸公司", "市水产公司",
)
_SURNAMES = "陈林黄郑王李张吴刘杨许蔡翁游何高周罗江郭叶卢谢魏薛"
_SURNAME_WEIGHTS = np.array([16, 14, 9, 7, 7, 6, 6, 5, 5, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1], float)
_GIVEN = "建华明国伟芳丽英秀玉兰红霞燕敏静婷晓雪梅志强军平文斌辉海涛宏宇凯杰浩鑫琳颖娟萍丹晨阳"

# Dispute summaries by category (short, plain).
SUMMARIES = {
    DisputeCategory.NEIGHBOUR: ("楼上噪音扰民引发争执", "楼道堆放杂物占用通道", "楼上卫生间渗水至楼下", "空调外机噪音及滴水",
                                "宠物犬吠扰邻", "装修施工时间争议"),
    DisputeCategory.PROPERTY_MGMT: ("楼道照明损坏无人维修", "小区停车位分配争议", "二次供水水箱清洗费用分摊",
                                    "化粪池堵塞清理费用争议", "电梯加装费用分摊", "公共区域卫生无人打扫", "物业费收取标准争议"),
    DisputeCategory.FAMILY: ("赡养老人费用分担", "夫妻感情不和家庭矛盾", "遗产继承房屋分割", "子女抚养费支付争议"),
    DisputeCategory.LABOUR: ("装修工人工资拖欠", "家政服务费用纠纷", "店员工资结算争议", "临时用工工伤赔偿"),
    DisputeCategory.HOUSING_LAND: ("房屋租赁押金退还", "违章搭建占用公共通道", "房屋买卖过户纠纷", "公房承租权争议",
                                   "相邻采光通风争议"),
    DisputeCategory.OTHER: ("宠物伤人赔偿", "电动车充电安全隐患", "小额消费纠纷", "交通事故小额赔偿", "高空抛物"),
}


# ---------------------------------------------------------------------------------------------
# facts


def sample_as_of() -> date:
    """The fixed date the sample event stream ends (the sample's 'today')."""
    return AS_OF


def load_divisions(path: Path = DIVISIONS_CSV) -> pd.DataFrame:
    """The project's table of facts: code, name, level, parent_code, lon, lat (WGS84, NaN if unknown)."""
    return pd.read_csv(path, dtype={"code": str, "name": str, "level": str, "parent_code": str})


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent random generator per part of the sample, all derived from ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed 应为非负整数，收到 {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(_STREAMS, children)}


def _points(lon, lat) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=tess.WGS84)


# ---------------------------------------------------------------------------------------------
# geometry: outline, sub-districts, communities, grids


def _community_seeds(div: pd.DataFrame, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """Communities with a seed point each (published centre or placed) and the street regions.

    Street regions are the unions of the Voronoi cells of the published community centres within
    a generated outline; a community without a centre gets a farthest-point seed in its street's
    region. Returns (communities with geometry = seed, regions indexed by street code).
    """
    com = div[div.level == Level.COMMUNITY.value].rename(columns={"parent_code": "street_code"})
    com = com.sort_values("code").reset_index(drop=True)
    com["centre_known"] = com.lon.notna()
    known = com[com.centre_known]
    known_pts = _points(known.lon, known.lat).set_axis(known.index)
    outline = tess.district_outline(known_pts, DISTRICT_AREA_KM2)
    cells = tess.voronoi_cells(known_pts, outline)
    regions = cells.groupby(known.street_code.to_numpy()).agg(shapely.union_all)
    regions = gpd.GeoSeries(regions, crs=tess.WGS84)
    seeds = known_pts.reindex(com.index)
    for street, region in regions.items():
        missing = com.index[(com.street_code == street) & ~com.centre_known]
        if len(missing):
            siblings = known_pts[known.street_code == street]
            placed = tess.place_seeds(gpd.GeoSeries([region], crs=tess.WGS84), siblings, len(missing), rng)
            seeds.loc[missing] = placed.to_numpy()
    return gpd.GeoDataFrame(com.drop(columns=["lon", "lat", "level"]), geometry=seeds, crs=tess.WGS84), regions


def _community_cells(seeds: gpd.GeoDataFrame, regions: gpd.GeoSeries) -> gpd.GeoSeries:
    """Community polygons: Voronoi cells of each street's community seeds within its region."""
    parts = []
    for street, region in regions.items():
        mine = seeds[seeds.street_code == street]
        parts.append(tess.voronoi_cells(mine.geometry, gpd.GeoSeries([region], crs=tess.WGS84)))
    return pd.concat(parts).sort_index()


def _grid_counts(areas_km2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Grids per community: about TOTAL_HOUSEHOLDS / GRID_HOUSEHOLDS in all, at least 3 each,
    more in larger communities (weight area^0.35 with some noise)."""
    total = round(TOTAL_HOUSEHOLDS / GRID_HOUSEHOLDS)
    weights = areas_km2**0.35 * rng.lognormal(0.0, 0.2, len(areas_km2))
    return np.maximum(3, _largest_remainder(weights, total))


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (ties by position)."""
    raw = np.asarray(weights, float) / np.sum(weights) * total
    out = np.floor(raw).astype(int)
    order = np.argsort(-(raw - out), kind="stable")
    out[order[: total - out.sum()]] += 1
    return out


def _grid_polygons(cells: gpd.GeoSeries, counts: np.ndarray, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Split every community cell into its number of grids; codes and names in reading order."""
    rows, geoms = [], []
    for (code, cell), n in zip(cells.items(), counts):
        parts = tess.split_equal_area(gpd.GeoSeries([cell], crs=tess.WGS84), int(n), rng)
        for k, part in enumerate(parts, start=1):
            rows.append({"code": f"{code}{k:03d}", "name": f"{Level.GRID.label}{k:02d}", "community_code": code})
            geoms.append(part)
    grids = gpd.GeoDataFrame(rows, geometry=geoms, crs=tess.WGS84)
    grids["street_code"] = grids.community_code.str[:9] + "000"
    return grids


def _geometry(div: pd.DataFrame, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """Streets, communities and grids whose polygons tile the generated district exactly."""
    seeds, regions = _community_seeds(div, rng)
    cells = _community_cells(seeds, regions)
    areas = cells.to_crs(tess.METRIC_CRS).area.to_numpy() / 1e6
    grids = _grid_polygons(cells.set_axis(seeds.code), _grid_counts(areas, rng), rng)
    grids = grids.set_geometry(tess.snap_tiling(grids).to_numpy())
    com_geom = tess.dissolve_exact(grids, grids.community_code)
    communities = gpd.GeoDataFrame(seeds.drop(columns="geometry"), geometry=com_geom.loc[seeds.code].to_numpy(),
                                   crs=tess.WGS84)
    street_geom = tess.dissolve_exact(communities, communities.street_code)
    streets = div[div.level == Level.STREET.value].sort_values("code").reset_index(drop=True)
    streets["kind"] = np.where(streets.name.str.endswith(TOWN_KIND), TOWN_KIND, Level.STREET.label)
    streets = gpd.GeoDataFrame(streets[["code", "name", "kind"]], geometry=street_geom.loc[streets.code].to_numpy(),
                               crs=tess.WGS84)
    return {"streets": streets, "communities": communities, "grids": grids}



# ---------------------------------------------------------------------------------------------
# grids: households, population, grid workers

OUTLIER_GRIDS = (6, 5)
"""How many grids are far over (≥ 650 households) and far under (≤ 350) the standard."""
VACANT_GRIDS = 9
"""How many grids have no full-time grid worker."""


def _spread(total: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` integers differing by at most 1 that sum to ``total`` (the +1s at random places)."""
    base, rest = divmod(int(total), n)
    out = np.full(n, base)
    out[rng.permutation(n)[:rest]] += 1
    return out


def _grid_households(n: int, rng: np.random.Generator) -> np.ndarray:
    """Households per grid: about 500 (400–620), a handful far off, summing to TOTAL_HOUSEHOLDS."""
    hh = np.clip(np.rint(rng.normal(GRID_HOUSEHOLDS, 35, n)), 400, 600).astype(int)
    picks = rng.choice(n, size=sum(OUTLIER_GRIDS), replace=False)
    over, under = picks[: OUTLIER_GRIDS[0]], picks[OUTLIER_GRIDS[0]:]
    hh[over] = rng.integers(660, 790, len(over))
    hh[under] = rng.integers(240, 331, len(under))
    normal = np.setdiff1d(np.arange(n), picks)
    hh[normal] += _spread(TOTAL_HOUSEHOLDS - hh.sum(), len(normal), rng)
    return hh


def _person_names(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct plausible Chinese personal names (surname + one or two characters)."""
    p = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        surname = _SURNAMES[rng.choice(len(_SURNAMES), p=p)]
        size = 2 if rng.random() < 0.75 else 1
        name = surname + "".join(_GIVEN[i] for i in rng.choice(len(_GIVEN), size=size))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _grid_people(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Grids with households, population (summing to TOTAL_POPULATION), worker and assistants."""
    n = len(grids)
    out = grids.copy()
    out["households"] = _grid_households(n, rng)
    com_idx = pd.factorize(out.community_code, sort=True)[0]
    ratio = rng.normal(2.6, 0.12, com_idx.max() + 1)[com_idx] * rng.normal(1.0, 0.04, n)
    out["population"] = _largest_remainder(out.households.to_numpy() * ratio, TOTAL_POPULATION)
    workers: list[str | None] = list(_person_names(n, rng))
    for i in rng.choice(n, size=VACANT_GRIDS, replace=False):
        workers[i] = None
    out["worker"] = pd.Series(workers, index=out.index, dtype=object)
    out["assistants"] = rng.choice(4, size=n, p=[0.15, 0.4, 0.3, 0.15])
    return out


# ---------------------------------------------------------------------------------------------
# staffing history (grid_workers) and station opening dates

RECENT_LEAVERS = 3
"""Vacant grids whose worker left within the last four weeks before AS_OF (still staffed a month earlier)."""
EARLIER_LEAVERS = 2
"""Vacant grids whose worker left five to eight weeks before AS_OF."""
REFILLED = 1
"""Staffed grids vacant from five to eight weeks before AS_OF until a new worker started in the last three."""
HISTORY_START = date(2016, 1, 1)
"""The earliest start of a current worker; a worker who started after HANDOVER_FROM took over from a predecessor."""
HANDOVER_FROM = date(2019, 1, 1)
STATIONS_OPENED = (date(2012, 1, 1), date(2025, 6, 30))
"""Range of the sample stations' opening dates (启用日期)."""


def _masked_phones(n: int, rng: np.random.Generator) -> list[str]:
    """Mobile numbers with the middle four digits masked (``138****2046``): plainly sample data, nobody's number."""
    second, third, last = rng.integers(3, 10, n), rng.integers(0, 10, n), rng.integers(0, 10_000, n)
    return [f"1{a}{b}****{c:04d}" for a, b, c in zip(second, third, last)]


def _leaving_days(vacant: np.ndarray, rng: np.random.Generator) -> dict[int, int]:
    """Grid index -> ordinal day its last worker left, for every vacant grid (see RECENT_LEAVERS …)."""
    end = AS_OF.toordinal()
    order = rng.permutation(vacant)
    ago = np.concatenate([rng.integers(3, 28, RECENT_LEAVERS), rng.integers(35, 59, EARLIER_LEAVERS),
                          rng.integers(100, 401, len(order) - RECENT_LEAVERS - EARLIER_LEAVERS)])
    return {int(g): end - int(a) for g, a in zip(order, ago)}


def _period_rows(grids: gpd.GeoDataFrame, since: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """The grid_workers periods: each current worker's open one, and the predecessors' closed ones."""
    end = AS_OF.toordinal()
    staffed = grids.worker.notna().to_numpy()
    refilled = set(rng.choice(np.flatnonzero(staffed), size=REFILLED, replace=False).tolist())
    closed: dict[int, int] = _leaving_days(np.flatnonzero(~staffed), rng)  # grid -> day the predecessor left
    for g in np.flatnonzero(staffed):
        if g in refilled:
            since[g] = end - int(rng.integers(8, 21))
            closed[int(g)] = end - int(rng.integers(35, 59))
        elif since[g] >= HANDOVER_FROM.toordinal():
            closed[int(g)] = int(since[g])  # handed over on the day
    current = set(grids.worker.dropna())
    names = [x for x in _person_names(len(grids) + 2 * len(closed), rng) if x not in current][: len(closed)]
    phones = _masked_phones(len(closed), rng)
    codes = grids.code.to_numpy()
    rows = [{"grid_code": codes[g], "worker": name, "phone": phone,
             "started_on": date.fromordinal(left - int(rng.integers(400, 2500))), "ended_on": date.fromordinal(left)}
            for (g, left), name, phone in zip(sorted(closed.items()), names, phones)]
    for g in np.flatnonzero(staffed):
        rows.append({"grid_code": codes[g], "worker": grids.worker.iat[g], "phone": None,
                     "started_on": date.fromordinal(int(since[g])), "ended_on": None})
    return rows


def _staffing(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Grids with worker_phone and worker_since, and the ``grid_workers`` periods behind them.

    Every staffed grid has its open period; a worker who started after HANDOVER_FROM took over from a
    predecessor that day. Every vacant grid had a worker who left: RECENT_LEAVERS within four weeks of
    AS_OF, EARLIER_LEAVERS five to eight weeks before, the rest 100–400 days before; REFILLED staffed
    grids were vacant from five to eight weeks before AS_OF until their worker started in the last three.
    So a month before AS_OF VACANT_GRIDS − RECENT_LEAVERS + REFILLED grids were vacant. Phones are masked.
    """
    staffed = grids.worker.notna().to_numpy()
    since = rng.integers(HISTORY_START.toordinal(), AS_OF.toordinal() - 60, len(grids))
    rows = _period_rows(grids, since, rng)
    phones = _masked_phones(len(grids), rng)
    out = grids.copy()
    out["worker_phone"] = pd.Series([p if s else None for p, s in zip(phones, staffed)], index=out.index, dtype=object)
    out["worker_since"] = pd.Series([date.fromordinal(int(d)) if s else None for d, s in zip(since, staffed)],
                                    index=out.index, dtype=object)
    current = {c: p for c, p in zip(out.code, out.worker_phone)}
    for row in rows:
        if row["ended_on"] is None:
            row["phone"] = current[row["grid_code"]]
    periods = pd.DataFrame(rows, columns=["grid_code", "worker", "phone", "started_on", "ended_on"], dtype=object)
    return out, periods.sort_values(["grid_code", "started_on"], kind="stable").reset_index(drop=True)


def _station_dates(stations: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Stations with an opening date (启用日期) within STATIONS_OPENED; none is closed."""
    lo, hi = (d.toordinal() for d in STATIONS_OPENED)
    days = rng.integers(lo, hi + 1, len(stations))
    return stations.assign(opened_on=pd.Series([date.fromordinal(int(d)) for d in days], index=stations.index,
                                               dtype=object))


# ---------------------------------------------------------------------------------------------
# points inside grids


def _inner_polygons(polygons: gpd.GeoSeries, margin_m: float) -> np.ndarray:
    """Metric (EPSG:32650) polygons shrunk by ``margin_m`` metres (the original if that empties it)."""
    metric = polygons.to_crs(tess.METRIC_CRS).to_numpy()
    inner = shapely.buffer(metric, -margin_m)
    return np.where(shapely.is_empty(inner), metric, inner)


def _points_in(targets: np.ndarray, inner: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random metric point inside ``inner[t]`` for every target index t; (n, 2) metres."""
    xy = np.zeros((len(targets), 2))
    for t in np.unique(targets):
        rows = np.flatnonzero(targets == t)
        xy[rows] = tess.random_points_xy(inner[t], len(rows), rng)
    return xy


def _wgs84_points(xy: np.ndarray) -> np.ndarray:
    """Metric (EPSG:32650) coordinates as WGS84 points rounded to DECIMALS places."""
    series = gpd.GeoSeries(shapely.points(xy), crs=tess.METRIC_CRS).to_crs(tess.WGS84)
    return tess.round_coordinates(series.to_numpy(), DECIMALS)


def _address(street_code: str, rng: np.random.Generator) -> str:
    """A road-and-number address in the given sub-district."""
    roads = ROADS[street_code]
    return f"{roads[rng.integers(len(roads))]}{rng.integers(1, 300)}号"


# ---------------------------------------------------------------------------------------------
# old compounds (老旧小区)

_OLD_SHARE = {"350102009000": 0.6, "350102100000": 0.45}
"""Share of a grid's households living in old compounds, by sub-district (default 0.8)."""


def _compound_sizes(n: int, rng: np.random.Generator) -> np.ndarray:
    """Households of ``n`` compounds: log-normal, median 130, within 30–800."""
    return np.clip(np.rint(rng.lognormal(np.log(130), 0.7, n)), 30, 800).astype(int)


def _allocate(sizes: np.ndarray, capacity: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Put each compound into a grid with room for it (largest first, chance ∝ room left).

    Returns (grid index per compound, sizes — shrunk only where no grid had room).
    """
    room = capacity.astype(float)
    sizes = sizes.copy()
    where = np.zeros(len(sizes), int)
    for i in np.argsort(-sizes, kind="stable"):
        if room.max() < sizes[i]:
            sizes[i] = int(room.max())
        weight = np.where(room >= sizes[i], room, 0.0)
        g = rng.choice(len(room), p=weight / weight.sum())
        room[g] -= sizes[i]
        where[i] = g
    if sizes.min() < 30:
        raise RuntimeError("老旧小区户数分配失败：网格容量不足")
    return where, sizes


def _compound_name(street: str, used: set[str], rng: np.random.Generator) -> str:
    """A new compound name: road + 新村/小区/…, a work unit's 宿舍, or a numbered 大院."""
    roads = ROADS[street]
    for _ in range(60):
        road = roads[rng.integers(len(roads))]
        kind = rng.random()
        if kind < 0.6:
            stem = road[:-1] if road.endswith("路") and len(road) > 2 else road
            name = stem + _SUFFIXES[rng.choice(len(_SUFFIXES), p=_SUFFIX_WEIGHTS)]
        elif kind < 0.8:
            name = _WORK_UNITS[rng.integers(len(_WORK_UNITS))] + "宿舍"
        else:
            name = f"{road}{rng.integers(1, 260)}号大院"
        if name not in used:
            return name
    raise RuntimeError(f"无法为街道 {street} 生成不重复的小区名")


_STATUS_AGE_POWER = {
    RenovationStatus.MANAGED: 2.0,
    RenovationStatus.COMPLETED: 1.5,
    RenovationStatus.UNDER_WAY: 1.0,
    RenovationStatus.PLANNED: 1.0,
}
"""Older compounds were renovated first: chance of each status ∝ (2008 − built year) ** power."""
_PROPERTY_MGMT_SHARE = {
    RenovationStatus.MANAGED: 0.85,
    RenovationStatus.COMPLETED: 0.6,
    RenovationStatus.UNDER_WAY: 0.25,
    RenovationStatus.PLANNED: 0.2,
    RenovationStatus.NOT_PLANNED: 0.3,
}
"""Share of compounds with property management (物业), by renovation status."""
_PLAN_YEARS = {
    RenovationStatus.MANAGED: (2015, 2020),
    RenovationStatus.COMPLETED: (2021, 2025),
    RenovationStatus.UNDER_WAY: (2026, 2026),
    RenovationStatus.PLANNED: (2027, 2027),
}
_COST_PER_HOUSEHOLD_WAN = {RenovationType.BASIC: 0.9, RenovationType.IMPROVED: 1.3, RenovationType.ENHANCED: 1.9}
"""Renovation cost in 万元 per household, by renovation type (plus 25 万元 per compound)."""


def _renovation_status(built: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Status values with exactly STATUS_COUNTS of each; older compounds are further along."""
    status = np.full(len(built), RenovationStatus.NOT_PLANNED.value, dtype=object)
    free = np.ones(len(built), bool)
    age = (2008 - built).astype(float)
    for kind, power in _STATUS_AGE_POWER.items():
        idx = np.flatnonzero(free)
        weight = age[idx] ** power
        pick = rng.choice(idx, size=STATUS_COUNTS[kind], replace=False, p=weight / weight.sum())
        status[pick] = kind.value
        free[pick] = False
    return status


def _renovation_dates(status: str, rng: np.random.Generator) -> tuple[int | None, date | None, date | None]:
    """(plan year, started_on, completed_on) consistent with a renovation status."""
    kind = RenovationStatus(status)
    if kind not in _PLAN_YEARS:
        return None, None, None
    lo, hi = _PLAN_YEARS[kind]
    year = int(rng.integers(lo, hi + 1))
    if kind is RenovationStatus.PLANNED:
        return year, None, None
    started = date(year, 3, 1) + timedelta(days=int(rng.integers(0, 150 if kind is not RenovationStatus.UNDER_WAY else 240)))
    if kind is RenovationStatus.UNDER_WAY:
        return year, started, None
    return year, started, started + timedelta(days=int(rng.integers(120, 300)))


def _renovation(households: np.ndarray, built: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Renovation columns: status, reno_type, plan_year, budget_wan, dates, property management."""
    status = _renovation_status(built, rng)
    rows = []
    for hh, st in zip(households, status):
        year, started, completed = _renovation_dates(st, rng)
        kind = RenovationStatus(st)
        reno = budget = None
        if kind is not RenovationStatus.NOT_PLANNED:
            reno = list(RenovationType)[rng.choice(3, p=[0.55, 0.35, 0.1])]
            budget = round(25 + _COST_PER_HOUSEHOLD_WAN[reno] * hh * rng.uniform(0.85, 1.15), 1)
            reno = reno.value
        rows.append({"has_property_mgmt": bool(rng.random() < _PROPERTY_MGMT_SHARE[kind]), "status": st,
                     "reno_type": reno, "plan_year": year, "budget_wan": budget,
                     "started_on": started, "completed_on": completed})
    frame = pd.DataFrame(rows, dtype=object)
    return frame.astype({"has_property_mgmt": bool, "status": str})


def _compounds(grids: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Old compounds placed in grids with room for their households, codes by community."""
    n = sum(STATUS_COUNTS.values())
    share = grids.street_code.map(_OLD_SHARE).fillna(0.8).to_numpy()
    capacity = np.floor(grids.households.to_numpy() * np.minimum(0.95, share * rng.uniform(0.7, 1.15, len(grids))))
    where, sizes = _allocate(_compound_sizes(n, rng), capacity, rng)
    order = np.lexsort((np.arange(n), where))
    where, sizes = where[order], sizes[order]
    xy = _points_in(where, _inner_polygons(grids.geometry, 12.0), rng)
    g = grids.iloc[where].reset_index(drop=True)
    built = np.clip(np.rint(rng.normal(1989, 7, n)), 1962, 2004).astype(int)
    used: set[str] = set()
    names, addresses = [], []
    for street in g.street_code:
        names.append(_compound_name(street, used, rng))
        used.add(names[-1])
        addresses.append(_address(street, rng))
    seq = g.groupby("community_code").cumcount() + 1
    frame = pd.DataFrame({
        "code": g.community_code + "C" + seq.map("{:03d}".format), "name": names,
        "street_code": g.street_code, "community_code": g.community_code, "grid_code": g.code,
        "address": addresses, "built_year": built,
        "buildings": np.maximum(1, np.rint(sizes / rng.uniform(24, 48, n))).astype(int),
        "households": sizes,
    })
    frame = pd.concat([frame, _renovation(sizes, built, rng)], axis=1)
    frame["version"] = 1
    return gpd.GeoDataFrame(frame, geometry=_wgs84_points(xy), crs=tess.WGS84)


# ---------------------------------------------------------------------------------------------
# service stations

PER_COMMUNITY_KINDS = (
    StationKind.ELDERLY_HOME,
    StationKind.CHILDREN,
    StationKind.CULTURE,
    StationKind.VOLUNTEER,
    StationKind.GOV_SERVICE,
)
"""Station kinds every community has (一老一少一普, volunteers, government services)."""
PER_STREET_KINDS = (StationKind.ELDERLY_CENTRE, StationKind.PARTY)
"""Station kinds every sub-district has once (the elderly-care centre is five-star)."""
MEDIATION_SHARE = 0.6
"""Share of communities with their own people's mediation room (人民调解室)."""

_STATION_DETAILS = {
    StationKind.ELDERLY_HOME: ((20, 60), "08:30-17:30"),
    StationKind.ELDERLY_CENTRE: ((60, 150), "00:00-24:00"),
    StationKind.CHILDREN: ((30, 80), "08:30-20:00"),
    StationKind.CULTURE: ((50, 200), "09:00-21:00"),
    StationKind.VOLUNTEER: ((30, 120), "08:30-17:30"),
    StationKind.GOV_SERVICE: ((10, 30), "08:30-17:30"),
    StationKind.PARTY: ((50, 200), "08:30-21:00"),
    StationKind.MEDIATION: ((10, 20), "08:30-17:30"),
}
"""Capacity range (places) and opening hours by station kind."""


def _station_plan(communities: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row per station: kind, community it stands in, name, stars (no location yet)."""
    rows = []
    for code, name in zip(communities.code, communities.name):
        kinds = list(PER_COMMUNITY_KINDS)
        if rng.random() < MEDIATION_SHARE:
            kinds.append(StationKind.MEDIATION)
        rows += [{"kind": k.value, "community_code": code, "name": f"{name}{k.label}", "stars": None} for k in kinds]
    for code, name in zip(streets.code, streets.name):
        mine = communities.code[communities.street_code == code].to_numpy()
        for k in PER_STREET_KINDS:
            stars = 5 if k is StationKind.ELDERLY_CENTRE else None
            rows.append({"kind": k.value, "community_code": mine[rng.integers(len(mine))],
                         "name": f"{name}{k.label}", "stars": stars})
    return pd.DataFrame(rows, dtype=object)


def _stations(communities: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, grids: gpd.GeoDataFrame,
              rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Stations at random places in their community (not at its centre), so that some compounds
    lie beyond walking distance of some kinds of station."""
    plan = _station_plan(communities, streets, rng)
    plan = plan.sort_values("community_code", kind="stable").reset_index(drop=True)
    area = grids.to_crs(tess.METRIC_CRS).area.to_numpy()
    grid_idx = np.zeros(len(plan), int)
    for i, code in enumerate(plan.community_code):
        mine = np.flatnonzero(grids.community_code.to_numpy() == code)
        grid_idx[i] = mine[rng.choice(len(mine), p=area[mine] / area[mine].sum())]
    xy = _points_in(grid_idx, _inner_polygons(grids.geometry, 15.0), rng)
    seq = plan.groupby("community_code").cumcount() + 1
    frame = pd.DataFrame({
        "code": plan.community_code + "S" + seq.map("{:03d}".format), "name": plan.name,
        "kind": plan.kind, "street_code": plan.community_code.str[:9] + "000",
        "community_code": plan.community_code, "grid_code": grids.code.to_numpy()[grid_idx],
        "address": [_address(c[:9] + "000", rng) for c in plan.community_code],
        "capacity": [int(rng.integers(*_STATION_DETAILS[StationKind(k)][0])) for k in plan.kind],
        "opening_hours": [_STATION_DETAILS[StationKind(k)][1] for k in plan.kind], "stars": plan.stars,
    })
    return gpd.GeoDataFrame(frame, geometry=_wgs84_points(xy), crs=tess.WGS84)


# ---------------------------------------------------------------------------------------------
# disputes (矛盾纠纷)

DISPUTE_DAYS = 730
"""Length of the dispute stream in days, ending at AS_OF."""
DAILY_CASES = 8.3
"""Mean number of cases a day (about 3,000 a year)."""
STUCK_CASES = 32
"""Cases older than the overdue limit that are still open."""
HOTSPOTS = 6
"""Addresses with a run of repeated cases (3 or more within a year)."""

_CATEGORY_P = {
    "street": (0.30, 0.14, 0.16, 0.10, 0.14, 0.16),
    "managed": (0.34, 0.12, 0.15, 0.08, 0.15, 0.16),
    "unmanaged": (0.28, 0.32, 0.12, 0.06, 0.11, 0.11),
}
"""Chance of each DisputeCategory (in declaration order) by place: on a street, in a compound with
property management, in one without (where shared-facility quarrels are more common)."""
_SOURCE_P = (0.42, 0.22, 0.31, 0.05)
"""Chance of each DisputeSource, in declaration order."""
_OUTCOME_P = ((DisputeStatus.RESOLVED, 0.93), (DisputeStatus.FAILED, 0.04), (DisputeStatus.TRANSFERRED, 0.03))
"""Outcome of a closed case."""


def _report_days(rng: np.random.Generator) -> np.ndarray:
    """Ordinal report dates of all cases: Poisson per day, mildly seasonal (summer peak),
    fewer at weekends."""
    days = np.arange(AS_OF.toordinal() - DISPUTE_DAYS + 1, AS_OF.toordinal() + 1)
    dates = [date.fromordinal(int(d)) for d in days]
    doy = np.array([d.timetuple().tm_yday for d in dates])
    weekend = np.array([d.weekday() >= 5 for d in dates])
    lam = DAILY_CASES * (1 + 0.15 * np.cos(2 * np.pi * (doy - 196) / 365.25)) * np.where(weekend, 0.8, 1.08)
    return np.repeat(days, rng.poisson(lam))


def _places(grids: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where cases happen: every compound (weight = its households) and the rest of every grid
    (weight = households not in compounds), so cases are proportional to households."""
    in_compounds = compounds.groupby("grid_code").households.sum()
    rest = grids.households.to_numpy() - grids.code.map(in_compounds).fillna(0).to_numpy()
    grid_pos = pd.Series(np.arange(len(grids)), index=grids.code.to_numpy())
    kind = np.where(compounds.has_property_mgmt.to_numpy(bool), "managed", "unmanaged")
    return pd.DataFrame({
        "grid": np.concatenate([grid_pos.loc[compounds.grid_code].to_numpy(), np.arange(len(grids))]),
        "compound": np.concatenate([np.arange(len(compounds)), np.full(len(grids), -1)]),
        "weight": np.concatenate([compounds.households.to_numpy(), rest]).astype(float),
        "kind": np.concatenate([kind, np.full(len(grids), "street")]),
    })


def _pick(p_table: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF choice: row i of ``p_table`` (probabilities) picked by uniform ``u[i]``."""
    cdf = np.cumsum(p_table, axis=1)
    return np.minimum((u[:, None] > cdf).sum(axis=1), p_table.shape[1] - 1)


def _lifecycle(reported: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(status values, closed ordinal or -1): mediation takes a log-normal number of days
    (median 7); cases not finished by AS_OF are open; a few old cases are stuck open."""
    n = len(reported)
    closed = reported + np.minimum(90, np.ceil(rng.lognormal(np.log(7), 0.75, n))).astype(int)
    outcomes = np.array([s.value for s, _ in _OUTCOME_P], dtype=object)
    status = outcomes[_pick(np.tile([p for _, p in _OUTCOME_P], (n, 1)), rng.random(n))]
    age = AS_OF.toordinal() - reported
    old = np.flatnonzero((age > 31) & (age < 400))
    stuck = rng.choice(old, size=min(STUCK_CASES, len(old)), replace=False)
    closed[stuck] = AS_OF.toordinal() + 1
    is_open = closed > AS_OF.toordinal()
    fresh = age <= 2
    status[is_open & fresh] = DisputeStatus.RECEIVED.value
    status[is_open & ~fresh] = DisputeStatus.MEDIATING.value
    status[stuck[: len(stuck) // 5]] = DisputeStatus.RECEIVED.value
    return status, np.where(is_open, -1, closed)


def _hotspot_cases(places: pd.DataFrame, compounds: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Runs of 3–5 cases at one building unit of a compound without property management,
    all within a year (repeat addresses the dashboard should flag)."""
    rows = places[places.kind == "unmanaged"]
    chosen = rows.iloc[np.sort(rng.choice(len(rows), size=HOTSPOTS, replace=False))]
    out = []
    for row in chosen.itertuples():
        start = AS_OF.toordinal() - int(rng.integers(60, DISPUTE_DAYS - 30))
        days = np.sort(start + rng.integers(0, min(300, AS_OF.toordinal() - start), int(rng.integers(3, 6))))
        building = int(rng.integers(1, compounds.buildings.iloc[row.compound] + 1))
        unit = int(rng.integers(1, 4))
        out += [{"grid": row.grid, "compound": row.compound, "kind": row.kind, "reported": d,
                 "building": building, "unit": unit} for d in days]
    return pd.DataFrame(out)


def _case_table(grids: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Cases with place (grid, compound or -1, kind), report ordinal and building/unit (0 = any),
    sorted by report date."""
    reported = _report_days(rng)
    places = _places(grids, compounds)
    weight = places.weight.to_numpy()
    cases = places.iloc[rng.choice(len(places), size=len(reported), p=weight / weight.sum())]
    cases = cases.drop(columns="weight").reset_index(drop=True).assign(reported=reported, building=0, unit=0)
    cases = pd.concat([cases, _hotspot_cases(places, compounds, rng)], ignore_index=True)
    return cases.sort_values("reported", kind="stable").reset_index(drop=True)


def _case_addresses(cases: pd.DataFrame, grids: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
                    rng: np.random.Generator) -> list[str]:
    """Compound name + building/unit for cases in a compound, road + number otherwise."""
    streets = grids.street_code.to_numpy()
    names, buildings = compounds.name.to_numpy(), compounds.buildings.to_numpy()
    out = []
    for grid, compound, building, unit in zip(cases.grid, cases.compound, cases.building, cases.unit):
        if compound < 0:
            out.append(_address(streets[grid], rng))
            continue
        building = building or int(rng.integers(1, buildings[compound] + 1))
        unit = unit or int(rng.integers(1, 4))
        out.append(f"{names[compound]}{building}座{unit}单元")
    return out


def _summaries(category: np.ndarray, rng: np.random.Generator) -> list[str]:
    """A short summary for each case, from the templates of its category."""
    texts = {c.value: SUMMARIES[c] for c in DisputeCategory}
    picks = rng.random(len(category))
    return [texts[c][int(u * len(texts[c]))] for c, u in zip(category, picks)]


def _case_geometry(cases: pd.DataFrame, grids: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame,
                   rng: np.random.Generator) -> np.ndarray:
    """At the compound's point for compound cases, a random point in the grid otherwise."""
    geoms = compounds.geometry.to_numpy()[np.maximum(cases.compound.to_numpy(), 0)].copy()
    street = np.flatnonzero(cases.compound.to_numpy() < 0)
    xy = _points_in(cases.grid.to_numpy()[street], _inner_polygons(grids.geometry, 10.0), rng)
    geoms[street] = _wgs84_points(xy)
    return geoms


def _disputes(grids: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Two years of dispute cases ending at AS_OF; codes JF + 2-digit year + 5-digit number."""
    cases = _case_table(grids, compounds, rng)
    n = len(cases)
    categories = np.array([c.value for c in DisputeCategory], dtype=object)
    category = categories[_pick(np.array([_CATEGORY_P[k] for k in cases.kind]), rng.random(n))]
    sources = np.array([s.value for s in DisputeSource], dtype=object)
    source = sources[_pick(np.tile(_SOURCE_P, (n, 1)), rng.random(n))]
    status, closed = _lifecycle(cases.reported.to_numpy(), rng)
    years = np.array([date.fromordinal(int(d)).year for d in cases.reported])
    seq = pd.Series(years).groupby(years).cumcount().to_numpy() + 1
    g = grids.iloc[cases.grid.to_numpy()]
    codes = compounds.code.to_numpy(dtype=object)
    frame = pd.DataFrame({
        "code": [f"JF{y % 100:02d}{s:05d}" for y, s in zip(years, seq)],
        "category": category, "source": source, "status": status,
        "reported_on": [date.fromordinal(int(d)) for d in cases.reported],
        "closed_on": pd.Series([date.fromordinal(int(d)) if d > 0 else None for d in closed], dtype=object),
        "street_code": g.street_code.to_numpy(), "community_code": g.community_code.to_numpy(),
        "grid_code": g.code.to_numpy(),
        "compound_code": pd.Series(np.where(cases.compound >= 0, codes[cases.compound], None), dtype=object),
        "address": _case_addresses(cases, grids, compounds, rng),
        "summary": _summaries(category, rng),
    })
    return gpd.GeoDataFrame(frame, geometry=_case_geometry(cases, grids, compounds, rng), crs=tess.WGS84)


# ---------------------------------------------------------------------------------------------
# the sample


def _columns(table: str) -> list[str]:
    """Column names of a schema table, with ``geom`` called ``geometry``."""
    return ["geometry" if c.name == "geom" else c.name for c in GEO_TABLES[table].columns]


def build_sample(seed: int = DEFAULT_SEED, *, with_history: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """The whole sample district: streets, communities, grids, compounds, stations, disputes.

    Each value is a GeoDataFrame in EPSG:4326 with exactly the columns of the table of the same
    name in :mod:`data.schema` (geometry column ``geometry``). The same ``seed`` always gives
    byte-identical frames. ``with_history`` adds ``grid_workers``: a plain DataFrame of the grid workers'
    periods (grid_code, worker, phone, started_on, ended_on; no id, the database numbers them), and the
    party-building record tables of :mod:`data.sample_party` (party_orgs, volunteer_teams, consultation_days,
    community_resources: plain DataFrames with their tables' columns).
    """
    rng = _streams(seed)
    frames = _geometry(load_divisions(), rng["geometry"])
    frames["grids"] = _grid_people(frames["grids"], rng["grids"])
    frames["compounds"] = _compounds(frames["grids"], rng["compounds"])
    frames["stations"] = _stations(frames["communities"], frames["streets"], frames["grids"], rng["stations"])
    frames["disputes"] = _disputes(frames["grids"], frames["compounds"], rng["disputes"])
    frames["grids"], periods = _staffing(frames["grids"], rng["history"])
    frames["stations"] = _station_dates(frames["stations"], rng["history"])
    frames["stations"]["model_level"] = sample_party.model_levels(frames["stations"], rng["party"])
    out = {name: _with_defaults(frames[name], name)[_columns(name)].reset_index(drop=True) for name in GEO_TABLES}
    if not with_history:
        return out
    return {**out, "grid_workers": periods, **sample_party.party_records(out, AS_OF, rng["party"], _person_names)}


def _with_defaults(frame: gpd.GeoDataFrame, table: str) -> gpd.GeoDataFrame:
    """``frame`` with the table's columns the generator does not fill: row version 1, the rest empty."""
    missing = [c for c in GEO_TABLES[table].columns if c.name != "geom" and c.name not in frame.columns]
    return frame.assign(**{c.name: 1 if c.name == "version" else pd.Series(None, index=frame.index, dtype=object)
                           for c in missing})
