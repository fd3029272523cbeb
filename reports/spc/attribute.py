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
from .runs import runs_analysis, runs_reading

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


def _runs_batch(rows: np.ndarray, cl: np.ndarray) -> list[dict]:
    """:func:`runs_analysis` of each row of one phase against its centre, all rows at once
    (one pass over the phase's points; equal to the row-by-row analysis)."""
    s, m = rows.shape
    with np.errstate(invalid="ignore"):
        sign = np.sign(rows - cl[:, None])
    useful = (sign != 0) & ~np.isnan(sign)
    last = np.zeros(s)  # sign of the last useful point (0: none yet)
    run = np.zeros(s, dtype=np.int64)
    longest = np.zeros(s, dtype=np.int64)
    crossings = np.zeros(s, dtype=np.int64)
    for j in range(m):
        u, sj = useful[:, j], sign[:, j]
        same = u & (sj == last)
        new = u & ~same
        crossings += new & (last != 0)
        run = np.where(same, run + 1, np.where(new, 1, run))
        longest = np.maximum(longest, run)
        last = np.where(u, sj, last)
    return [runs_reading(*counts) for counts in zip(
        useful.sum(axis=1).tolist(), longest.tolist(), crossings.tolist(), strict=True)]


def _row_sum(x: np.ndarray) -> np.ndarray:
    """:func:`_common.r_sum` of every row of a 2-D array without gaps (same layout)."""
    return np.ascontiguousarray(x, dtype=np.longdouble).sum(axis=1).astype(np.float64)


def _qic_many(chart, y, num, den, bounds, pidx, improvement, target) -> list[SPCResult]:
    """The core of :func:`_qic` for rows with every value present (no freeze, no Laney)."""
    s, n = y.shape
    centre = np.full((s, n), np.nan)
    lower = np.full((s, n), np.nan)
    upper = np.full((s, n), np.nan)
    phase_rows: list[list[Phase]] = [[] for _ in range(s)]
    with np.errstate(invalid="ignore", divide="ignore"):
        for a, b in bounds:
            yy, k = y[:, a:b], b - a
            ph_lower = ph_upper = None
            if chart == "run":
                srt = np.sort(yy, axis=1)
                cl = srt[:, k // 2] if k % 2 else c.r_mean(srt[:, k // 2 - 1 : k // 2 + 1])
            elif chart == "c":
                cl = c.r_mean(yy)
                sd = np.sqrt(cl)
                ph_upper = cl + 3 * sd
                ph_lower = np.where(cl - 3 * sd < 0, 0.0, cl - 3 * sd)
                upper[:, a:b] = ph_upper[:, None]
                lower[:, a:b] = ph_lower[:, None]
            else:
                nn, dd = num[:, a:b], den[:, a:b]
                cl = _row_sum(nn) / _row_sum(dd)
                clc = cl[:, None]
                stdev = np.sqrt(clc * (1 - clc) / dd) if chart == "p" else np.sqrt(clc / dd)
                ucl = clc + 3 * stdev
                lcl = clc - 3 * stdev
                if chart == "p":
                    ucl = np.where(ucl > 1, 1.0, ucl)
                lcl = np.where(lcl < 0, 0.0, lcl)
                upper[:, a:b] = np.where(np.isfinite(ucl), ucl, np.nan)
                lower[:, a:b] = np.where(np.isfinite(lcl), lcl, np.nan)
            centre[:, a:b] = cl[:, None]
            runs = _runs_batch(yy, cl)
            cls = cl.tolist()
            los = [None] * s if ph_lower is None else ph_lower.tolist()
            ups = [None] * s if ph_upper is None else ph_upper.tolist()
            for i in range(s):
                ci, lo, up = cls[i], los[i], ups[i]
                phase_rows[i].append(Phase(
                    start=a, n=k, centre=None if ci != ci else ci,
                    lower=None if lo is None or lo != lo else lo,
                    upper=None if up is None or up != up else up, **runs[i]))
        above = y > upper
        below = y < lower
    special = above | below
    rules = np.where(special, c.OUTSIDE, c.NO_RULE).astype(np.int8)
    types = c.classify(np.where(above, 1, -1).astype(np.int8), special, improvement)
    last_lower, last_upper = lower[:, -1].tolist(), upper[:, -1].tolist()
    last_types = types[:, -1].tolist()
    out = []
    for i in range(s):
        lo = None if last_lower[i] != last_lower[i] else last_lower[i]
        up = None if last_upper[i] != last_upper[i] else last_upper[i]
        out.append(SPCResult(
            chart=chart, improvement=improvement, target=target, values=y[i],
            centre=centre[i], lower=None if chart == "run" else lower[i],
            upper=None if chart == "run" else upper[i], phase_idx=pidx, rules=rules[i],
            types=types[i], phases=phase_rows[i],
            variation_icon=c.variation_icon(last_types[i], improvement),
            assurance=None if chart == "run" else c.assurance(target, lo, up, improvement),
            warnings=[],
        ))
    return out


_ONE_BY_ONE = {"run": run_chart, "c": c_chart, "p": p_chart, "u": u_chart}


def qic_batch(
    chart: str,
    values: np.ndarray | None = None,
    denominators: np.ndarray | None = None,
    *,
    parts_at: Sequence[int] = (),
    improvement: str = "neutral",
    target: float | None = None,
    errors: str = "raise",
) -> list[SPCResult | None]:
    """Many run, C, P or U charts of the same length at once; result ``i`` equals
    ``run_chart(values[i], ...)``, ``c_chart(values[i], ...)``, ``p_chart(values[i],
    denominators[i], ...)`` or ``u_chart(values[i], denominators[i], ...)`` with the same
    ``parts_at``, ``improvement`` and ``target`` (no ``freeze``, no Laney).

    Args:
        chart: "run", "c", "p" or "u".
        values: a 2-D float array (series × points, NaN for missing): the values, or the
            numerators (counts) of a P or U chart.
        denominators: the same shape, for P and U charts.
        errors: "raise" (default) raises the ValueError the one-by-one call would; "none"
            gives None for that series instead.

    Series with a missing value (or zero denominator) are computed one by one, so their
    warnings and gaps read exactly as the single chart's; the rest share one pass.
    """
    if chart not in _ONE_BY_ONE:
        raise ValueError(f"chart must be one of {', '.join(_ONE_BY_ONE)}, not {chart!r}")
    if errors not in ("raise", "none"):
        raise ValueError("errors must be 'raise' or 'none'")
    ratio = chart in ("p", "u")
    y = np.asarray(values, dtype=np.float64)
    den = np.asarray(denominators, dtype=np.float64) if ratio else None
    if y.ndim != 2 or (ratio and (den is None or den.shape != y.shape)):
        raise ValueError("values (and denominators) must be 2-D arrays of the same shape")
    s, n = y.shape
    improvement = c.check_improvement(improvement)
    target = None if chart == "run" else c.check_target(target)  # a run chart has none
    with np.errstate(invalid="ignore"):
        clean = np.isfinite(y).all(axis=1)
        if chart != "run":  # counts and numerators are never negative
            clean &= (y >= 0).all(axis=1)
        if ratio:
            clean &= np.isfinite(den).all(axis=1) & (den > 0).all(axis=1)
            if chart == "p":
                clean &= (y <= den).all(axis=1)
    out: list[SPCResult | None] = [None] * s
    fast = np.flatnonzero(clean) if n else np.zeros(0, dtype=np.int64)
    if fast.size:
        starts = c.check_positions(parts_at, n, "parts_at")
        bounds = c.phase_bounds(starts, n)
        pidx = c.phase_index(bounds, n)
        yy = y[fast]
        if ratio:
            nn, dd = yy, den[fast]
            with np.errstate(invalid="ignore", divide="ignore"):
                yy = nn / dd
        else:
            nn = dd = None
        for i, res in zip(fast.tolist(), _qic_many(chart, yy, nn, dd, bounds, pidx,
                                                   improvement, target), strict=True):
            out[i] = res
    single = _ONE_BY_ONE[chart]
    for i in np.flatnonzero(~clean).tolist() if n else range(s):
        args = (y[i], den[i]) if ratio else (y[i],)
        kwargs = {"parts_at": parts_at, "improvement": improvement}
        if chart != "run":
            kwargs["target"] = target
        try:
            out[i] = single(*args, **kwargs)
        except ValueError:
            if errors == "raise":
                raise
    return out
