"""Rare-event charts: G (opportunities between events) and T (time between events).

Both follow qicharts2 0.8.1 (``qic.g`` and ``qic.t``) exactly:

- **G chart.** The limits come from the *mean* gap ḡ of the baseline,
  σ = √(ḡ(ḡ + 1)) (geometric distribution), ḡ ± 3σ with the lower limit
  floored at 0. The centre line drawn, and used for the runs analysis, is the
  *median* gap of the baseline.
- **T chart.** Each time is transformed by t^(1/3.6), an I (XmR) chart is
  computed on the transformed values (centre = mean, σ = mean moving range /
  1.128, moving ranges at or above 3.267 × their mean screened out by
  default) and the centre and limits are transformed back by ^3.6. A lower
  limit that is negative (or undefined) before back-transforming is 0. The
  runs analysis and the limit signals use the back-transformed values and
  centre. qicharts2 refuses times of zero or less.

As on the other qicharts2 charts, each part is computed on its own, ``freeze``
is ignored when parts are given, and only points beyond a limit are special
causes (the runs analysis is reported on ``result.phases``).

Longer gaps between harmful events are better, so for such charts pass
``improvement="increase"``; the default is "neutral" as qicharts2 has no
direction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

import numpy as np

from . import _common as c
from .attribute import D2, MR_SCREEN, _frame, _r_median
from .result import Phase, SPCResult
from .runs import runs_analysis

T_POWER = 3.6
"""qicharts2 transforms times between events by t^(1/3.6) (Montgomery)."""


def event_days(event_dates: Iterable) -> list[dt.date]:
    """The event dates sorted, datetimes reduced to their dates; other types refused."""
    days = []
    for i, d in enumerate(event_dates):
        if isinstance(d, dt.datetime):
            d = d.date()
        elif not isinstance(d, dt.date):
            raise ValueError(f"event_dates[{i}] is not a date: {d!r}")
        days.append(d)
    return sorted(days)


def days_between_events(event_dates: Iterable) -> list[int]:
    """Whole days between consecutive events (sorted first): the input of a T chart.

    n events give n − 1 gaps; events on the same day give a gap of 0, which
    :func:`t_chart` refuses (as qicharts2 does). The open gap since the last
    event is not a point of the chart (see ``reading.rare_event_summary``).
    """
    days = event_days(event_dates)
    return [(b - a).days for a, b in zip(days, days[1:], strict=False)]


def _r_pow(x: np.ndarray, p: float) -> np.ndarray:
    """R's ``x ^ p`` element by element: C ``pow``; NaN for a negative base.

    ``math.pow`` calls the C library's ``pow`` as R does; numpy's vectorised
    power may use other (SIMD) code that can differ in the last bit.
    """
    out = np.empty_like(x)
    for i, v in enumerate(x.tolist()):
        if v != v or v < 0:
            out[i] = math.nan
        else:
            out[i] = math.pow(v, p)
    return out


def _mean(x: np.ndarray) -> float:
    return float(c.r_mean(x[None, :])[0])


def _g_lines(yy: np.ndarray) -> tuple[float, float, float]:
    """qic.g on one part's baseline: (median centre, lower, upper); limits from the mean."""
    mean = _mean(yy)
    sd = math.sqrt(mean * (mean + 1))
    lcl = mean - 3 * sd
    if lcl < 0:
        lcl = 0.0
    return _r_median(yy), lcl, mean + 3 * sd


def _t_lines(y_t: np.ndarray, base: np.ndarray, screen_mr: bool) -> tuple[float, float, float]:
    """qic.i on the transformed values of one part, then qic.t's back-transform."""
    cl = _mean(y_t[base])
    with np.errstate(invalid="ignore"):
        mr = np.abs(np.diff(y_t[base] - cl))
    amr = _mean(mr)
    if screen_mr:
        with np.errstate(invalid="ignore"):
            # R's mr[mr < ulmr] keeps NA comparisons as NA, which the mean then drops
            amr = _mean(mr[~(mr >= MR_SCREEN * amr)])
    stdev = amr / D2
    lines = _r_pow(np.array([cl, cl - 3 * stdev, cl + 3 * stdev]), T_POWER)
    centre, lcl, ucl = (float(v) for v in lines)
    if lcl != lcl or lcl < 0:
        lcl = 0.0
    return centre, lcl, ucl


def _rare(
    chart: str,
    y: np.ndarray,
    *,
    parts_at,
    freeze,
    improvement: str,
    target,
    screen_mr: bool = True,
) -> SPCResult:
    improvement, target, n, freeze, bounds, pidx, baseline = _frame(
        y, parts_at, freeze, improvement, target
    )
    # the values the signals and runs analysis see (qicharts2 back-transforms y on T charts)
    seen = _r_pow(_r_pow(y, 1 / T_POWER), T_POWER) if chart == "t" else y

    centre = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    phases: list[Phase] = []
    for a, b in bounds:
        base = baseline[a:b]
        if chart == "g":
            cl, lcl, ucl = _g_lines(y[a:b][base])
        else:
            cl, lcl, ucl = _t_lines(_r_pow(y[a:b], 1 / T_POWER), base, screen_mr)
        if not math.isfinite(ucl):
            ucl = math.nan
        centre[a:b] = cl
        lower[a:b] = lcl
        upper[a:b] = ucl
        ra = runs_analysis(seen[a:b], cl)
        phases.append(
            Phase(
                start=a,
                n=b - a,
                centre=None if cl != cl else float(cl),
                lower=None if lcl != lcl else float(lcl),
                upper=None if ucl != ucl else float(ucl),
                **ra,
            )
        )
    with np.errstate(invalid="ignore"):
        above = seen > upper
        below = seen < lower
    special = above | below
    rules = np.where(special, c.OUTSIDE, c.NO_RULE).astype(np.int8)
    direction = np.where(above, 1, -1).astype(np.int8)
    types = c.classify(direction, special, improvement)
    last_lower = None if lower[-1] != lower[-1] else float(lower[-1])
    last_upper = None if upper[-1] != upper[-1] else float(upper[-1])
    return SPCResult(
        chart=chart,
        improvement=improvement,
        target=target,
        values=y,
        centre=centre,
        lower=lower,
        upper=upper,
        phase_idx=pidx,
        rules=rules,
        types=types,
        phases=phases,
        variation_icon=c.variation_icon(int(types[-1]), improvement),
        assurance=c.assurance(target, last_lower, last_upper, improvement),
        warnings=[],
    )


def g_chart(
    counts: Sequence,
    *,
    parts_at: Sequence[int] = (),
    freeze: int | None = None,
    improvement: str = "neutral",
    target: float | None = None,
) -> SPCResult:
    """G chart of opportunities (cases, procedures, patients…) between events, as
    qicharts2 0.8.1.

    One value per event: how many opportunities passed without an event since
    the previous one (0 when two events came in a row). Limits are ḡ ± 3√(ḡ(ḡ+1))
    from the baseline mean ḡ, the lower floored at 0; the centre line is the
    baseline *median*, and the runs analysis is about that median.

    Args:
        counts: opportunities between consecutive events; None or NaN when unknown.
        parts_at: 0-based positions where a new part (phase) starts.
        freeze: number of leading points that set the lines; ignored with parts.
        improvement: "neutral" (default), "increase" (longer gaps are better,
            as between harmful events) or "decrease".
        target: optional target gap for the assurance icon.
    """
    y = c.as_float_array(counts, "counts")
    with np.errstate(invalid="ignore"):
        if (y < 0).any():
            raise ValueError("counts must not be negative")
    return _rare("g", y, parts_at=parts_at, freeze=freeze, improvement=improvement, target=target)


def t_chart(
    times: Sequence,
    *,
    parts_at: Sequence[int] = (),
    freeze: int | None = None,
    improvement: str = "neutral",
    target: float | None = None,
    screen_mr: bool = True,
) -> SPCResult:
    """T chart of times between events (e.g. days), as qicharts2 0.8.1.

    An I chart of t^(1/3.6), transformed back: the centre is the back-transformed
    mean, the limits the back-transformed mean ± 3 σ (σ = mean moving range /
    1.128), a negative lower limit being 0. Times must be greater than zero, as
    qicharts2 requires; events on the same day need a time of day (fractions of
    a day) or a G chart.

    Args:
        times: time between consecutive events; None or NaN when unknown.
        parts_at, freeze, improvement, target: as for :func:`g_chart`.
        screen_mr: drop moving ranges at or above 3.267 × their mean before
            computing σ (default True, qicharts2's setting once the package is
            attached; False for the unattached ``qicharts2::qic``).
    """
    y = c.as_float_array(times, "times")
    with np.errstate(invalid="ignore"):
        if (y <= 0).any():
            raise ValueError("times between events must be greater than zero")
    return _rare(
        "t",
        y,
        parts_at=parts_at,
        freeze=freeze,
        improvement=improvement,
        target=target,
        screen_mr=bool(screen_mr),
    )
