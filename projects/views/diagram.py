"""The driver diagram: editor, item pages and SVG/PNG exports. Thin: parse, call a service,
render. Every page fetches the project and checks access in one step (outsider 404, member
without the right 403); forms post back and redirect after success.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from core.views import add_errors, form_args
from organisations import access
from organisations.access import Permission
from projects import diagram as dd
from projects import services
from projects.forms import ChangeIdeaForm, DriverForm, MoveForm, SecondaryDriverForm
from projects.models import ChangeIdea, Driver
from projects.views.common import project_crumbs, project_for

P = Permission


def _diagram_crumbs(project, label):
    return project_crumbs(
        project, ("Driver diagram", reverse("projects:diagram", args=[project.pk])), (label, None)
    )


def project_section(request, project) -> dict:
    """The project page's driver diagram section (templates/projects/_diagram_section.html).

    Queries: drivers; change ideas; their driver links (prefetch); the edit permission
    (team membership, cached per request).
    """
    drivers, ideas = dd.fetch(project)
    return {
        "diagram": dd.build(project, drivers, ideas),
        "can_edit_diagram": access.has_permission(request.user, P.PROJECT_EDIT, project=project),
        "diagram_url": reverse("projects:diagram", args=[project.pk]),
        "diagram_svg_url": reverse("projects:diagram_svg", args=[project.pk]),
    }


# ---- driver diagram ---------------------------------------------------------------------------


def _primary_form(data=None):
    form = DriverForm(data, prefix="primary")
    form.fields["text"].label = "Primary driver"
    return form


def _diagram_page(request, project, *, forms=None, status=200):
    drivers, ideas = dd.fetch(project)
    diagram = dd.build(project, drivers, ideas)
    primaries = [p.driver for p in diagram.primaries]
    forms = forms or {}
    ctx = {
        "project": project,
        "diagram": diagram,
        "can_edit": access.has_permission(request.user, P.PROJECT_EDIT, project=project),
        "primary_form": forms.get("primary") or _primary_form(),
        "secondary_form": forms.get("secondary")
        or SecondaryDriverForm(prefix="secondary", primaries=primaries),
        "idea_form": forms.get("idea") or ChangeIdeaForm(prefix="idea", project=project),
        "png_available": dd.png_available(),
        "crumbs": project_crumbs(project, ("Driver diagram", None)),
    }
    ctx["error_forms"] = [f for f in forms.values() if f.errors]
    return render(request, "projects/diagram_edit.html", ctx, status=status)


@login_required
def diagram_edit(request, pk):
    if request.method != "POST":
        return _diagram_page(request, project_for(request, pk))
    project = project_for(request, pk, P.PROJECT_EDIT)
    action = request.POST.get("action")
    primaries = list(Driver.objects.filter(project=project, parent__isnull=True))
    try:
        if action == "add_primary":
            form = _primary_form(request.POST)
            key = "primary"
            if form.is_valid():
                services.driver_create(project=project, text=form.cleaned_data["text"],
                                       by=request.user)
                messages.success(request, "Primary driver added")
                return redirect(reverse("projects:diagram", args=[pk]) + "#add-primary")
        elif action == "add_secondary":
            form = SecondaryDriverForm(request.POST, prefix="secondary", primaries=primaries)
            key = "secondary"
            if form.is_valid():
                services.driver_create(project=project, text=form.cleaned_data["text"],
                                       parent=form.cleaned_data["parent"], by=request.user)
                messages.success(request, "Secondary driver added")
                return redirect(reverse("projects:diagram", args=[pk]) + "#add-secondary")
        elif action == "add_idea":
            form = ChangeIdeaForm(request.POST, prefix="idea", project=project)
            key = "idea"
            if form.is_valid():
                services.change_idea_create(project=project, text=form.cleaned_data["text"],
                                            drivers=form.cleaned_data["drivers"],
                                            by=request.user)
                messages.success(request, "Change idea added")
                return redirect(reverse("projects:diagram", args=[pk]) + "#add-idea")
        else:
            return redirect("projects:diagram", pk=pk)
    except ValidationError as exc:
        add_errors(form, exc)
    return _diagram_page(request, project, forms={key: form}, status=200)


def _driver(request, pk, did, perm=P.PROJECT_EDIT) -> Driver:
    driver = get_object_or_404(Driver.objects.select_related("project", "parent"), pk=did,
                               project_id=pk)
    access.check(request.user, perm, project=driver.project)
    return driver


def _idea(request, pk, cid, perm=P.PROJECT_EDIT) -> ChangeIdea:
    idea = get_object_or_404(ChangeIdea.objects.select_related("project"), pk=cid,
                             project_id=pk)
    access.check(request.user, perm, project=idea.project)
    return idea


@login_required
def driver_edit(request, pk, did):
    driver = _driver(request, pk, did)
    project = driver.project
    form = DriverForm(*form_args(request), initial={"text": driver.text})
    form.fields["text"].label = "Primary driver" if driver.is_primary else "Secondary driver"
    if request.method == "POST" and form.is_valid():
        try:
            services.driver_update(driver=driver, text=form.cleaned_data["text"],
                                   by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Driver changed")
            return redirect(reverse("projects:diagram", args=[pk]) + f"#driver-{driver.pk}")
    return render(request, "projects/diagram_item_edit.html", {
        "project": project, "form": form, "item": driver,
        "heading": "Change primary driver" if driver.is_primary else "Change secondary driver",
        "crumbs": _diagram_crumbs(project, "Change driver"),
    })


@login_required
def idea_edit(request, pk, cid):
    idea = _idea(request, pk, cid)
    project = idea.project
    form = ChangeIdeaForm(
        *form_args(request), project=project,
        initial={"text": idea.text, "drivers": list(idea.drivers.values_list("pk", flat=True))},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_idea_update(change_idea=idea, text=form.cleaned_data["text"],
                                        drivers=form.cleaned_data["drivers"], by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Change idea changed")
            return redirect(reverse("projects:diagram", args=[pk]) + f"#idea-{idea.pk}")
    return render(request, "projects/diagram_item_edit.html", {
        "project": project, "form": form, "item": idea, "heading": "Change change idea",
        "crumbs": _diagram_crumbs(project, "Change change idea"),
    })


@login_required
@require_POST
def driver_move(request, pk, did):
    driver = _driver(request, pk, did)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.driver_move(driver=driver, direction=form.cleaned_data["direction"],
                             by=request.user)
    return redirect(reverse("projects:diagram", args=[pk]) + f"#driver-{driver.pk}")


@login_required
@require_POST
def idea_move(request, pk, cid):
    idea = _idea(request, pk, cid)
    form = MoveForm(request.POST)
    if form.is_valid():
        services.change_idea_move(change_idea=idea, direction=form.cleaned_data["direction"],
                                  by=request.user)
    return redirect(reverse("projects:diagram", args=[pk]) + f"#idea-{idea.pk}")


@login_required
def driver_remove(request, pk, did):
    driver = _driver(request, pk, did)
    project = driver.project
    if request.method == "POST":
        try:
            services.driver_delete(driver=driver, by=request.user)
        except ProtectedError:
            messages.error(request, "This driver is still in use and cannot be removed")
        else:
            messages.success(request, f"‘{driver.text}’ removed")
        return redirect("projects:diagram", pk=pk)
    secondaries = list(driver.secondary.all()) if driver.is_primary else []
    affected = ChangeIdea.objects.filter(
        drivers__in=[driver.pk, *[s.pk for s in secondaries]]).distinct()
    orphaned = [i for i in affected.prefetch_related("drivers")
                if all(d.pk in {driver.pk, *[s.pk for s in secondaries]}
                       for d in i.drivers.all())]
    return render(request, "projects/diagram_remove.html", {
        "project": project, "item": driver, "kind": "driver",
        "secondaries": secondaries, "orphaned": orphaned,
        "measures": list(driver.measures.all()),
        "crumbs": _diagram_crumbs(project, "Remove"),
    })


@login_required
def idea_remove(request, pk, cid):
    idea = _idea(request, pk, cid)
    project = idea.project
    if request.method == "POST":
        try:
            services.change_idea_delete(change_idea=idea, by=request.user)
        except ProtectedError:
            messages.error(request, "This change idea has PDSA cycles and cannot be removed")
        else:
            messages.success(request, f"‘{idea.text}’ removed")
        return redirect("projects:diagram", pk=pk)
    return render(request, "projects/diagram_remove.html", {
        "project": project, "item": idea, "kind": "idea",
        "crumbs": _diagram_crumbs(project, "Remove"),
    })


def _download_name(project, ext):
    return f"driver-diagram-{project.pk}-{slugify(project.title)[:60]}.{ext}"


@login_required
def diagram_svg(request, pk):
    project = project_for(request, pk)
    svg = dd.to_svg(dd.build(project))
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(project, "svg")}"'
    return response


@login_required
def diagram_png(request, pk):
    project = project_for(request, pk)
    if not dd.png_available():
        raise Http404("PNG export needs cairosvg")
    png = dd.to_png(dd.build(project))
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(project, "png")}"'
    return response
