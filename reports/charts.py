"""Plotly figures for SPC results in the "Making Data Count" style.

Pure functions: no Django. Colours: grey common-cause points, blue improvement,
orange concern, purple neutral; dashed process limits, solid centre line, red
dashed target, dotted phase breaks, optional PDSA markers and annotations.
Every figure has a title, and :func:`data_table` gives the same information as
rows for screen-reader users.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go

from reports.spc.reading import describe, format_number
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


def _xs(result: SPCResult, x: Sequence | None) -> list:
    if x is None:
        return list(range(1, len(result) + 1))
    if len(x) != len(result):
        raise ValueError("x must have one entry per point")
    return list(x)


def _scale(v, factor):
    return None if v is None else v * factor


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
    fig = go.Figure()

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
            name="Median" if result.chart == "run" else "Mean",
            line={"color": CENTRE, "width": 1.5},
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
        f"{html.escape(str(xs[p.index]))}: {format_number(_scale(p.value, f), unit)}"
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
        template="simple_white",
        shapes=shapes,
        annotations=notes,
        showlegend=True,
        legend={"orientation": "h", "y": -0.15},
        margin={"l": 60, "r": 20, "t": (60 if title else 30) + (36 if pdsa else 0), "b": 60},
        yaxis={"title": {"text": y_title if y_title is not None else unit}},
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
