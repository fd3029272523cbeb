"""The project list's table rows, written in one pass.

A row per project through the template engine (two includes, a dozen filters and tags)
was most of the national project list's time (issue 21): 25 rows cost more than the rest
of the page. The markup is the one templates/projects/_status_tag.html and _stale_tag.html
give elsewhere; tests/projects/test_list.py holds the two to the same HTML.
"""

from __future__ import annotations

from django import template
from django.utils.formats import date_format, localize
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

register = template.Library()

_ROW = (
    '<tr class="nhsuk-table__row">'
    '<td class="nhsuk-table__cell"><a href="{}">{}</a> '
    '<span class="nhsuk-body-s nhsuk-u-secondary-text-colour nhsuk-u-display-block">{}{}'
    " · {}</span></td>"
    '<td class="nhsuk-table__cell"><strong class="{}">{}</strong></td>'
    '<td class="nhsuk-table__cell">{} {}</td>'
    '<td class="nhsuk-table__cell">{}</td>'
    '<td class="nhsuk-table__cell">{}</td>'
    "</tr>\n"
)
_NO_SCORE = mark_safe('<span class="nhsuk-u-secondary-text-colour">None yet</span>')
_STALE = mark_safe('<strong class="nhsuk-tag nhsuk-tag--orange">Score out of date</strong>')


def _cells(project):
    unit = f" · {project.unit.name}" if project.unit_id else ""
    score = (localize(project.progress_score) if project.progress_score is not None
             else _NO_SCORE)
    return (
        project.get_absolute_url(), project.title, project.trust.ods_code, unit,
        str(project.lead), project.status_tag_class, project.get_status_display(),
        score, _STALE if project.is_stale else "",
        date_format(project.target_date, "j M Y") if project.target_date else "–",
        date_format(template_localtime(project.updated_at), "j M Y"),
    )


@register.simple_tag
def project_rows(projects):
    """`<tr>`s of the list's five columns for projects with trust, unit and lead selected
    and `is_stale` annotated (projects.selectors.project_list)."""
    return format_html_join("", _ROW, (_cells(p) for p in projects))
