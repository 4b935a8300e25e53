"""Class breaks for choropleth maps: which values share a colour, and how the legend names the classes.

Pure functions on numbers (no geometry, no CRS): a value is in class ``i`` when
``breaks[i-1] < value <= breaks[i]`` (class 0 holds everything up to ``breaks[0]``), so ``breaks``
are the *upper bounds* of the classes, ascending, the last one the largest value. Missing values
(None, NaN, pd.NA) and infinite ones (a rate divided by zero households) are "no data": they are
ignored when breaks are chosen and get class -1.

Methods (:class:`geo.vocab.ClassifyMethod`), computed with mapclassify and always deterministic:

- ``quantiles`` (分位数): about the same number of units per class; each break is snapped down to
  the largest observed value not above mapclassify's interpolated quantile, so breaks are real
  values (1..10 in 5 classes gives 2, 4, 6, 8, 10) and no class is empty;
- ``natural_breaks`` (自然断点): Fisher-Jenks, the exact optimum (not the sampling NaturalBreaks);
  pure Python without numba, about 1 s for 700 values;
- ``equal_interval`` (等间距): classes of equal width between the smallest and largest value
  (breaks snapped down to observed values too, empty classes dropped).

When most values are equal, quantiles degenerate (0.0 / 0.0–1.8): they fall back to equal steps.
Legend labels (``class_ranges``) get at most one decimal more than the indicator's format; neighbouring
classes that would still read the same number are merged first (``readable_breaks``).

With ``k`` or fewer distinct values each distinct value is its own class (no duplicate breaks,
one class when all values are equal); with no values at all there are no breaks.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import mapclassify
import numpy as np
import pandas as pd

from geo.errors import DataValidationError, GuloError
from geo.vocab import ClassifyMethod

NO_CLASS = -1
MISSING_TEXT = "—"
RANGE_DASH = "–"  # en dash between the bounds of a legend range: "450–520"
_CLASSIFIERS = {
    ClassifyMethod.QUANTILES: mapclassify.Quantiles,
    ClassifyMethod.NATURAL_BREAKS: mapclassify.FisherJenks,
    ClassifyMethod.EQUAL_INTERVAL: mapclassify.EqualInterval,
}


def as_method(method: ClassifyMethod | str) -> ClassifyMethod:
    """The ClassifyMethod of a member, its English value or Chinese label; GuloError naming them otherwise."""
    if isinstance(method, ClassifyMethod):
        return method
    try:
        return ClassifyMethod.from_label(str(method))
    except ValueError:
        allowed = "、".join(f"{m.value}（{m.label}）" for m in ClassifyMethod)
        raise GuloError(f"分级方法“{method}”无效，可选：{allowed}") from None


def check_k(k: Any) -> int:
    """``k`` as an int if it is a whole number of classes, at least 1; GuloError otherwise."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise GuloError(f"分级数应为不小于 1 的整数，而不是 {k!r}")
    return int(k)


def numeric_values(values: Iterable[Any], name: str = "指标") -> pd.Series:
    """The values as float64 (index kept), missing and infinite ones as NaN.

    DataValidationError listing every value that is present but not a number (``name`` is the
    indicator's Chinese name, used in the message).
    """
    series = values.copy() if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    coerced = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & coerced.isna()
    if bad.any():
        problems = [(idx, name, series[idx], "不是数字") for idx in series.index[bad]]
        raise DataValidationError(f"{name}中有 {len(problems)} 个值不是数字", problems)
    out = pd.Series(coerced.to_numpy(dtype="float64", na_value=np.nan), index=series.index, name=series.name)
    return out.where(np.isfinite(out))


def class_breaks(values: Iterable[Any], k: int = 5, method: ClassifyMethod | str = "quantiles") -> list[float]:
    """Upper bounds of at most ``k`` classes of ``values`` (ascending, distinct; last = maximum).

    ``method``: quantiles / natural_breaks / equal_interval (or 分位数 / 自然断点 / 等间距).
    NaN and infinite values are ignored; no values give ``[]``; ``k`` or fewer distinct values give
    the distinct values themselves (all equal: one class). Quantiles that degenerate (most values
    equal, so fewer than ``k`` classes) fall back to equal steps. Every break is an observed value
    and no class is empty. Does not modify ``values``.
    """
    method, k = as_method(method), check_k(k)
    y = numeric_values(values).dropna().to_numpy()
    distinct = np.unique(y)
    if len(distinct) <= k:
        return [float(v) for v in distinct]
    bins = _method_bins(y, distinct, k, method)
    if method is ClassifyMethod.QUANTILES and len(bins) < k:  # ties: most values equal
        bins = _method_bins(y, distinct, k, ClassifyMethod.EQUAL_INTERVAL)
    return [float(v) for v in bins]


def _method_bins(y: np.ndarray, distinct: np.ndarray, k: int, method: ClassifyMethod) -> np.ndarray:
    """mapclassify's upper bounds snapped down to observed values, so that no class is empty."""
    with warnings.catch_warnings():  # "Numba not installed", "not enough unique values"
        warnings.simplefilter("ignore")
        bins = np.asarray(_CLASSIFIERS[method](y, k=k).bins, dtype="float64")
    if method is ClassifyMethod.EQUAL_INTERVAL:
        bins = np.array([float(f"{b:.12g}") for b in bins])  # 6.3999999999999995 -> 6.4
    bins = np.unique(_snap_down(np.minimum(bins, distinct[-1]), distinct))
    bins[-1] = distinct[-1]
    return bins


def _snap_down(bins: np.ndarray, distinct: np.ndarray) -> np.ndarray:
    """Each break replaced by the largest observed value not above it (class membership unchanged)."""
    idx = np.searchsorted(distinct, bins, side="right") - 1
    return distinct[np.clip(idx, 0, len(distinct) - 1)]


def check_breaks(breaks: Sequence[float]) -> list[float]:
    """``breaks`` as floats if they are finite and strictly ascending; GuloError otherwise."""
    out = [float(b) for b in breaks]
    if not all(np.isfinite(out)) or any(a >= b for a, b in pairwise(out)):
        raise GuloError(f"分级界值应为严格递增的有限数值，而不是 {list(breaks)!r}")
    return out


def assign_classes(values: Iterable[Any], breaks: Sequence[float]) -> pd.Series:
    """The class (0 … len(breaks)-1) of every value, -1 for NaN/infinite; index kept.

    Class ``i`` holds ``breaks[i-1] < value <= breaks[i]``; values below ``breaks[0]`` are in
    class 0 and values above the last break in the last class. No breaks: every value is -1.
    """
    y = numeric_values(values)
    bounds = np.asarray(check_breaks(breaks), dtype="float64")
    out = pd.Series(NO_CLASS, index=y.index, dtype="int64", name=y.name)
    present = y.notna().to_numpy()
    if len(bounds) and present.any():
        idx = np.searchsorted(bounds, y.to_numpy()[present], side="left")
        out[present] = np.minimum(idx, len(bounds) - 1)
    return out


def check_format(fmt: str | None) -> str | None:
    """``fmt`` if it is None or a Python format of one number, e.g. "{:.1f}" or "{:.0%}"; GuloError otherwise."""
    if fmt is None:
        return None
    try:
        ok = isinstance(fmt, str) and "{" in fmt and isinstance(fmt.format(1.5), str)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise GuloError(f"数值格式“{fmt}”无效，应为 Python 格式串，例如 {{:.1f}}、{{:,.0f}}、{{:.0%}}")
    return fmt


def format_value(value: Any, fmt: str | None = None) -> str:
    """A number as text: with ``fmt`` ("{:.1f}", "{:.0%}" …), or up to two decimals with thousands
    separators ("1,234", "3.5"); "—" when missing or infinite."""
    check_format(fmt)
    if value is None or pd.isna(value) or not np.isfinite(float(value)):
        return MISSING_TEXT
    value = float(value)
    if fmt is not None:
        return fmt.format(value)
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_range(lo: Any, hi: Any, fmt: str | None = None) -> str:
    """A legend range such as "450–520" (both bounds formatted with ``fmt``); one number when they agree."""
    a, b = format_value(lo, fmt), format_value(hi, fmt)
    return a if a == b else f"{a}{RANGE_DASH}{b}"


def class_labels(breaks: Sequence[float], minimum: float, fmt: str | None = None) -> list[str]:
    """Legend labels of the classes: "min–b0", "b0–b1", …; ``minimum`` is the smallest value."""
    bounds = check_breaks(breaks)
    lows = [float(minimum), *bounds[:-1]]
    return [format_range(lo, hi, fmt) for lo, hi in zip(lows, bounds)]


def class_ranges(values: Iterable[Any], breaks: Sequence[float], fmt: str | None = None) -> list[str]:
    """Legend labels of the classes from the values each holds: "lowest–highest", one number when they agree.

    When two adjacent labels would share a number ("73%" then "73%–76%") the labels get one more decimal
    than ``fmt`` ("72.8%–73.1%"), never more; classes that still touch are for ``readable_breaks`` to merge.
    An empty class (not made by ``class_breaks``) reads from its bounds.
    """
    spans = _spans(numeric_values(values), check_breaks(breaks))
    for fmt_try in _finer_formats(fmt):
        labels = [format_range(lo, hi, fmt_try) for lo, hi in spans]
        if not _touching(spans, fmt_try):
            return labels
    return labels


def readable_breaks(values: Iterable[Any], breaks: Sequence[float], fmt: str | None = None) -> list[float]:
    """``breaks`` less those between neighbouring classes whose labels would share a number even with one
    more decimal than ``fmt`` (0.596–0.605 then 0.609–0.698 at "{:.1f}": both read 0.6, and 0.60 / 0.61 at
    one decimal more, so they stay apart; 0.601 then 0.604 would be merged): fewer classes, each label
    readable. The last break (the maximum) always stays; a subset of ``breaks``. Does not modify the input.
    """
    y, bounds = numeric_values(values), check_breaks(breaks)
    finest = _finer_formats(fmt)[-1]
    while len(bounds) > 1:
        spans = _spans(y, bounds)
        joined = {i for i, (a, b) in enumerate(pairwise(spans)) if format_value(a[1], finest) == format_value(b[0], finest)}
        if not joined:
            break
        bounds = [b for i, b in enumerate(bounds) if i not in joined]  # class i joins class i + 1
    return bounds


def _spans(y: pd.Series, bounds: list[float]) -> list[tuple[float, float]]:
    """(lowest, highest) value held by each class; an empty class spans from the previous bound to its own."""
    cls = assign_classes(y, bounds)
    spans = []
    for i, hi in enumerate(bounds):
        members = y[cls == i]
        lo = members.min() if len(members) else (bounds[i - 1] if i else hi)
        spans.append((float(lo), float(members.max()) if len(members) else hi))
    return spans


def _touching(spans: list[tuple[float, float]], fmt: str | None) -> bool:
    """Whether a class's highest value reads the same as the next class's lowest once formatted."""
    return any(format_value(a[1], fmt) == format_value(b[0], fmt) for a, b in pairwise(spans))


_DECIMALS = re.compile(r"\.(\d+)([f%])")


def _finer_formats(fmt: str | None) -> list[str | None]:
    """``fmt`` and ``fmt`` with one decimal more, the most a legend label gets (None: up to 2 decimals, then 3)."""
    if fmt is None:
        return [None, "{:,.3f}"]
    match = _DECIMALS.search(fmt)
    if not match:
        return [fmt]
    return [fmt, fmt[:match.start()] + f".{int(match.group(1)) + 1}{match.group(2)}" + fmt[match.end():]]
