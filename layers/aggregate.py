"""Records counted into units for a far-out view: one pie per unit instead of one mark per record.

At district and sub-district level a mark per record makes the map grow with the data (43,350 compounds
at 50× the sample are ~20 MB of map); one mark per unit keeps it to the size of the units.

- Units: the polygons of the ``units`` option (EPSG:4326; ``code``, ``name``). The dashboard passes the
  communities at district level (the sub-districts when there are very many communities, see
  ``dashboard.mapunits.MAX_UNIT_MARKS``) and the grids at sub-district level. Records are counted by
  their column whose codes are the units' codes (:func:`group_column`); without units, per community
  (district level) or grid (sub-district level).
- A unit's mark sits on its label point (inside its largest part); a code that is not among the units
  gets the mean position of its records and its code as name.
- A pie (:func:`pie_layer`) is a circle whose area grows with the unit's number of records
  (``MIN_RADIUS_PX``–``MAX_RADIUS_PX``), cut into slices coloured by category with the layer's own
  vocabulary colours, so the layer's legend is the pie's. Its tooltip: the unit's name, the total, and
  one line per category with its count (and weight, e.g. households). Its properties carry the unit's
  ``code`` and ``name`` (a click drills down), ``total`` and ``counts`` (aligned with the categories).

``MAX_POINTS`` = 1,000: layers that draw every record while they are few (service stations, grids)
count them per unit at district and sub-district level once their frame holds more than this many.
A drawn record costs about 300 bytes of map, so a layer of single marks stays under ~0.3 MB: the
sample's 404 stations and 514 grids are drawn one by one at every level, 50× the sample's 20,200
stations and 25,700 grids are counted at district level, and a sub-district (a few dozen of each)
shows its own one by one.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.rollup import category_counts
from geo.vocab import Level
from layers.common import esc, label_points, require_columns, round_coords, valid_rows
from layers.features import FeatureLayer, PieTable
from layers.spec import as_level

MAX_POINTS = 1_000
COUNTED_LEVELS = (Level.DISTRICT, Level.STREET)
UNIT_COLUMNS = ("street_code", "community_code", "grid_code")
MIN_RADIUS_PX, MAX_RADIUS_PX = 5, 13
PRECISION = 5  # decimal places of a mark's lon/lat
DODGE_PX = 12  # how far a pie moves off its unit's point when marks of several layers share it
UNIT_WORDS = {"street_code": "街道", "community_code": "社区", "grid_code": "网格"}


def counted(level: Level | str) -> bool:
    """Whether ``level`` is a far-out view (district or sub-district), where records are counted per unit."""
    return as_level(level) in COUNTED_LEVELS


def too_many(gdf: pd.DataFrame, level: Level | str) -> bool:
    """Whether a layer of single marks should count its records instead: far out and over ``MAX_POINTS``."""
    return counted(level) and len(gdf) > MAX_POINTS


def group_column(gdf: pd.DataFrame, level: Level | str, units: gpd.GeoDataFrame | None,
                 columns: Sequence[str] = UNIT_COLUMNS) -> str:
    """The code column (one of ``columns``) records are counted by: community (district level) or grid
    (other levels; the last of ``columns`` when grid is not among them), or, when ``units`` are given and
    are of another level (e.g. sub-districts), the column that holds their codes."""
    wanted = "community_code" if as_level(level) is Level.DISTRICT else "grid_code"
    default = wanted if wanted in columns else columns[-1]
    if units is None or not len(units) or "code" not in units:
        return default
    codes = set(units["code"].astype(str))
    for column in (default, *columns):
        if column in gdf and gdf[column].astype(str).isin(codes).any():
            return column
    return default


def unit_word(gdf: pd.DataFrame, level: Level | str, units: gpd.GeoDataFrame | None,
              columns: Sequence[str] = UNIT_COLUMNS) -> str:
    """What the records are counted per, in Chinese: 街道, 社区 or 网格 (for the legend's note)."""
    return UNIT_WORDS.get(group_column(gdf, level, units, columns), "单元")


def unit_places(units: gpd.GeoDataFrame | None) -> dict[str, tuple[str, shapely.Point]]:
    """{code: (name, label point)} of the units records are counted into."""
    if units is None or not len(units):
        return {}
    units = valid_rows(units, "统计单元")
    require_columns(units, ["code", "name"], "统计单元")
    points = label_points(units.geometry)
    return {str(c): (str(n), p) for c, n, p in zip(units["code"], units["name"], points)}


def mean_points(gdf: gpd.GeoDataFrame, column: str, codes: set[str]) -> dict[str, shapely.Point]:
    """{code: mean position of the records of that unit} for ``codes`` (points: themselves; polygons: a
    point inside each)."""
    rows = gdf[gdf[column].astype(str).isin(codes)]
    if not len(rows):
        return {}
    points = rows.geometry.representative_point()
    xy = pd.DataFrame({"unit": rows[column].astype(str).to_numpy(), "x": points.x.to_numpy(), "y": points.y.to_numpy()})
    means = xy.groupby("unit")[["x", "y"]].mean()
    return {code: shapely.Point(x, y) for code, x, y in means.itertuples()}


def radius_px(n: int, biggest: int) -> float:
    """Pie radius in pixels (half-pixel steps): its area grows with ``n`` up to ``biggest``."""
    share = math.sqrt(max(n, 0) / max(biggest, 1))
    return round(2 * (MIN_RADIUS_PX + (MAX_RADIUS_PX - MIN_RADIUS_PX) * share)) / 2


def pie_layer(gdf: gpd.GeoDataFrame, classes: Sequence[str], categories: Sequence[str], *, level: Level | str,
              units: gpd.GeoDataFrame | None, pie: PieTable, name: str, weight: str | None = None,
              columns: Sequence[str] = UNIT_COLUMNS) -> FeatureLayer:
    """One pie per unit of ``gdf`` (EPSG:4326; rows with a geometry), record i being of category ``classes[i]``.

    ``categories`` are the slices (aligned with ``pie``); ``weight`` is a numeric column summed per slice;
    ``columns`` are the code columns records may be counted by (:func:`group_column`); ``name`` names the
    layer in error messages. Positions keep 5 decimals (about 1 m): a unit's mark needs no more.
    """
    column = group_column(gdf, level, units, columns)
    require_columns(gdf, [column] + ([weight] if weight else []), name)
    frame = pd.DataFrame({column: gdf[column].astype(str).to_numpy(), "category": list(classes)})
    if weight:
        frame[weight] = gdf[weight].to_numpy()
    counts = category_counts(frame, column, "category", categories)
    weights = category_counts(frame, column, "category", categories, weight) if weight else None
    places = unit_places(units)
    spots = mean_points(gdf, column, set(counts.index) - set(places))
    biggest = int(counts.sum(axis=1).max()) if len(counts) else 1
    geoms, props = [], []
    for code, row in counts.iterrows():
        unit_name, point = places.get(code, (code, spots.get(code)))
        total = int(row.sum())
        prop = {"code": code, "name": unit_name, "total": total, "counts": [int(v) for v in row],
                "tip": [esc(unit_name)], "style": {"radius": radius_px(total, biggest)}}
        if weights is not None:
            prop["weights"] = [round(float(v)) for v in weights.loc[code]]
        geoms.append(point)
        props.append(prop)
    return FeatureLayer(round_coords(np.asarray(geoms, dtype=object), PRECISION), props, points="pie", pie=pie)
