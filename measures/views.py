"""Pages for measures, data entry and upload. Thin: parse, call a service, render. Every
page fetches the object and checks access in one step (outsider 404, member without the
right 403); forms post back and redirect after success.

The measure page itself (chart with the PDSA cycles marked) combines this app with pdsa and
lives in reports.views; `detail_context` and `project_section` are what it and the project
page take from here.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify

from core.views import add_errors, form_args
from measures import charts, imports, page, services
from measures.forms import DataFormSet, MeasureForm, UploadForm
from measures.imports import RowsInvalid
from measures.models import Measure
from organisations import access
from organisations.access import Permission
from projects.views.common import project_crumbs, project_for

P = Permission


def measure_for(request, pk, mid, perm=P.PROJECT_VIEW) -> Measure:
    """One measure of project `pk`, with the access check (outsider 404, no right 403)."""
    measure = get_object_or_404(
        Measure.objects.select_related("project__trust", "driver"), pk=mid, project_id=pk
    )
    access.check(request.user, perm, project=measure.project)
    return measure


# ---- the project page's section ------------------------------------------------------------


def project_section(request, project) -> dict:
    """The project page's measures section (templates/measures/_project_section.html).

    Queries (constant, whatever the numbers of measures and points): measures joined to
    their snapshots and drivers; plus the permission checks (team membership, cached).
    """
    user = request.user
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
            "icons": charts.icons(snap.variation_icon, snap.assurance) if snap else {},
            "summary": charts.icon_summary(snap) if snap else "",
            "sparkline": charts.sparkline(snap.result) if snap and snap.n_points else "",
        })
    can_edit = access.has_permission(user, P.PROJECT_EDIT, project=project)
    can_enter = access.has_permission(user, P.DATA_ENTER, project=project)
    return {
        "measure_rows": rows,
        "can_edit_measures": can_edit,
        "can_enter_data": can_enter,
        "measure_new_url": reverse("projects:measure_create", args=[project.pk]),
    }


# ---- measures -----------------------------------------------------------------------------


def _measure_form_page(request, project, form, measure=None):
    return render(request, "measures/form.html", {
        "project": project, "form": form, "measure": measure,
        "crumbs": project_crumbs(project, *(
            [(measure.name, reverse("projects:measure_detail", args=[project.pk, measure.pk])),
             ("Change measure", None)] if measure else [("Add a measure", None)])),
    })


@login_required
def measure_create(request, pk):
    project = project_for(request, pk, P.PROJECT_EDIT)
    form = MeasureForm(*form_args(request), project=project)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.MEASURE_FIELDS}
        try:
            measure = services.measure_create(project=project, by=request.user, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Measure ‘{measure.name}’ added. Now add its data.")
            return redirect("projects:measure_detail", pk=pk, mid=measure.pk)
    return _measure_form_page(request, project, form)


@login_required
def measure_edit(request, pk, mid):
    measure = measure_for(request, pk, mid, P.PROJECT_EDIT)
    project = measure.project
    original = Measure.objects.get(pk=measure.pk)
    form = MeasureForm(*form_args(request), instance=measure, project=project)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.MEASURE_FIELDS}
        try:
            services.measure_update(measure=original, by=request.user, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Measure changed")
            return redirect("projects:measure_detail", pk=pk, mid=measure.pk)
    return _measure_form_page(request, project, form, measure=original)


@login_required
def measure_remove(request, pk, mid):
    measure = measure_for(request, pk, mid, P.PROJECT_EDIT)
    project = measure.project
    if request.method == "POST":
        services.measure_delete(measure=measure, by=request.user)
        messages.success(request, f"Measure ‘{measure.name}’ removed")
        return redirect("projects:detail", pk=pk)
    return render(request, "measures/remove.html", {
        "project": project, "measure": measure, "n_points": measure.points.count(),
        "crumbs": project_crumbs(project, (measure.name, reverse(
            "projects:measure_detail", args=[pk, mid])), ("Remove", None)),
    })


def detail_context(request, measure, *, pdsa_markers=()) -> dict:
    """The measure page (templates/measures/detail.html), rendered by reports.views with the
    PDSA cycles linked to the measure as `pdsa_markers`."""
    project = measure.project
    n_points = measure.points.count()  # one index-only count: the points are read on a build
    chart_id = f"measure-{measure.pk}"
    return {
        "project": project,
        "measure": measure,
        "n_points": n_points,
        "can_edit": access.has_permission(request.user, P.PROJECT_EDIT, project=project),
        "can_enter": access.has_permission(request.user, P.DATA_ENTER, project=project),
        "chart_id": chart_id,
        "crumbs": project_crumbs(project, (measure.name, None)),
        "period_rule": imports.frequency_rule(measure, imports.reference_weekday(measure)),
        "target_display": charts.fmt_value(measure, measure.target) or "None set",
        **page.chart_context(measure, pdsa_markers=pdsa_markers, chart_id=chart_id,
                             table_page=request.GET.get("table"), n_points=n_points),
    }


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


def _base_version(request) -> int | None:
    """The measure's data_version when the form was opened (a hidden field), if sent."""
    raw = request.POST.get("base_version", "")
    return int(raw) if raw.isdigit() else None


def _conflict_errors(exc: services.DataConflict) -> list:
    return [imports.RowError(None, None, exc.message + ". Your changes are still in the "
                             "form: reload the page to see theirs, then make yours again.")]


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
    measure = measure_for(request, pk, mid, P.DATA_ENTER)
    prefix = "rows"
    errors = []
    if request.method == "POST":
        data = request.POST.copy()
        if "add_rows" in data:
            total = f"{prefix}-TOTAL_FORMS"
            data[total] = str(min(int(data.get(total) or 0) + 5, 2000))
            formset = DataFormSet(data, prefix=prefix)
            formset.is_valid()
            return _data_page(request, measure, formset, [],
                              base_version=_base_version(request))
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
                    measure=measure, rows=rows, delete_ids=delete_ids, by=request.user,
                    base_version=_base_version(request))
            except services.DataConflict as exc:
                errors = _conflict_errors(exc)
                return _data_page(request, measure, formset, errors, status=409,
                                  base_version=_base_version(request))
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
    base = _base_version(request) if request.method == "POST" else None
    return _data_page(request, measure, formset, errors, status=200, base_version=base)


def _data_page(request, measure, formset, errors, status=200, base_version=None):
    project = measure.project
    return render(request, "measures/data.html", {
        "project": project, "measure": measure, "formset": formset,
        # A failed save keeps the version the grid was opened at, so saving again still
        # notices changes made by others in between.
        "base_version": measure.data_version if base_version is None else base_version,
        "error_items": _error_items(errors, prefix=formset.prefix),
        "period_rule": imports.frequency_rule(measure, imports.reference_weekday(measure)),
        "crumbs": project_crumbs(project, (measure.name, reverse(
            "projects:measure_detail", args=[project.pk, measure.pk])), ("Enter data", None)),
    }, status=status)


@login_required
def measure_upload(request, pk, mid):
    measure = measure_for(request, pk, mid, P.DATA_ENTER)
    project = measure.project
    errors = []
    status = 200
    form = UploadForm(*form_args(request, files=True),
                      initial={"base_version": measure.data_version})
    if request.method == "POST":
        if form.is_valid():
            parsed = imports.parse_upload(measure, form.cleaned_data["file"])
            errors = parsed.errors
            if not errors:
                try:
                    summary = services.data_points_merge(
                        measure=measure, rows=parsed.rows, by=request.user,
                        base_version=form.cleaned_data["base_version"])
                except services.DataConflict as exc:
                    errors, status = _conflict_errors(exc), 409
                except RowsInvalid as exc:
                    errors = exc.errors
                else:
                    messages.success(request, f"File uploaded: {summary}")
                    return redirect("projects:measure_detail", pk=pk, mid=mid)
        else:
            errors = [imports.RowError(None, None, m) for m in form.errors.get("file", [])]
    error_items = [{"text": str(e), "href": "" if e.row else "#id_file"} for e in errors]
    return render(request, "measures/upload.html", {
        "project": project, "measure": measure, "form": form,
        "error_items": error_items, "n_errors": len(errors),
        "columns": imports.columns_for(measure),
        "required": imports.required_columns(measure),
        "period_rule": imports.frequency_rule(measure, imports.reference_weekday(measure)),
        "max_rows": imports.MAX_ROWS,
        "crumbs": project_crumbs(project, (measure.name, reverse(
            "projects:measure_detail", args=[pk, mid])), ("Upload data", None)),
    }, status=status)


@login_required
def measure_template(request, pk, mid, fmt):
    measure = measure_for(request, pk, mid)
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
