"""PDSA pages: the stage-by-stage cycle page, new cycle, quick log, project timeline and
"my open cycles". Thin: parse, check access, call a service or selector, render.

Every form posts back and redirects (PRG) and works without JavaScript. With htmx a stage
saves in place: the view returns just that stage's body plus out-of-band updates (the other
stages' version fields, the status tag, the quality checklist and the "Saved" status).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from measures.models import Measure
from organisations import access
from organisations.access import Permission
from pdsa import selectors, services
from pdsa.forms import LABELS, STAGE_FORMS, NewCycleForm, QuickLogForm
from pdsa.models import QUALITY_LABELS, Cycle
from projects import selectors as project_selectors
from projects.models import ChangeIdea, Project

# ---- URLs of the project-level pages -------------------------------------------------
# Canonical: /projects/<id>/pdsa/ (pdsa.urls.project_urlpatterns, namespace "pdsa_project",
# mounted by the root urlconf). Until that is mounted the same views answer under /pdsa/.


def timeline_url(project) -> str:
    try:
        return reverse("pdsa_project:timeline", args=[project.pk])
    except NoReverseMatch:
        return reverse("pdsa:project_timeline", args=[project.pk])


def project_new_url(project) -> str:
    try:
        return reverse("pdsa_project:new", args=[project.pk])
    except NoReverseMatch:
        return reverse("pdsa:project_new", args=[project.pk])


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---- display helpers -------------------------------------------------------------------


def _display(cycle: Cycle, name: str, value) -> str:
    if value in (None, "", []):
        return "(blank)"
    if name == "measures":
        ids = [v.pk if isinstance(v, Measure) else v for v in value]
        names = dict(Measure.objects.filter(pk__in=ids).values_list("pk", "name"))
        return ", ".join(names.get(i, str(i)) for i in ids)
    field = Cycle._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if hasattr(value, "strftime"):
        return value.strftime("%-d %B %Y")
    return str(value)


def _normalise(name: str, value):
    if name == "measures":
        return sorted(v.pk if isinstance(v, Measure) else int(v) for v in (value or []))
    if value is None:
        return None if name in services.DATE_FIELDS else ""
    return value.strip() if isinstance(value, str) else value


def conflict_rows(current: Cycle, stage: str, yours: dict) -> list[dict]:
    """Field by field: what the other person saved vs what you typed (where they differ)."""
    saved = services.stage_values(current, stage)
    rows = []
    for name, theirs in saved.items():
        if name not in yours:
            continue
        mine = yours[name]
        if _normalise(name, theirs) == _normalise(name, mine):
            continue
        rows.append(
            {
                "field": name,
                "label": LABELS.get(name, name),
                "theirs": _display(current, name, theirs),
                "yours": _display(current, name, mine),
            }
        )
    return rows


def _add_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        form.add_error(None, exc)


def quality_items(cycle: Cycle) -> list[dict]:
    features = cycle.quality_features()
    return [{"key": k, "label": QUALITY_LABELS[k], "done": v} for k, v in features.items()]


def _stage_readonly_rows(cycle: Cycle, stage: str) -> list[tuple[str, str]]:
    values = services.stage_values(cycle, stage)
    return [(LABELS.get(k, k), _display(cycle, k, v)) for k, v in values.items()]


def _sections(cycle, can_edit, *, bound=None, saved_stage=None, conflict=None):
    sections = []
    for stage, form_class in STAGE_FORMS.items():
        if bound is not None and bound.stage == stage:
            form = bound
        elif can_edit:
            form = form_class(instance=cycle)
        else:
            form = None
        sections.append(
            {
                "stage": stage,
                "label": services.STAGE_LABELS[stage],
                "form": form,
                "action": reverse("pdsa:stage", args=[cycle.pk, stage]),
                "saved": saved_stage == stage,
                "conflict": conflict if bound is not None and bound.stage == stage else None,
                "rows": _stage_readonly_rows(cycle, stage),
            }
        )
    return sections


def _detail_context(request, cycle, **kwargs):
    project = cycle.change_idea.project
    can_edit = access.has_permission(request.user, Permission.PDSA_EDIT, project=project)
    return {
        "cycle": cycle,
        "project": project,
        "can_edit": can_edit,
        "sections": _sections(cycle, can_edit, **kwargs),
        "quality": quality_items(cycle),
        "quality_done": sum(item["done"] for item in quality_items(cycle)),
        "next_cycle_url": reverse("pdsa:new") + "?" + urlencode({"follows": cycle.pk}),
        "timeline_url": timeline_url(project),
        "crumbs": [
            ("Home", "/"),
            ("Projects", reverse("projects:list")),
            (project.title, project.get_absolute_url()),
            ("PDSA cycles", timeline_url(project)),
            (f"Cycle {cycle.number}", None),
        ],
    }


# ---- the cycle page and its stages -----------------------------------------------------


@login_required
def cycle_detail(request, pk):
    cycle = selectors.cycle_for_page(pk)
    access.check(request.user, Permission.PDSA_VIEW, project=cycle.change_idea.project)
    return render(request, "pdsa/cycle_detail.html", _detail_context(request, cycle))


@login_required
@require_POST
def cycle_stage(request, pk, stage):
    form_class = STAGE_FORMS.get(stage)
    if form_class is None:
        raise Http404
    cycle = selectors.cycle_for_page(pk)
    access.check(request.user, Permission.PDSA_EDIT, project=cycle.change_idea.project)
    form = form_class(request.POST, instance=cycle)
    conflict = None
    if form.is_valid():
        try:
            cycle = services.cycle_save_stage(
                cycle=cycle,
                stage=stage,
                data=form.stage_data(),
                expected_version=form.cleaned_data["version"],
                by=request.user,
            )
        except services.ConflictError as exc:
            conflict = conflict_rows(exc.current, stage, form.stage_data())
            cycle = selectors.cycle_for_page(pk)
            # Keep everything the user typed; move the version on, so saving again
            # (after reading what changed) deliberately replaces the other person's values.
            data = request.POST.copy()
            data["version"] = str(cycle.version)
            form = form_class(data, instance=cycle)
        except ValidationError as exc:
            _add_service_errors(form, exc)
        else:
            label = services.STAGE_LABELS[stage]
            cycle = selectors.cycle_for_page(pk)
            if _is_htmx(request):
                return _stage_fragment(request, cycle, form_class(instance=cycle), saved=True)
            messages.success(request, f"{label} saved.")
            return redirect(reverse("pdsa:detail", args=[cycle.pk]) + f"#stage-{stage}")
    if _is_htmx(request):
        # 200 so htmx swaps the form in; the conflict or errors are in the fragment.
        return _stage_fragment(request, cycle, form, conflict=conflict)
    context = _detail_context(request, cycle, bound=form, conflict=conflict)
    return render(
        request, "pdsa/cycle_detail.html", context, status=409 if conflict is not None else 200
    )


def _stage_fragment(request, cycle, form, *, saved=False, conflict=None):
    context = _detail_context(request, cycle, bound=form, conflict=conflict)
    section = next(s for s in context["sections"] if s["stage"] == form.stage)
    section["saved"] = saved
    context.update(
        {
            "section": section,
            "other_sections": [s for s in context["sections"] if s["stage"] != form.stage],
            "saved": saved,
        }
    )
    return render(request, "pdsa/_stage_fragment.html", context)


# ---- new cycle and quick log -------------------------------------------------------------


def _new_cycle_setup(request, project_pk=None):
    """Work out the change ideas on offer, any ramp link and the initial values."""
    user = request.user
    initial: dict = {}
    follows = None
    project = None
    if project_pk is not None:
        project = get_object_or_404(Project, pk=project_pk)
        access.check(user, Permission.PDSA_EDIT, project=project)
        ideas = ChangeIdea.objects.filter(project=project)
    elif request.GET.get("follows"):
        follows = get_object_or_404(
            Cycle.objects.select_related("change_idea__project"),
            pk=_int_or_404(request.GET["follows"]),
        )
        project = follows.change_idea.project
        access.check(user, Permission.PDSA_EDIT, project=project)
        ideas = ChangeIdea.objects.filter(pk=follows.change_idea_id)
        initial["change_idea"] = follows.change_idea_id
        # The next cycle starts from what the last one decided and measured.
        initial["measures"] = list(follows.measures.values_list("pk", flat=True))
        if follows.next_steps:
            initial["objective"] = follows.next_steps
    elif request.GET.get("change_idea"):
        idea = get_object_or_404(
            ChangeIdea.objects.select_related("project"),
            pk=_int_or_404(request.GET["change_idea"]),
        )
        project = idea.project
        access.check(user, Permission.PDSA_EDIT, project=project)
        ideas = ChangeIdea.objects.filter(project=project)
        initial["change_idea"] = idea.pk
    else:
        ideas = ChangeIdea.objects.filter(project__in=project_selectors.editable_projects(user))
    if project is None:
        only = list(ideas.values_list("project_id", flat=True).distinct()[:2])
        if len(only) == 1:
            project = Project.objects.get(pk=only[0])
    return ideas.order_by("project__title", "position", "pk"), initial, follows, project


def _int_or_404(value: str) -> int:
    if not value.isdigit():
        raise Http404
    return int(value)


def _create_view(request, *, form_class, template, project_pk=None, title):
    ideas, initial, follows, project = _new_cycle_setup(request, project_pk)
    if request.method == "POST":
        form = form_class(request.POST, change_ideas=ideas, project=project)
        if form.is_valid():
            data = form.stage_data()
            change_idea = data.pop("change_idea")
            try:
                cycle = services.cycle_create(
                    change_idea=change_idea, follows=follows, by=request.user, **data
                )
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(
                    request, f"Cycle {cycle.number} on “{change_idea.text}” saved."
                )
                return redirect(cycle.get_absolute_url())
    else:
        form = form_class(initial=initial, change_ideas=ideas, project=project)
    crumbs = [("Home", "/"), ("My PDSA cycles", reverse("pdsa:mine"))]
    if project is not None:
        crumbs = [
            ("Home", "/"),
            ("Projects", reverse("projects:list")),
            (project.title, project.get_absolute_url()),
            ("PDSA cycles", timeline_url(project)),
        ]
    return render(
        request,
        template,
        {
            "form": form,
            "follows": follows,
            "project": project,
            "title": title,
            "no_ideas": not ideas.exists(),
            "quick_url": reverse("pdsa:quick")
            + (f"?change_idea={initial['change_idea']}" if initial.get("change_idea") else ""),
            "crumbs": [*crumbs, (title, None)],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def cycle_new(request, project_pk=None):
    return _create_view(
        request,
        form_class=NewCycleForm,
        template="pdsa/cycle_new.html",
        project_pk=project_pk,
        title="Plan a PDSA cycle",
    )


@login_required
@require_http_methods(["GET", "POST"])
def quick_log(request):
    return _create_view(
        request,
        form_class=QuickLogForm,
        template="pdsa/quick_log.html",
        title="Log a cycle you have done",
    )


# ---- lists -------------------------------------------------------------------------------


@login_required
def project_timeline(request, project_pk):
    project = get_object_or_404(Project.objects.select_related("trust"), pk=project_pk)
    access.check(request.user, Permission.PDSA_VIEW, project=project)
    return render(
        request,
        "pdsa/timeline.html",
        {
            "project": project,
            "ramps": selectors.project_timeline(project),
            "summary": selectors.quality_summary_of_projects([project.pk]),
            "can_edit": access.has_permission(
                request.user, Permission.PDSA_EDIT, project=project
            ),
            "new_url": project_new_url(project),
            "quality_labels": QUALITY_LABELS,
            "crumbs": [
                ("Home", "/"),
                ("Projects", reverse("projects:list")),
                (project.title, project.get_absolute_url()),
                ("PDSA cycles", None),
            ],
        },
    )


@login_required
def my_cycles(request):
    qs = selectors.my_open_cycles(request.user)
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "pdsa/mine.html",
        {"page": page, "crumbs": [("Home", "/"), ("My open PDSA cycles", None)]},
    )


def project_page_context(request, project) -> dict:
    """For the project page: include "pdsa/_project_section.html" with this context.
    Four queries: recent cycles, the quality summary, and the two permission checks'
    memberships/team lookups (cached per request user)."""
    user = request.user
    if not access.has_permission(user, Permission.PDSA_VIEW, project=project):
        return {"pdsa_section": False}
    cycles = selectors.project_cycles(project)
    can_edit = access.has_permission(user, Permission.PDSA_EDIT, project=project)
    return {
        "pdsa_section": True,
        "pdsa_recent": list(cycles.order_by("-updated_at", "-pk")[:5]),
        "pdsa_summary": selectors.quality_summary_of_projects([project.pk]),
        "pdsa_quality_labels": QUALITY_LABELS,
        "pdsa_timeline_url": timeline_url(project),
        "pdsa_new_url": project_new_url(project) if can_edit else None,
        "pdsa_can_edit": can_edit,
    }
