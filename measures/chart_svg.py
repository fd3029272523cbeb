"""The SPC chart as a static SVG, drawn from the same figure the browser draws with Plotly.

One renderer for every place a chart must exist without JavaScript: the measure page when
scripts are off, print, and the board pack's PDF. It reads the figure that
`measures.charts.spc_figure` builds (its traces: limits, centre line, target, the values
with each point's colour; its shapes: phase breaks and PDSA cycle lines; its annotations),
so the points, limits, colours and markers are the Plotly chart's by construction.

Every text that reaches the SVG is escaped.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape as _escape
from html import unescape

WIDTH, HEIGHT = 720, 360


def escape(text) -> str:
    """Escape for SVG. Texts in the figure are already escaped once for Plotly (which reads
    them as HTML): undo that first, so a note reads "<started>", not "&lt;started&gt;"."""
    return _escape(unescape(str(text)))

MARGIN = {"l": 64, "r": 16, "t": 40, "b": 56}
# On paper a chart is 180 mm wide: a viewBox unit is 0.25 mm (0.709 pt).
PAPER_WIDTH_MM = 180
# The paper chart's labels are HTML laid over the SVG (see figure_svg). The board pack puts
# this in its stylesheet.
PAPER_CSS = (
    f".app-chart-paper {{ width: {PAPER_WIDTH_MM}mm; max-width: 100%; margin-bottom: 3mm; }}\n"
    # Padding in percent is of the width of the box around: the inner box is as high as
    # half the chart's width, whatever the page's.
    ".app-chart-paper > div:first-child { position: relative; height: 0; "
    "padding-bottom: 50%; }\n"
    ".app-chart-paper svg { position: absolute; left: 0; top: 0; width: 100%; "
    "height: 100%; }\n"
    ".app-chart-paper > div:first-child > span { position: absolute; white-space: nowrap; "
    "line-height: 1; font-family: Arial, sans-serif; }\n"
    ".app-chart-paper .l { position: relative; line-height: 1.3; }\n"
    ".app-chart-paper .l b { display: inline-block; font-weight: normal; margin-right: 3mm; "
    "white-space: nowrap; }\n"
    ".app-chart-paper .l i { display: inline-block; width: 4.5mm; border-top: 0.5mm solid; "
    "vertical-align: middle; margin-right: 1mm; }\n"
    ".app-chart-paper .m { text-align: center; } .app-chart-paper .e { text-align: right; }\n"
    ".app-chart-paper .r { transform: rotate(-90deg); transform-origin: 50% 85%; }\n"
)
_ANCHOR_BOX = 360  # the width, in viewBox units, of the box a centred or end label sits in
_ASCENT = 0.85  # the baseline's depth in a line box of line-height 1 (Arial), in ems
_DASH = {"dash": "6 4", "dot": "2 3", "dashdot": "6 3 2 3"}


def _x_value(x, dates: bool) -> float | None:
    if x is None:
        return None
    if dates:
        return float(dt.date.fromisoformat(str(x)[:10]).toordinal())
    return float(x)


def _nice_ticks(low: float, high: float, n: int = 5) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / n
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    first = math.ceil(low / step) * step
    ticks, t = [], first
    while t <= high + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.3g}"


class _Labels:
    """The chart's texts: SVG <text> on screen; on paper, HTML spans placed over the SVG in
    percentages of the chart (PAPER_CSS), because WeasyPrint lays out SVG text one glyph at
    a time (a board pack's 1,100 labels took 1.6 s of its PDF) and HTML text once a line."""

    def __init__(self, width: int, height: int, paper: bool):
        self.width, self.height, self.paper, self.spans = width, height, paper, []
        self.legend_html = ""

    def text(self, x: float, y: float, content: str, *, size: int, fill: str,
             anchor: str = "start", bold: bool = False, rotate: bool = False,
             css_class: str = "", title: str = "") -> str:
        """The SVG for a label of `content` (already escaped) with its baseline at (x, y),
        anchored at its start, middle ("m") or end ("e"); on paper "", the span is kept
        for `html`."""
        if not self.paper:
            attrs = [f'class="{css_class}"'] if css_class else []
            attrs.append(f'transform="translate({x:g} {y:g}) rotate(-90)"' if rotate
                         else f'x="{x:.1f}" y="{y:.1f}"')
            attrs.append(f'font-size="{size}"')
            if bold:
                attrs.append('font-weight="bold"')
            if anchor != "start":
                attrs.append(f'text-anchor="{"middle" if anchor == "m" else "end"}"')
            attrs.append(f'fill="{fill}"')
            tip = f"<title>{title}</title>" if title else ""
            return f'<text {" ".join(attrs)}>{content}{tip}</text>'
        left = x - {"start": 0, "m": _ANCHOR_BOX / 2, "e": _ANCHOR_BOX}[anchor]
        style = [f"left:{left / self.width * 100:.2f}%",
                 f"top:{(y - _ASCENT * size) / self.height * 100:.2f}%",
                 f"font-size:{self._pt(size)}pt",
                 f"color:{fill}"]
        if anchor != "start":
            style.append(f"width:{_ANCHOR_BOX / self.width * 100:.2f}%")
        if bold:
            style.append("font-weight:bold")
        classes = " ".join(c for c in (anchor if anchor != "start" else "",
                                       "r" if rotate else "") if c)
        attrs = f' class="{classes}"' if classes else ""
        self.spans.append(f'<span{attrs} style="{";".join(style)}">{content}</span>')
        return ""

    def legend(self, x: float, y: float, items: list[tuple[str, str]], *, size: int,
               fill: str) -> None:
        """On paper: the legend's (colour, name) items, each a swatch and its name kept
        whole, as one line from (x, y) to the chart's right edge. It follows the chart in
        the flow, pulled up to its place, so a legend that wraps (a narrow screen) pushes
        the text after the chart down rather than covering it."""
        if not items:
            return
        entries = "".join(f'<b><i style="border-color:{colour}"></i>{name}</b>'
                          for colour, name in items)
        below = (self.height - (y - _ASCENT * size)) / self.width * 100  # % of the width
        self.legend_html = (
            f'<div class="l" style="margin-top:-{below:.2f}%;'
            f"padding-left:{x / self.width * 100:.2f}%;"
            f'font-size:{self._pt(size)}pt;color:{fill}">{entries}</div>')

    def _pt(self, size: int) -> str:
        return f"{size * PAPER_WIDTH_MM / self.width * 72 / 25.4:.2f}"

    def html(self, svg: str) -> str:
        if not self.paper:
            return svg
        return (f'<div class="app-chart-paper"><div>{svg}{"".join(self.spans)}</div>'
                f"{self.legend_html}</div>")


def figure_svg(figure: dict, *, width: int = WIDTH, height: int = HEIGHT,
               label: str = "", paper: bool = False) -> str:
    """An SVG document fragment (a <svg> element) of `figure` (a Plotly figure dict).

    `paper=True` is for the board pack's PDF: the same picture, drawn the way WeasyPrint
    draws fast (issue 21). The points of one colour are one <path> of round dots with no
    hover text (it drew each of a pack's 3,000 <circle>s, with its <title>, on its own, and
    turned each circle's arcs into curves), and the labels are HTML over the SVG (_Labels):
    a <div class="app-chart-paper"> that needs PAPER_CSS."""
    layout = figure.get("layout", {})
    traces = [t for t in figure.get("data", []) if t.get("type", "scatter") == "scatter"]
    dates = layout.get("xaxis", {}).get("type") == "date"
    xs, ys = [], []
    for trace in traces:
        for x, y in zip(trace.get("x", []), trace.get("y", []), strict=False):
            if x is not None and y is not None:
                xs.append(_x_value(x, dates))
                ys.append(float(y))
    for shape in layout.get("shapes", []):
        if shape.get("yref") == "y":
            ys += [float(shape["y0"]), float(shape["y1"])]
    title = escape((layout.get("title") or {}).get("text", ""))
    description = escape(label or (layout.get("meta") or {}).get("description", ""))
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="app-chart-svg" '
            f'viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{title}">' f"<title>{title}</title><desc>{description}</desc>")
    labels = _Labels(width, height, paper)
    if not xs:
        return labels.html(head + "</svg>")
    x_lo, x_hi = min(xs), max(xs)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    y_lo, y_hi = min(ys), max(ys)
    pad = (y_hi - y_lo) * 0.08 or abs(y_hi) * 0.1 or 1.0
    y_lo, y_hi = y_lo - pad, y_hi + pad
    left, right = MARGIN["l"], width - MARGIN["r"]
    top, bottom = MARGIN["t"], height - MARGIN["b"]

    def px(x) -> float:
        return left + (_x_value(x, dates) - x_lo) / (x_hi - x_lo) * (right - left)

    def py(y) -> float:
        return bottom - (float(y) - y_lo) / (y_hi - y_lo) * (bottom - top)

    out = [head, labels.text(left, 22, title, size=15, bold=True, fill="#212B32")]
    # Axes, y ticks with grid lines, x ticks (dates as "Mon YYYY").
    for t in _nice_ticks(y_lo, y_hi):
        y = py(t)
        out.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#E8EDEE" stroke-width="1"/>')
        out.append(labels.text(left - 6, y + 4, _fmt(t), size=11, anchor="e",
                               fill="#4C6272"))
    out.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#4C6272"/>')
    axis_title = escape(((layout.get("yaxis") or {}).get("title") or {}).get("text", ""))
    if axis_title:
        out.append(labels.text(14, round((top + bottom) / 2), axis_title, size=11,
                               anchor="m", rotate=True, fill="#4C6272"))
    values = next((t for t in traces if "markers" in t.get("mode", "")), traces[-1])
    xvals = [x for x in values.get("x", []) if x is not None]
    step = max(1, math.ceil(len(xvals) / 8))
    for x in xvals[::step]:
        text = (dt.date.fromisoformat(str(x)[:10]).strftime("%b %Y") if dates
                else _fmt(float(x)))
        out.append(labels.text(px(x), bottom + 16, escape(text), size=11, anchor="m",
                               fill="#4C6272"))
    # Phase breaks and PDSA lines (shapes), under the data.
    for shape in layout.get("shapes", []):
        if shape.get("type") != "line" or shape.get("xref") != "x":
            continue
        line = shape.get("line", {})
        y0 = top if shape.get("yref") == "paper" else py(shape["y1"])
        y1 = bottom if shape.get("yref") == "paper" else py(shape["y0"])
        dash = _DASH.get(line.get("dash", ""), "")
        out.append(f'<line class="app-chart-svg__shape" x1="{px(shape["x0"]):.1f}" '
                   f'x2="{px(shape["x1"]):.1f}" y1="{y0:.1f}" y2="{y1:.1f}" '
                   f'stroke="{escape(line.get("color", "#7B7D7D"))}" '
                   f'stroke-width="{line.get("width", 1)}"'
                   + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
    # Lines: each trace, broken where a value is missing (phase breaks).
    for trace in traces:
        line = trace.get("line", {})
        mode = trace.get("mode", "lines")
        name = escape(trace.get("name", ""))
        if "lines" in mode:
            runs, run = [], []
            for x, y in zip(trace.get("x", []), trace.get("y", []), strict=False):
                if x is None or y is None:
                    if run:
                        runs.append(run)
                    run = []
                else:
                    run.append(f"{px(x):.1f},{py(y):.1f}")
            if run:
                runs.append(run)
            dash = _DASH.get(line.get("dash", ""), "")
            for r in runs:
                out.append(f'<polyline class="app-chart-svg__line" data-name="{name}" '
                           f'points="{" ".join(r)}" fill="none" '
                           f'stroke="{escape(line.get("color", "#231F20"))}" '
                           f'stroke-width="{line.get("width", 1.5)}"'
                           + (f' stroke-dasharray="{dash}"' if dash else "") + "/>")
        if "markers" in mode:
            marker = trace.get("marker", {})
            colours = marker.get("color", line.get("color", "#7B7D7D"))
            size = float(marker.get("size", 8)) / 2
            texts = trace.get("text") or []
            dots: dict[str, list[str]] = {}  # colour → the points drawn in it, on paper
            run_colour = None  # on screen: a <g> of each run of points of one colour
            for i, (x, y) in enumerate(zip(trace.get("x", []), trace.get("y", []),
                                           strict=False)):
                if x is None or y is None:
                    continue
                colour = colours[i] if isinstance(colours, list) else colours
                if paper:  # a dot: a line of no length, its round cap as wide as the circle
                    dots.setdefault(colour, []).append(f"M{px(x):.1f} {py(y):.1f}h0")
                    continue
                if colour != run_colour:
                    if run_colour is not None:
                        out.append("</g>")
                    # The colour and rim once a run, not on each of 2,000 daily points:
                    # they were half the measure page's bytes (issue 21).
                    out.append(f'<g class="app-chart-svg__dots" fill="{escape(colour)}" '
                               'stroke="#FFFFFF" stroke-width="0.5">')
                    run_colour = colour
                # The hover text is Plotly's, whose line break is "<br>": a new line here.
                tip = escape(texts[i].replace("<br>", "\n")) if i < len(texts) else ""
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="{size:g}">'
                           f"<title>{tip}</title></circle>")
            if run_colour is not None:
                out.append("</g>")
            for colour, d in dots.items():  # the white rim under, as the circles' stroke
                for stroke, wide in (("#FFFFFF", 2 * size + 0.5), (escape(colour), 2 * size)):
                    out.append(f'<path class="app-chart-svg__points" d="{"".join(d)}" '
                               f'fill="none" stroke="{stroke}" stroke-width="{wide:g}" '
                               'stroke-linecap="round"/>')
    # Annotations (notes on points): a short label above the point.
    for note in layout.get("annotations", []):
        if note.get("x") is None or note.get("y") is None or note.get("yref") != "y":
            continue
        text = str(note.get("text", ""))
        short = text if len(text) <= 40 else text[:39] + "…"
        x, y = px(note["x"]), py(note["y"])
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 6:.1f}" y2="{y - 22:.1f}" '
                   'stroke="#4C6272" stroke-width="0.75"/>')
        out.append(labels.text(x, y - 26, escape(short), size=10, anchor="m",
                               fill="#212B32", css_class="app-chart-svg__note",
                               title=escape(text)))
    # A legend of the named lines.
    named = [(escape(t.get("line", {}).get("color", "#231F20")), escape(t["name"]))
             for t in traces if t.get("name")]
    if paper:  # one line of HTML, spaced by the text itself, wrapping inside the chart
        labels.legend(left, height - 10, named, size=11, fill="#212B32")
    else:  # each name placed by an estimate of the width of the ones before it
        lx = left
        for colour, name in named:
            out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{height - 14}" '
                       f'y2="{height - 14}" stroke="{colour}" stroke-width="2"/>')
            out.append(labels.text(lx + 22, height - 10, name, size=11, fill="#212B32"))
            lx += 30 + 6.5 * len(name)
    out.append("</svg>")
    return labels.html("".join(out))
