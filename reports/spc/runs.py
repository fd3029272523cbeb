"""Anhøj runs analysis, as qicharts2 0.8.1 computes it."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=4096)
def qbinom_05(size: int) -> int:
    """R's ``qbinom(0.05, size, 0.5)``, computed exactly with integers.

    The smallest x with P(X ≤ x) ≥ 0.05 for X ~ Binomial(size, 1/2), i.e. the
    smallest x with 20 · Σ_{i≤x} C(size, i) ≥ 2**size.
    """
    if size < 0:
        raise ValueError("size must be non-negative")
    total = 1 << size
    acc = 0
    for x in range(size + 1):
        acc += math.comb(size, x)
        if 20 * acc >= total:
            return x
    return size  # pragma: no cover - unreachable


def longest_run_max(n_useful: int) -> int:
    """The longest-run limit, ``round(log2(n)) + 3`` (R rounds half to even)."""
    return int(round(math.log2(n_useful))) + 3


def runs_analysis(y: np.ndarray, cl: np.ndarray | float) -> dict:
    """Runs analysis of one phase: points on the centre and missing points are dropped.

    Returns ``n_useful``, ``longest_run``, ``longest_run_max``, ``crossings``,
    ``crossings_min`` (None when there are no useful points) and ``runs_signal``.
    """
    with np.errstate(invalid="ignore"):
        runs = np.sign(np.asarray(y, dtype=float) - cl)
    runs = runs[(runs != 0) & ~np.isnan(runs)]
    n_useful = int(runs.size)
    if n_useful == 0:
        return runs_reading(0, 0, 0)
    change = np.flatnonzero(runs[1:] != runs[:-1])
    edges = np.concatenate([[-1], change, [n_useful - 1]])
    lengths = np.diff(edges)
    return runs_reading(n_useful, int(lengths.max()), int(lengths.size - 1))


def runs_reading(n_useful: int, longest: int, crossings: int) -> dict:
    """The runs analysis fields from a phase's counts: its limits and whether they signal
    (what :func:`runs_analysis` returns; the batched charts count all rows at once)."""
    if n_useful == 0:
        return {
            "n_useful": 0,
            "longest_run": None,
            "longest_run_max": None,
            "crossings": None,
            "crossings_min": None,
            "runs_signal": False,
        }
    lmax = longest_run_max(n_useful)
    cmin = qbinom_05(max(n_useful - 1, 0))
    return {
        "n_useful": n_useful,
        "longest_run": longest,
        "longest_run_max": lmax,
        "crossings": crossings,
        "crossings_min": cmin,
        "runs_signal": bool(longest > lmax or crossings < cmin),
    }
