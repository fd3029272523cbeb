"""The measure page's chart, reading and data table, built once per version of the measure's
data and kept (issue 21: a measure page flat in its number of points).

Building them is the page's whole cost at 2,000 daily points: the SPC result, the Plotly
figure and its JSON, the server-drawn SVG and a table of every point (22,000 number
formats). `chart_context` builds them on the first read after a change and keeps them in
the "dashboards" cache (Redis in production; in memory on the embedded default): the
figure as its ready `<script type="application/json">`, the table's rows rendered to HTML
in pages of `TABLE_ROWS`, each kept on its own so a read fetches only the page it shows.

The key is everything the page is drawn from: the measure's data version (every data
write through the services bumps it), `data_changed_at` (set by data and settings changes,
including the rate multiplier), `updated_at` (name, target, unit), the number of points (a
write that bypassed the services), the PDSA markers, and today's date (the rare-event
sentence counts days to today). A change to any of them is a new key: nothing stale is
ever read, and old entries simply expire. A cache that is down costs a build, never an
error.
"""

from __future__ import annotations

import hashlib
import json
import logging
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import caches
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import json_script
from django.utils.safestring import mark_safe

from measures import charts

TABLE_ROWS = 100  # rows of the chart-data table a page shows
KEEP_SECONDS = 24 * 3600
CACHE = "dashboards"
log = logging.getLogger(__name__)


def _key(measure, n_points: int, markers) -> str:
    stamp = [
        measure.pk, measure.data_version, measure.chart,
        measure.data_changed_at.isoformat() if measure.data_changed_at else None,
        measure.updated_at.isoformat() if measure.updated_at else None,
        n_points, [(str(m["date"]), m["label"], m.get("url")) for m in markers],
        timezone.localdate().isoformat(),
    ]
    digest = hashlib.sha256(json.dumps(stamp, default=str).encode()).hexdigest()[:32]
    return f"measure-page:v2:{measure.pk}:{digest}"


_CENT = Decimal("0.01")


def _num(value) -> str:
    """`floatformat(value, "-2")` as the template wrote it (tests/measures compare the two
    over many values), at a tenth of its cost: 2,000 daily points are 12,000 of these."""
    if value is None:
        return ""
    d = Decimal(repr(float(value)))
    if not d.is_finite():
        return floatformat(value, "-2")
    if d == d.to_integral_value():
        return str(int(d))
    rounded = d.quantize(_CENT, ROUND_HALF_UP)
    text = f"{rounded:f}"
    return text[1:] if text.startswith("-") and not rounded else text


def _table_pages(rows, measure) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's rows as the template shows them, rendered in pages of TABLE_ROWS, and
    each page's first and last period."""
    months = [""] + [str(MONTHS_3[m]).title() for m in range(1, 13)]
    formatted = [{
        "x": f"{r['x'].day} {months[r['x'].month]} {r['x'].year}",
        "numerator": _num(r.get("numerator")), "denominator": _num(r.get("denominator")),
        "value": _num(r["value"]), "centre": _num(r["centre"]), "lower": _num(r["lower"]),
        "upper": _num(r["upper"]), "signal": r["signal"],
        "note": ("New limits from here. " if r.get("rebaseline") else "")
        + (r.get("annotation") or ""),
    } for r in rows]
    pages = [formatted[i:i + TABLE_ROWS] for i in range(0, len(formatted), TABLE_ROWS)] or [[]]
    html = [render_to_string("measures/_chart_rows.html", {"rows": page, "measure": measure})
            for page in pages]
    return html, [(page[0]["x"], page[-1]["x"]) if page else ("", "") for page in pages]


def _build(measure, markers, chart_id: str) -> tuple[dict, list[str]]:
    points = list(measure.points.order_by("period"))
    ctx = charts.measure_chart_context(measure, points, pdsa_markers=markers)
    ctx.pop("result", None)  # the page reads the words and numbers below, not the engine
    pages, bounds = _table_pages(ctx.pop("table_rows", []), measure)
    if "figure" in ctx:
        ctx["figure_script"] = json_script(ctx.pop("figure"), f"chart-data-{chart_id}")
    ctx["n_points"] = len(points)
    ctx["table_pages"] = len(pages)
    ctx["table_bounds"] = bounds
    return ctx, pages


def chart_context(measure, *, pdsa_markers=(), chart_id: str, table_page: str | None = None,
                  n_points: int) -> dict:
    """The chart part of the measure page (see the module docstring), with the table page
    asked for (`?table=N`, 1 = the earliest rows; by default the latest, the rows a team
    looks at) and links to the pages either side. `n_points` is the count of the measure's
    points, one index-only query the caller makes."""
    markers = [m for m in pdsa_markers if m["date"]]
    key = _key(measure, n_points, markers)
    cache = caches[CACHE]

    def build_and_keep():
        built, built_pages = _build(measure, markers, chart_id)
        try:
            cache.set_many({key: built, **{f"{key}:t{i}": rows for i, rows in
                                           enumerate(built_pages, start=1)}}, KEEP_SECONDS)
        except Exception:  # noqa: BLE001 — a cache that is down costs a build, not an error
            log.warning("The measure page cache could not be written")
        return built, built_pages

    try:
        ctx = cache.get(key)
    except Exception:  # noqa: BLE001
        log.warning("The measure page cache could not be read; building the chart")
        ctx = None
    pages = None
    if ctx is None:
        ctx, pages = build_and_keep()
    total = ctx.get("table_pages", 1)
    number = int(table_page) if (table_page or "").isdigit() else total
    number = min(max(number, 1), total)
    rows = pages[number - 1] if pages is not None else None
    if rows is None:
        try:
            rows = cache.get(f"{key}:t{number}")
        except Exception:  # noqa: BLE001
            rows = None
    if rows is None:  # the page was evicted on its own: build both again
        ctx, pages = build_and_keep()
        rows = pages[number - 1]
    bounds = ctx.get("table_bounds", [])

    def link(n):
        if 1 <= n <= total:
            first, last = bounds[n - 1]
            return {"number": n, "label": f"{first} to {last}"}
        return None

    shown = " to ".join(bounds[number - 1]) if bounds and bounds[number - 1][0] else ""
    return {**ctx, "table_rows_html": mark_safe(rows),  # noqa: S308 — rendered by a template
            "table_page": number, "table_shown": shown,
            "table_page_rows": TABLE_ROWS,
            "table_earlier": link(number - 1), "table_later": link(number + 1),
            "table_asked": table_page is not None}
