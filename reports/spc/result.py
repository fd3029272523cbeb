"""Result types shared by every chart family.

An :class:`SPCResult` keeps its per-point data in numpy arrays and builds the
list of :class:`Point` objects only when ``points`` is first read, so that the
batched XmR entry point can return many results cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

RULES = (None, "outside_limits", "trend", "two_in_three", "shift")
"""Rule names by code; code 0 means no rule applies."""

POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
"""Point types by code."""

IMPROVEMENTS = ("increase", "decrease", "neutral")


def _num(x: Any) -> float | None:
    """Return a plain float, or None for NaN/None/inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _list(arr, n: int) -> list[float | None]:
    """Convert a float array or list to a list of floats with None for NaN."""
    if arr is None:
        return [None] * n
    if isinstance(arr, np.ndarray):
        arr = arr.tolist()
    return [None if v != v else v for v in arr]


@dataclass(frozen=True, slots=True)
class Point:
    """One input position of a chart.

    ``lower_near``/``upper_near`` are the XmR "near" lines two thirds of the
    way from the centre to each limit (None on other charts).
    """

    index: int
    value: float | None
    centre: float | None
    lower: float | None
    upper: float | None
    lower_near: float | None
    upper_near: float | None
    phase: int
    special_cause: bool
    rule: str | None
    point_type: str

    def to_dict(self) -> dict:
        """Return a JSON-ready dict of this point."""
        return {
            "index": self.index,
            "value": self.value,
            "centre": self.centre,
            "lower": self.lower,
            "upper": self.upper,
            "lower_near": self.lower_near,
            "upper_near": self.upper_near,
            "phase": self.phase,
            "special_cause": self.special_cause,
            "rule": self.rule,
            "point_type": self.point_type,
        }


_RUNS_KEYS = (
    "n_useful",
    "longest_run",
    "longest_run_max",
    "crossings",
    "crossings_min",
    "runs_signal",
)


@dataclass(slots=True)
class Phase:
    """One phase (rebase / part) of a chart.

    ``centre``, ``lower`` and ``upper`` are the phase's lines; on P and U charts
    the limits vary point by point, so ``lower``/``upper`` are None here and
    are given on each point. The runs analysis fields (``n_useful`` …
    ``runs_signal``) are filled for run, P, U and C charts; with no useful
    points they are None and ``runs_signal`` is False.
    """

    start: int
    n: int
    centre: float | None = None
    lower: float | None = None
    upper: float | None = None
    lower_near: float | None = None
    upper_near: float | None = None
    n_useful: int | None = None
    longest_run: int | None = None
    longest_run_max: int | None = None
    crossings: int | None = None
    crossings_min: int | None = None
    runs_signal: bool | None = None

    def to_dict(self, *, runs: bool, near: bool) -> dict:
        """Return a JSON-ready dict; ``runs``/``near`` choose the optional keys."""
        d = {
            "start": self.start,
            "n": self.n,
            "centre": _num(self.centre),
            "lower": _num(self.lower),
            "upper": _num(self.upper),
        }
        if near:
            d["lower_near"] = _num(self.lower_near)
            d["upper_near"] = _num(self.upper_near)
        if runs:
            for key in _RUNS_KEYS:
                d[key] = getattr(self, key)
        return d


class SPCResult:
    """The outcome of one SPC analysis.

    Attributes:
        chart: "xmr", "run", "p", "u" or "c".
        improvement: "increase", "decrease" or "neutral".
        target: the target value, or None.
        phases: list of :class:`Phase`.
        variation_icon: "common_cause", "improvement_high", "improvement_low",
            "concern_high", "concern_low", "neutral_high" or "neutral_low"
            (from the last point).
        assurance: "consistent_pass", "consistent_fail", "inconsistent" or None.
        warnings: plain-English warnings.
        points: list of :class:`Point`, one per input position (built lazily).
    """

    __slots__ = (
        "chart",
        "improvement",
        "target",
        "phases",
        "variation_icon",
        "assurance",
        "warnings",
        "_values",
        "_centre",
        "_lower",
        "_upper",
        "_lower_near",
        "_upper_near",
        "_phase_idx",
        "_rules",
        "_types",
        "_points",
    )

    def __init__(
        self,
        *,
        chart: str,
        improvement: str,
        target: float | None,
        values: Sequence,
        centre: Sequence,
        lower: Sequence | None,
        upper: Sequence | None,
        phase_idx: Sequence,
        rules: Sequence,
        types: Sequence,
        phases: list[Phase],
        variation_icon: str,
        assurance: str | None,
        warnings: list[str],
        lower_near: Sequence | None = None,
        upper_near: Sequence | None = None,
    ) -> None:
        self.chart = chart
        self.improvement = improvement
        self.target = target
        self.phases = phases
        self.variation_icon = variation_icon
        self.assurance = assurance
        self.warnings = warnings
        self._values = values
        self._centre = centre
        self._lower = lower
        self._upper = upper
        self._lower_near = lower_near
        self._upper_near = upper_near
        self._phase_idx = phase_idx
        self._rules = rules
        self._types = types
        self._points = None

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return (
            f"SPCResult(chart={self.chart!r}, n={len(self)}, phases={len(self.phases)}, "
            f"variation_icon={self.variation_icon!r}, assurance={self.assurance!r})"
        )

    @property
    def points(self) -> list[Point]:
        """One :class:`Point` per input position."""
        if self._points is None:
            n = len(self._values)
            values = _list(self._values, n)
            centre = _list(self._centre, n)
            lower = _list(self._lower, n)
            upper = _list(self._upper, n)
            lower_near = _list(self._lower_near, n)
            upper_near = _list(self._upper_near, n)
            phase, rules, types = (
                a.tolist() if isinstance(a, np.ndarray) else list(a)
                for a in (self._phase_idx, self._rules, self._types)
            )
            self._points = [
                Point(
                    i,
                    values[i],
                    centre[i],
                    lower[i],
                    upper[i],
                    lower_near[i],
                    upper_near[i],
                    phase[i],
                    rules[i] != 0,
                    RULES[rules[i]],
                    POINT_TYPES[types[i]],
                )
                for i in range(n)
            ]
        return self._points

    @property
    def latest_value(self) -> float | None:
        """What the chart plots at its last point (a P chart's proportion, a T chart's
        days), or None for an empty chart or a missing value: the measures matrix's
        "latest value", stored with the snapshot."""
        if not len(self._values):
            return None
        raw = self._values[-1]
        if raw is None:
            return None
        value = float(raw)
        return None if math.isnan(value) else value

    @property
    def special_cause_count(self) -> int:
        """How many points carry a special cause."""
        return int(np.count_nonzero(np.asarray(self._rules)))

    @property
    def runs_signal(self) -> bool:
        """True when any phase's runs analysis signals (run, P, U and C charts)."""
        return any(bool(p.runs_signal) for p in self.phases)

    def to_dict(self) -> dict:
        """Return a JSON-ready dict: no numpy types, no NaN (None instead)."""
        near = self.chart == "xmr"
        pts = []
        for p in self.points:
            d = p.to_dict()
            if not near:
                del d["lower_near"], d["upper_near"]
            pts.append(d)
        return {**self.to_dict_head(), "points": pts}

    def summary(self, recent: int = 24) -> dict:
        """What a measure's snapshot keeps of this result: `to_dict` without the points,
        plus the latest point (as `to_dict` writes it) and the last `recent` plotted values
        (the sparkline). Builds no :class:`Point` list: a national rebuild keeps 60,000 of
        these, and writing every point of each (about 10 KB) was half its time. The chart
        itself is computed from the data when it is read (the measure page, the API)."""
        near = self.chart == "xmr"
        n = len(self._values)
        out = self.to_dict_head()
        out["n_points"] = n
        out["recent"] = _list(self._values[max(n - recent, 0):], min(recent, n))
        out["latest"] = None
        if n:
            i = n - 1

            def at(arr):
                return None if arr is None else _list(arr[i:], 1)[0]

            rule = int(self._rules[i])
            latest = Point(i, at(self._values), at(self._centre), at(self._lower),
                           at(self._upper), at(self._lower_near), at(self._upper_near),
                           int(self._phase_idx[i]), rule != 0, RULES[rule],
                           POINT_TYPES[int(self._types[i])]).to_dict()
            if not near:
                del latest["lower_near"], latest["upper_near"]
            out["latest"] = latest
        return out

    def to_dict_head(self) -> dict:
        """`to_dict` without its points."""
        runs = self.chart != "xmr"
        near = self.chart == "xmr"
        return {
            "chart": self.chart,
            "improvement": self.improvement,
            "target": _num(self.target),
            "variation_icon": self.variation_icon,
            "assurance": self.assurance,
            "warnings": list(self.warnings),
            "phases": [ph.to_dict(runs=runs, near=near) for ph in self.phases],
        }
