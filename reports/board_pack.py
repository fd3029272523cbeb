"""Build a board pack: the month's summary, what changed, the measures matrix and the chart
of every measure with a special cause or a target at risk, with its plain-English reading.

`build(pack_id=)` (what `reports.tasks.build_board_pack` runs) renders the HTML
(templates/reports/board_pack_document.html, print CSS inline so the PDF needs nothing
else) and turns it into a PDF with WeasyPrint. It reads as the person who asked: their
visible projects only.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from measures.chart_svg import PAPER_CSS
from measures.charts import measure_chart_context, value_label
from measures.models import DataPoint, Measure
from projects import selectors as project_selectors
from reports import selectors
from reports.models import BoardPack
from reports.spc.icons import VARIATION_TITLES

log = logging.getLogger(__name__)

# A chart belongs in the pack when the board should look at it.
AT_RISK = ("consistent_fail", "inconsistent")
MAX_CHARTS = 60


def month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _visible(pack):
    visible = project_selectors.visible_projects(pack.requested_by).filter(trust=pack.trust)
    if pack.unit_id:
        visible = visible.filter(unit__path__startswith=pack.unit.path)
    return visible


def build_html(pack, progress=lambda percent: None) -> str:
    visible = _visible(pack)
    rows, signals, _, _ = selectors.matrix_rows(visible)
    matrix = []
    for snap in rows:
        snap.variation_label = VARIATION_TITLES.get(snap.variation_icon, "")
        snap.assurance_label = selectors.assurance_text(snap.assurance, snap.measure)
        snap.latest_label = value_label(snap.measure, snap.latest_value)
        matrix.append(snap)
    flagged = [s for s in matrix if s.variation_icon.startswith(("improvement", "concern"))
               or s.assurance in AT_RISK][:MAX_CHARTS]
    # Every flagged measure's points in one query, up to the end of the month reported.
    points: dict[int, list] = {}
    for point in DataPoint.objects.filter(
        measure_id__in=[s.measure_id for s in flagged], period__lte=month_end(pack.month)
    ).order_by("measure_id", "period"):
        points.setdefault(point.measure_id, []).append(point)
    full = Measure.objects.select_related("project").in_bulk([s.measure_id for s in flagged])
    charts = []
    for n, snap in enumerate(flagged, start=1):
        measure = full[snap.measure_id]
        measure_points = points.get(measure.pk, [])
        if measure_points:
            context = measure_chart_context(measure, measure_points, paper=True)
            if context.get("has_chart"):
                charts.append({"measure": measure, "svg": context["figure_svg"],
                               "reading": context["reading"]})
        progress(10 + int(80 * n / max(len(flagged), 1)))
    return render_to_string("reports/board_pack_document.html", {
        "pack": pack,
        "where": pack.unit.name if pack.unit_id else pack.trust.name,
        "counts": selectors.project_counts(visible),
        "changes": selectors.changed_since(visible),
        "signals": signals,
        "matrix": matrix,
        "charts": charts,
        "chart_css": mark_safe(PAPER_CSS),  # a constant of ours
        "built_at": timezone.now(),
    })


def build_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: only the worker building packs needs it

    return HTML(string=html).write_pdf()


def build(*, pack_id: int) -> bool:
    """Build one pack (idempotent: a pack already ready is left alone). Claims the pack
    with a conditional update, so two workers never build the same one."""
    claimed = BoardPack.objects.filter(
        pk=pack_id, status__in=[BoardPack.Status.QUEUED, BoardPack.Status.FAILED]
    ).update(status=BoardPack.Status.BUILDING, progress=5)
    if not claimed:
        return False
    pack = BoardPack.objects.select_related("trust", "unit", "requested_by").get(pk=pack_id)

    def progress(percent):
        BoardPack.objects.filter(pk=pack_id).update(progress=min(percent, 95))

    try:
        html = build_html(pack, progress)
        pdf = build_pdf(html)
    except Exception:
        log.exception("Board pack %s could not be built", pack_id)
        BoardPack.objects.filter(pk=pack_id).update(
            status=BoardPack.Status.FAILED, progress=0,
            failure="Something went wrong while building the pack. Ask for it again.")
        raise
    BoardPack.objects.filter(pk=pack_id).update(
        status=BoardPack.Status.READY, progress=100, html=html, pdf=pdf,
        built_at=timezone.now(), failure="")
    return True
