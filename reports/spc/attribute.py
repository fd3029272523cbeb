"""Run, P, U and C charts as qicharts2 0.8.1 computes them.

Shared machinery: split the series into parts, compute each part's centre and
limits from its baseline (``freeze`` leading points of the series, or the whole
part), flag points beyond a limit and run the Anhøj runs analysis on every
point of the part.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from . import _common as c
from .result import Phase, SPCResult
from .runs import runs_analysis

D2 = 1.128
"""d2 constant for moving ranges of two, as qicharts2 rounds it."""
MR_SCREEN = 3.267
"""Laney moving ranges at or above this many times their mean are screened."""


def _check_freeze(freeze, n: int) -> int | None:
    if freeze is None:
        return None
    if isinstance(freeze, bool) or not isinstance(freeze, numbers.Integral):
        raise ValueError(f"freeze must be a whole number of points, not {freeze!r}")
    if freeze < 1:
        raise ValueError(f"freeze must be at least 1, not {freeze}")
    return int(freeze)


def _frame(y, parts_at, freeze, improvement, target):
    """Checked arguments and the phase layout every qicharts2-style chart starts from."""
    improvement = c.check_improvement(improvement)
    target = c.check_target(target)
    n = y.size
    if n == 0:
        raise ValueError("the chart needs at least one point")
    starts = c.check_positions(parts_at, n, "parts_at")
    freeze = _check_freeze(freeze, n)
    if starts:
        freeze = None  # qicharts2 ignores freeze when parts are given
    bounds = c.phase_bounds(starts, n)
    pidx = c.phase_index(bounds, n)
    baseline = np.arange(n) < (freeze if freeze is not None else n)
    return improvement, target, n, freeze, bounds, pidx, baseline


def _r_median(x: np.ndarray) -> float:
    """R's ``median(x, na.rm = TRUE)``: the middle value or R's mean of the two."""
    x = np.sort(x[~np.isnan(x)])
    k = x.size
    if k == 0:
        return float("nan")
    if k % 2:
        return float(x[k // 2])
    return float(c.r_mean(x[None, k // 2 - 1 : k // 2 + 1])[0])


def _laney_sigma(y, cl, stdev, screen: bool) -> float:
    """Laney's sigma_z: the (optionally screened) mean moving range of z over d2."""
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (y - cl) / stdev
        z[~np.isfinite(z)] = np.nan
        mr = np.abs(np.diff(z))[None, :]
        amr = c.r_mean(mr)
        if screen:
            mr = np.where(mr < MR_SCREEN * amr[:, None], mr, np.nan)
            amr = c.r_mean(mr)
    return float(amr[0]) / D2


def _qic(
    chart: str,
    y: np.ndarray,
    num: np.ndarray | None,
    den: np.ndarray | None,
    *,
    parts_at,
    freeze,
    improvement: str,
    target,
    laney: bool = False,
    screen_mr: bool = True,
    warnings: list[str] | None = None,
) -> SPCResult:
    improvement, target, n, freeze, bounds, pidx, baseline = _frame(
        y, parts_at, freeze, improvement, target
    )

    centre = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    phases: list[Phase] = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for a, b in bounds:
            yy = y[a:b]
            base = baseline[a:b]
            ph_lower = ph_upper = None
            if chart == "run":
                cl = _r_median(yy[base])
                lcl = ucl = np.full(b - a, np.nan)
            elif chart == "c":
                cl = float(c.r_mean(yy[base][None, :])[0])
                sd = np.sqrt(cl)
                ucl_v = cl + 3 * sd
                lcl_v = cl - 3 * sd
                if lcl_v < 0:
                    lcl_v = 0.0
                ucl = np.full(b - a, ucl_v)
                lcl = np.full(b - a, lcl_v)
                ph_lower, ph_upper = lcl_v, ucl_v
            else:
                nn, dd = num[a:b], den[a:b]
                ok = base & ~np.isnan(yy)
                tot = c.r_sum(dd[ok])
                cl = c.r_sum(nn[ok]) / tot if tot else float("nan")
                if chart == "p":
                    stdev = np.sqrt(cl * (1 - cl) / dd)
                else:
                    stdev = np.sqrt(cl / dd)
                if laney:
                    stdev = stdev * _laney_sigma(yy[base], cl, stdev[base], screen_mr)
                ucl = cl + 3 * stdev
                lcl = cl - 3 * stdev
                if chart == "p":
                    ucl = np.where(ucl > 1, 1.0, ucl)
                lcl = np.where(lcl < 0, 0.0, lcl)
                ucl = np.where(np.isfinite(ucl) & ~np.isnan(yy), ucl, np.nan)
                lcl = np.where(np.isfinite(lcl) & ~np.isnan(yy), lcl, np.nan)
            centre[a:b] = cl
            lower[a:b] = lcl
            upper[a:b] = ucl
            ra = runs_analysis(yy, cl)
            phases.append(
                Phase(
                    start=a,
                    n=b - a,
                    centre=None if cl != cl else float(cl),
                    lower=None if ph_lower is None or ph_lower != ph_lower else float(ph_lower),
                    upper=None if ph_upper is None or ph_upper != ph_upper else float(ph_upper),
                    **ra,
                )
            )
        above = y > upper
        below = y < lower
    special = above | below
    rules = np.where(special, c.OUTSIDE, c.NO_RULE).astype(np.int8)
    direction = np.where(above, 1, -1).astype(np.int8)
    types = c.classify(direction, special, improvement)
    last_lower = None if lower[-1] != lower[-1] else float(lower[-1])
    last_upper = None if upper[-1] != upper[-1] else float(upper[-1])
    assurance = None if chart == "run" else c.assurance(target, last_lower, last_upper, improvement)
    return SPCResult(
        chart=chart,
        improvement=improvement,
        target=target,
        values=y,
        centre=centre,
        lower=None if chart == "run" else lower,
        upper=None if chart == "run" else upper,
        phase_idx=pidx,
        rules=rules,
        types=types,
        phases=phases,
        variation_icon=c.variation_icon(int(types[-1]), improvement),
        assurance=assurance,
        warnings=list(warnings or []),
    )


def _pair(numerators, denominators, names) -> tuple[np.ndarray, np.ndarray]:
    num = c.as_float_array(numerators, names[0])
    den = c.as_float_array(denominators, names[1])
    if num.size != den.size:
        raise ValueError(
            f"{names[0]} and {names[1]} must be the same length ({num.size} and {den.size})"
        )
    with np.errstate(invalid="ignore"):
        if (num < 0).any():
            raise ValueError(f"{names[0]} must not be negative")
        if (den < 0).any():
            raise ValueError(f"{names[1]} must not be negative")
    return num, den


def _ratio(num, den, names, warnings: list[str]) -> np.ndarray:
    """Both parts present or both missing (as qicharts2); zero denominators drop out."""
    missing = np.isnan(num) | np.isnan(den)
    zero = ~missing & (den == 0)
    if (zero & (num > 0)).any():
        raise ValueError(f"{names[1]} must be positive where {names[0]} is above zero")
    if zero.any():
        warnings.append(
            f"{int(zero.sum())} period(s) with a zero {names[1][:-1]} are treated as missing."
        )
    missing |= zero
    num[missing] = np.nan
    den[missing] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def run_chart(
    values: Sequence,
    *,
    parts_at: Sequence[int] = (),
    freeze: int | None = None,
    improvement: str = "neutral",
) -> SPCResult:
    """Run chart with the Anhøj rules (qicharts2 0.8.1).

    The centre is each part's median (of its first ``freeze`` points when
    ``freeze`` is given and there are no parts). The runs analysis of each
    part is on ``result.phases``; run charts have no limits, so no point is a
    special cause and the variation icon is "common_cause".

    Args:
        values: the measurements; None or NaN for a missing period.
        parts_at: 0-based positions where a new part (phase) starts.
        freeze: number of leading points that set the centre; ignored with parts.
        improvement: "neutral" (default, as qicharts2 has no direction),
            "increase" or "decrease".
    """
    y = c.as_float_array(values, "values")
    return _qic(
        "run", y, None, None, parts_at=parts_at, freeze=freeze, improvement=improvement, target=None
    )


def p_chart(
    numerators: Sequence,
    denominators: Sequence,
    *,
    parts_at: Sequence[int] = (),
    freeze: int | None = None,
    laney: bool = False,
    improvement: str = "neutral",
    target: float | None = None,
    screen_mr: bool = True,
) -> SPCResult:
    """P chart (or Laney P′ chart) of proportions, as qicharts2 0.8.1.

    centre = Σ numerators / Σ denominators over the baseline; σᵢ = √(p(1−p)/nᵢ);
    limits p ± 3σᵢ clipped to [0, 1]. With ``laney=True`` σᵢ is multiplied by
    the mean moving range of the z-scores over 1.128; ``screen_mr`` (default
    True, qicharts2's setting once the package is attached) first drops moving
    ranges at or above 3.267 × their mean.

    A period missing its numerator or denominator (or with a zero denominator)
    is dropped from the centre and has no value or limits.

    Args:
        numerators, denominators: counts per period.
        parts_at, freeze: as for :func:`run_chart`.
        laney: use Laney's P′ limits.
        improvement: "neutral" (default), "increase" or "decrease".
        target: optional target proportion for the assurance icon.
        screen_mr: screen the Laney moving ranges (see above).
    """
    num, den = _pair(numerators, denominators, ("numerators", "denominators"))
    with np.errstate(invalid="ignore"):
        if (num > den).any():
            raise ValueError("a numerator is larger than its denominator")
    warnings: list[str] = []
    y = _ratio(num, den, ("numerators", "denominators"), warnings)
    return _qic(
        "p",
        y,
        num,
        den,
        parts_at=parts_at,
        freeze=freeze,
        improvement=improvement,
        target=target,
        laney=laney,
        screen_mr=screen_mr,
        warnings=warnings,
    )


def u_chart(
    counts: Sequence,
    exposures: Sequence,
    *,
    parts_at: Sequence[int] = (),
    freeze: int | None = None,
    laney: bool = False,
    improvement: str = "neutral",
    target: float | None = None,
    screen_mr: bool = True,
) -> SPCResult:
    """U chart (or Laney U′ chart) of rates, as qicharts2 0.8.1.

    centre = Σ counts / Σ exposures over the baseline; σᵢ = √(u/nᵢ); limits
    u ± 3σᵢ with the lower limit floored at 0. ``laney`` and ``screen_mr`` as
    for :func:`p_chart`. A period missing either part, or with zero count and
    zero exposure, has no value or limits.
    """
    num, den = _pair(counts, exposures, ("counts", "exposures"))
    warnings: list[str] = []
    y = _ratio(num, den, ("counts", "exposures"), warnings)
    return _qic(
        "u",
        y,
        num,
        den,
        parts_at=parts_at,
        freeze=freeze,
        improvement=improvement,
        target=target,
        laney=laney,
        screen_mr=screen_mr,
        warnings=warnings,
    )


def c_chart(
    counts: Sequence,
    *,
    parts_at: Sequence[int] = (),
    freeze: int | None = None,
    improvement: str = "neutral",
    target: float | None = None,
) -> SPCResult:
    """C chart of counts, as qicharts2 0.8.1.

    centre = mean count over the baseline; σ = √c; limits c ± 3σ with the lower
    limit floored at 0 (the same for every point of a part, missing ones too).
    """
    y = c.as_float_array(counts, "counts")
    with np.errstate(invalid="ignore"):
        if (y < 0).any():
            raise ValueError("counts must not be negative")
    return _qic(
        "c", y, None, None, parts_at=parts_at, freeze=freeze, improvement=improvement, target=target
    )
