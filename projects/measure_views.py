"""Pages for the driver diagram, measures, data entry and upload. Thin: parse, call a
service, render. Every page fetches the object and checks access in one step (outsider 404,
member without the right 403); forms post back and redirect after success.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from organisations import access
from organisations.access import Permission
from projects import diagram as dd
from projects import imports
from projects import measure_services as services
from projects.imports import RowsInvalid
from projects.measure_forms import (
    ChangeIdeaForm,
    DataFormSet,
    DriverForm,
    MeasureForm,
    MoveForm,
    SecondaryDriverForm,
    UploadForm,
)
from projects.models import ChangeIdea, Driver, Measure, Project

P = Permission


# ---- lookups -------------------------------------------------------------------------------


def _project(request, pk, perm=P.PROJECT_VIEW) -> Project:
    project = get_object_or_404(Project.objects.select_related("trust"), pk=pk)
    access.check(request.user, perm, project=project)
    return project


def _measure(request, pk, mid, perm=P.PROJECT_VIEW) -> Measure:
    measure = get_object_or_404(
        Measure.objects.select_related("project__trust", "driver"), pk=mid, project_id=pk
    )
    access.check(request.user, perm, project=measure.project)
    return measure


def _bound(request, *, files=False) -> tuple:
    """Form arguments: bound on POST (even when empty), unbound otherwise."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def _crumbs(project, *rest):
    return [
        ("Home", "/"),
        ("Projects", reverse("projects:list")),
        (project.title, reverse("projects:detail", args=[project.pk])),
        *rest,
    ]


def _validation_messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "message_dict"):
        return exc.message_dict
    return {"__all__": exc.messages}


def _form_errors_from(form, exc: ValidationError) -> None:
    for name, msgs in _validation_messages(exc).items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


# ---- project page sections -------------------------------------------------------------------


def _sparkline(result: dict, *, width=120, height=32) -> str:
    """A tiny server-drawn line of the latest values (no JS), hidden from screen readers:
    the icon titles and the reading carry the meaning."""
    values = [p.get("value") for p in (result or {}).get("points", [])][-24:]
    nums = [v for v in values if v is not None]
    if len(nums) < 2:
        return ""
    lo, hi = min(nums), max(nums)
    span = (hi - lo) or 1.0
    step = width / (len(values) - 1)
    pts = " ".join(
        f"{i * step:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}"
        for i, v in enumerate(values) if v is not None
    )
    return format_html(
        '<svg class="app-sparkline" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" '
        'viewBox="0 0 {} {}" aria-hidden="true" focusable="false"><polyline points="{}" '
        'fill="none" stroke="#425563" stroke-width="1.5"/></svg>',
        width, height, width, height, pts,
    )


def _icons(variation: str, assurance: str | None, size=40) -> dict:
    from reports.spc.icons import assurance_icon_svg, variation_icon_svg

    out = {"variation": "", "assurance": ""}
    try:
        if variation:
            out["variation"] = mark_safe(variation_icon_svg(variation, size=size))  # noqa: S308
        if assurance:
            out["assurance"] = mark_safe(assurance_icon_svg(assurance, size=size))  # noqa: S308
    except ValueError:
        pass
    return out


def _icon_summary(snap) -> str:
    """The icons' meaning in words, for people who do not read SPC icons yet."""
    from reports.spc.icons import ASSURANCE_TITLES, VARIATION_TITLES

    parts = [VARIATION_TITLES.get(snap.variation_icon, "")]
    if snap.assurance:
        parts.append(ASSURANCE_TITLES.get(snap.assurance, ""))
    return ". ".join(p for p in parts if p)


def project_page_context(request, project) -> dict:
    """What the project page needs for its driver diagram and measures sections.

    Queries (constant, whatever the numbers of drivers, ideas, measures and points):
    drivers; change ideas; their driver links (prefetch); measures joined to their
    snapshots and drivers; plus the permission checks (team membership).
    """
    user = request.user
    drivers, ideas = dd.fetch(project)
    diagram = dd.build(project, drivers, ideas)
    measures = list(
        Measure.objects.filter(project=project)
        .select_related("snapshot", "driver").order_by("position", "id")
    )
    rows = []
    for m in measures:
        snap = getattr(m, "snapshot", None)
        rows.append({
            "measure": m,
            "url": reverse("projects:measure_detail", args=[project.pk, m.pk]),
            "snapshot": snap,
            "icons": _icons(snap.variation_icon, snap.assurance) if snap else {},
            "summary": _icon_summary(snap) if snap else "",
            "sparkline": _sparkline(snap.result) if snap and snap.n_points else "",
        })
    can_edit = access.has_permission(user, P.PROJECT_EDIT, project=project)
    can_enter = access.has_permission(user, P.DATA_ENTER, project=project)
    return {
        "diagram_section": True,
        "measure_section": True,
        "diagram": diagram,
        "measure_rows": rows,
        "can_edit_measures": can_edit,
        "can_enter_data": can_enter,
        "diagram_url": reverse("projects:diagram", args=[project.pk]),
        "diagram_svg_url": reverse("projects:diagram_svg", args=[project.pk]),
        "measure_new_url": reverse("projects:measure_create", args=[project.pk]),
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
        "crumbs": _crumbs(project, ("Driver diagram", None)),
    }
    ctx["error_forms"] = [f for f in forms.values() if f.errors]
    return render(request, "projects/diagram_edit.html", ctx, status=status)


@login_required
def diagram_edit(request, pk):
    if request.method != "POST":
        return _diagram_page(request, _project(request, pk))
    project = _project(request, pk, P.PROJECT_EDIT)
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
        _form_errors_from(form, exc)
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
    form = DriverForm(*_bound(request), initial={"text": driver.text})
    form.fields["text"].label = "Primary driver" if driver.is_primary else "Secondary driver"
    if request.method == "POST" and form.is_valid():
        try:
            services.driver_update(driver=driver, text=form.cleaned_data["text"],
                                   by=request.user)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, "Driver changed")
            return redirect(reverse("projects:diagram", args=[pk]) + f"#driver-{driver.pk}")
    return render(request, "projects/diagram_item_edit.html", {
        "project": project, "form": form, "item": driver,
        "heading": "Change primary driver" if driver.is_primary else "Change secondary driver",
        "crumbs": _crumbs(project, ("Driver diagram", reverse("projects:diagram", args=[pk])),
                          ("Change driver", None)),
    })


@login_required
def idea_edit(request, pk, cid):
    idea = _idea(request, pk, cid)
    project = idea.project
    form = ChangeIdeaForm(
        *_bound(request), project=project,
        initial={"text": idea.text, "drivers": list(idea.drivers.values_list("pk", flat=True))},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_idea_update(change_idea=idea, text=form.cleaned_data["text"],
                                        drivers=form.cleaned_data["drivers"], by=request.user)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, "Change idea changed")
            return redirect(reverse("projects:diagram", args=[pk]) + f"#idea-{idea.pk}")
    return render(request, "projects/diagram_item_edit.html", {
        "project": project, "form": form, "item": idea, "heading": "Change change idea",
        "crumbs": _crumbs(project, ("Driver diagram", reverse("projects:diagram", args=[pk])),
                          ("Change change idea", None)),
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
        "crumbs": _crumbs(project, ("Driver diagram", reverse("projects:diagram", args=[pk])),
                          ("Remove", None)),
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
        "crumbs": _crumbs(project, ("Driver diagram", reverse("projects:diagram", args=[pk])),
                          ("Remove", None)),
    })


def _download_name(project, ext):
    from django.utils.text import slugify

    return f"driver-diagram-{project.pk}-{slugify(project.title)[:60]}.{ext}"


@login_required
def diagram_svg(request, pk):
    project = _project(request, pk)
    svg = dd.to_svg(dd.build(project))
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(project, "svg")}"'
    return response


@login_required
def diagram_png(request, pk):
    project = _project(request, pk)
    if not dd.png_available():
        raise Http404("PNG export needs cairosvg")
    png = dd.to_png(dd.build(project))
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="{_download_name(project, "png")}"'
    return response


# ---- measures -----------------------------------------------------------------------------


def _measure_form_page(request, project, form, measure=None):
    return render(request, "projects/measure_form.html", {
        "project": project, "form": form, "measure": measure,
        "crumbs": _crumbs(project, *(
            [(measure.name, reverse("projects:measure_detail", args=[project.pk, measure.pk])),
             ("Change measure", None)] if measure else [("Add a measure", None)])),
    })


@login_required
def measure_create(request, pk):
    project = _project(request, pk, P.PROJECT_EDIT)
    form = MeasureForm(*_bound(request), project=project)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.MEASURE_FIELDS}
        try:
            measure = services.measure_create(project=project, by=request.user, **data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, f"Measure ‘{measure.name}’ added. Now add its data.")
            return redirect("projects:measure_detail", pk=pk, mid=measure.pk)
    return _measure_form_page(request, project, form)


@login_required
def measure_edit(request, pk, mid):
    measure = _measure(request, pk, mid, P.PROJECT_EDIT)
    project = measure.project
    original = Measure.objects.get(pk=measure.pk)
    form = MeasureForm(*_bound(request), instance=measure, project=project)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.MEASURE_FIELDS}
        try:
            services.measure_update(measure=original, by=request.user, **data)
        except ValidationError as exc:
            _form_errors_from(form, exc)
        else:
            messages.success(request, "Measure changed")
            return redirect("projects:measure_detail", pk=pk, mid=measure.pk)
    return _measure_form_page(request, project, form, measure=original)


@login_required
def measure_remove(request, pk, mid):
    measure = _measure(request, pk, mid, P.PROJECT_EDIT)
    project = measure.project
    if request.method == "POST":
        services.measure_delete(measure=measure, by=request.user)
        messages.success(request, f"Measure ‘{measure.name}’ removed")
        return redirect("projects:detail", pk=pk)
    return render(request, "projects/measure_remove.html", {
        "project": project, "measure": measure, "n_points": measure.points.count(),
        "crumbs": _crumbs(project, (measure.name, reverse(
            "projects:measure_detail", args=[pk, mid])), ("Remove", None)),
    })


def _fmt_value(measure, v):
    from reports.spc.reading import format_number

    if v is None:
        return ""
    if measure.chart == "p":
        return format_number(v * 100, "%")
    return format_number(v, "")


def measure_chart_context(measure, points) -> dict:
    """The SPC chart, icons, reading and table for one measure's points.

    Computed from the points on this request (a few hundred at most) rather than read from
    the snapshot, so the page shows data just entered even while the rebuild is queued.
    """
    from reports import charts
    from reports.services import measure_spc_result
    from reports.spc.reading import describe, format_number

    if not points:
        return {"has_chart": False}
    try:
        result = measure_spc_result(measure, points)
    except ValueError as exc:
        return {"has_chart": False, "chart_error": str(exc)}
    periods = [p.period for p in points]
    iso = [d.isoformat() for d in periods]
    percent = measure.chart == "p"
    unit = "" if percent else measure.unit_label
    from pdsa.selectors import markers_for_measures

    # PDSA cycles linked to this measure, drawn at their dates (one query).
    markers = [m for m in markers_for_measures([measure.pk])[measure.pk] if m["date"]]
    fig = charts.spc_figure(
        result, x=iso, title=measure.name, unit=unit, percent=percent,
        pdsa=[(m["date"].isoformat(), m["label"]) for m in markers],
        y_title=("%" if percent else measure.unit_label),
        target=(measure.target if measure.target is not None else None),
        annotations=[(p.period.isoformat(), p.annotation) for p in points if p.annotation],
        height=400,
    )
    figure = json.loads(fig.to_json())
    figure.setdefault("layout", {}).pop("template", None)  # plotly.js defaults are enough
    # Long units ("falls per 1,000 bed days") would repeat in every number of the sentence;
    # the chart and table name them once, so the reading keeps only short ones ("%", "days").
    short_unit = measure.unit_label if len(measure.unit_label) <= 10 else ""
    if percent:
        def fmt(v):
            return format_number(None if v is None else v * 100, "%")
    else:
        def fmt(v):
            return format_number(v, short_unit)
    reading = describe(result, labels=periods, formatter=fmt)
    rows = charts.data_table(result, x=periods, percent=percent)
    for row, p in zip(rows, points, strict=True):
        row["annotation"] = p.annotation
        row["rebaseline"] = p.rebaseline
        row["numerator"] = p.numerator
        row["denominator"] = p.denominator
    last_phase = result.phases[-1]
    return {
        "has_chart": True,
        "result": result,
        "figure": figure,
        "reading": reading,
        "icons": _icons(result.variation_icon, result.assurance, size=64),
        "table_rows": rows,
        "percent": percent,
        "trial_limits": measure.chart != "run" and last_phase.n < 12,
        "warnings": result.warnings,
        "pdsa_markers": markers,
    }


@login_required
def measure_detail(request, pk, mid):
    measure = _measure(request, pk, mid)
    project = measure.project
    points = list(measure.points.order_by("period"))
    ctx = {
        "project": project,
        "measure": measure,
        "points": points,
        "can_edit": access.has_permission(request.user, P.PROJECT_EDIT, project=project),
        "can_enter": access.has_permission(request.user, P.DATA_ENTER, project=project),
        "chart_id": f"measure-{measure.pk}",
        "crumbs": _crumbs(project, (measure.name, None)),
        "period_rule": imports.frequency_rule(measure, imports.reference_weekday(measure)),
        "target_display": _fmt_value(measure, measure.target) or "None set",
        **measure_chart_context(measure, points),
    }
    return render(request, "projects/measure_detail.html", ctx)


# ---- data entry ---------------------------------------------------------------------------


def _initial_rows(measure):
    def num(v):
        if v is None:
            return ""
        return str(int(v)) if float(v).is_integer() else repr(float(v))

    return [
        {"id": p.pk, "period": p.period.isoformat(), "value": num(p.value),
         "numerator": num(p.numerator), "denominator": num(p.denominator),
         "annotation": p.annotation, "rebaseline": p.rebaseline}
        for p in measure.points.order_by("period")
    ]


def _error_items(errors, *, prefix=None) -> list[dict]:
    """Error-summary items: text, and a link to the cell when there is one."""
    items = []
    for e in errors:
        href = ""
        if prefix and e.row is not None and e.column:
            href = f"#id_{prefix}-{e.row - 1}-{e.column}"
        items.append({"text": str(e), "href": href})
    return items


@login_required
def measure_data(request, pk, mid):
    measure = _measure(request, pk, mid, P.DATA_ENTER)
    prefix = "rows"
    errors = []
    if request.method == "POST":
        data = request.POST.copy()
        if "add_rows" in data:
            total = f"{prefix}-TOTAL_FORMS"
            data[total] = str(min(int(data.get(total) or 0) + 5, 2000))
            formset = DataFormSet(data, prefix=prefix)
            formset.is_valid()
            return _data_page(request, measure, formset, [])
        formset = DataFormSet(data, prefix=prefix)
        if formset.is_valid():
            rows, delete_ids = [], []
            for i, form in enumerate(formset.forms, start=1):
                cd = form.cleaned_data
                if cd.get("DELETE"):
                    if cd.get("id"):
                        delete_ids.append(cd["id"])
                    continue
                if form.is_blank():
                    continue
                rows.append({"row": i, **{k: cd.get(k) for k in (
                    "id", "period", "value", "numerator", "denominator", "annotation",
                    "rebaseline")}})
            try:
                summary = services.data_points_replace(
                    measure=measure, rows=rows, delete_ids=delete_ids, by=request.user)
            except RowsInvalid as exc:
                errors = exc.errors
                for e in errors:
                    if e.row is not None and e.column and 0 < e.row <= len(formset.forms):
                        form = formset.forms[e.row - 1]
                        if e.column in form.fields:
                            form.add_error(e.column, e.message)
            else:
                messages.success(request, f"Data saved: {summary}")
                return redirect("projects:measure_detail", pk=pk, mid=mid)
        else:
            for i, form in enumerate(formset.forms, start=1):
                for name, msgs in form.errors.items():
                    for msg in msgs:
                        errors.append(imports.RowError(i, name, msg))
            for msg in formset.non_form_errors():
                errors.append(imports.RowError(None, None, msg))
    else:
        formset = DataFormSet(prefix=prefix, initial=_initial_rows(measure))
    return _data_page(request, measure, formset, errors, status=200)


def _data_page(request, measure, formset, errors, status=200):
    project = measure.project
    return render(request, "projects/measure_data.html", {
        "project": project, "measure": measure, "formset": formset,
        "error_items": _error_items(errors, prefix=formset.prefix),
        "period_rule": imports.frequency_rule(measure, imports.reference_weekday(measure)),
        "crumbs": _crumbs(project, (measure.name, reverse(
            "projects:measure_detail", args=[project.pk, measure.pk])), ("Enter data", None)),
    }, status=status)


@login_required
def measure_upload(request, pk, mid):
    measure = _measure(request, pk, mid, P.DATA_ENTER)
    project = measure.project
    errors = []
    form = UploadForm(*_bound(request, files=True))
    if request.method == "POST":
        if form.is_valid():
            parsed = imports.parse_upload(measure, form.cleaned_data["file"])
            errors = parsed.errors
            if not errors:
                try:
                    summary = services.data_points_merge(
                        measure=measure, rows=parsed.rows, by=request.user)
                except RowsInvalid as exc:
                    errors = exc.errors
                else:
                    messages.success(request, f"File uploaded: {summary}")
                    return redirect("projects:measure_detail", pk=pk, mid=mid)
        else:
            errors = [imports.RowError(None, None, m) for m in form.errors.get("file", [])]
    error_items = [{"text": str(e), "href": "" if e.row else "#id_file"} for e in errors]
    return render(request, "projects/measure_upload.html", {
        "project": project, "measure": measure, "form": form,
        "error_items": error_items, "n_errors": len(errors),
        "columns": imports.columns_for(measure),
        "required": imports.required_columns(measure),
        "period_rule": imports.frequency_rule(measure, imports.reference_weekday(measure)),
        "max_rows": imports.MAX_ROWS,
        "crumbs": _crumbs(project, (measure.name, reverse(
            "projects:measure_detail", args=[pk, mid])), ("Upload data", None)),
    }, status=200)


@login_required
def measure_template(request, pk, mid, fmt):
    measure = _measure(request, pk, mid)
    from django.utils.text import slugify

    name = f"{slugify(measure.name)[:60] or 'measure'}-data"
    if fmt == "csv":
        response = HttpResponse(imports.template_csv(measure), content_type="text/csv")
    elif fmt == "xlsx":
        response = HttpResponse(
            imports.template_xlsx(measure),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
