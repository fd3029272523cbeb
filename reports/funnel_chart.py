"""Funnel charts for a :class:`reports.funnel.FunnelResult`: Plotly, SVG and a reading.

Pure: plotly and the standard library only (no Django, no app imports), so any layer may
draw a funnel.

    from reports.funnel import funnel
    from reports.funnel_chart import describe, funnel_figure, funnel_svg
    result = funnel(deaths, expected, trusts, data_type="SR")
    fig = funnel_figure(result, title="SHMI by trust")      # interactive
    svg = funnel_svg(result, title="SHMI by trust")         # static, for print
    describe(result)  # "2 trusts above the 99.8% limit: A and B. Limits widened ..."

The limits drawn are those the package draws: the over-dispersion-adjusted ones when
``result.adjusted``, the plain ones when ``result.unadjusted`` (both when both). Each is a
curve from ``result.limit_arrays`` over a range of denominators. Outliers (99.8% by
default, FunnelPlotR's ``limit = 99``) are coloured and labelled.

Colours follow the Making Data Count palette of ``measures.charts``: grey for common
cause, purple for an outlier when no direction is better, blue for improvement and
orange for concern when ``improvement`` says which way is better.

Every text that reaches a chart (group names, titles, axis titles) is HTML-escaped,
because Plotly renders a subset of HTML in text and SVG is XML. ``describe`` returns
plain text: escape it when placing it in HTML (Django templates do).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from reports.funnel import MESSAGE_FALLBACK, FunnelResult, Unit

__all__ = ["describe", "funnel_figure", "funnel_svg", "limit_curves", "outliers"]

COMMON = "#7B7D7D"
IMPROVEMENT = "#289DE0"
CONCERN = "#FAB428"
NEUTRAL = "#361475"
CENTRE = "#231F20"
LIMIT95 = "#8A8A8A"
LIMIT998 = "#425563"

LEVEL_LABEL = {"95": "95%", "998": "99.8%"}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt(x: float, digits: int = 3) -> str:
    if not math.isfinite(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


def _join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _prefix(result: FunnelResult) -> str | None:
    if result.adjusted:
        return "od_"
    if result.unadjusted:
        return ""
    return None


def outliers(result: FunnelResult, level: str = "998") -> tuple[list[Unit], list[Unit]]:
    """The units above and below the drawn limits at ``level`` ("95" or "998")."""
    prefix = _prefix(result)
    if prefix is None:
        return [], []
    flag = f"outlier{level}"
    above, below = [], []
    for unit in result.units:
        if getattr(unit, flag):
            if unit.ratio > getattr(unit, f"{prefix}ucl{level}"):
                above.append(unit)
            else:
                below.append(unit)
    return above, below


def describe(
    result: FunnelResult, *, noun: str = "trust", nouns: str | None = None, level: str = "998"
) -> str:
    """A plain-English reading of the funnel, e.g.

    "3 trusts above the 99.8% limit: A, B and C. 1 trust below it: D.
    Limits widened for over-dispersion, phi = 2.7."
    """
    nouns = nouns or noun + "s"
    label = LEVEL_LABEL[level]
    sentences = []
    if _prefix(result) is None:
        sentences.append("No control limits are drawn, so no outliers are marked.")
    else:
        above, below = outliers(result, level)

        def count(k: int) -> str:
            return f"{k} {noun if k == 1 else nouns}"

        if not above and not below:
            sentences.append(f"No {noun} is outside the {label} limits.")
        if above:
            sentences.append(
                f"{count(len(above))} above the {label} limit: {_join([u.group for u in above])}."
            )
        if below:
            where = "it" if above else f"the {label} limit"
            sentences.append(
                f"{count(len(below))} below {where}: {_join([u.group for u in below])}."
            )
    phi = _fmt(result.phi, 2)
    if result.adjusted:
        sentences.append(f"Limits widened for over-dispersion, phi = {phi}.")
    elif MESSAGE_FALLBACK in result.messages:
        sentences.append(f"No over-dispersion found (phi = {phi}), so the limits are not widened.")
    elif result.unadjusted:
        sentences.append("Limits not adjusted for over-dispersion.")
    return " ".join(sentences)


def limit_curves(
    result: FunnelResult, points: int = 200, x_max: float | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Denominators from the smallest unit's (or 1) to ``x_max`` and the limits there."""
    dens = [u.denominator for u in result.units]
    lo = max(min(min(dens) * 0.8, 1.0), 1e-3)
    hi = x_max if x_max is not None else max(dens) * 1.05
    ns = np.unique(np.concatenate((np.geomspace(lo, hi, points), dens)))
    return ns, result.limit_arrays(ns)


def _drawn(result: FunnelResult) -> list[tuple[str, str, str]]:
    """(prefix, level, legend name) of each limit pair drawn."""
    out = []
    if result.unadjusted:
        out += [("", "95", "95% limits"), ("", "998", "99.8% limits")]
    if result.adjusted:
        out += [
            ("od_", "95", "95% limits (over-dispersed)"),
            ("od_", "998", "99.8% limits (over-dispersed)"),
        ]
    return out


def _point_colours(result: FunnelResult, level: str, improvement: str) -> list[str]:
    above, below = outliers(result, level)
    up = {u.group for u in above}
    down = {u.group for u in below}
    colours = []
    for u in result.units:
        if u.group in up:
            colours.append(
                NEUTRAL
                if improvement == "neutral"
                else IMPROVEMENT
                if improvement == "increase"
                else CONCERN
            )
        elif u.group in down:
            colours.append(
                NEUTRAL
                if improvement == "neutral"
                else IMPROVEMENT
                if improvement == "decrease"
                else CONCERN
            )
        else:
            colours.append(COMMON)
    return colours


def _check(level: str, improvement: str) -> None:
    if level not in LEVEL_LABEL:
        raise ValueError(f"level must be '95' or '998', not {level!r}")
    if improvement not in ("neutral", "increase", "decrease"):
        raise ValueError(f"improvement must be neutral, increase or decrease, not {improvement!r}")


def funnel_figure(
    result: FunnelResult,
    *,
    title: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    noun: str = "trust",
    level: str = "998",
    improvement: str = "neutral",
    points: int = 200,
    height: int = 460,
) -> go.Figure:
    """A Plotly funnel: units, centre line, the drawn limits, outliers labelled."""
    _check(level, improvement)
    sr = result.data_type == "SR"
    x_title = x_title if x_title is not None else ("Expected" if sr else "Denominator")
    if y_title is None:
        y_title = {"SR": "Standardised ratio", "PR": "Proportion", "RC": "Ratio"}[result.data_type]
    ns, arrays = limit_curves(result, points)
    fig = go.Figure(layout={"template": {}})
    for prefix, lvl, name in _drawn(result):
        colour = LIMIT95 if lvl == "95" else LIMIT998
        dash = "dash" if lvl == "95" else "solid"
        for side in ("ucl", "lcl"):
            fig.add_trace(
                go.Scatter(
                    x=ns.tolist(),
                    y=[v if math.isfinite(v) else None for v in arrays[f"{prefix}{side}{lvl}"]],
                    mode="lines",
                    name=_esc(name),
                    legendgroup=f"{prefix}{lvl}",
                    showlegend=side == "ucl",
                    hoverinfo="skip",
                    line={"color": colour, "dash": dash, "width": 1.5},
                )
            )
    fig.add_trace(
        go.Scatter(
            x=[float(ns[0]), float(ns[-1])],
            y=[result.centre, result.centre],
            mode="lines",
            name="Centre" if not sr else "Centre (ratio 1)",
            hoverinfo="skip",
            line={"color": CENTRE, "width": 1.5},
        )
    )
    hover = [
        f"{_esc(u.group)}<br>{_esc(x_title)}: {_fmt(u.denominator, 6)}"
        f"<br>{_esc(y_title)}: {_fmt(u.ratio, 4)}"
        for u in result.units
    ]
    above, below = outliers(result, level)
    flagged = {u.group for u in above + below}
    fig.add_trace(
        go.Scatter(
            x=[u.denominator for u in result.units],
            y=[u.ratio for u in result.units],
            mode="markers+text",
            name=_esc(noun.capitalize() + "s"),
            marker={
                "color": _point_colours(result, level, improvement),
                "size": 8,
                "line": {"color": "#FFFFFF", "width": 0.5},
            },
            text=[_esc(u.group) if u.group in flagged else "" for u in result.units],
            textposition="top center",
            hovertext=hover,
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": _esc(title) if title else None},
        height=height,
        showlegend=True,
        legend={"orientation": "h", "y": -0.18},
        margin={"l": 60, "r": 20, "t": 60 if title else 30, "b": 70},
        xaxis={"title": {"text": _esc(x_title)}},
        yaxis={"title": {"text": _esc(y_title)}},
        meta={"description": _esc(describe(result, noun=noun, level=level))},
    )
    return fig


def funnel_svg(
    result: FunnelResult,
    *,
    title: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    noun: str = "trust",
    level: str = "998",
    improvement: str = "neutral",
    width: int = 640,
    height: int = 420,
    points: int = 120,
    highlight: Sequence[str] = (),
) -> str:
    """The same funnel as a static ``<svg>`` (for print and pages without JavaScript; no
    kaleido needed). ``highlight`` names the groups to ring and label (the reader's own
    trust). The y axis never goes below 0 (ratios and proportions are not negative) and
    shows the data and the limits near it, not the limits' far ends at tiny denominators,
    so the points are not squeezed into a strip of empty chart."""
    _check(level, improvement)
    highlight = set(highlight)
    sr = result.data_type == "SR"
    x_title = x_title if x_title is not None else ("Expected" if sr else "Denominator")
    if y_title is None:
        y_title = {"SR": "Standardised ratio", "PR": "Proportion", "RC": "Ratio"}[result.data_type]
    left, right, top, bottom = 64, 16, 40 if title else 16, 48
    pw, ph = width - left - right, height - top - bottom
    ns, arrays = limit_curves(result, points)
    x0, x1 = 0.0, float(ns[-1])
    ratios = [u.ratio for u in result.units if math.isfinite(u.ratio)]
    drawn = _drawn(result)
    ys = ratios + [result.centre]
    for prefix, lvl, _ in drawn:  # the limits at the smallest unit's denominator, at most
        at = result.limits_at(min(u.denominator for u in result.units))
        ys += [
            v
            for v in (getattr(at, f"{prefix}lcl{lvl}"), getattr(at, f"{prefix}ucl{lvl}"))
            if math.isfinite(v)
        ]
    top_data = max(ratios + [result.centre])
    low_data = min(ratios + [result.centre])
    span = (top_data - low_data) or abs(top_data) or 1.0
    # A limit far beyond the data (at the smallest denominator) would leave most of the
    # chart blank: the axis stops one data span beyond the points; the curves are clipped.
    ys = [y for y in ys if low_data - span <= y <= top_data + span]
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or abs(y1) * 0.1 or 1.0
    y0, y1 = max(0.0, y0 - pad), y1 + pad

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    def sy(v: float) -> float:
        return top + (y1 - v) / (y1 - y0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title or "Funnel plot")}" '
        'font-family="Arial, sans-serif" font-size="11">',
        f"<title>{_esc(title or 'Funnel plot')}</title>",
        f"<desc>{_esc(describe(result, noun=noun, level=level))}</desc>",
        f'<defs><clipPath id="plot"><rect x="{left}" y="{top}" width="{pw}" height="{ph}"/>'
        "</clipPath></defs>",
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#FFFFFF" stroke="#D0D0D0"/>',
    ]
    if title:
        out.append(
            f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="14" '
            f'font-weight="bold">{_esc(title)}</text>'
        )
    for i in range(6):  # axis ticks
        xv = x0 + (x1 - x0) * i / 5
        yv = y0 + (y1 - y0) * i / 5
        out.append(
            f'<text x="{sx(xv):.1f}" y="{top + ph + 14}" text-anchor="middle">{_fmt(xv, 4)}</text>'
        )
        out.append(
            f'<text x="{left - 6}" y="{sy(yv) + 4:.1f}" text-anchor="end">{_fmt(yv, 3)}</text>'
        )
    out.append(
        f'<text x="{left + pw / 2:.1f}" y="{height - 10}" text-anchor="middle">'
        f"{_esc(x_title)}</text>"
    )
    out.append(
        f'<text x="14" y="{top + ph / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + ph / 2:.1f})">{_esc(y_title)}</text>'
    )
    out.append('<g clip-path="url(#plot)">')
    for prefix, lvl, name in drawn:
        colour = LIMIT95 if lvl == "95" else LIMIT998
        dash = ' stroke-dasharray="5 3"' if lvl == "95" else ""
        for side in ("ucl", "lcl"):
            pts = " ".join(
                f"{sx(n):.1f},{sy(v):.1f}"
                for n, v in zip(ns, arrays[f"{prefix}{side}{lvl}"], strict=True)
                if math.isfinite(v)
            )
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"'
                f"{dash}><title>{_esc(name)}</title></polyline>"
            )
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{sy(result.centre):.1f}" '
        f'y2="{sy(result.centre):.1f}" stroke="{CENTRE}" stroke-width="1.5"/>'
    )
    above, below = outliers(result, level)
    flagged = {u.group for u in above + below}
    for unit, colour in zip(result.units, _point_colours(result, level, improvement), strict=True):
        if not math.isfinite(unit.ratio):
            continue
        cx, cy = sx(unit.denominator), sy(unit.ratio)
        own = unit.group in highlight
        ring = ' stroke="#212B32" stroke-width="2.5"' if own else \
            ' stroke="#FFFFFF" stroke-width="0.5"'
        what = f"{unit.group}{' (your trust)' if own else ''}: {_fmt(unit.ratio, 4)}"
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{6 if own else 4}" fill="{colour}"{ring}>'
            f"<title>{_esc(what)}</title></circle>"
        )
        if own or unit.group in flagged:
            label = f"{unit.group} (your trust)" if own else unit.group
            weight = ' font-weight="bold"' if own else ""
            out.append(
                f'<text x="{cx:.1f}" y="{cy - 9:.1f}" text-anchor="middle"{weight}>'
                f"{_esc(label)}</text>"
            )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
