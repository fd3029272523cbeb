"""Plotly figures for SPC results in the "Making Data Count" style.

Pure functions: no Django. Colours: grey common-cause points, blue improvement,
orange concern, purple neutral; dashed process limits, solid centre line, red
dashed target, dotted phase breaks, optional PDSA markers and annotations.
Every figure has a title, and :func:`data_table` gives the same information as
rows for screen-reader users.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Sequence

import plotly.graph_objects as go
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from measures import snapshots
from measures.chart_svg import figure_svg
from reports.spc._common import TRIAL_LIMIT_POINTS
from reports.spc.icons import (
    ASSURANCE_TITLES,
    VARIATION_TITLES,
    assurance_icon_svg,
    variation_icon_svg,
)
from reports.spc.reading import describe, format_number, rare_event_summary, too_few_points
from reports.spc.result import SPCResult

COLOURS = {
    "common_cause": "#7B7D7D",
    "special_cause_improvement": "#289DE0",
    "special_cause_concern": "#FAB428",
    "special_cause_neutral_high": "#361475",
    "special_cause_neutral_low": "#361475",
}
"""Marker colour for each point type."""
LINE_GREY = "#7B7D7D"
CENTRE = "#231F20"
LIMIT = "#8A8A8A"
TARGET = "#DE1B1B"
RUN_SIGNAL = "#DA291C"
PDSA = "#005EB8"

_TYPE_LABELS = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Improvement",
    "special_cause_concern": "Concern",
    "special_cause_neutral_high": "Special cause (high)",
    "special_cause_neutral_low": "Special cause (low)",
}
_RULE_LABELS = {
    None: "",
    "outside_limits": "Beyond a process limit",
    "trend": "Trend of 7 rising or falling",
    "two_in_three": "2 of 3 near a limit",
    "shift": "Run of 7 on one side of the mean",
}


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _all_dates(xs) -> bool:
    return bool(xs) and all(
        isinstance(v, (dt.date, dt.datetime)) or (isinstance(v, str) and _ISO_DATE.match(v))
        for v in xs
    )


def _xs(result: SPCResult, x: Sequence | None) -> list:
    if x is None:
        return list(range(1, len(result) + 1))
    if len(x) != len(result):
        raise ValueError("x must have one entry per point")
    return list(x)


def _scale(v, factor):
    return None if v is None else v * factor


def _point_of(line_x: list, i: int) -> int:
    """The point index of position `i` of a phase line (which has None between phases)."""
    return i - sum(1 for v in line_x[:i] if v is None)


def _phase_line(result: SPCResult, xs: list, attr: str, factor: float):
    """A line that breaks between phases (None between them)."""
    out_x, out_y = [], []
    for p in result.points:
        if out_x and p.phase != result.points[p.index - 1].phase:
            out_x.append(None)
            out_y.append(None)
        out_x.append(xs[p.index])
        out_y.append(_scale(getattr(p, attr), factor))
    return out_x, out_y


def spc_figure(
    result: SPCResult,
    *,
    x: Sequence | None = None,
    title: str | None = None,
    unit: str = "",
    y_title: str | None = None,
    target: float | None = None,
    pdsa: Sequence[tuple] = (),
    annotations: Sequence[tuple] = (),
    percent: bool = False,
    show_near: bool = False,
    height: int = 420,
) -> go.Figure:
    """Build a Plotly figure for ``result``.

    Args:
        result: an :class:`SPCResult` from any chart.
        x: one x value (date or label) per point; defaults to 1…n.
        title: chart title (also the accessible name).
        unit: unit of the values, used in hover text and the y-axis title.
        y_title: y-axis title (defaults to ``unit``).
        target: target line; defaults to ``result.target``.
        pdsa: PDSA cycle markers as ``(x, label)`` pairs (vertical lines).
        annotations: ``(x, text)`` pairs annotated on the series.
        percent: multiply values by 100 (P charts shown as percentages).
        show_near: also draw the XmR near lines (two thirds of the way to a limit).
        height: figure height in pixels.
    """
    xs = _xs(result, x)
    f = 100.0 if percent else 1.0
    unit = "%" if percent and not unit else unit
    pts = result.points
    # No plotly.py template: validating one cost half the measure page's time, and the page
    # draws with plotly.js defaults plus the MDC colours set here.
    fig = go.Figure(layout={"template": {}})

    for attr, name, dash, colour in (
        ("upper", "Upper process limit", "dash", LIMIT),
        ("lower", "Lower process limit", "dash", LIMIT),
    ):
        lx, ly = _phase_line(result, xs, attr, f)
        if any(v is not None for v in ly):
            fig.add_trace(
                go.Scatter(
                    x=lx,
                    y=ly,
                    mode="lines",
                    name=name,
                    hoverinfo="skip",
                    line={"color": colour, "dash": dash, "width": 1.5},
                )
            )
    if show_near and result.chart == "xmr":
        for attr, name in (("upper_near", "Upper near line"), ("lower_near", "Lower near line")):
            lx, ly = _phase_line(result, xs, attr, f)
            fig.add_trace(
                go.Scatter(
                    x=lx,
                    y=ly,
                    mode="lines",
                    name=name,
                    hoverinfo="skip",
                    line={"color": LIMIT, "dash": "dot", "width": 1},
                )
            )
    cx, cy = _phase_line(result, xs, "centre", f)
    fig.add_trace(
        go.Scatter(
            x=cx,
            y=cy,
            mode="lines",
            hoverinfo="skip",
            name="Median" if result.chart in ("run", "g") else "Mean",
            line={"color": CENTRE, "width": 1.5},
        )
    )
    # A sustained shift or too few crossings (the runs analysis) is drawn as qicharts2 draws
    # it: the centre line of that phase dashed in red, so a shift inside the limits shows.
    flagged = {k for k, ph in enumerate(result.phases) if ph.runs_signal}
    if flagged:
        rx, ry = _phase_line(result, xs, "centre", f)
        ry = [y if y is None or result.points[_point_of(rx, i)].phase in flagged else None
              for i, y in enumerate(ry)]
        fig.add_trace(
            go.Scatter(
                x=rx,
                y=ry,
                mode="lines",
                hoverinfo="skip",
                name="Non-random run (shift or few crossings)",
                line={"color": RUN_SIGNAL, "dash": "dash", "width": 2},
            )
        )

    target = result.target if target is None else target
    if target is not None:
        fig.add_trace(
            go.Scatter(
                x=[xs[0], xs[-1]],
                y=[target * f, target * f],
                mode="lines",
                name="Target",
                hoverinfo="skip",
                line={"color": TARGET, "dash": "dash", "width": 1.5},
            )
        )

    hover = [
        f"{html.escape(str(xs[p.index]))}: "
        f"{html.escape(format_number(_scale(p.value, f), unit))}"
        + (f"<br>{_TYPE_LABELS[p.point_type]}: {_RULE_LABELS[p.rule]}" if p.special_cause else "")
        for p in pts
    ]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[_scale(p.value, f) for p in pts],
            mode="lines+markers",
            name="Value",
            line={"color": LINE_GREY, "width": 1.5},
            marker={
                "color": [COLOURS[p.point_type] for p in pts],
                "size": 8,
                "line": {"color": "#FFFFFF", "width": 0.5},
            },
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            connectgaps=False,
        )
    )

    shapes, notes = [], []
    for ph in result.phases[1:]:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": xs[ph.start],
                "x1": xs[ph.start],
                "y0": 0,
                "y1": 1,
                "line": {"color": LINE_GREY, "dash": "dot", "width": 1},
            }
        )
    for k, (px, label) in enumerate(pdsa):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": px,
                "x1": px,
                "y0": 0,
                "y1": 1,
                "line": {"color": PDSA, "width": 1, "dash": "dot"},
            }
        )
        # Cycles often fall a few weeks apart: a short tag, staggered over three rows,
        # with the whole label on hover (and listed under the chart by the page).
        short = label.split(":", 1)[0] if ":" in label else label
        notes.append(
            {
                "x": px,
                "y": 1 + 0.045 * (k % 3),
                "xref": "x",
                "yref": "paper",
                "text": html.escape(short[:12]),
                "hovertext": html.escape(label),
                "showarrow": False,
                "yanchor": "bottom",
                "font": {"color": PDSA, "size": 10},
            }
        )
    index_of = {str(v): i for i, v in enumerate(xs)}
    for ax, text in annotations:
        i = index_of.get(str(ax))
        y = _scale(pts[i].value, f) if i is not None else None
        notes.append(
            {
                "x": ax,
                "y": y,
                "yref": "y" if y is not None else "paper",
                "text": html.escape(text),
                "showarrow": True,
                "arrowhead": 2,
                "ay": -30,
            }
        )

    fig.update_layout(
        title={"text": html.escape(title) if title else None},
        height=height,
        shapes=shapes,
        annotations=notes,
        showlegend=True,
        legend={"orientation": "h", "y": -0.15},
        margin={"l": 60, "r": 20, "t": (60 if title else 30) + (36 if pdsa else 0), "b": 60},
        # Dates on the x axis say so: with one point plotly.js would guess a number axis
        # and label it in milliseconds.
        xaxis={"type": "date"} if _all_dates(xs) else {},
        # Plotly renders a subset of HTML in text: every text from users is escaped.
        yaxis={"title": {"text": html.escape(y_title if y_title is not None else unit)}},
        meta={"description": describe(result, unit=unit if not percent else "")},
    )
    return fig


def data_table(
    result: SPCResult,
    *,
    x: Sequence | None = None,
    percent: bool = False,
) -> list[dict]:
    """Rows for an accessible table alternative to the chart.

    Each row: ``x``, ``value``, ``centre``, ``lower``, ``upper``, ``phase`` (1-based),
    ``signal`` (a plain-English description or "") and ``point_type``.
    """
    xs = _xs(result, x)
    f = 100.0 if percent else 1.0
    rows = []
    for p in result.points:
        rows.append(
            {
                "x": xs[p.index],
                "value": _scale(p.value, f),
                "centre": _scale(p.centre, f),
                "lower": _scale(p.lower, f),
                "upper": _scale(p.upper, f),
                "phase": p.phase + 1,
                "signal": (
                    f"{_TYPE_LABELS[p.point_type]}: {_RULE_LABELS[p.rule]}"
                    if p.special_cause
                    else ""
                ),
                "point_type": p.point_type,
            }
        )
    return rows


def figure_to_html(fig: go.Figure, div_id: str, *, label: str | None = None) -> str:
    """Render ``fig`` as an HTML ``<div>`` (plotly.js is loaded by the page).

    The outer ``<div>`` gets ``role="img"`` and an ``aria-label`` (``label``,
    else the figure title), so the chart has an accessible name; pair it with
    :func:`data_table` for the data.
    """
    out = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    name = label or (
        fig.layout.title.text
        if fig.layout.title and fig.layout.title.text
        else "Statistical process control chart"
    )
    attrs = f'<div role="img" aria-label="{html.escape(html.unescape(name), quote=True)}"'
    return out.replace("<div", attrs, 1) if out.lstrip().startswith("<div") else out


# ---- a measure's page and its row on the project page ------------------------------------


def sparkline(result: dict, *, width=120, height=32) -> str:
    """A tiny server-drawn line of the latest values (no JS), hidden from screen readers:
    the icon titles and the reading carry the meaning."""
    result = result or {}
    if "recent" in result:  # a snapshot's summary (SPCResult.summary)
        values = result["recent"][-24:]
    else:  # a whole result, or a snapshot built before summaries (until its next rebuild)
        values = [p.get("value") for p in result.get("points", [])][-24:]
    nums = [v for v in values if v is not None]
    if len(nums) < 2:
        return ""
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    step = width / (len(values) - 1)
    pts = " ".join(
        f"{i * step:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}"
        for i, v in enumerate(values) if v is not None
    )
    return format_html(
        '<svg class="app-sparkline" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}" aria-hidden="true" focusable="false"><polyline points="{}" '
        'fill="none" stroke="#425563" stroke-width="1.5"/></svg>',
        width, height, width, height, pts,
    )


def icons(variation: str, assurance: str | None, size=40) -> dict:
    out = {"variation": "", "assurance": ""}
    try:
        if variation:
            out["variation"] = mark_safe(variation_icon_svg(variation, size=size))  # noqa: S308
        if assurance:
            out["assurance"] = mark_safe(assurance_icon_svg(assurance, size=size))  # noqa: S308
    except ValueError:
        pass
    return out


def icon_summary(snap) -> str:
    """The icons' meaning in words, for people who do not read SPC icons yet."""
    parts = [VARIATION_TITLES.get(snap.variation_icon, "")]
    if snap.runs_signal:
        parts.append("Non-random variation: a long run on one side of the centre line or "
                     "too few crossings of it")
    if snap.assurance:
        parts.append(ASSURANCE_TITLES.get(snap.assurance, ""))
    return ". ".join(p for p in parts if p)


def fmt_value(measure, v):
    if v is None:
        return ""
    if measure.chart == "p":
        return format_number(v * 100, "%")
    return format_number(v, "")


_EVENT_UNITS = {"g": "cases between events", "t": "days between events"}


def value_label(measure, value) -> str:
    """A plotted value as the chart shows it, with its unit: a P chart's proportion as a
    percentage, otherwise up to 3 decimal places and the measure's unit ("" for None)."""
    if value is None:
        return ""
    if measure.chart == "p":
        return f"{value * 100:.1f}%"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    unit = measure.unit_label or _EVENT_UNITS.get(measure.chart, "")
    if unit in ("%", ""):
        return text + unit
    return f"{text} {unit}"


def measure_chart_context(measure, points, *, pdsa_markers=(), paper=False) -> dict:
    """The SPC chart, icons, reading and table for one measure's points.

    Computed from the points on this request (a few hundred at most) rather than read from
    the snapshot, so the page shows data just entered even while the rebuild is queued.
    `pdsa_markers` are the PDSA cycles linked to the measure ({"date", "label", ...}; the
    measure page in reports.views asks pdsa for them), drawn at their dates.
    """

    if not points:
        return {"has_chart": False}
    event_dates = [p.period for p in points]
    try:
        result = snapshots.measure_spc_result(measure, points)
    except ValueError as exc:
        summary = rare_event_summary(event_dates, timezone.localdate()) if measure.by_event \
            else ""
        return {"has_chart": False, "chart_error": str(exc), "event_summary": summary}
    event_summary = ""
    if measure.by_event:
        # A gap still open (since the last event) is no point on the chart yet: the sentence
        # says when it is already longer than the T chart's upper limit.
        latest_upper = result.points[-1].upper if result.points else None
        event_summary = rare_event_summary(
            event_dates, timezone.localdate(),
            upper_limit=latest_upper if measure.chart == "t" else None,
        )
    points = snapshots.plotted_points(measure, points)
    periods = [p.period for p in points]
    iso = [d.isoformat() for d in periods]
    percent = measure.chart == "p"
    unit = "" if percent else (measure.unit_label or _EVENT_UNITS.get(measure.chart, ""))
    markers = [m for m in pdsa_markers if m["date"]]
    fig = spc_figure(
        result, x=iso, title=measure.name, unit=unit, percent=percent,
        pdsa=[(m["date"].isoformat(), m["label"]) for m in markers],
        y_title=("%" if percent else unit),
        target=(measure.target if measure.target is not None else None),
        annotations=[(p.period.isoformat(), p.annotation) for p in points if p.annotation],
        height=400,
    )
    figure = json.loads(fig.to_json())
    figure.setdefault("layout", {}).pop("template", None)  # an empty {}: plotly.js defaults
    # Long units ("falls per 1,000 bed days") would repeat in every number of the sentence;
    # the chart and table name them once, so the reading keeps only short ones ("%", "days").
    short_unit = measure.unit_label if len(measure.unit_label) <= 10 else ""
    if percent:
        def fmt(v):
            return format_number(None if v is None else v * 100, "%")
    else:
        def fmt(v):
            return format_number(v, short_unit)
    reading = describe(result, labels=periods, formatter=fmt)
    # The figure's own description (read by screen readers on the Plotly chart) says the
    # same as the page: with dates and the page's units, e.g. "80.3%" not "0.803".
    figure["layout"].setdefault("meta", {})["description"] = reading
    rows = data_table(result, x=periods, percent=percent)
    for row, p in zip(rows, points, strict=True):
        row["annotation"] = p.annotation
        row["rebaseline"] = p.rebaseline
        row["numerator"] = p.numerator
        row["denominator"] = p.denominator
    return {
        "has_chart": True,
        "event_summary": event_summary,
        "result": result,
        "figure": figure,
        # The same figure drawn server-side: shown without JavaScript and in print.
        # (`paper=True`: for the board pack, see measures.chart_svg.figure_svg)
        "figure_svg": mark_safe(figure_svg(figure, label=reading,  # escaped by chart_svg
                                           paper=paper)),
        "reading": reading,
        # Too few points to read a target: no assurance icon (the reading says so).
        "icons": icons(result.variation_icon,
                       None if too_few_points(result) else result.assurance, size=64),
        "table_rows": rows,
        "percent": percent,
        "trial_limits": measure.chart != "run" and too_few_points(result),
        "trial_limit_points": TRIAL_LIMIT_POINTS,
        "warnings": result.warnings,
        "pdsa_markers": markers,
    }
