"""Funnel plots for comparing institutions: FunnelPlotR 0.6.0 in pure Python.

Pure Python + numpy + scipy: no Django and no app imports, so any layer may use it.

    from reports.funnel import funnel
    result = funnel(deaths, expected, trusts, data_type="SR")
    result.phi, result.units[0].od_ucl998, result.limits_at(250.0)

It gives the numbers of ``FunnelPlotR::funnel_plot()`` 0.6.0 (CRAN release, files
``funnel_plot.R``, ``aggregate_func.R``, ``od_adjustment.R``, ``build_limits_lookup.R``,
``calculate_limits.R`` and ``outliers_func.R``; see ``tests/reports/reference/README.md``),
checked to 1e-9 relative against the package run in R:

1. Record-level rows are summed per group, and ``ratio = O / N x multiplier`` is taken
   from those sums. For ``data_type="SR"`` with ``sr_method="SHMI"`` and
   ``shmi_rounding=True`` the summed denominators (expected counts) are then rounded to
   two decimal places with R's ``round()`` (R >= 4.0: of the two candidates either side,
   the nearer to the stored double wins, a tie going to the even one; Python's ``round``
   differs on values such as 0.285). As in the package, ``ratio`` keeps the unrounded
   denominator, and everything else (z, limits, the funnel's x) uses the rounded one.
2. Target: 1 for SR, otherwise sum(O) / sum(N). The centre line is target x multiplier.
3. Unadjusted z-scores: SHMI ``sqrt(E) log(O/E)``; CQC ``(sqrt(O/E) - 1) / (1/(2 sqrt E))``;
   PR ``(asin sqrt(O/N) - asin sqrt(target)) / (1/(2 sqrt N))``; RC
   ``(log((O+.5)/(N+.5)) - log(target)) / sqrt(O/(O+.5)^2 + N/(N+.5)^2)``.
4. Over-dispersion: SHMI *truncates* (average ranks of z, band
   ``floor(rank x k / (groups + 1))`` with ``k = 1/trim_by``; groups in band 0 or in band
   k-1 and above are left out); every other type *winsorises* z to R's type-7 quantiles
   ``trim_by`` and ``1 - trim_by``. ``phi = sum(z^2) / n`` over the groups kept, and
   DerSimonian-Laird ``tau2 = max(0, (n phi - (n - 1)) / (sum w - sum w^2 / sum w))``
   with ``w = 1/s^2`` (0 when ``n phi < n - 1``).
5. ``adjusted=False`` makes phi and tau2 0, as the package reports them. If
   ``adjusted=True``, ``unadjusted=False`` and ``phi <= 1`` the package falls back to
   unadjusted limits: ``result.adjusted`` becomes False, ``result.unadjusted`` True,
   and tau2 keeps its value (it can be > 0 when ``(n-1)/n <= phi <= 1``).
6. Limits, with the package's constants z = 1.959964 (95%) and 3.090232 (99.8%).
   Adjusted (``od_*``): SHMI ``exp(+-z sqrt(1/N + tau2))``; CQC
   ``1 +- z sqrt(1/(4N) + tau2)``; RC ``exp(log(target) +- z sqrt(1/(4N) + tau2))``; PR
   ``sin(asin sqrt(target) +- z sqrt(1/(4N) + tau2))^2``; each x multiplier. Unadjusted
   (``lcl*``/``ucl*``): the same with tau2 = 0, except SR, which uses the exact Poisson
   (chi-square) limits ``qchisq(a, 2N) / 2N`` and ``qchisq(1-a, 2N+2) / 2N`` x target x
   multiplier. Both sets are always computed; the flags say which the package draws.
7. PR clean-up at small N (the arcsine limits stop being monotonic): the package computes
   its limits on a grid (1000 points from 3, or 1.1 for SR, to ``ceil(max N)``, plus every
   group's N, sorted) and sets a lower limit to 0 where it exceeds the value at the next
   grid point, an upper limit to 1 x multiplier where it is below it. ``limits_at(n)``
   applies the same rule against the next grid point above ``n``, so it reproduces the
   package's ``limits_lookup`` row for row, and the groups' own limits come from it.

Outlier flags (``outlier95``, ``outlier998``; ``funnel_plot(limit=95)`` and ``limit=99``):
a group is an outlier when ``ratio`` is strictly outside the limits that are drawn, the
adjusted (``od_*``) ones if ``result.adjusted`` (after the fallback), else the unadjusted
ones if ``result.unadjusted``; with neither drawn nobody is an outlier. A ratio exactly
on a limit is not an outlier.

Groups: names may be strings or ints, and units come back in the package's order: ints
numerically (R makes a factor of numbers in numeric order), anything else as strings in
code-point order (R's factor order in the C locale). With ``groups=None`` each row is its
own group, named "1", "2", ... in row order (FunnelPlotR has no default; this is what it
gives for an integer group column 1..n).

Identical numerator and denominator columns raise ``ValueError``, as the package stops
on them. Values that are not counts raise ``ValueError`` naming the group, where the
package only warns "NaNs produced" and carries NaN through: a negative or non-finite
count, a PR numerator above its denominator. So do fewer than 3 groups (a comparison of
two is not a funnel) and the case where the package stops: no group left after SHMI
truncation. A group whose denominator is zero (also after SHMI rounding: an expected
count below 0.005) is answered as the package answers it: its ratio is Inf (NaN for 0/0),
its z NaN (RC: from its numerator alone), its limits those of n = 0 (0 and Inf, or NaN),
and it is never an outlier; a NaN z ranks last in the SHMI truncation and is left out of
the quantiles, phi and tau2, so the other groups read what R gives them. An infinite z kept
by the over-dispersion step (SHMI with a zero observed count that truncation does not
remove, RC with every numerator zero) gives what the package gives: phi and tau2
infinite, adjusted limits 0 and infinity (or NaN where the package's arithmetic gives
NaN), and no outlier. The unadjusted ``z`` of a unit may be ``-inf`` (SHMI, zero
observed); ``to_dict()`` writes non-finite numbers as None.

``trim_by`` must be 0 to 0.5 (above 0 for SHMI, where 0 truncates every group) and the
multiplier above 0. ``limits_at`` takes one denominator (a :class:`Limits`) or a sequence
(a list); ``limit_arrays`` gives numpy arrays for drawing.

``messages`` are the package's messages, with its line breaks and indentation collapsed:
"Plotting using unadjusted limits" and "No overdispersion detected, or draw_adjusted set
to FALSE, plotting using unadjusted limits" (the fallback).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np
from scipy import special

__all__ = ["FunnelResult", "Limits", "Unit", "funnel", "r_round"]

Z95 = 1.959964
Z998 = 3.090232

DATA_TYPES = ("PR", "SR", "RC")
SR_METHODS = ("SHMI", "CQC")

MESSAGE_UNADJUSTED = "Plotting using unadjusted limits"
MESSAGE_FALLBACK = (
    "No overdispersion detected, or draw_adjusted set to FALSE, plotting using unadjusted limits"
)

LIMIT_NAMES = (
    "lcl95",
    "ucl95",
    "lcl998",
    "ucl998",
    "od_lcl95",
    "od_ucl95",
    "od_lcl998",
    "od_ucl998",
)

_LOG10_2 = math.log10(2.0)


def r_round(x: float, digits: int = 2) -> float:
    """R's ``round(x, digits)`` for digits > 0 (R >= 4.0, src/nmath/fround.c)."""
    if not math.isfinite(x) or x == 0.0:
        return x
    sign = 1.0
    if x < 0.0:
        sign, x = -1.0, -x
    # logb(x) is frexp's exponent - 1; beyond 15 significant digits there is nothing to do.
    if _LOG10_2 * (0.5 + (math.frexp(x)[1] - 1)) + digits > 15:
        return sign * x
    p10 = 10.0**digits
    x10 = p10 * x
    i10 = math.floor(x10)
    down = i10 / p10
    up = math.ceil(x10) / p10
    du, dd = up - x, x - down
    return sign * (up if (du < dd or (du == dd and math.fmod(i10, 2.0) == 1.0)) else down)


def _ldsum(values: np.ndarray) -> float:
    """A sum accumulated in long double, as R's ``sum()``."""
    return float(np.sum(np.asarray(values, dtype=np.longdouble)))


def _quantile7(x: np.ndarray, p: float) -> float:
    """R's ``quantile(x, p, type = 7)`` for one probability."""
    xs = np.sort(x)
    n = len(xs)
    index = 1.0 + max(n - 1, 0) * p
    lo = math.floor(index)
    hi = math.ceil(index)
    qs = float(xs[lo - 1])
    xhi = float(xs[hi - 1])
    if index > lo and xhi != qs:
        h = index - lo
        qs = (1.0 - h) * qs + h * xhi
    return qs


def _rank_average(x: np.ndarray) -> np.ndarray:
    """R's ``rank(x, ties.method = "average")``."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    ranks = np.empty(len(x), dtype=float)
    i = 0
    n = len(x)
    while i < n:
        j = i
        while j + 1 < n and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j + 2) / 2.0
        i = j + 1
    return ranks


def _r_seq(start: float, stop: float, length: int = 1000) -> np.ndarray:
    """R's ``seq(start, stop, length.out = length)`` for doubles."""
    if start == stop:
        return np.full(length, start)
    middle = start + np.arange(1, length - 1, dtype=float) * ((stop - start) / (length - 1))
    return np.concatenate(([start], middle, [stop]))


def _fmt(x: float) -> str:
    return f"{x:.10g}"


@dataclass(frozen=True)
class Limits:
    """The eight limits at one denominator: plain (``lcl95`` ...) and adjusted (``od_*``)."""

    lcl95: float
    ucl95: float
    lcl998: float
    ucl998: float
    od_lcl95: float
    od_ucl95: float
    od_lcl998: float
    od_ucl998: float

    def to_dict(self) -> dict:
        return {f.name: _json_float(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Unit:
    """One group (trust, ward, ...) on the funnel."""

    group: str
    numerator: float
    denominator: float
    ratio: float
    z: float
    lcl95: float
    ucl95: float
    lcl998: float
    ucl998: float
    od_lcl95: float
    od_ucl95: float
    od_lcl998: float
    od_ucl998: float
    outlier95: bool
    outlier998: bool

    @property
    def limits(self) -> Limits:
        return Limits(*(getattr(self, name) for name in LIMIT_NAMES))

    def to_dict(self) -> dict:
        out: dict = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _json_float(value) if isinstance(value, float) else value
        return out


def _json_float(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class FunnelResult:
    """What ``funnel()`` returns; see the module docstring for the method."""

    data_type: str
    sr_method: str | None
    multiplier: float
    trim_by: float
    target: float
    centre: float
    phi: float
    tau2: float
    adjusted: bool
    unadjusted: bool
    messages: tuple[str, ...]
    units: tuple[Unit, ...]
    grid: np.ndarray = field(repr=False, compare=False)

    def limits_at(self, n: float | Sequence[float] | np.ndarray) -> Limits | list[Limits]:
        """The eight limits at denominator ``n`` (a number, or a sequence for a list)."""
        scalar = np.ndim(n) == 0
        arrays = self.limit_arrays(np.atleast_1d(np.asarray(n, dtype=float)))
        rows = [
            Limits(*(float(arrays[name][i]) for name in LIMIT_NAMES))
            for i in range(len(arrays["lcl95"]))
        ]
        return rows[0] if scalar else rows

    def limit_arrays(self, ns: np.ndarray) -> dict[str, np.ndarray]:
        """The eight limits at many denominators at once, as arrays keyed by name."""
        ns = np.asarray(ns, dtype=float)
        if ns.size and (not np.all(np.isfinite(ns)) or np.any(ns <= 0)):
            raise ValueError("limits_at: denominators must be finite and > 0")
        return _limits(
            ns, self.grid, self.data_type, self.sr_method, self.multiplier, self.tau2, self.target
        )

    @property
    def outliers95(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.outlier95)

    @property
    def outliers998(self) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.outlier998)

    def to_dict(self) -> dict:
        return {
            "data_type": self.data_type,
            "sr_method": self.sr_method,
            "multiplier": self.multiplier,
            "trim_by": self.trim_by,
            "target": _json_float(self.target),
            "centre": _json_float(self.centre),
            "phi": _json_float(self.phi),
            "tau2": _json_float(self.tau2),
            "adjusted": self.adjusted,
            "unadjusted": self.unadjusted,
            "messages": list(self.messages),
            "units": [u.to_dict() for u in self.units],
        }


# --- limits -------------------------------------------------------------------------------


def _raw_limits(
    n: np.ndarray, data_type: str, sr_method: str | None, mult: float, tau2: float, target: float
) -> dict[str, np.ndarray]:
    """calculate_limits() before the PR clean-up, at each n (operation order as in R)."""
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for od, t2 in (("od_", tau2), ("", 0.0)):
            if data_type == "SR" and od == "":
                mt = mult * target
                out["lcl95"] = mt * (special.chdtri(2 * n, 0.975) / 2) / n
                out["ucl95"] = mt * (special.chdtri(2 * (n + 1), 0.025) / 2) / n
                out["lcl998"] = mt * (special.chdtri(2 * n, 0.999) / 2) / n
                out["ucl998"] = mt * (special.chdtri(2 * (n + 1), 0.001) / 2) / n
                continue
            if data_type == "SR" and sr_method == "SHMI":
                root = np.sqrt((1 / n) + t2)
                lo95, hi95 = np.exp(-Z95 * root), np.exp(Z95 * root)
                lo998, hi998 = np.exp(-Z998 * root), np.exp(Z998 * root)
            else:
                s = 1 / (2 * np.sqrt(n))
                root = np.sqrt(s * s + t2)
                if data_type == "SR":  # CQC
                    lo95, hi95 = 1 - Z95 * root, 1 + Z95 * root
                    lo998, hi998 = 1 - Z998 * root, 1 + Z998 * root
                elif data_type == "RC":
                    lt = math.log(target) if target > 0 else -math.inf
                    lo95, hi95 = np.exp(lt - Z95 * root), np.exp(lt + Z95 * root)
                    lo998, hi998 = np.exp(lt - Z998 * root), np.exp(lt + Z998 * root)
                else:  # PR
                    a = math.asin(math.sqrt(target))
                    lo95, hi95 = np.sin(a - Z95 * root) ** 2, np.sin(a + Z95 * root) ** 2
                    lo998, hi998 = np.sin(a - Z998 * root) ** 2, np.sin(a + Z998 * root) ** 2
            out[od + "lcl95"] = mult * lo95
            out[od + "ucl95"] = mult * hi95
            out[od + "lcl998"] = mult * lo998
            out[od + "ucl998"] = mult * hi998
    if data_type == "PR":
        for name, arr in out.items():
            if name.endswith(("lcl95", "lcl998")):
                out[name] = np.where(arr < 0, 0.0, arr)
            else:
                out[name] = np.where(arr > 1 * mult, 1 * mult, arr)
    return out


def _limits(
    ns: np.ndarray,
    grid: np.ndarray,
    data_type: str,
    sr_method: str | None,
    mult: float,
    tau2: float,
    target: float,
) -> dict[str, np.ndarray]:
    out = _raw_limits(ns, data_type, sr_method, mult, tau2, target)
    if data_type != "PR" or not ns.size:
        return out
    # The package's clean-up compares each grid row with the next one (the last row stays).
    pos = np.searchsorted(grid, ns, side="right")
    has_next = pos < len(grid)
    nxt = _raw_limits(
        grid[np.minimum(pos, len(grid) - 1)], data_type, sr_method, mult, tau2, target
    )
    for name in LIMIT_NAMES:
        if name.endswith(("lcl95", "lcl998")):
            bad = has_next & (out[name] > nxt[name])
            out[name] = np.where(bad, 0.0, out[name])
        else:
            bad = has_next & (out[name] < nxt[name])
            out[name] = np.where(bad, 1 * mult, out[name])
    return out


# --- the analysis -------------------------------------------------------------------------


def _group_labels(groups: Sequence | None, n_rows: int) -> tuple[list[str], np.ndarray]:
    """Sorted group names and each row's index into them (R's factor)."""
    if groups is None:
        return [str(i + 1) for i in range(n_rows)], np.arange(n_rows)
    arr = np.asarray(groups)
    if arr.ndim != 1 or len(arr) != n_rows:
        raise ValueError(f"groups has {arr.size} entries but there are {n_rows} numerators")
    if arr.dtype.kind not in "iuU":  # anything else (floats, objects, bools) as strings
        arr = np.array([str(g) for g in groups], dtype=str)
    keys, codes = np.unique(arr, return_inverse=True)  # ints numerically, strings by code point
    return [str(k) for k in keys.tolist()], codes.astype(np.intp)


def _as_array(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numbers") from exc
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a flat sequence of numbers")
    return arr


def funnel(
    numerators: Sequence[float] | np.ndarray,
    denominators: Sequence[float] | np.ndarray,
    groups: Sequence | None = None,
    *,
    data_type: str = "PR",
    sr_method: str = "SHMI",
    adjusted: bool = True,
    unadjusted: bool = False,
    trim_by: float = 0.1,
    multiplier: float = 1,
    shmi_rounding: bool = True,
) -> FunnelResult:
    """A funnel plot's numbers, as ``FunnelPlotR::funnel_plot()`` 0.6.0 (see module docs).

    ``numerators``/``denominators`` are record-level or aggregated rows (summed per group);
    for SR they are observed and expected counts.
    """
    if data_type not in DATA_TYPES:
        raise ValueError(f"data_type must be one of {', '.join(DATA_TYPES)}, not {data_type!r}")
    if data_type == "SR" and sr_method not in SR_METHODS:
        raise ValueError(f"sr_method must be SHMI or CQC, not {sr_method!r}")
    shmi = data_type == "SR" and sr_method == "SHMI"
    trim_by = float(trim_by)
    if not (0.0 <= trim_by <= 0.5) or (shmi and trim_by == 0.0):
        raise ValueError(f"trim_by must be from 0 (above 0 for SHMI) to 0.5, not {trim_by}")
    multiplier = float(multiplier)
    if not (math.isfinite(multiplier) and multiplier > 0):
        raise ValueError(f"multiplier must be a finite number above 0, not {multiplier}")
    adjusted, unadjusted = bool(adjusted), bool(unadjusted)

    num = _as_array(numerators, "numerators")
    den = _as_array(denominators, "denominators")
    if len(num) != len(den):
        raise ValueError(f"{len(num)} numerators but {len(den)} denominators: they must pair up")
    if len(num) and np.array_equal(num, den):
        # funnel_plot() stops on identical() numerator and denominator columns.
        raise ValueError("Numerator and denominator are the same. Please check your inputs")
    names, codes = _group_labels(groups, len(num))
    for arr, what in ((num, "numerator"), (den, "denominator")):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"group {names[codes[i]]!r}: {what} {arr[i]!r} is not a count "
                "(it must be a finite number, 0 or more)"
            )
    m = len(names)
    if m < 3:
        listed = ", ".join(repr(g) for g in names) or "none"
        raise ValueError(f"a funnel needs at least 3 groups, got {m} ({listed})")

    # aggregate_func(): sums per group, accumulated in long double as R's sum().
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(m))
    num_g = np.add.reduceat(num[order].astype(np.longdouble), starts).astype(float)
    den_g = np.add.reduceat(den[order].astype(np.longdouble), starts).astype(float)
    for i in range(m):
        if data_type == "PR" and num_g[i] > den_g[i]:
            raise ValueError(
                f"group {names[i]!r}: numerator {_fmt(num_g[i])} is above its denominator "
                f"{_fmt(den_g[i])}, which a proportion cannot be"
            )
    with np.errstate(divide="ignore", invalid="ignore"):
        rr = num_g / den_g  # a zero denominator: Inf (or NaN for 0/0), as in R
    if shmi and shmi_rounding:
        den_g = np.array([r_round(x, 2) for x in den_g])

    target = 1.0 if data_type == "SR" else _ldsum(num_g) / _ldsum(den_g)

    # transformed_zscore(), with the C library's log/asin/sqrt as R (numpy's SIMD versions
    # can differ in the last bit, and the truncation ranks and winsorising compare these).
    z = np.empty(m)
    s = np.empty(m)
    log, sqrt = math.log, math.sqrt
    t_log = log(target) if target > 0 else -math.inf
    t_asin = math.asin(sqrt(target)) if data_type == "PR" else 0.0
    for i in range(m):
        o, e = float(num_g[i]), float(den_g[i])
        if e == 0:
            s[i], z[i] = _zero_exposure(o, data_type, shmi, t_log)
        elif data_type == "SR" and shmi:
            s[i] = 1 / sqrt(e)
            z[i] = sqrt(e) * log(o / e) if o > 0 else -math.inf
        elif data_type == "SR":
            s[i] = 1 / (2 * sqrt(e))
            z[i] = (sqrt(o / e) - 1) / s[i]
        elif data_type == "PR":
            s[i] = 1 / (2 * sqrt(e))
            z[i] = (math.asin(sqrt(o / e)) - t_asin) / s[i]
        else:
            s[i] = sqrt((o / ((o + 0.5) ** 2)) + (e / ((e + 0.5) ** 2)))
            z[i] = (log((o + 0.5) / (e + 0.5)) - t_log) / s[i]

    # truncation() / winsorisation(). An undefined z (NaN: a zero denominator) ranks last,
    # as R's rank() puts NA, is left out of the quantiles (na.rm) and of phi and tau2 (the
    # package counts and sums only the non-NA scores).
    known_z = ~np.isnan(z)
    if shmi:
        k = 1 / trim_by
        sp = np.floor(_rank_average(z) * k / (m + 1))
        kept = (sp > 0) & (sp < k - 1) & known_z
        w = z[kept]
    else:
        if not known_z.any():
            raise ValueError("no group has a z-score (every denominator is 0)")
        lz = _quantile7(z[known_z], trim_by)
        uz = _quantile7(z[known_z], 1 - trim_by)
        w = np.where(z < lz, lz, np.where(z > uz, uz, z))[known_z]
        kept = known_z
    n_kept = int(kept.sum())

    phi = tau2 = 0.0
    if adjusted:
        if n_kept == 0:
            raise ValueError(
                f"no group is left after SHMI truncation (trim_by={trim_by} with {m} groups), "
                "so over-dispersion cannot be estimated"
            )
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            phi = (1 / n_kept) * _ldsum(w * w)
            tau2 = _tau2(n_kept, phi, s[kept])
        # An infinite z kept (SHMI with a zero observed count that truncation keeps, RC
        # with every numerator zero) makes phi and tau2 infinite, as in the package: its
        # adjusted limits are then 0 and infinity (or undefined) and nobody is an outlier.

    messages: list[str] = []
    if not adjusted and unadjusted:
        messages.append(MESSAGE_UNADJUSTED)
    if adjusted and not unadjusted and phi <= 1:
        adjusted, unadjusted = False, True
        messages.append(MESSAGE_FALLBACK)

    # build_limits_lookup(): the package's grid, which the PR clean-up depends on.
    max_x = float(math.ceil(float(np.max(den_g))))
    grid = np.unique(np.concatenate((_r_seq(1.1 if data_type == "SR" else 3.0, max_x), den_g)))
    lim = _limits(
        den_g, grid, data_type, sr_method if data_type == "SR" else None, multiplier, tau2, target
    )

    ratio = rr * multiplier
    if adjusted:
        lo95, hi95, lo998, hi998 = (lim[f"od_{x}"] for x in ("lcl95", "ucl95", "lcl998", "ucl998"))
    else:
        lo95, hi95, lo998, hi998 = (lim[x] for x in ("lcl95", "ucl95", "lcl998", "ucl998"))
    drawn = adjusted or unadjusted
    # An undefined limit (NaN, every RC numerator zero) gives the package NA: no outlier.
    # So does an undefined ratio (0/0).
    known95 = ~(np.isnan(lo95) | np.isnan(hi95) | np.isnan(ratio))
    known998 = ~(np.isnan(lo998) | np.isnan(hi998) | np.isnan(ratio))
    out95 = drawn & known95 & ~((ratio <= hi95) & (ratio >= lo95))
    out998 = drawn & known998 & ~((ratio <= hi998) & (ratio >= lo998))

    columns = [
        num_g.tolist(),
        den_g.tolist(),
        ratio.tolist(),
        z.tolist(),
        *(lim[name].tolist() for name in LIMIT_NAMES),
        np.asarray(out95, dtype=bool).tolist(),
        np.asarray(out998, dtype=bool).tolist(),
    ]
    units = tuple(Unit(g, *row) for g, *row in zip(names, *columns, strict=True))
    return FunnelResult(
        data_type=data_type,
        sr_method=sr_method if data_type == "SR" else None,
        multiplier=multiplier,
        trim_by=trim_by,
        target=target,
        centre=target * multiplier,
        phi=phi,
        tau2=tau2,
        adjusted=adjusted,
        unadjusted=unadjusted,
        messages=tuple(messages),
        units=units,
        grid=grid,
    )


def _zero_exposure(o: float, data_type: str, shmi: bool, t_log: float) -> tuple[float, float]:
    """(s, z) of a group whose denominator is 0, with R's IEEE arithmetic: 1/0 is Inf, so
    s is Inf and z is NaN (0 * Inf, or Inf / Inf), except RC, whose s does not divide by
    the denominator (z is then finite, or +-Inf/NaN when the numerator is 0 too)."""
    if data_type != "RC":
        return math.inf, math.nan
    s = math.sqrt(o / ((o + 0.5) ** 2))
    y = math.log((o + 0.5) / 0.5) - t_log
    if s > 0:
        return s, y / s
    return s, (math.nan if y == 0 or math.isnan(y) else math.copysign(math.inf, y))


def _tau2(n: int, phi: float, s: np.ndarray) -> float:
    """tau_func(): DerSimonian-Laird between-group variance."""
    if len(s) == 0:
        return 0.0
    if (n * phi) < (n - 1):
        return 0.0
    w = 1 / (s * s)
    sw = _ldsum(w)
    t = ((n * phi) - (n - 1)) / (sw - (_ldsum(w * w) / sw))
    return t if math.isnan(t) else max(0.0, t)  # R's max(0, NaN) is NaN
