"""XmR (individuals) charts the "Making Data Count" way (NHSRplotthedots 0.2.2).

The work is done by :func:`_xmr_core`, vectorised over a matrix of series that
share their length and phases; :func:`xmr` runs it on one series and
:func:`xmr_batch` on many, so the two always agree.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from . import _common as c
from .result import Phase, SPCResult

LIMIT = 2.66
"""Distance from the mean to a process limit, in average moving ranges."""
LIMIT_CLOSE = 2 * (LIMIT / 3)
"""Distance to the "near" lines (two thirds of the way to a limit)."""
MR_SCREEN = 3.267
"""Moving ranges at or above this many average moving ranges are screened out."""


def _check_fix_after(fix_after) -> int | None:
    if fix_after is None:
        return None
    if isinstance(fix_after, bool) or not isinstance(fix_after, numbers.Integral):
        raise ValueError(
            f"fix_after must be a whole number of points (12 or more), not {fix_after!r}"
        )
    if fix_after < 12:
        raise ValueError(f"fix_after must be 12 or more points, not {fix_after}")
    return int(fix_after)


def _xmr_core(y: np.ndarray, bounds, fix_after: int | None, screen: bool, improvement: str):
    """Compute XmR lines and signals for every row of ``y`` (series × points).

    Returns a dict of arrays: centre, lower, upper, lower_near, upper_near
    (series × points), rules and types (int8, series × points), and per-phase
    arrays ``ph_centre`` … ``ph_upper_near`` (series × phases).
    """
    s, n = y.shape
    nph = len(bounds)
    shape = (s, n)
    centre = np.empty(shape)
    lower = np.empty(shape)
    upper = np.empty(shape)
    lower_near = np.empty(shape)
    upper_near = np.empty(shape)
    rules = np.zeros(shape, dtype=np.int8)
    direction = np.zeros(shape, dtype=np.int8)
    ph = {k: np.empty((s, nph)) for k in ("centre", "lower", "upper", "lower_near", "upper_near")}

    with np.errstate(invalid="ignore", divide="ignore"):
        for k, (a, b) in enumerate(bounds):
            p = y[:, a:b]
            m = b - a
            base = p if fix_after is None or fix_after >= m else p[:, :fix_after]
            mean = c.r_mean(base)
            mr = np.abs(np.diff(base, axis=1))
            amr = c.r_mean(mr)
            if screen:
                mr = np.where(mr < MR_SCREEN * amr[:, None], mr, np.nan)
                amr = c.r_mean(mr)
            lpl = mean - LIMIT * amr
            upl = mean + LIMIT * amr
            nlpl = mean - LIMIT_CLOSE * amr
            nupl = mean + LIMIT_CLOSE * amr
            for name, arr, full in (
                ("centre", mean, centre),
                ("lower", lpl, lower),
                ("upper", upl, upper),
                ("lower_near", nlpl, lower_near),
                ("upper_near", nupl, upper_near),
            ):
                ph[name][:, k] = arr
                full[:, a:b] = arr[:, None]

            # --- signals -------------------------------------------------
            outside = (p > upl[:, None]) | (p < lpl[:, None])
            rtm = np.sign(p - mean[:, None])  # NaN where missing
            above = rtm == 1
            below = rtm == -1
            close = ~outside & ((p < nlpl[:, None]) | (p > nupl[:, None]))

            # shift: 7 in a row on one side of the mean
            shift = c.spread_back(c.window_all(above, 7) | c.window_all(below, 7), 7)

            # trend: 7 points strictly rising or falling (6 steps the same way)
            trend = np.zeros((s, m), dtype=bool)
            tdir = np.zeros((s, m), dtype=np.int8)
            if m >= 7:
                d = np.sign(np.diff(p, axis=1))
                ends = np.zeros((s, m), dtype=bool)
                ends[:, 1:] = c.window_all(d == 1, 6) | c.window_all(d == -1, 6)
                trend = c.spread_back(ends, 7)
                # direction: the step to the next point when it is in a trend
                # too, otherwise the step from the previous point
                right = np.concatenate([d, d[:, -1:]], axis=1)
                left = np.concatenate([np.zeros((s, 1)), d], axis=1)
                nxt = np.zeros((s, m), dtype=bool)
                nxt[:, :-1] = trend[:, 1:]
                sdy = np.where(trend & nxt, right, left)
                tdir = np.where(sdy == 1, 1, -1).astype(np.int8)

            # two of three in the outer third, all three on one side
            two = np.zeros((s, m), dtype=bool)
            if m >= 3:
                cl_i = close.astype(np.int8)
                csum = cl_i[:, :-2] + cl_i[:, 1:-1] + cl_i[:, 2:]
                same = (above[:, :-2] & above[:, 1:-1] & above[:, 2:]) | (
                    below[:, :-2] & below[:, 1:-1] & below[:, 2:]
                )
                win = (csum >= 2) & same  # window starting at j
                cover = np.zeros((s, m), dtype=bool)
                cover[:, : m - 2] |= win
                cover[:, 1 : m - 1] |= win
                cover[:, 2:] |= win
                two = cover & close

            r = np.zeros((s, m), dtype=np.int8)
            dirn = np.zeros((s, m), dtype=np.int8)
            side = np.where(rtm > 0, 1, -1).astype(np.int8)
            for mask, code, dvals in (
                (shift, c.SHIFT, side),
                (two, c.TWO_IN_THREE, side),
                (trend, c.TREND, tdir),
                (outside, c.OUTSIDE, np.where(rtm == 1, 1, -1).astype(np.int8)),
            ):
                r[mask] = code
                dirn[mask] = dvals[mask]
            rules[:, a:b] = r
            direction[:, a:b] = dirn

    types = c.classify(direction, rules != 0, improvement)
    return {
        "centre": centre,
        "lower": lower,
        "upper": upper,
        "lower_near": lower_near,
        "upper_near": upper_near,
        "rules": rules,
        "types": types,
        **{f"ph_{k}": v for k, v in ph.items()},
    }


def _xmr_phase_scalar(p: np.ndarray, fix_after: int | None, screen: bool, improvement: str):
    """One phase of one series: the same rules as :func:`_xmr_core`, in plain Python.

    Means use the same numpy routine (R's long-double mean) so the numbers are
    identical; the rules are a second, loop-based implementation that the tests
    check against the vectorised one.
    """
    m = p.size
    base = p if fix_after is None or fix_after >= m else p[:fix_after]
    mean = c.r_mean1(base)
    mr = np.abs(np.diff(base))
    amr = c.r_mean1(mr)
    if screen:
        with np.errstate(invalid="ignore"):
            mr = np.where(mr < MR_SCREEN * amr, mr, np.nan)
        amr = c.r_mean1(mr)
    lpl = mean - LIMIT * amr
    upl = mean + LIMIT * amr
    nlpl = mean - LIMIT_CLOSE * amr
    nupl = mean + LIMIT_CLOSE * amr

    y = p.tolist()
    rtm = [0] * m  # +1 above, -1 below, 0 on the mean, 2 missing
    outside = [False] * m
    close = [False] * m
    for i, v in enumerate(y):
        if v != v or mean != mean:
            rtm[i] = 2
            continue
        rtm[i] = 1 if v > mean else (-1 if v < mean else 0)
        out = v > upl or v < lpl
        outside[i] = out
        close[i] = not out and (v < nlpl or v > nupl)

    rule = [0] * m
    dirn = [0] * m

    # shift: 7 in a row on one side (lowest priority, so set first)
    run = 0
    for i in range(m):
        r = rtm[i]
        if r not in (1, -1):
            run = 0
        else:
            run = run + 1 if i and rtm[i - 1] == r else 1
        if run >= 7:
            for k in range(i - 6, i + 1):
                rule[k] = c.SHIFT
                dirn[k] = 1 if rtm[k] > 0 else -1

    # two of three close to a limit, all three on one side
    close_at = [i for i in range(m) if close[i]]
    for j, i in enumerate(close_at[:-1]):
        if close_at[j + 1] - i > 2:
            continue
        for s_ in range(max(i - 2, 0), min(i, m - 3) + 1):
            r = rtm[s_]
            if r in (1, -1) and rtm[s_ + 1] == r and rtm[s_ + 2] == r:
                if close[s_] + close[s_ + 1] + close[s_ + 2] >= 2:
                    for k in (s_, s_ + 1, s_ + 2):
                        if close[k]:
                            rule[k] = c.TWO_IN_THREE
                            dirn[k] = 1 if r > 0 else -1

    # trend: 6 steps the same way
    if m >= 7:
        d = []
        for a, b in zip(y, y[1:], strict=False):
            d.append(1 if b > a else (-1 if b < a else (0 if a == b else 2)))
        in_trend = [False] * m
        run = 0
        for k, dk in enumerate(d):
            if dk not in (1, -1):
                run = 0
            else:
                run = run + 1 if k and d[k - 1] == dk else 1
            if run >= 6:
                for j in range(k - 5, k + 2):
                    in_trend[j] = True
        for i in range(m):
            if in_trend[i]:
                if i + 1 < m and in_trend[i + 1]:
                    step = d[i]
                else:
                    step = d[i - 1] if i else 0
                rule[i] = c.TREND
                dirn[i] = 1 if step == 1 else -1

    if True in outside:
        for i in range(m):
            if outside[i]:
                rule[i] = c.OUTSIDE
                dirn[i] = 1 if rtm[i] == 1 else -1

    if improvement == "neutral":
        table = {1: c.NEUTRAL_HIGH, -1: c.NEUTRAL_LOW}
    elif improvement == "increase":
        table = {1: c.IMPROVEMENT, -1: c.CONCERN}
    else:
        table = {1: c.CONCERN, -1: c.IMPROVEMENT}
    types = [table[dirn[i]] if rule[i] else c.COMMON for i in range(m)]
    return (mean, lpl, upl, nlpl, nupl), rule, types


def _xmr_scalar(y: np.ndarray, bounds, fix_after, screen, improvement, target, warnings):
    n = y.size
    lines = {k: [0.0] * n for k in ("centre", "lower", "upper", "lower_near", "upper_near")}
    rules: list[int] = []
    types: list[int] = []
    phases = []
    pidx = []
    for k, (a, b) in enumerate(bounds):
        vals, r, t = _xmr_phase_scalar(y[a:b], fix_after, screen, improvement)
        rules += r
        types += t
        pidx += [k] * (b - a)
        clean = [None if v != v else v for v in vals]
        for name, v in zip(lines, vals, strict=True):
            lines[name][a:b] = [v] * (b - a)
        phases.append(Phase(a, b - a, *clean))
    last = phases[-1]
    return SPCResult(
        chart="xmr",
        improvement=improvement,
        target=target,
        values=y,
        centre=lines["centre"],
        lower=lines["lower"],
        upper=lines["upper"],
        lower_near=lines["lower_near"],
        upper_near=lines["upper_near"],
        phase_idx=pidx,
        rules=rules,
        types=types,
        phases=phases,
        variation_icon=c.variation_icon(types[-1], improvement),
        assurance=c.assurance(target, last.lower, last.upper, improvement),
        warnings=list(warnings),
    )


def _make_result(row: int, y, core, bounds, pidx, improvement, target, warnings,
                 lines) -> SPCResult:
    phases = []
    for k, (a, b) in enumerate(bounds):
        # plain floats / None, never numpy scalars or NaN
        v = [None if x != x else x for x in (line[row][k] for line in lines)]
        phases.append(Phase(start=a, n=b - a, centre=v[0], lower=v[1], upper=v[2],
                            lower_near=v[3], upper_near=v[4]))
    types = core["types"][row]
    last = phases[-1]
    return SPCResult(
        chart="xmr",
        improvement=improvement,
        target=target,
        values=y[row],
        centre=core["centre"][row],
        lower=core["lower"][row],
        upper=core["upper"][row],
        lower_near=core["lower_near"][row],
        upper_near=core["upper_near"][row],
        phase_idx=pidx,
        rules=core["rules"][row],
        types=types,
        phases=phases,
        variation_icon=c.variation_icon(int(types[-1]), improvement),
        assurance=c.assurance(target, last.lower, last.upper, improvement),
        warnings=list(warnings),
    )


def xmr(
    values: Sequence,
    *,
    improvement: str = "increase",
    target: float | None = None,
    rebase_at: Sequence[int] = (),
    fix_after: int | None = None,
    screen_outliers: bool = True,
) -> SPCResult:
    """Analyse one series with an XmR chart, as NHSRplotthedots 0.2.2 does.

    Args:
        values: the measurements in time order; None or NaN marks a missing period.
        improvement: "increase" (default), "decrease" or "neutral".
        target: optional target, used for the assurance icon.
        rebase_at: 0-based positions where a new phase starts (0 is ignored).
        fix_after: compute each phase's limits from its first N points (N ≥ 12).
        screen_outliers: drop moving ranges at or above 3.267 × their mean
            before computing the limits (default True, as the package).

    Returns:
        An :class:`SPCResult` with chart "xmr". Each point carries the phase's
        centre, limits and near lines (``lower_near``/``upper_near``, two thirds
        of the way from the centre to each limit), its special-cause rule and its
        point type.

    Raises:
        ValueError: for non-numeric or infinite values, a bad direction, target,
            phase position or ``fix_after``.
    """
    improvement = c.check_improvement(improvement)
    target = c.check_target(target)
    fix_after = _check_fix_after(fix_after)
    y = c.as_float_array(values, "values")
    n = y.size
    if n == 0:
        raise ValueError("values must hold at least one point")
    bounds = c.phase_bounds(c.check_positions(rebase_at, n, "rebase_at"), n)
    return _xmr_scalar(
        y,
        bounds,
        fix_after,
        bool(screen_outliers),
        improvement,
        target,
        c.short_phase_warnings(bounds),
    )


def _xmr_many(y2, improvement, target, rebase_at, fix_after, screen) -> list[SPCResult]:
    n = y2.shape[1]
    if n == 0:
        raise ValueError("values must hold at least one point")
    bounds = c.phase_bounds(c.check_positions(rebase_at, n, "rebase_at"), n)
    pidx = c.phase_index(bounds, n)
    warnings = c.short_phase_warnings(bounds)
    core = _xmr_core(y2, bounds, fix_after, bool(screen), improvement)
    lines = _phase_lines(core)
    return [
        _make_result(i, y2, core, bounds, pidx, improvement, target, warnings, lines)
        for i in range(y2.shape[0])
    ]


_PHASE_LINES = ("ph_centre", "ph_lower", "ph_upper", "ph_lower_near", "ph_upper_near")


def _phase_lines(core) -> list[list[list[float]]]:
    """Each phase line as nested Python floats (series × phases), read once for a batch:
    indexing numpy for every phase of every series cost more than computing them."""
    return [np.asarray(core[name], dtype=np.float64).tolist() for name in _PHASE_LINES]


def xmr_batch(
    series,
    *,
    improvement: str = "increase",
    target: float | None = None,
    rebase_at: Sequence[int] = (),
    fix_after: int | None = None,
    screen_outliers: bool = True,
) -> list[SPCResult]:
    """Analyse many series at once; each result equals ``xmr(series[i], ...)``.

    Args:
        series: a 2-D array (series × points, NaN for missing) or a list of
            sequences. Series of different lengths are grouped by length.
        improvement, target, rebase_at, fix_after, screen_outliers: as for
            :func:`xmr`, applied to every series.

    Returns:
        A list of :class:`SPCResult`, in the order given.
    """
    improvement = c.check_improvement(improvement)
    target = c.check_target(target)
    fix_after = _check_fix_after(fix_after)
    if isinstance(series, np.ndarray) and series.ndim == 2 and series.dtype.kind in "fiu":
        y2 = series.astype(np.float64)
        if np.isinf(y2).any():
            raise ValueError("series must not contain infinite values")
        return _xmr_many(y2, improvement, target, rebase_at, fix_after, screen_outliers)
    rows = [c.as_float_array(v, f"series[{i}]") for i, v in enumerate(series)]
    out: list[SPCResult | None] = [None] * len(rows)
    by_len: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_len.setdefault(len(r), []).append(i)
    for length, idxs in by_len.items():
        y2 = np.vstack([rows[i] for i in idxs]) if length else np.zeros((len(idxs), 0))
        for i, res in zip(
            idxs,
            _xmr_many(y2, improvement, target, rebase_at, fix_after, screen_outliers),
            strict=True,
        ):
            out[i] = res
    return out  # type: ignore[return-value]
