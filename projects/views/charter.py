"""Project register pages: list, register, charter, status, progress and team (the
project's history, which spans layers, is reports.views.project_history).
Thin: parse, call a selector or service, render.

Fetching a project and checking access are one step (`selectors.project_for_page`), so an
outsider gets 404 and a member without the right 403. Forms post back to their own URL and
redirect after success.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.pagination import CappedPaginator
from core.views import add_errors
from organisations import access
from organisations.access import Permission
from projects import forms, selectors, services
from projects.models import PROGRESS_LABELS, Project, TeamMember
from projects.views.common import crumbs as _crumbs

PAGE_SIZE = 25
SEARCH_MATCHES_COUNTED = 1000

# Other slices add sections to the project page. Each module may define
# `project_page_context(request, project) -> dict`; a section renders only when its flag is
# true in that dict and its template exists.
# ---- list ------------------------------------------------------------------------------

# What the table shows (projects.templatetags.project_list), and no more: the other two
# dozen columns of the project, its trust, unit and lead cost more to read and build than
# the page's query took (issue 21).
LIST_FIELDS = ("title", "status", "progress_score", "target_date", "updated_at",
               "trust__ods_code", "unit__name", "lead__full_name", "lead__email")

COLUMNS = [
    ("Project", "title"),
    ("Status", None),
    ("Progress score", "score"),
    ("Target date", "target"),
    ("Last updated", "updated"),
]


@login_required
@require_GET
def project_list(request):
    form = forms.ProjectFilterForm(request.GET or None, user=request.user)
    filters = form.filters() if form.is_bound and form.is_valid() else _valid_part(form)
    # The table's fields only (LIST_FIELDS): the long text fields would widen the sort.
    qs = selectors.project_list(request.user, **filters).only(*LIST_FIELDS)
    searching = bool(filters.get("search", "").strip())
    # A ranked search of a common word matches most of the country's projects: count no
    # further than the cap (the filters alone are counted exactly), rank the matches alone
    # and join only the page's rows to their trust, unit and lead.
    paginator = (CappedPaginator(qs, PAGE_SIZE, cap=SEARCH_MATCHES_COUNTED) if searching
                 else Paginator(qs, PAGE_SIZE))
    page = paginator.get_page(request.GET.get("page"))
    if searching:
        page.object_list = selectors.list_rows(
            list(page.object_list.values_list("pk", flat=True)), only=LIST_FIELDS)
    sort = filters["sort"]
    columns = []
    for label, key in COLUMNS:
        if key is None:
            columns.append({"label": label})
            continue
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        columns.append(
            {
                "label": label,
                "next": (f"-{key}" if current and not descending else key),
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    mine = filters["mine"]
    awaiting = []
    if access.approves_anywhere(request.user):  # one query, and only for QI leads
        awaiting = list(selectors.awaiting_approval(request.user)[:11])
    return render(
        request,
        "projects/list.html",
        {
            "form": form,
            "page": page,
            "columns": columns,
            "mine": mine,
            "filtered": any(v for k, v in filters.items() if k not in ("sort", "mine")),
            "can_create": _can_create(request.user),
            "awaiting": awaiting[:10],
            "awaiting_more": len(awaiting) > 10,
            "crumbs": [("Home", "/"), ("My projects" if mine else "Projects", None)],
        },
    )


def _valid_part(form) -> dict:
    """Filters from the fields that are valid; a bad value in one is ignored, not fatal."""
    if not form.is_bound:
        return forms.ProjectFilterForm.filters(form)
    form.is_valid()
    for name in list(form.errors):
        form.cleaned_data.pop(name, None)
    return form.filters()


# ---- create / edit / similar ------------------------------------------------------------


def _can_create(user) -> bool:
    trust_ids = access.trust_ids_with(user, Permission.PROJECT_CREATE)
    return trust_ids is None or bool(trust_ids)


@login_required
def project_create(request):
    if not _can_create(request.user):
        messages.error(request, "You need a clinician or QI lead role at a trust to register "
                                "a project. Ask your trust administrator.")
        return redirect("projects:list")
    form = forms.ProjectForm(request.POST or None, user=request.user)
    similar = []
    if request.method == "POST" and form.is_valid():
        similar = selectors.similar_projects(
            request.user,
            trust=form.cleaned_data["trust"],
            title=form.cleaned_data["title"],
            aim=form.cleaned_data["aim"],
        )
        if similar and not form.cleaned_data.get("confirm_different"):
            form.add_error(
                "confirm_different",
                "Check the similar projects. If yours is different, tick the box to say so.",
            )
        else:
            try:
                project = services.project_create(
                    by=request.user, trust=form.cleaned_data["trust"], **form.charter_fields()
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"Project registered: {project.title}. "
                                          "A QI lead will review it for approval.")
                return redirect(project)
    return render(
        request,
        "projects/form.html",
        {
            "form": form,
            "similar": similar,
            "creating": True,
            "crumbs": _crumbs(("Register a project", None)),
        },
    )


@login_required
def project_edit(request, pk):
    project = selectors.project_for_page(request.user, pk)
    access.check(request.user, Permission.PROJECT_EDIT, project=project)
    form = forms.ProjectForm(request.POST or None, instance=project, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(by=request.user, project=project, **form.charter_fields())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Charter saved.")
            return redirect(project)
    return render(
        request,
        "projects/form.html",
        {
            "form": form,
            "project": project,
            "creating": False,
            "crumbs": _crumbs((project.title, project.get_absolute_url()), ("Edit", None)),
        },
    )


@login_required
@require_GET
def project_similar(request):
    """Fragment for the title field (htmx): projects like the one being typed."""
    trust = None
    wanted = request.GET.get("trust", "").strip()
    if wanted:
        # The form's select sends the trust id; the ODS code works too.
        lookup = {"pk": int(wanted)} if wanted.isdigit() else {"ods_code": wanted.upper()}
        trusts = access.trusts_where(request.user, Permission.PROJECT_CREATE)
        trust = trusts.filter(**lookup).first()
    similar = []
    title = request.GET.get("title", "")[:200]
    if trust is not None and title.strip():
        exclude = request.GET.get("exclude", "")
        similar = selectors.similar_projects(
            request.user, trust=trust, title=title,
            exclude_id=int(exclude) if exclude.isdigit() else None,
        )
    return render(request, "projects/_similar.html", {"similar": similar, "live": True})


# ---- project page -------------------------------------------------------------------------


def _permissions(user, project) -> dict:
    can_edit = access.has_permission(user, Permission.PROJECT_EDIT, project=project)
    allowed = services.allowed_transitions(user, project)
    return {
        "can_edit": can_edit,
        "can_approve": access.has_permission(user, Permission.PROJECT_APPROVE, project=project),
        "can_record_progress": can_edit,
        "can_manage_team": can_edit,
        "can_view_history": True,
        "can_approve_now": Project.Status.APPROVED in allowed,
        "transitions": [(s, Project.Status(s).label) for s in allowed],
    }


def page_context(request, project) -> dict:
    """The charter part of the project page (templates/projects/detail.html): charter, team,
    progress scores and what the user may do. The page itself, with the sections of the
    layers above, is reports.views.project_detail. `project` comes from
    `selectors.project_for_page` (team and scores prefetched)."""
    scores = list(project.progress_scores.all())
    return {
        "project": project,
        "team": list(project.team.all()),
        "scores": scores,
        "latest_label": PROGRESS_LABELS.get(project.progress_score, ""),
        "chart": progress_chart(scores),
        "crumbs": _crumbs((project.title, None)),
        **_permissions(request.user, project),
    }


# ---- status, progress, team --------------------------------------------------------------


@login_required
def project_status(request, pk):
    project = selectors.project_for_page(request.user, pk)
    allowed = services.allowed_transitions(request.user, project)
    if (request.POST.get("to") or request.GET.get("to")) == Project.Status.APPROVED:
        # Asking to approve without the right is a 403, not a form error.
        access.check(request.user, Permission.PROJECT_APPROVE, project=project)
    if not allowed:
        # Closed projects have nowhere to go; members without the right get 403.
        access.check(request.user, Permission.PROJECT_EDIT, project=project)
    form = forms.TransitionForm(
        request.POST or None, allowed=allowed, initial={"to": request.GET.get("to")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.project_transition(
                by=request.user,
                project=project,
                to=form.cleaned_data["to"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "status" in error.error_dict:
                error.error_dict["to"] = error.error_dict.pop("status")
            add_errors(form, error)
        else:
            project.refresh_from_db()
            messages.success(request, f"The project is now {project.get_status_display().lower()}.")
            return redirect(project)
    return render(
        request,
        "projects/status.html",
        {
            "form": form,
            "project": project,
            "allowed": allowed,
            "crumbs": _crumbs((project.title, project.get_absolute_url()),
                              ("Change status", None)),
        },
    )


@login_required
def project_team(request, pk):
    project = selectors.project_for_page(request.user, pk)
    can_manage = access.has_permission(request.user, Permission.PROJECT_EDIT, project=project)
    form = forms.TeamMemberForm(request.POST or None, project=project)
    if request.method == "POST":
        access.check(request.user, Permission.PROJECT_EDIT, project=project)
        if form.is_valid():
            try:
                member = services.team_member_add(by=request.user, project=project,
                                                  **form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, f"{member} added to the team.")
                return redirect("projects:team", pk=project.pk)
    return render(
        request,
        "projects/team.html",
        {
            "form": form,
            "project": project,
            "team": list(project.team.all()),
            "can_manage_team": can_manage,
            "crumbs": _crumbs((project.title, project.get_absolute_url()), ("Team", None)),
        },
    )


@login_required
def project_team_remove(request, pk, member_pk):
    project = selectors.project_for_page(request.user, pk)
    access.check(request.user, Permission.PROJECT_EDIT, project=project)
    member = get_object_or_404(TeamMember.objects.select_related("user"), pk=member_pk,
                               project=project)
    if request.method == "POST":
        services.team_member_remove(by=request.user, member=member)
        messages.success(request, f"{member} removed from the team.")
        return redirect("projects:team", pk=project.pk)
    return render(
        request,
        "projects/team_remove.html",
        {
            "project": project,
            "member": member,
            "crumbs": _crumbs((project.title, project.get_absolute_url()),
                              ("Team", reverse("projects:team", args=[project.pk])),
                              ("Remove", None)),
        },
    )


# ---- the progress step chart (server-rendered SVG) -----------------------------------------

CHART_W, CHART_H = 640, 260
PAD_L, PAD_R, PAD_T, PAD_B = 48, 16, 16, 36


def progress_chart(scores, *, today: datetime.date | None = None) -> dict | None:
    """Geometry for a step chart of progress scores over time; None with no scores.

    A step (not a line) because a score holds until the team sets a new one.
    """
    if not scores:
        return None
    today = today or timezone.localdate()
    start = scores[0].scored_on
    end = max(today, scores[-1].scored_on)
    span = max((end - start).days, 1)
    plot_w = CHART_W - PAD_L - PAD_R
    plot_h = CHART_H - PAD_T - PAD_B

    def x(day: datetime.date) -> float:
        return round(PAD_L + plot_w * (day - start).days / span, 1)

    def y(score: Decimal) -> float:
        return round(PAD_T + plot_h * (1 - float(score) / 5), 1)

    points = []
    for i, s in enumerate(scores):
        if i:
            points.append((x(s.scored_on), y(scores[i - 1].score)))
        points.append((x(s.scored_on), y(s.score)))
    points.append((x(end), y(scores[-1].score)))
    gridlines = [{"y": y(Decimal(v)), "label": f"{v:.1f}"} for v in range(0, 6)]
    ticks = [{"x": x(start), "label": f"{start:%b %Y}", "anchor": "start"},
             {"x": x(end), "label": f"{end:%b %Y}", "anchor": "end"}]
    markers = [{"x": x(s.scored_on), "y": y(s.score), "score": s.score, "label": s.label,
                "date": s.scored_on} for s in scores]
    latest = scores[-1]
    return {
        "width": CHART_W,
        "height": CHART_H,
        "plot_left": PAD_L,
        "plot_right": CHART_W - PAD_R,
        "plot_bottom": PAD_T + plot_h,
        "path": " ".join(f"{px},{py}" for px, py in points),
        "gridlines": gridlines,
        "ticks": ticks,
        "markers": markers,
        "summary": (
            f"Progress score from {start:%-d %B %Y} to {end:%-d %B %Y}: {len(scores)} "
            f"score{'s' if len(scores) != 1 else ''}, latest {latest.score} "
            f"({latest.label}) on {latest.scored_on:%-d %B %Y}."
        ),
    }

