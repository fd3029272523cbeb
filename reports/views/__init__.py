"""Board-to-ward pages, from the trust down to a project and a measure, and the national
view. Each reads a constant number of queries.

The project page, the measure page and the progress-score page combine layers (charter and
driver diagram from projects, measures and their snapshots, PDSA cycles), so they are
assembled here from each app's context builder and section template, by plain imports.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET

from core import exports
from core.views import add_errors
from measures import charts as measure_charts
from measures import views as measure_views
from organisations import access
from organisations.access import Permission
from organisations.models import Trust, Unit
from pdsa import views as pdsa_views
from pdsa.selectors import markers_for_measures, quality_summary_of_projects
from projects import forms as project_forms
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import PROGRESS_SCALE, Project
from projects.views import charter
from projects.views import diagram as diagram_views
from projects.views.common import crumbs
from reports import dashboard_cache, history, selectors
from reports import exports as report_exports
from reports import forms as report_forms
from reports import services as report_services
from reports.forms import HistoryFilterForm
from reports.models import BoardPack
from reports.spc.icons import (
    VARIATION_TITLES,
    assurance_icon_svg,
    variation_icon_svg,
)

STALE_DAYS = 60


def _icon(kind: str, name: str) -> str:
    # Our own SVG, built from fixed strings in reports.spc.icons: safe to inline.
    if not name:
        return ""
    if kind == "variation":
        return mark_safe(variation_icon_svg(name, size=40))
    return mark_safe(assurance_icon_svg(name, size=40))


MATRIX_PAGE = 25


def _measures_matrix(request, visible) -> dict:
    """The measures of the visible projects with their latest reading: counts by kind of
    variation in one aggregate query, then one page of rows, sorted and filtered by plain
    GET parameters (no JavaScript). Two queries and one page of rows, whatever the size of
    the trust; the chart JSON of the snapshots is never read."""
    matrix, signals, show, sort = selectors.matrix_rows(visible, request.GET.get("show", ""),
                                              request.GET.get("sort", "project"))
    shown = signals["total"] if not show else signals[show]
    paginator = Paginator(matrix, MATRIX_PAGE)
    paginator.count = shown  # known from the aggregate: no COUNT query
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list) if shown else []
    for snap in rows:
        snap.variation_svg = _icon("variation", snap.variation_icon)
        snap.assurance_svg = _icon("assurance", snap.assurance)
        snap.assurance_text = selectors.assurance_text(snap.assurance, snap.measure)
        snap.variation_label = VARIATION_TITLES.get(snap.variation_icon, "")
        snap.latest_label = measure_charts.value_label(snap.measure, snap.latest_value)
    return {
        "snapshots": rows,
        "matrix_page": page,
        "matrix_show": show,
        "matrix_sort": sort,
        "matrix_show_choices": [(k, label) for k, (label, _) in selectors.MATRIX_SHOW.items()],
        "matrix_sort_choices": [(k, label) for k, (label, _) in selectors.MATRIX_SORTS.items()],
        "signals": signals,
    }


TREND_W, TREND_H, TREND_BAR = 288, 80, 18  # 12 bars of 18 px in 24 px slots


def _trend(title: str, months, values) -> dict:
    """One small bar chart of 12 months, drawn as SVG by `_trend.html` (no JavaScript),
    with the same figures as a table. `values` holds None for a month not recorded."""
    top = max([v for v in values if v is not None] or [0]) or 1
    slot = TREND_W // len(months)
    bars = []
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        height = 0 if value is None else round(value / top * (TREND_H - 14))
        bars.append({"month": month, "value": value, "x": i * slot + (slot - TREND_BAR) // 2,
                     "y": TREND_H - height, "height": height, "width": TREND_BAR})
    return {"title": title, "bars": bars, "top": top, "width": TREND_W, "height": TREND_H,
            "slug": slugify(title), "latest": values[-1]}


def _board_summary(trust, unit, signals) -> dict:
    """The roll-ups (reports.rollups): the board's figures for this month, what changed
    since last month and 12-month trends, read from stored rows in one query. They count
    only projects every trust member may see (TRUST or EVERYONE visibility), so every
    holder of TRUST_DASHBOARD_VIEW may read them; the live counts above them are the
    reader's own. "Updating" while a build is wanted or a snapshot is newer than it."""
    found = selectors.rollups_for(trust, unit)
    months, by_month = found["months"], found["by_month"]
    now = by_month.get(months[-1])
    if now is not None and now.built_at is None:
        now = None
    wanted = found["trust_now"] is not None and found["trust_now"].dirty_since is not None
    newer = signals.get("latest_computed")
    updating = now is None or wanted or bool(newer and newer > now.built_at)

    def series(attr):
        return [getattr(by_month[m], attr) if m in by_month and by_month[m].built_at
                else None for m in months]

    def icons(attr):
        return [getattr(by_month[m], attr) if m in by_month and by_month[m].has_icons
                else None for m in months]

    trends = [
        _trend("Projects in progress", months, series("projects_active")),
        _trend("PDSA cycles logged", months, series("cycles_logged")),
        _trend("Measures with special cause improvement", months,
               icons("special_cause_improvement")),
        _trend("Measures with special cause concern", months,
               icons("special_cause_concern")),
    ]
    scores = []
    if now is not None:
        scores = [(label, now.by_score.get(f"{score:.1f}", 0))
                  for score, label in PROGRESS_SCALE]
        scores.append(("No score yet", now.by_score.get("none", 0)))
    return {"rollup": now, "rollup_built_at": now.built_at if now else None,
            "rollup_updating": updating,
            "rollup_scores": scores,
            "rollup_statuses": [(label, now.by_status.get(value, 0))
                                for value, label in Project.Status.choices] if now else [],
            "trends": trends if any(r.built_at for r in by_month.values()) else []}


@login_required
def trusts(request):
    """Trusts whose dashboard the user may read."""
    ids = access.trust_ids_with(request.user, Permission.TRUST_DASHBOARD_VIEW)
    # Count only the projects this person may see (the same scope as the lists): counting
    # team-only projects would reveal that they exist.
    visible = project_selectors.visible_projects(request.user).values("pk")
    qs = Trust.objects.select_related("region").annotate(
        project_count=Count("projects", filter=Q(projects__in=visible), distinct=True)
    )
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return render(
        request,
        "reports/trusts.html",
        {
            "trusts": qs.order_by("region__name", "name"),
            "crumbs": [("Home", "/"), ("Trusts", None)],
        },
    )


def _dashboard(request, trust, unit=None) -> dict:
    """What the board reads for a trust, or for one unit's subtree: precomputed snapshots
    and aggregates only, a constant number of queries whatever the size."""
    visible = project_selectors.visible_projects(request.user).filter(trust=trust)
    units_qs = Unit.objects.filter(trust=trust)
    if unit is not None:
        visible = visible.filter(unit__path__startswith=unit.path)
        units_qs = units_qs.filter(path__startswith=unit.path).exclude(pk=unit.pk)
    units = list(units_qs.order_by("path"))
    # Projects anywhere under each unit, not only on it: count per unit in one query, then
    # add each count to the unit's ancestors (named in its path).
    on_unit = (
        visible.filter(unit__isnull=False)
        .order_by()
        .values_list("unit__path")
        .annotate(n=Count("pk"))
    )
    under: dict[int, int] = {}
    for path, n in on_unit:
        for part in path.strip("/").split("/"):
            under[int(part)] = under.get(int(part), 0) + n
    base_depth = unit.depth + 1 if unit is not None else 0
    for u in units:
        u.project_count = under.get(u.pk, 0)
        u.rel_depth = u.depth - base_depth
    stale_before = timezone.localdate() - timedelta(days=STALE_DAYS)
    counts = selectors.project_counts(visible)
    changes = selectors.changed_since(visible)
    counts["stale"] = visible.filter(
        status__in=["approved", "active", "sustaining"]
    ).filter(Q(progress_scored_on__lt=stale_before) | Q(progress_scored_on__isnull=True)).count()
    # PDSA cycles that have the features of a cycle that works (one aggregate query).
    pdsa_quality = quality_summary_of_projects(visible.values("pk"))
    matrix = _measures_matrix(request, visible)
    return {
        "trust": trust,
        "unit": unit,
        "units": units,
        "pdsa_quality": pdsa_quality,
        "changes": changes,
        **matrix,
        **_board_summary(trust, unit, matrix["signals"]),
        "counts": counts,
    }


def _trust_for(request, ods_code):
    trust = get_object_or_404(Trust.objects.select_related("region"), ods_code=ods_code.upper())
    access.check(request.user, Permission.TRUST_DASHBOARD_VIEW, trust=trust)
    return trust


def _ago(when) -> str:
    if when is None:
        return ""
    if timezone.now() - when < timedelta(minutes=1):
        return "less than a minute ago"
    return f"{timesince(when)} ago"


def _dashboard_page(request, trust, unit, crumbs):
    """The trust or unit dashboard: its heading live, its body from the kept copy for
    readers who may view the same projects (reports.dashboard_cache), built by `_dashboard`
    when there is none or it is out of date. "Built … ago" is worked out now."""
    report_services.rollups_catch_up(trust.pk)
    can_manage_units = access.has_permission(request.user, Permission.UNIT_MANAGE, trust=trust)
    scope = access.dashboard_scope(request.user, trust, Project.objects.filter(trust=trust))
    params = dashboard_cache.page_params(request.GET, selectors.MATRIX_SHOW,
                                         selectors.MATRIX_SORTS)
    key = dashboard_cache.fragment_key(
        trust.pk, unit.pk if unit else None, f"{scope}{'+units' if can_manage_units else ''}",
        params)

    def build():
        context = _dashboard(request, trust, unit)
        context["can_manage_units"] = can_manage_units
        return {
            "top": render_to_string("reports/_dashboard_top.html", context, request=request),
            "rest": render_to_string("reports/_dashboard_rest.html", context, request=request),
            "built_at": context["rollup_built_at"], "updating": context["rollup_updating"],
        }

    dash, _ = dashboard_cache.get_or_build(trust.pk, key, build)
    return render(request, "reports/trust.html", {
        "trust": trust, "unit": unit, "crumbs": crumbs,
        "dash": {**dash, "top": mark_safe(dash["top"]), "rest": mark_safe(dash["rest"])},
        "dash_built": _ago(dash["built_at"]),
    })


@login_required
def trust(request, ods_code):
    """A trust from the board down to its wards: units in tree order with project counts."""
    trust = _trust_for(request, ods_code)
    return _dashboard_page(request, trust, None,
                           [("Home", "/"), ("Trusts", "/trusts/"), (trust.name, None)])


@login_required
@require_GET
def measures_export(request, ods_code, fmt, unit_id=None):
    """The measures matrix (with the page's `show` and `sort`) as CSV or Excel: every row,
    not one page, read with one query and streamed from an iterator."""
    trust = _trust_for(request, ods_code)
    if fmt not in exports.FORMATS:
        raise Http404
    filename, rows = report_exports.measures_matrix_table(
        request, trust, unit_id=unit_id, show=request.GET.get("show", ""),
        sort=request.GET.get("sort", "project"))
    return exports.download(fmt, report_exports.MATRIX_HEADER, rows, filename=filename,
                            sheet="Measures")


@login_required
def unit(request, ods_code, unit_id):
    """One division, directorate, ward or team: the same dashboard for its subtree."""
    trust = _trust_for(request, ods_code)
    unit = get_object_or_404(Unit, trust=trust, pk=unit_id)
    # Ancestors from the path ("0000001/0000004/"): one query for the breadcrumb trail.
    ancestor_ids = [int(part) for part in unit.path.strip("/").split("/")[:-1]]
    ancestors = {u.pk: u for u in Unit.objects.filter(pk__in=ancestor_ids)}
    crumbs = [
        ("Home", "/"),
        ("Trusts", "/trusts/"),
        (trust.name, reverse("reports:trust", args=[trust.ods_code])),
        *[
            (ancestors[a].name, reverse("reports:unit", args=[trust.ods_code, a]))
            for a in ancestor_ids
            if a in ancestors
        ],
        (unit.name, None),
    ]
    return _dashboard_page(request, trust, unit, crumbs)


# ---- the project and its measures: the bottom of the drill-down --------------------------


@login_required
@require_GET
def project_detail(request, pk):
    """The project page: charter, driver diagram, measures and PDSA cycles."""
    project = project_selectors.project_for_page(request.user, pk)
    context = {
        **charter.page_context(request, project),
        **diagram_views.project_section(request, project),
        **measure_views.project_section(request, project),
        **pdsa_views.project_page_context(request, project),
        "suggestion": selectors.suggest_progress_score(project),
    }
    return render(request, "reports/project.html", context)


@login_required
def measure_detail(request, pk, mid):
    """A measure's SPC chart, reading and data, with its linked PDSA cycles marked."""
    measure = measure_views.measure_for(request, pk, mid)
    markers = markers_for_measures([measure.pk])[measure.pk]  # one query
    context = measure_views.detail_context(request, measure, pdsa_markers=markers)
    return render(request, "measures/detail.html", context)


@login_required
def project_progress(request, pk):
    """Record a progress score, beside the score the evidence suggests (needs measures and
    PDSA cycles, so the page lives here, not in projects)."""
    project = project_selectors.project_for_page(request.user, pk)
    access.check(request.user, Permission.PROJECT_EDIT, project=project)
    suggestion = selectors.suggest_progress_score(project)
    # The suggestion is shown, not preselected: the team decides the score.
    form = project_forms.ProgressScoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project_services.progress_score_record(
                by=request.user, project=project, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Progress score recorded.")
            return redirect(project)
    return render(
        request,
        "projects/progress.html",
        {
            "form": form,
            "project": project,
            "suggestion": suggestion,
            "crumbs": crumbs(
                (project.title, project.get_absolute_url()), ("Record a progress score", None)
            ),
        },
    )


@login_required
@require_GET
def project_history(request, pk):
    """Every change to the project and what is in it (charter, team, scores, driver diagram,
    measures, data, PDSA cycles): who, when, what from what to what; a page at a time,
    filtered by kind. The queries do not grow with the history (reports.history)."""
    project = project_selectors.project_for_page(request.user, pk)
    form = HistoryFilterForm(request.GET or None)
    kinds = form.kinds()
    result = history.project_history(project, kinds=kinds, page=request.GET.get("page"))
    return render(
        request,
        "reports/history.html",
        {
            "project": project,
            "form": form,
            "filtered": bool(kinds),
            "page": result.page,
            "events": result.events,
            "crumbs": crumbs((project.title, project.get_absolute_url()), ("History", None)),
        },
    )


# ---- board packs ---------------------------------------------------------------------------


def _pack_for(request, ods_code, pack_id):
    """One of the signed-in person's own packs (its content is what they may see)."""
    trust = _trust_for(request, ods_code)
    pack = get_object_or_404(BoardPack.objects.select_related("unit", "trust"), pk=pack_id,
                             trust=trust, requested_by=request.user)
    return trust, pack


def _pack_crumbs(trust, last):
    return [("Home", "/"), ("Trusts", "/trusts/"),
            (trust.name, reverse("reports:trust", args=[trust.ods_code])),
            ("Board packs", reverse("reports:board_packs", args=[trust.ods_code]) if last
             else None), *([(last, None)] if last else [])]


@login_required
def board_packs(request, ods_code):
    """Ask for a board pack (month, whole trust or a unit) and see your packs."""
    trust = _trust_for(request, ods_code)
    form = report_forms.BoardPackForm(request.POST or None, trust=trust)
    if request.method == "POST" and form.is_valid():
        try:
            pack = report_services.board_pack_request(
                trust=trust, unit=form.cleaned_data["unit"], month=form.cleaned_data["month"],
                by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            return redirect("reports:board_pack", ods_code=trust.ods_code, pack_id=pack.pk)
    packs = (BoardPack.objects.filter(trust=trust, requested_by=request.user)
             .select_related("unit").defer("html", "pdf")[:20])
    return render(request, "reports/board_packs.html", {
        "trust": trust, "form": form, "packs": packs, "crumbs": _pack_crumbs(trust, None)})


@login_required
@require_GET
def board_pack(request, ods_code, pack_id):
    """Progress while the pack is built (the page refreshes itself, no JavaScript), then
    the links to the PDF and the printable page."""
    trust, pack = _pack_for(request, ods_code, pack_id)
    done = pack.status in (BoardPack.Status.READY, BoardPack.Status.FAILED)
    return render(request, "reports/board_pack.html", {
        "trust": trust, "pack": pack, "done": done,
        "crumbs": _pack_crumbs(trust, f"{pack.month:%B %Y}")})


@login_required
@require_GET
def board_pack_print(request, ods_code, pack_id):
    trust, pack = _pack_for(request, ods_code, pack_id)
    if pack.status != BoardPack.Status.READY:
        return redirect("reports:board_pack", ods_code=trust.ods_code, pack_id=pack.pk)
    return HttpResponse(pack.html)  # rendered by our template from screened, escaped data


@login_required
@require_GET
def board_pack_pdf(request, ods_code, pack_id):
    trust, pack = _pack_for(request, ods_code, pack_id)
    if pack.status != BoardPack.Status.READY:
        return redirect("reports:board_pack", ods_code=trust.ods_code, pack_id=pack.pk)
    where = slugify(pack.unit.name if pack.unit_id else trust.ods_code)
    response = HttpResponse(bytes(pack.pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="board-pack-{where}-{pack.month:%Y-%m}.pdf"')
    return response
