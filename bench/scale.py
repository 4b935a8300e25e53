"""Scaled sample data: N copies of the sample district side by side, with unique codes.

``scaled_sample(1)`` is ``build_sample(seed)``; ``scaled_sample(n)`` holds exactly n times the
records of every table. Copy k (k ≥ 1) is shifted east by k district widths (plus a small gap) and
its codes get the district part ``3501`` + two digits (50 + k) instead of ``350102``, so lengths
and the prefix slicing of the hierarchy still hold; dispute codes get the same two digits after
``JF``.
"""
from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data.sample import DEFAULT_SEED, build_sample

DISTRICT_PREFIX = "350102"
GAP_DEG = 0.005
MAX_FACTOR = 49
CODE_COLUMNS = ("code", "street_code", "community_code", "grid_code", "compound_code")


@lru_cache(maxsize=4)
def _base(seed: int) -> dict[str, gpd.GeoDataFrame]:
    return build_sample(seed)


def copy_digits(k: int) -> str:
    """The two district digits of copy ``k`` (0 is the real district, 02)."""
    return "02" if k == 0 else f"{50 + k:02d}"


def _recode(values: pd.Series, n: int, dispute_codes: bool) -> np.ndarray:
    """``values`` repeated for copies 0..n-1 with each copy's district digits (None stays None)."""
    base = values.to_numpy(dtype=object)
    out = []
    for c in range(n):
        digits = copy_digits(c)
        if dispute_codes:
            new = base if c == 0 else np.array(["JF" + digits + v[2:] for v in base], dtype=object)
        else:
            prefix = "3501" + digits
            new = np.array([None if v is None else prefix + v[6:] for v in base], dtype=object)
        out.append(new)
    return np.concatenate(out)


def scaled_sample(factor: int, seed: int = DEFAULT_SEED) -> dict[str, gpd.GeoDataFrame]:
    """``factor`` copies of the sample district (same seed → equal frames)."""
    if isinstance(factor, bool) or not isinstance(factor, int) or not 1 <= factor <= MAX_FACTOR + 1:
        raise ValueError(f"倍数应为 1–{MAX_FACTOR + 1} 的整数，收到 {factor!r}")
    base = _base(seed)
    if factor == 1:
        return {k: v.copy() for k, v in base.items()}
    minx, _, maxx, _ = base["streets"].total_bounds
    width = maxx - minx + GAP_DEG
    out = {}
    for name, frame in base.items():
        n = len(frame)
        plain = pd.DataFrame(frame.drop(columns="geometry"))
        rep = plain.iloc[np.tile(np.arange(n), factor)].reset_index(drop=True)
        for col in CODE_COLUMNS:
            if col in rep:
                rep[col] = _recode(plain[col], factor, dispute_codes=(name == "disputes" and col == "code"))
        geoms = frame.geometry.to_numpy()
        shifts = np.repeat(np.arange(factor) * width, n)
        tiled = np.tile(geoms, factor)
        moved = _shift(tiled, shifts)
        out[name] = gpd.GeoDataFrame(rep, geometry=moved, crs=frame.crs)[list(frame.columns)]
    return out


def _shift(geoms: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Every geometry moved east by its own ``dx`` degrees (vectorised over coordinates)."""
    counts = shapely.get_num_coordinates(geoms)
    per_coord = np.repeat(dx, counts)
    coords = shapely.get_coordinates(geoms)
    coords[:, 0] += per_coord
    return shapely.set_coordinates(geoms.copy(), np.round(coords, 7))
