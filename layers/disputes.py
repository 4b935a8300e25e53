"""Disputes (矛盾纠纷): counted per unit at district/street level, individual cases when drilled in
for a viewer who may see case details.

Input: the ``disputes`` frame (EPSG:4326, Point; columns of ``data.schema.disputes``).

- District / street level: one proportional circle per community (district) or grid (street) with
  the number of cases, open cases and overdue cases in its tooltip. The HTML grows with the number
  of units, never with the number of cases. Circles sit on the unit's label point when ``units``
  (the communities or grids frame) is given, else on the mean position of its cases; their
  properties carry the unit ``code`` and ``name`` for drill-down.
- Community / grid level with ``case_details=True``: every case as a point in a MarkerCluster,
  coloured by status, with an escaped popup (address, summary). Open cases older than ``overdue_days``
  are overdue: larger, dark red with a black ring, drawn on top, and clusters holding one get a red ring.
- Without case details (the default; ``geo.access.may_see_case_details`` decides for the pages) the
  community and grid levels are counted per grid too: no point, address or summary reaches the map.
"""
from __future__ import annotations

from datetime import date

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.settings import Settings
from geo.vocab import (
    OPEN_DISPUTE_STATUSES,
    DisputeCategory,
    DisputeSource,
    DisputeStatus,
    Level,
)
from layers.aggregate import group_column, unit_places
from layers.common import (
    HeaderStyle,
    canonical_values,
    enum_members,
    esc,
    escaped_values,
    feature_group,
    label_of,
    point_coords,
    require_columns,
    round_coords,
    valid_rows,
)
from layers.features import FeatureLayer
from layers.spec import LayerSpec, as_level, check_options

LABEL = "矛盾纠纷"
OVERDUE_COLOR = "#b71c1c"
COUNT_COLOR = "#5c6bc0"
SUMMARY_CHARS = 80
MIN_RADIUS_PX, MAX_RADIUS_PX = 4, 16  # count circles: area grows with the number of cases
_DEFAULT_OVERDUE_DAYS = Settings().overdue_days
_COLUMNS = ["code", "category", "status", "reported_on", "street_code", "community_code", "grid_code"]
_OPTIONAL = ["source", "closed_on", "address", "summary"]
_HIGHLIGHT = {"weight": 3}
FIELDS = (DisputeStatus.title(), DisputeSource.title(), "受理日期", "结案日期", "地址", "概要", "编号")

_CLUSTER_ICON = """function (cluster) {
    var children = cluster.getAllChildMarkers(), overdue = 0;
    for (var i = 0; i < children.length; i++) {
        var f = children[i].feature;
        if (f && f.properties.overdue) { overdue++; }
    }
    return L.divIcon({html: "<div><span>" + children.length + "</span></div>", iconSize: new L.Point(40, 40),
        className: "marker-cluster gl-cluster" + (overdue ? " gl-overdue" : "")});
}"""
_CLUSTER_CSS = (  # neutral clusters, so their colour is not read as a status colour
    f".marker-cluster.gl-cluster {{ background-color: {COUNT_COLOR}55; }}\n"
    f".marker-cluster.gl-cluster div {{ background-color: {COUNT_COLOR}dd; color: #fff; }}\n"
    f".marker-cluster.gl-overdue div {{ box-shadow: 0 0 0 3px {OVERDUE_COLOR}; }}"
)


def overdue_mask(gdf: pd.DataFrame, today: date, overdue_days: int) -> pd.Series:
    """Boolean Series: open at ``today`` (see ``_is_open``) and reported more than ``overdue_days`` days before it."""
    age = (pd.Timestamp(today) - pd.to_datetime(gdf["reported_on"])).dt.days
    return _is_open(gdf, today) & (age > overdue_days)


def _is_open(gdf: pd.DataFrame, today: date) -> pd.Series:
    """Open at ``today``: no 办结日期 by then (``closed_on`` empty or later; a 调解成功 case awaiting 办结 is open).
    A frame without ``closed_on`` falls back to the status (受理/调解中)."""
    if "closed_on" in gdf.columns:
        closed = pd.to_datetime(gdf["closed_on"]).dt.normalize()
        return closed.isna() | (closed > pd.Timestamp(today))
    statuses = canonical_values(gdf["status"], DisputeStatus)
    return statuses.isin([s.value for s in OPEN_DISPUTE_STATUSES])


def _counts(gdf: gpd.GeoDataFrame, column: str, overdue: pd.Series, is_open: pd.Series) -> pd.DataFrame:
    """Per unit: cases, open cases, overdue cases and the mean lon/lat of the cases."""
    frame = pd.DataFrame({
        "unit": gdf[column].astype(str), "open": is_open, "overdue": overdue,
        "x": gdf.geometry.x, "y": gdf.geometry.y,
    })
    return frame.groupby("unit").agg(
        cases=("open", "size"), open=("open", "sum"), overdue=("overdue", "sum"), x=("x", "mean"), y=("y", "mean")
    )


def _aggregate_layer(gdf: gpd.GeoDataFrame, fg: folium.FeatureGroup, level: Level,
                     units: gpd.GeoDataFrame | None, overdue: pd.Series, today: date) -> None:
    """One count circle per community (district level) or grid (street level), or per unit of ``units``, into ``fg``."""
    counts = _counts(gdf, group_column(gdf, level, units), overdue, _is_open(gdf, today))
    places = unit_places(units)
    biggest = max(int(counts["cases"].max()), 1) if len(counts) else 1
    geoms, props = [], []
    for code, row in counts.iterrows():
        name, point = places.get(code, (code, shapely.Point(row["x"], row["y"])))
        n, n_open, n_overdue = int(row["cases"]), int(row["open"]), int(row["overdue"])
        style = {"color": OVERDUE_COLOR if n_overdue else "#ffffff", "weight": 3 if n_overdue else 1,
                 "opacity": 1, "fillColor": COUNT_COLOR, "fillOpacity": 0.5,
                 "radius": round(MIN_RADIUS_PX + (MAX_RADIUS_PX - MIN_RADIUS_PX) * (n / biggest) ** 0.5, 1)}
        tip = [esc(name), f"纠纷 {n} 件，未结 {n_open} 件，超期 {n_overdue} 件"]
        geoms.append(point)
        props.append({"code": code, "name": name, "cases": n, "overdue": n_overdue, "tip": tip, "style": style})
    fg.add_child(FeatureLayer(round_coords(np.asarray(geoms, dtype=object)), props, highlight=_HIGHLIGHT))


def _case_popup(row: dict, status, overdue: bool, age_days: int) -> list[str | None]:
    """Escaped values in the order of FIELDS."""
    summary = row.get("summary")
    if isinstance(summary, str) and len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS] + "…"
    return escaped_values([
        status.label + (f"（超期，已 {age_days} 天）" if overdue else ""),
        label_of(DisputeSource, row.get("source")), row["reported_on"], row.get("closed_on"),
        row.get("address"), summary, row["code"],
    ])


def _case_props(gdf: gpd.GeoDataFrame, overdue: pd.Series, ages: pd.Series) -> list[dict]:
    categories = enum_members(gdf["category"], DisputeCategory, LABEL)
    statuses = enum_members(gdf["status"], DisputeStatus, LABEL)
    cols = _COLUMNS + [c for c in _OPTIONAL if c in gdf.columns]
    props = []
    for row, cat, st, late, age in zip(gdf[cols].to_dict("records"), categories, statuses, overdue, ages):
        style = ({"color": "#000000", "weight": 2, "opacity": 1, "fillColor": OVERDUE_COLOR, "fillOpacity": 1,
                  "radius": 8} if late else
                 {"color": "#ffffff", "weight": 1, "opacity": 1, "fillColor": st.color, "fillOpacity": 0.9,
                  "radius": 5})
        tip = [esc(cat.label), esc(st.label) + ("，<b>超期</b>" if late else "")]
        props.append({"code": str(row["code"]), "overdue": bool(late), "tip": tip,
                      "popup": _case_popup(row, st, bool(late), int(age)), "style": style})
    return props


def _cases_layer(gdf: gpd.GeoDataFrame, fg: folium.FeatureGroup, overdue: pd.Series, today: date) -> None:
    ages = (pd.Timestamp(today) - pd.to_datetime(gdf["reported_on"])).dt.days
    order = np.argsort(overdue.to_numpy(), kind="stable")  # overdue last: drawn on top
    gdf, overdue, ages = gdf.iloc[order], overdue.iloc[order], ages.iloc[order]
    cases = FeatureLayer(point_coords(gdf), _case_props(gdf, overdue, ages), fields=FIELDS, highlight=_HIGHLIGHT)
    cluster = folium.plugins.MarkerCluster(control=False, icon_create_function=_CLUSTER_ICON,
                                           options={"disableClusteringAtZoom": 17, "maxClusterRadius": 50})
    cluster.add_child(cases)
    fg.add_child(HeaderStyle("dispute-cluster", _CLUSTER_CSS))
    fg.add_child(cluster)


def _counted(level: Level, case_details: bool) -> bool:
    """Whether the layer counts cases per unit (district/street level, or any level without case details)."""
    return level in (Level.DISTRICT, Level.STREET) or not case_details


def build(gdf: gpd.GeoDataFrame, *, level="district", today: date | None = None,
          overdue_days: int = _DEFAULT_OVERDUE_DAYS, units: gpd.GeoDataFrame | None = None,
          show: bool = True, case_details: bool = False, **options) -> folium.FeatureGroup:
    """Aggregated circles (district/street level, or any level without ``case_details``) or clustered
    cases (community/grid level with ``case_details``)."""
    check_options(options)
    require_columns(gdf, _COLUMNS, LABEL)
    gdf = valid_rows(gdf, LABEL)
    level = as_level(level)
    today = today or date.today()
    overdue = overdue_mask(gdf, today, overdue_days)
    fg = feature_group(LABEL, show)
    if _counted(level, case_details):
        _aggregate_layer(gdf, fg, level, units, overdue, today)
    elif len(gdf):
        _cases_layer(gdf, fg, overdue, today)
    return fg


def legend(gdf: gpd.GeoDataFrame | None = None, *, level="district", overdue_days: int = _DEFAULT_OVERDUE_DAYS,
           case_details: bool = False, today: date | None = None, **options) -> list[tuple[str, str]]:
    """Count circles and the overdue ring (counted), or statuses plus overdue (individual cases): with ``gdf``,
    only the statuses drawn and the overdue mark only when a case is overdue (nothing for no cases)."""
    check_options(options)
    overdue = (f"超期未结（>{overdue_days}天）", OVERDUE_COLOR)
    counted = _counted(as_level(level), case_details)
    if gdf is None:
        items = [("纠纷件数（圆越大越多）", COUNT_COLOR)] if counted else [(s.label, s.color) for s in DisputeStatus]
        return items + [overdue]
    if not len(gdf):
        return []
    present = set(gdf["status"])
    items = [("纠纷件数（圆越大越多）", COUNT_COLOR)] if counted else \
        [(s.label, s.color) for s in DisputeStatus if s.value in present]
    late = overdue_mask(gdf, today or date.today(), overdue_days).any()
    return items + ([overdue] if late else [])


def unit_marks(gdf: gpd.GeoDataFrame, *, level="district", case_details: bool = False, **options) -> bool:
    """Count circles per unit (on the unit's point) rather than cases."""
    return _counted(as_level(level), case_details)


SPEC = LayerSpec("disputes", LABEL, build, legend, shape="circle", unit_marks=unit_marks, frame_legend=True)
