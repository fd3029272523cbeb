"""Plain-English reading of an :class:`~reports.spc.SPCResult`.

Example: "Special cause improvement: 7 points above the mean since March 2025;
the target of 95% is consistently met."
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .result import SPCResult

_KIND = {
    "special_cause_improvement": "Special cause improvement",
    "special_cause_concern": "Special cause concern",
    "special_cause_neutral_high": "Special cause variation (higher, neither better nor worse)",
    "special_cause_neutral_low": "Special cause variation (lower, neither better nor worse)",
}


def format_number(value: float | None, unit: str = "") -> str:
    """Format a number compactly with its unit ("95%", "12.5 days")."""
    if value is None:
        return "n/a"
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}".rstrip("0").rstrip(".")
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "‰") else f"{text} {unit}"


def _label(labels: Sequence | None, i: int) -> str:
    if labels is None:
        return f"point {i + 1}"
    lab = labels[i]
    if hasattr(lab, "strftime"):
        return lab.strftime("%B %Y")
    return str(lab)


def _trailing(points, pred) -> int:
    k = 0
    for p in reversed(points):
        if not pred(p):
            break
        k += 1
    return k


def _variation(result: SPCResult, labels, fmt) -> str:
    pts = result.points
    last = pts[-1]
    if result.chart == "run" or not last.special_cause:
        if result.chart in ("run", "p", "u", "c") and result.phases[-1].runs_signal:
            ph = result.phases[-1]
            why = []
            if ph.longest_run is not None and ph.longest_run > ph.longest_run_max:
                why.append(
                    f"a run of {ph.longest_run} points on one side of the "
                    f"{'median' if result.chart == 'run' else 'centre line'} "
                    f"(more than {ph.longest_run_max} is unusual)"
                )
            if ph.crossings is not None and ph.crossings < ph.crossings_min:
                line = "median" if result.chart == "run" else "centre line"
                plural = "" if ph.crossings == 1 else "s"
                why.append(
                    f"only {ph.crossings} crossing{plural} of the {line} "
                    f"(fewer than {ph.crossings_min} is unusual)"
                )
            return "Non-random variation: " + " and ".join(why)
        if result.chart == "run":
            return "Random variation only: no unusually long runs or too few crossings"
        return (
            "Common cause variation: the latest value "
            f"({fmt(last.value)}) is within the expected range"
            + (
                f" of {fmt(last.lower)} to {fmt(last.upper)}"
                if last.lower is not None and last.upper is not None
                else ""
            )
        )
    kind = _KIND[last.point_type]
    rule = last.rule
    if rule == "outside_limits":
        where = "above the upper" if last.value > last.upper else "below the lower"
        return (
            f"{kind}: the latest value ({fmt(last.value)}, {_label(labels, last.index)}) "
            f"is {where} process limit ({fmt(last.upper if 'above' in where else last.lower)})"
        )
    k = _trailing(pts, lambda p: p.rule == rule and p.point_type == last.point_type)
    since = _label(labels, last.index - k + 1)
    if rule == "shift":
        side = "above" if last.value > last.centre else "below"
        return f"{kind}: {k} points {side} the mean since {since}"
    if rule == "trend":
        first = pts[last.index - k + 1].value
        way = "rising" if first is not None and last.value > first else "falling"
        return f"{kind}: {k} points {way} in a row since {since}"
    side = "upper" if last.value > last.centre else "lower"
    return f"{kind}: 2 of the last 3 points are close to the {side} process limit"


def _assurance(result: SPCResult, fmt) -> str:
    if result.assurance is None or result.target is None:
        return ""
    t = fmt(result.target)
    return {
        "consistent_pass": f"the target of {t} is consistently met",
        "consistent_fail": f"the target of {t} will not be met without a change to the process",
        "inconsistent": f"the target of {t} will be met only some of the time",
    }[result.assurance]


def describe(
    result: SPCResult,
    *,
    labels: Sequence | None = None,
    unit: str = "",
    formatter: Callable[[float | None], str] | None = None,
    percent: bool = False,
) -> str:
    """A one-sentence plain-English reading of ``result``.

    Args:
        result: the analysis to read.
        labels: one label per point (dates are written as "March 2025").
        unit: the unit of the values, e.g. "%" or "days".
        formatter: optional function to format numbers (overrides ``unit``).
        percent: values are proportions (P charts): show them ×100 with "%".
    """
    if labels is not None and len(labels) != len(result):
        raise ValueError("labels must have one entry per point")

    def fmt(v):
        if formatter:
            return formatter(v)
        if percent:
            return format_number(None if v is None else v * 100, unit or "%")
        return format_number(v, unit)

    text = _variation(result, labels, fmt)
    extra = _assurance(result, fmt)
    return f"{text}; {extra}." if extra else f"{text}."
