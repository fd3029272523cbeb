"""The national centre's home (the activity and capability table), national QI capability
and NHS IMPACT, and each trust's capability pages (over time, record, upload, IMPACT).

National pages read only what `reports.national.build` stored (constant queries); a trust's
pages read its own returns. Who may do what: organisations/access.py "QI capability".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET

from core.forms import NHSFormMixin
from measures.imports import FORMULA_STARTS
from organisations import access, capability
from organisations.forms import (
    CapabilityLevelForm,
    CapabilityReturnForm,
    CapabilityUploadForm,
    ImpactAssessmentForm,
)
from organisations.models import (
    IMPACT_COMPONENTS,
    IMPACT_SCORES,
    CapabilityLevel,
    Region,
    Trust,
)
from projects.models import Project
from reports import national

CHART_W, CHART_H, PAD_L, PAD_B = 480, 160, 36, 20
COLOURS = ["#005eb8", "#007f3b", "#ae2573", "#4c6272", "#ffb81c"]


def _built(at) -> str:
    if at is None:
        return ""
    if timezone.now() - at < timedelta(minutes=1):
        return "less than a minute ago"
    return f"{timesince(at)} ago"


def _line_chart(title: str, labels: list[str], series: list[tuple[str, list]]) -> dict:
    """A small line chart drawn as SVG (no JavaScript) with the same figures as a table."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = max(values or [0]) or 1
    n = max(len(labels), 1)
    step = (CHART_W - PAD_L - 10) / max(n - 1, 1)
    lines = []
    for i, (name, vs) in enumerate(series):
        points = [(PAD_L + j * step, CHART_H - PAD_B - v / top * (CHART_H - PAD_B - 10))
                  for j, v in enumerate(vs) if v is not None]
        lines.append({"name": name, "colour": COLOURS[i % len(COLOURS)],
                      "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
                      "dots": [{"x": f"{x:.1f}", "y": f"{y:.1f}"} for x, y in points]})
    ticks = [{"x": f"{PAD_L + j * step:.1f}", "label": label}
             for j, label in enumerate(labels) if n <= 8 or j % 2 == 0]
    rows = [{"label": label, "values": [vs[j] if j < len(vs) else None for _, vs in series]}
            for j, label in enumerate(labels)]
    slug = "".join(c if c.isalnum() else "-" for c in title.lower())[:60]
    return {"title": title, "lines": lines, "ticks": ticks, "rows": rows, "top": top,
            "names": [name for name, _ in series], "width": CHART_W, "height": CHART_H,
            "base": CHART_H - PAD_B, "left": PAD_L, "slug": slug}


def _crumbs(*items):
    return [("Home", "/"), ("National centre", reverse("reports:national")), *items]


def _optional_links() -> list[tuple[str, str]]:
    """Links to centre pages other engineers add; shown only once their URLs exist."""
    links = []
    for name, label in (("reports:compare", "Compare trusts"),
                        ("reports:learning", "Learning repository")):
        try:
            links.append((label, reverse(name)))
        except NoReverseMatch:
            continue
    return links


# ---- the national centre's home: the activity and capability table ------------------------


class ActivityFilterForm(NHSFormMixin, forms.Form):
    region = forms.ChoiceField(label="Region", required=False)
    trust_type = forms.ChoiceField(label="Trust type", required=False,
                                   choices=[("", "All trust types"), *Trust.Type.choices])
    sort = forms.ChoiceField(label="Sort by", required=False, choices=[
        ("name", "Trust name"), ("region", "Region"), ("type", "Trust type"),
        ("projects", "Projects"), ("active", "Projects in progress"),
        ("cycles", "PDSA cycles last quarter"), ("pdsa", "PDSA quality"),
        ("improvement", "Measures with special cause improvement"),
        ("trained", "Staff trained per 1,000")])
    order = forms.ChoiceField(label="Order", required=False,
                              choices=[("asc", "Lowest first (A to Z)"),
                                       ("desc", "Highest first (Z to A)")])

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "All regions")] + [(r.code, r.name)
                                                                  for r in regions]

    def params(self) -> dict:
        if not self.is_valid():
            return {"region": "", "trust_type": "", "sort": "name", "descending": False}
        d = self.cleaned_data
        return {"region": d["region"], "trust_type": d["trust_type"],
                "sort": d["sort"] or "name", "descending": d["order"] == "desc"}


def _activity(request):
    access.check_national(request.user)
    form = ActivityFilterForm(request.GET or None, regions=list(Region.objects.all()))
    return form, national.activity_rows(**form.params())


STATUSES = [(v, label) for v, label in Project.Status.choices]


@login_required
@require_GET
def national_home(request):
    """The national centre's home: every trust's activity and QI capability, precomputed."""
    form, rows = _activity(request)
    snap = national.snapshot()
    built_at = max((r.built_at for r in rows if r.built_at), default=None)
    query = request.GET.urlencode()
    return render(request, "reports/national/home.html", {
        "form": form, "rows": rows, "statuses": STATUSES,
        "built": _built(built_at), "updating": bool(snap and snap.dirty_since),
        "query": f"?{query}" if query else "", "optional_links": _optional_links(),
        "crumbs": [("Home", "/"), ("National centre", None)],
    })


EXPORT_HEADER = ["Trust", "ODS code", "Region", "Trust type", "Projects",
                 *[label for _, label in STATUSES], "PDSA cycles last quarter",
                 "PDSA cycles with all four stages (%)", "Measures with SPC icons",
                 "Measures with special cause improvement",
                 "Measures with special cause improvement (%)", "Latest capability quarter",
                 "Staff trained", "Staff headcount", "Staff trained per 1,000", "Built at"]


def _safe(cell):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell[:1] in FORMULA_STARTS:
        return "'" + cell
    return cell


@login_required
@require_GET
def national_activity_export(request, fmt):
    """The table, with the page's filters and sort, as CSV or Excel."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    _, rows = _activity(request)
    lines = [[_safe(v) for v in (
        r.trust.name, r.trust.ods_code, r.trust.region.name, r.trust.get_trust_type_display(),
        r.projects, *[r.by_status.get(v, 0) for v, _ in STATUSES], r.cycles_last_quarter,
        r.pdsa_quality, r.measures_with_icons, r.measures_improving, r.improvement_share,
        capability.quarter_label(r.latest_quarter) if r.latest_quarter else "", r.trained,
        r.headcount, r.trained_per_1000,
        r.built_at.isoformat(timespec="minutes") if r.built_at else "")]
        for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_HEADER)
        writer.writerows(lines)
        response = HttpResponse(buffer.getvalue().encode("utf-8-sig"),
                                content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Activity and capability")
        sheet.append(EXPORT_HEADER)
        for line in lines:
            sheet.append(line)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="national-activity.{fmt}"'
    return response


# ---- national QI capability and NHS IMPACT ------------------------------------------------


def _impact_distribution(impact: dict) -> dict | None:
    years = impact.get("years", {})
    if not years:
        return None
    year = max(years, key=int)
    found = years[year]
    rows = []
    for key, label in IMPACT_COMPONENTS:
        counts = found["counts"][key]
        total = sum(counts) or 1
        x, bars = 0.0, []
        for i, n in enumerate(counts):
            width = n / total * 300
            bars.append({"x": f"{x:.1f}", "width": f"{width:.1f}", "score": i + 1, "n": n,
                         "colour": ["#d5281b", "#ed8b00", "#ffb81c", "#78be20", "#007f3b"][i]})
            x += width
        rows.append({"key": key, "label": label, "counts": counts,
                     "mean": found["mean"][key], "bars": bars})
    return {"year": year, "trusts": found["trusts"], "rows": rows,
            "scores": [label for _, label in IMPACT_SCORES],
            "years": sorted(years, key=int)}


@login_required
@require_GET
def national_capability(request):
    """QI capability per 1,000 staff over time, nationally and by region, and the national
    distribution of NHS IMPACT scores: read from the one precomputed snapshot."""
    access.check_national(request.user)
    snap = national.snapshot()
    data = snap.data if snap else {}
    nat = national.series_for(data, data.get("national", {}))
    regions = [(name, national.series_for(data, scope))
               for name, scope in sorted(data.get("regions", {}).items())]
    charts = []
    if data.get("quarters"):
        charts.append(_line_chart("Staff trained per 1,000: national and by region",
                                  nat["labels"], [("England", nat["per_1000"])]
                                  + [(n, s["per_1000"]) for n, s in regions]))
        charts.append(_line_chart("Leadership programme completions per 1,000 staff",
                                  nat["labels"], [("England", nat["leadership"])]))
    return render(request, "reports/national/capability.html", {
        "snap": snap, "built": _built(snap.built_at if snap else None),
        "updating": bool(snap and snap.dirty_since), "charts": charts,
        "levels": data.get("levels", []),
        "national_levels": [(capability.quarter_label(
            dt.date.fromisoformat(q)),
            data["national"][q]) for q in data.get("quarters", [])],
        "impact": _impact_distribution(data.get("impact", {})),
        "may_edit_levels": access.may_edit_capability_levels(request.user),
        "crumbs": _crumbs(("QI capability", None)),
    })


@login_required
def capability_levels(request):
    """The centre's list of training levels: add one, rename it, retire or restore it."""
    if not access.has_permission(request.user, access.P.NATIONAL_VIEW):
        raise Http404
    if not access.may_edit_capability_levels(request.user):
        raise Http404
    all_levels = capability.levels(include_retired=True)
    editing = None
    if request.GET.get("level"):
        editing = get_object_or_404(CapabilityLevel, pk=request.GET.get("level"))
    initial = ({"name": editing.name, "order": editing.order, "active": editing.active}
               if editing else {"order": len(all_levels), "active": True})
    form = CapabilityLevelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            capability.level_save(request.user, level=editing, **form.cleaned_data)
        except ValidationError as exc:
            for name, errs in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errs)
        else:
            messages.success(request, "The level list has been saved.")
            return redirect("reports:capability_levels")
    return render(request, "reports/national/levels.html", {
        "form": form, "levels": all_levels, "editing": editing,
        "crumbs": _crumbs(("QI capability", reverse("reports:national_capability")),
                          ("Training levels", None)),
    })


# ---- a trust's capability --------------------------------------------------------------


def _trust(request, ods_code, *, record=False):
    trust = get_object_or_404(Trust.objects.select_related("region"), ods_code=ods_code)
    access.check_capability(request.user, trust, record=record)
    return trust


def _trust_crumbs(trust, *items):
    return [("Home", "/"), ("Trusts", reverse("reports:trusts")),
            (trust.name, reverse("reports:trust", args=[trust.ods_code])), *items]


@login_required
@require_GET
def trust_capability(request, ods_code):
    """A trust's QI capability per 1,000 staff over time and its NHS IMPACT scores, with
    its region and England beside it (from the national snapshot)."""
    trust = _trust(request, ods_code)
    levels = capability.levels(include_retired=True)
    returns = capability.trust_returns(trust)
    table = []
    for ret in returns:
        counts = {c.level_id: c.trained for c in ret.counts.all()}
        total = sum(counts.values())
        table.append({"ret": ret, "label": ret.quarter_label,
                      "levels": [(counts.get(lv.pk), capability.per_1000(counts.get(lv.pk, 0),
                                                                         ret.headcount))
                                 for lv in levels],
                      "total": total, "per_1000": capability.per_1000(total, ret.headcount),
                      "leadership_per_1000": capability.per_1000(ret.leadership_completions,
                                                                 ret.headcount)})
    snap = national.snapshot()
    data = snap.data if snap else {}
    charts = []
    if table:
        labels = [row["label"] for row in table]
        quarters = [row["ret"].quarter.isoformat() for row in table]
        region = data.get("regions", {}).get(trust.region.name, {})
        nat = data.get("national", {})
        charts.append(_line_chart(
            f"Staff trained per 1,000: {trust.name}, {trust.region.name} and England", labels,
            [(trust.name, [row["per_1000"] for row in table]),
             (trust.region.name, [region.get(q, {}).get("per_1000") for q in quarters]),
             ("England", [nat.get(q, {}).get("per_1000") for q in quarters])]))
    assessments = capability.trust_assessments(trust)
    if assessments:
        charts.append(_line_chart(
            "NHS IMPACT self-assessment scores by year",
            [str(a.year) for a in assessments],
            [(label, [getattr(a, f"{key}_score") for a in assessments])
             for key, label in IMPACT_COMPONENTS]))
    return render(request, "reports/national/trust_capability.html", {
        "trust": trust, "levels": levels, "table": table, "assessments": assessments,
        "components": IMPACT_COMPONENTS, "charts": charts,
        "built": _built(snap.built_at if snap else None),
        "may_record": access.may_record_capability(request.user, trust),
        "crumbs": _trust_crumbs(trust, ("QI capability", None)),
    })


@login_required
def trust_capability_record(request, ods_code):
    """Record (or correct) one quarter's return in a form."""
    trust = _trust(request, ods_code, record=True)
    levels = capability.levels()
    quarters = capability.recent_quarters(12)[::-1]
    initial = {}
    wanted = request.GET.get("quarter")
    existing = {r.quarter.isoformat(): r for r in capability.trust_returns(trust)}
    if wanted in existing:
        ret = existing[wanted]
        initial = {"quarter": wanted, "headcount": ret.headcount,
                   "leadership_completions": ret.leadership_completions,
                   **{f"trained_{c.level_id}": c.trained for c in ret.counts.all()}}
    else:
        initial = {"headcount": trust.staff_headcount}
    form = CapabilityReturnForm(request.POST or None, initial=initial, levels=levels,
                                quarters=quarters)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            capability.return_save(request.user, trust, quarter=d["quarter"],
                                   headcount=d["headcount"],
                                   leadership_completions=d["leadership_completions"],
                                   trained=form.trained())
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, f"The return for {capability.quarter_label(d['quarter'])} "
                                      "has been saved.")
            return redirect("reports:trust_capability", trust.ods_code)
    return render(request, "reports/national/record.html", {
        "trust": trust, "form": form,
        "crumbs": _trust_crumbs(trust, ("QI capability", reverse("reports:trust_capability",
                                                                  args=[trust.ods_code])),
                                ("Record a quarter", None)),
    })


@login_required
def trust_capability_upload(request, ods_code):
    """Upload quarters as CSV or XLSX: every row saved, or none if any row is wrong."""
    trust = _trust(request, ods_code, record=True)
    form = CapabilityUploadForm(request.POST or None, request.FILES or None)
    error_items = []
    if request.method == "POST" and form.is_valid():
        parsed, saved = capability.upload_save(request.user, trust, form.cleaned_data["file"])
        if parsed.errors:
            error_items = [{"text": str(e), "href": ""} for e in parsed.errors]
        else:
            messages.success(request, f"{saved} quarter{'s' if saved != 1 else ''} saved "
                                      "from the file.")
            return redirect("reports:trust_capability", trust.ods_code)
    return render(request, "reports/national/upload.html", {
        "trust": trust, "form": form, "error_items": error_items,
        "columns": capability.upload_columns(),
        "crumbs": _trust_crumbs(trust, ("QI capability", reverse("reports:trust_capability",
                                                                  args=[trust.ods_code])),
                                ("Upload a file", None)),
    })


@login_required
@require_GET
def trust_capability_template(request, ods_code):
    trust = _trust(request, ods_code, record=True)
    response = HttpResponse(capability.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{trust.ods_code}-capability.csv"'
    return response


@login_required
def trust_impact_record(request, ods_code):
    """Record (or correct) the board's NHS IMPACT self-assessment for a year."""
    trust = _trust(request, ods_code, record=True)
    this_year = timezone.localdate().year
    years = list(range(this_year, this_year - 6, -1))
    initial = {}
    wanted = request.GET.get("year")
    for a in capability.trust_assessments(trust):
        if str(a.year) == wanted:
            initial = {"year": a.year, **{f"{k}_score": getattr(a, f"{k}_score")
                                          for k, _ in IMPACT_COMPONENTS},
                       **{f"{k}_evidence": getattr(a, f"{k}_evidence")
                          for k, _ in IMPACT_COMPONENTS}}
    form = ImpactAssessmentForm(request.POST or None, initial=initial, years=years)
    if request.method == "POST" and form.is_valid():
        try:
            capability.impact_save(request.user, trust, year=form.cleaned_data["year"],
                                   scores=form.scores(), evidence=form.evidence())
        except ValidationError as exc:
            for name, errs in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errs)
        else:
            messages.success(request, "The NHS IMPACT self-assessment has been saved.")
            return redirect("reports:trust_capability", trust.ods_code)
    return render(request, "reports/national/impact.html", {
        "trust": trust, "form": form,
        "fields": [(label, form[f"{k}_score"], form[f"{k}_evidence"])
                   for k, label in IMPACT_COMPONENTS],
        "crumbs": _trust_crumbs(trust, ("QI capability", reverse("reports:trust_capability",
                                                                  args=[trust.ods_code])),
                                ("NHS IMPACT self-assessment", None)),
    })
