"""Plain-English reading of an :class:`~reports.spc.SPCResult`.

Example: "Special cause improvement: 7 points above the mean since March 2025;
the target of 95% is consistently met."

For rare-event charts (G and T) each point is one gap between events:
:func:`describe` speaks of "the latest gap" and :func:`rare_event_summary`
gives the running count since the last event, "34 days since the last fall
with harm; the longest gap was 61 days."
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from ._common import TRIAL_LIMIT_POINTS
from .rare import event_days
from .result import SPCResult

RARE_CHARTS = ("g", "t")
"""Charts whose points are gaps between events."""
_MEDIAN_CHARTS = ("run", "g")  # charts whose centre line is the median

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


def _label(labels: Sequence | None, i: int, *, day: bool = False) -> str:
    if labels is None:
        return f"point {i + 1}"
    lab = labels[i]
    if hasattr(lab, "strftime"):
        return _day(lab) if day else lab.strftime("%B %Y")
    return str(lab)


def _day(d) -> str:
    """A date as "3 March 2025"."""
    return f"{d.day} {d.strftime('%B %Y')}"


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
    rare = result.chart in RARE_CHARTS
    latest = "latest gap" if rare else "latest value"
    if result.chart == "run" or not last.special_cause:
        if result.chart in ("run", "p", "u", "c", *RARE_CHARTS) and result.phases[-1].runs_signal:
            ph = result.phases[-1]
            why = []
            line = "median" if result.chart in _MEDIAN_CHARTS else "centre line"
            if ph.longest_run is not None and ph.longest_run > ph.longest_run_max:
                why.append(
                    f"a run of {ph.longest_run} points on one side of the "
                    f"{line} "
                    f"(more than {ph.longest_run_max} is unusual)"
                )
            if ph.crossings is not None and ph.crossings < ph.crossings_min:
                plural = "" if ph.crossings == 1 else "s"
                why.append(
                    f"only {ph.crossings} crossing{plural} of the {line} "
                    f"(fewer than {ph.crossings_min} is unusual)"
                )
            return "Non-random variation: " + " and ".join(why)
        if result.chart == "run":
            return "Random variation only: no unusually long runs or too few crossings"
        return (
            f"Common cause variation: the {latest} "
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
        # >=: a T chart flags its back-transformed value, which may sit an ulp off the input
        where = "above the upper" if last.value >= last.upper else "below the lower"
        return (
            f"{kind}: the {latest} ({fmt(last.value)}, {_label(labels, last.index, day=rare)}) "
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


def too_few_points(result: SPCResult) -> bool:
    """The latest phase has trial limits: too few points to read assurance (one rule)."""
    return bool(result.phases) and result.phases[-1].n < TRIAL_LIMIT_POINTS


def _assurance(result: SPCResult, fmt) -> str:
    if result.assurance is None or result.target is None:
        return ""
    t = fmt(result.target)
    if too_few_points(result):
        n = result.phases[-1].n
        return (f"with only {n} point{'s' if n != 1 else ''} it is too early to say whether "
                f"the target of {t} will be met (that needs {TRIAL_LIMIT_POINTS})")
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


def _count(k: float, unit: str, units: str | None = None) -> str:
    plural = units if units is not None else unit + "s"
    return f"{format_number(k)} {unit if k == 1 else plural}"


def _gap_text(head: str, gaps: list[float], current: float, unit, units, upper_limit) -> str:
    """``head`` + how the open gap compares with the longest completed one."""
    text = head
    if gaps:
        longest = max(gaps)
        if current > longest:
            text += (
                f", the longest gap so far (the longest before was {_count(longest, unit, units)})"
            )
        elif current == longest:
            text += ", as long as the longest gap so far"
        else:
            text += f"; the longest gap was {_count(longest, unit, units)}"
    if upper_limit is not None and upper_limit == upper_limit and current > upper_limit:
        text += (
            f"; it is already longer than the upper process limit "
            f"({_count(upper_limit, unit, units)})"
        )
    return text + "."


def gap_summary(
    gaps: Sequence[float],
    current: float,
    *,
    noun: str = "event",
    unit: str = "day",
    units: str | None = None,
    upper_limit: float | None = None,
) -> str:
    """The running count since the last event, set against the gaps so far.

    For G charts (opportunities between events) or any unit: ``gap_summary([12,
    40, 7], 25, noun="surgical site infection", unit="operation")`` gives "25
    operations since the last surgical site infection; the longest gap was 40
    operations."

    Args:
        gaps: the completed gaps between consecutive events (the chart's values;
            None/NaN ones are skipped). Empty when there has been one event.
        current: the open gap since the last event (not yet a point of the chart).
        noun: what an event is, in the singular ("fall with harm").
        unit, units: the unit of a gap, singular and plural (default unit + "s").
        upper_limit: the chart's latest upper limit; when the open gap already
            exceeds it the sentence says so, since the chart itself shows that
            only at the next event.
    """
    if current is None or current != current or current < 0:
        raise ValueError("current must be a number of zero or more")
    done = [float(g) for g in gaps if g is not None and g == g]
    if any(g < 0 for g in done):
        raise ValueError("gaps must not be negative")
    count = _count(current, unit, units)
    head = f"{count} since the last {noun}" if done else f"{count} since the only {noun} recorded"
    return _gap_text(head, done, current, unit, units, upper_limit)


def _as_date(d, name: str) -> dt.date:
    if isinstance(d, dt.datetime):
        return d.date()
    if not isinstance(d, dt.date):
        raise ValueError(f"{name} must be a date, not {d!r}")
    return d


def rare_event_summary(
    event_dates: Iterable,
    today: dt.date,
    *,
    noun: str = "event",
    since: dt.date | None = None,
    upper_limit: float | None = None,
) -> str:
    """Plain-English days since the last event and the longest gap between events.

    Pure: the caller passes the event dates (any order; datetimes count by
    their date) and today's date. Examples:

    - "34 days since the last fall with harm; the longest gap was 61 days."
    - "70 days since the last fall with harm, the longest gap so far (the
      longest before was 61 days)."
    - "The last fall with harm was today (2 on that day); the longest gap was 9 days."
    - "12 days since the only fall with harm recorded."
    - "No fall with harm recorded yet." or, with ``since``, "No fall with harm
      recorded since 1 April 2024 (365 days)."

    Gaps are counted between days with events, so several events on one day
    make one gap, not gaps of 0 days.

    Args:
        event_dates: the dates of the events.
        today: the date to count to; not before any event.
        noun: what an event is, in the singular.
        since: when recording began (said when there are no events).
        upper_limit: the T chart's latest upper limit in days (see :func:`gap_summary`).
    """
    today = _as_date(today, "today")
    days = event_days(event_dates)
    if since is not None:
        since = _as_date(since, "since")
        if since > today:
            raise ValueError("since must not be after today")
        if days and days[0] < since:
            raise ValueError("an event date is before the date recording began")
    if not days:
        if since is None:
            return f"No {noun} recorded yet."
        return f"No {noun} recorded since {_day(since)} ({_count((today - since).days, 'day')})."
    last = days[-1]
    if last > today:
        raise ValueError(f"an event date ({last.isoformat()}) is after today ({today.isoformat()})")
    current = (today - last).days
    if len(days) == 1:
        head = (
            f"The only {noun} recorded was today"
            if current == 0
            else f"{_count(current, 'day')} since the only {noun} recorded"
        )
    else:
        head = (
            f"The last {noun} was today"
            if current == 0
            else f"{_count(current, 'day')} since the last {noun}"
        )
        same_day = days.count(last)
        if same_day > 1:
            head += f" ({same_day} on that day)"
    distinct = sorted(set(days))
    gaps = [float((b - a).days) for a, b in zip(distinct, distinct[1:], strict=False)]
    return _gap_text(head, gaps, current, "day", None, upper_limit)
