"""Shared helpers: input checking, R-compatible arithmetic, windows and icons."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from .result import IMPROVEMENTS

# Point-type codes (see result.POINT_TYPES).
COMMON, IMPROVEMENT, CONCERN, NEUTRAL_HIGH, NEUTRAL_LOW = range(5)
# Rule codes (see result.RULES).
NO_RULE, OUTSIDE, TREND, TWO_IN_THREE, SHIFT = range(5)

TRIAL_LIMIT_POINTS = 13
"""The one rule for too few points: a phase with fewer points than this (12 or fewer, as
NHSRplotthedots flags a short group) has trial limits, and its assurance against a target
is not read yet. The chart page, the reading, the snapshot and the engine's warning all
use this number."""
SHORT_PHASE = TRIAL_LIMIT_POINTS


def check_improvement(improvement: str) -> str:
    """Validate an improvement direction."""
    if improvement not in IMPROVEMENTS:
        raise ValueError(
            f"improvement must be one of 'increase', 'decrease' or 'neutral', not {improvement!r}"
        )
    return improvement


def check_target(target) -> float | None:
    """Validate a target: None or a finite real number."""
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise ValueError(f"target must be a number or None, not {target!r}")
    target = float(target)
    if not math.isfinite(target):
        raise ValueError("target must be a finite number")
    return target


def as_float_array(values, name: str) -> np.ndarray:
    """Turn a sequence of numbers (None/NaN for missing) into a float64 array."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        if values.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional")
        arr = values.astype(np.float64)
    else:
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise ValueError(f"{name} must be a sequence of numbers")
        out = []
        for i, v in enumerate(values):
            t = type(v)
            if t is float or t is int:
                out.append(v)
            elif v is None:
                out.append(math.nan)
            elif isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"{name}[{i}] is not a number: {v!r}")
            else:
                out.append(float(v))
        try:
            arr = np.array(out, dtype=np.float64)
        except OverflowError as exc:
            raise ValueError(f"{name} holds a number too large for a float") from exc
    if np.isinf(arr).any():
        raise ValueError(f"{name} must not contain infinite values")
    return arr


def check_positions(positions: Sequence[int] | None, n: int, name: str) -> list[int]:
    """Validate 0-based phase start positions; drop 0 and duplicates; sort."""
    if positions is None:
        return []
    if isinstance(positions, numbers.Integral):
        positions = [positions]
    out = set()
    for p in positions:
        if isinstance(p, bool) or not isinstance(p, numbers.Integral):
            raise ValueError(f"{name} must hold integer positions, not {p!r}")
        p = int(p)
        if p < 0 or p >= max(n, 1):
            raise ValueError(f"{name} position {p} is outside the series (0 to {n - 1})")
        if p > 0:
            out.add(p)
    return sorted(out)


def phase_bounds(starts: list[int], n: int) -> list[tuple[int, int]]:
    """Return (start, stop) slices for phases starting at 0 and at ``starts``."""
    edges = [0, *starts, n]
    return [(edges[k], edges[k + 1]) for k in range(len(edges) - 1)]


def phase_index(bounds: list[tuple[int, int]], n: int) -> np.ndarray:
    """Phase number for every position."""
    idx = np.zeros(n, dtype=np.int64)
    for k, (a, b) in enumerate(bounds):
        idx[a:b] = k
    return idx


def r_mean(x: np.ndarray) -> np.ndarray:
    """Row means ignoring NaN, computed as R's ``mean(x, na.rm = TRUE)`` does.

    R sums in long double, divides, then adds the mean residual (a second
    pass). Rows with no values give NaN. ``x`` is 2-D (series × points).
    """
    mask = ~np.isnan(x)
    cnt = mask.sum(axis=1)
    xl = np.where(mask, x, 0.0).astype(np.longdouble)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = xl.sum(axis=1) / cnt
        t = np.where(mask, xl - s[:, None], 0.0).sum(axis=1)
        s = s + t / cnt
    return s.astype(np.float64)


def r_sum(x: np.ndarray) -> float:
    """R's ``sum(x, na.rm = TRUE)`` for a 1-D array (long double accumulation)."""
    x = x[~np.isnan(x)]
    return float(x.astype(np.longdouble).sum())


def window_all(b: np.ndarray, w: int) -> np.ndarray:
    """``out[:, j]`` is True when ``b[:, j-w+1 .. j]`` are all True (2-D input)."""
    s, m = b.shape
    out = np.zeros((s, m), dtype=bool)
    if m >= w:
        c = np.zeros((s, m + 1), dtype=np.int32)
        np.cumsum(b, axis=1, out=c[:, 1:])
        out[:, w - 1 :] = (c[:, w:] - c[:, : m + 1 - w]) == w
    return out


def spread_back(ends: np.ndarray, w: int) -> np.ndarray:
    """Mark every point covered by a window of width ``w`` ending where ``ends``."""
    s, m = ends.shape
    c = np.zeros((s, m + w), dtype=np.int32)
    np.cumsum(ends, axis=1, out=c[:, 1 : m + 1])
    c[:, m + 1 :] = c[:, m : m + 1]
    # point i is covered by any window ending in i .. i+w-1
    return (c[:, w : m + w] - c[:, :m]) > 0


def classify(direction: np.ndarray, special: np.ndarray, improvement: str) -> np.ndarray:
    """Point-type codes from a ±1 direction and a special-cause mask."""
    types = np.zeros(direction.shape, dtype=np.int8)
    if improvement == "neutral":
        types[special & (direction > 0)] = NEUTRAL_HIGH
        types[special & (direction < 0)] = NEUTRAL_LOW
    else:
        sign = 1 if improvement == "increase" else -1
        oriented = direction * sign
        types[special & (oriented > 0)] = IMPROVEMENT
        types[special & (oriented < 0)] = CONCERN
    return types


def variation_icon(type_code: int, improvement: str) -> str:
    """The variation icon named after the last point's type."""
    if type_code == IMPROVEMENT:
        return "improvement_high" if improvement == "increase" else "improvement_low"
    if type_code == CONCERN:
        return "concern_low" if improvement == "increase" else "concern_high"
    if type_code == NEUTRAL_HIGH:
        return "neutral_high"
    if type_code == NEUTRAL_LOW:
        return "neutral_low"
    return "common_cause"


def assurance(target: float | None, lower, upper, improvement: str) -> str | None:
    """Compare a target with the last limits (NHSRplotthedots rules).

    Strictly above the upper limit or below the lower one passes or fails
    according to the direction; anything else, a target on a limit or
    missing limits included, is "inconsistent". None without a target or with
    a neutral direction.
    """
    if target is None or improvement == "neutral":
        return None
    increasing = improvement == "increase"
    if upper is not None and not math.isnan(upper) and target > upper:
        return "consistent_fail" if increasing else "consistent_pass"
    if lower is not None and not math.isnan(lower) and target < lower:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


def short_phase_warnings(bounds: list[tuple[int, int]]) -> list[str]:
    """Plain-English warnings for phases too short for firm limits."""
    out = []
    for k, (a, b) in enumerate(bounds):
        n = b - a
        if n < SHORT_PHASE:
            which = "The chart" if len(bounds) == 1 else f"Phase {k + 1}"
            out.append(
                f"{which} has only {n} point{'s' if n != 1 else ''}: its limits are trial "
                f"limits until there are {TRIAL_LIMIT_POINTS}."
            )
    return out


def r_mean1(x: np.ndarray) -> float:
    """:func:`r_mean` for one 1-D row, with the same summation layout."""
    mask = ~np.isnan(x)
    cnt = int(mask.sum())
    if cnt == 0:
        return float("nan")
    if cnt == x.size:  # no gaps: same values and layout without the masking
        xl = x.astype(np.longdouble)
        s = xl.sum() / cnt
        t = (xl - s).sum()
    else:
        xl = np.where(mask, x, 0.0).astype(np.longdouble)
        s = xl.sum() / cnt
        t = np.where(mask, xl - s, 0.0).sum()
    return float(s + t / cnt)
