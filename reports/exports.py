"""The trust's measures matrix as a table for a CSV/XLSX download, shared by the page
(reports.views.measures_export) and the API (reports.api). Written by core.exports."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.text import slugify

from organisations.models import Unit
from projects import selectors as project_selectors
from reports import selectors
from reports.spc.icons import VARIATION_TITLES

MATRIX_HEADER = ["Trust", "Project", "Unit", "Measure", "Chart", "Latest value", "Value unit",
                 "Variation", "Assurance", "Non-random run", "Latest period", "Link"]


def _latest(measure, value):
    """(number, unit) of a snapshot's latest plotted value: a P chart's as a percentage."""
    if value is None:
        return "", ""
    if measure.chart == "p":
        return round(value * 100, 3), "%"
    return round(value, 6), measure.unit_label or ""


def measures_matrix_table(request, trust, *, unit_id=None, show="", sort="project"):
    """(filename stem, rows) of the measures matrix of the projects of `trust` the user can
    see (optionally one unit's subtree), with the page's `show` and `sort`: every row, not
    one page, read with one query and yielded from an iterator."""
    visible = project_selectors.visible_projects(request.user).filter(trust=trust)
    name = trust.ods_code
    if unit_id is not None:
        unit = get_object_or_404(Unit, trust=trust, pk=unit_id)
        visible = visible.filter(unit__path__startswith=unit.path)
        name += f"-{slugify(unit.name)}"
    rows, _, show, _ = selectors.matrix_rows(visible, show or "", sort or "project")

    def lines():
        for snap in rows.iterator(chunk_size=2000):
            m = snap.measure
            yield [
                trust.name, m.project.title, m.project.unit.name if m.project.unit else "",
                m.name, m.get_chart_display(), *_latest(m, snap.latest_value),
                VARIATION_TITLES.get(snap.variation_icon, snap.variation_icon),
                selectors.assurance_text(snap.assurance, m),
                "yes" if snap.runs_signal else "no",
                snap.latest_period or "",
                request.build_absolute_uri(reverse("projects:measure_detail",
                                                   args=[m.project_id, m.pk])),
            ]

    return f"{name}-measures{'-' + show if show else ''}", lines()
