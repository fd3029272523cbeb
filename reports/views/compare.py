"""Comparing trusts on shared measures (issue 14, items 2 and 6): the list of comparisons,
one comparison (a funnel plot for a chosen period and a trust against the national
deciles), and the national definitions the centre publishes and trusts adopt.

Comparison pages read the snapshots `reports.comparisons.build` stored (a constant number
of queries, whatever the number of trusts); who may see what is organisations.access's.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import plotly.graph_objects as go
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.fields.json import KT
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST

from collaboratives.models import SharedMeasure
from core.views import add_errors
from organisations import access
from reports import comparisons
from reports import services as report_services
from reports.forms import CompareForm, ComparisonSettingForm, NationalAdoptForm, NationalMeasureForm
from reports.funnel_chart import describe, funnel_figure, funnel_svg, outliers
from reports.models import ComparisonSnapshot, NationalAdoption, NationalMeasure

KINDS = {"national": ComparisonSnapshot.Kind.NATIONAL, "shared": ComparisonSnapshot.Kind.SHARED}
DECILE_COLOUR = "#768692"
BAND_COLOUR = "rgba(118, 134, 146, 0.18)"
TRUST_COLOUR = "#005EB8"


def _crumbs(*items):
    return [("Home", "/"), ("Compare trusts", reverse("reports:compare")), *items]


def _built(snapshot) -> str:
    return timesince(snapshot.built_at) if snapshot and snapshot.built_at else ""


@login_required
def compare(request):
    """The comparisons the user may read: national definitions and collaborative measures."""
    user = request.user
    qs = ComparisonSnapshot.objects.filter(period=None, built_at__isnull=False)
    readable = comparisons.readable_keys(user)
    if readable is not None:
        qs = qs.filter(readable)
    rows = list(qs.order_by("kind", "title", "object_id").values(
        "kind", "object_id", "title", "n_trusts", "built_at", context=KT("data__meta__context")))
    for row in rows:
        row["url"] = reverse("reports:compare_measure", args=[row["kind"], row["object_id"]])
        row["built_ago"] = timesince(row["built_at"])
    return render(request, "reports/compare/list.html", {
        "national": [r for r in rows if r["kind"] == "national"],
        "shared": [r for r in rows if r["kind"] == "shared"],
        "can_publish": access.publishes_national_measures(user),
        "sees_definitions": access.reads_national_definitions(user),
        "crumbs": _crumbs(),
    })


def _fmt(v, digits=1) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    return f"{v:,.{digits}f}"


def _count(v) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _outlier_rows(result, level: str, unit: str, exclude=()) -> tuple[list, list]:
    prefix = "od_" if result.adjusted else ""
    above, below = outliers(result, level)
    pct = unit == "%"

    def row(u, side):
        limit = getattr(u, f"{prefix}{'ucl' if side == 'above' else 'lcl'}{level}")
        return {"trust": u.group, "numerator": _count(u.numerator),
                "denominator": _count(u.denominator),
                "rate": _fmt(u.ratio) + ("%" if pct else ""),
                "limit": _fmt(limit) + ("%" if pct else "")}

    return ([row(u, "above") for u in above if u.group not in exclude],
            [row(u, "below") for u in below if u.group not in exclude])


def _deciles_figure(series, trust_rates, trust_label, meta) -> dict:
    periods = series["periods"]
    dec = series["deciles"]
    fig = go.Figure(layout={"template": {}})
    p90 = [d.get("p90") for d in dec]
    p10 = [d.get("p10") for d in dec]
    fig.add_trace(go.Scatter(x=periods, y=p90, mode="lines", line={"width": 0},
                             hoverinfo="skip", showlegend=False, name="90th percentile"))
    fig.add_trace(go.Scatter(x=periods, y=p10, mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor=BAND_COLOUR, hoverinfo="skip",
                             name="10th to 90th percentile"))
    for d in (10, 20, 30, 40, 60, 70, 80, 90):
        fig.add_trace(go.Scatter(x=periods, y=[row.get(f"p{d}") for row in dec], mode="lines",
                                 line={"color": DECILE_COLOUR, "width": 1, "dash": "dot"},
                                 name="Deciles", legendgroup="deciles",
                                 showlegend=d == 10, hovertemplate=f"{d}th: %{{y:.3g}}"
                                 "<extra></extra>"))
    fig.add_trace(go.Scatter(x=periods, y=[row.get("p50") for row in dec], mode="lines",
                             line={"color": DECILE_COLOUR, "width": 2, "dash": "dash"},
                             name="Median (50th percentile)"))
    fig.add_trace(go.Scatter(x=periods, y=trust_rates, mode="lines+markers",
                             line={"color": TRUST_COLOUR, "width": 2.5},
                             name=html.escape(trust_label)))
    fig.update_layout(height=420, margin={"l": 60, "r": 20, "t": 30, "b": 70},
                      legend={"orientation": "h", "y": -0.2},
                      yaxis={"title": {"text": meta["unit"]}, "rangemode": "tozero"})
    return comparisons.plotly_json(fig)


def _deciles_svg(series, trust_rates, trust_label, *, width=640, height=300) -> str:
    """The same picture as the Plotly chart, server-drawn for no JavaScript and print:
    the 10th-90th band, the median and the trust's line. The table says the same."""
    dec = series["deciles"]
    n = len(dec)
    values = [v for d in dec for v in (d.get("p10"), d.get("p90")) if v is not None]
    values += [v for v in trust_rates if v is not None]
    if not values:
        return ""
    lo, hi = min(0.0, min(values)), max(values) or 1.0
    left, right, top, bottom = 56, 12, 12, 36
    pw, ph = width - left - right, height - top - bottom

    def sx(i):
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def sy(v):
        return top + ph - (v - lo) / ((hi - lo) or 1.0) * ph

    def line(vals):
        return " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in enumerate(vals) if v is not None)

    upper = [(i, d["p90"]) for i, d in enumerate(dec) if d.get("p90") is not None]
    lower = [(i, d["p10"]) for i, d in enumerate(dec) if d.get("p10") is not None]
    band = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in upper + lower[::-1])
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(trust_label)} against '
        f'the national deciles" font-family="Arial, sans-serif" font-size="11">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#d8dde0"/>',
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end">{_fmt(hi, 1)}</text>',
        f'<text x="{left - 6}" y="{top + ph}" text-anchor="end">{_fmt(lo, 1)}</text>',
    ]
    if band:
        out.append(f'<polygon points="{band}" fill="{BAND_COLOUR}" stroke="none"/>')
    out.append(f'<polyline points="{line([d.get("p50") for d in dec])}" fill="none" '
               f'stroke="{DECILE_COLOUR}" stroke-width="2" stroke-dasharray="6 3"/>')
    out.append(f'<polyline points="{line(trust_rates)}" fill="none" stroke="{TRUST_COLOUR}" '
               'stroke-width="2.5"/>')
    if n:
        out.append(f'<text x="{left}" y="{height - 12}">{esc(dec[0]["period"][:7])}</text>')
        out.append(f'<text x="{width - right}" y="{height - 12}" text-anchor="end">'
                   f'{esc(dec[-1]["period"][:7])}</text>')
    out.append("</svg>")
    return "".join(out)


def _comparison_object(request, kind: str, object_id: int):
    """The definition or shared measure behind a comparison, access checked."""
    user = request.user
    if kind == "national":
        nm = get_object_or_404(NationalMeasure, pk=object_id)
        adopting = set(NationalAdoption.objects.filter(national_measure=nm)
                       .values_list("measure__project__trust_id", flat=True))
        access.check_national_comparison(user, nm, adopting_trust_ids=adopting)
        return nm, None
    sm = get_object_or_404(SharedMeasure.objects.select_related("collaborative"), pk=object_id)
    access.check_shared_comparison(user, sm.collaborative)
    return sm, sm.collaborative


@login_required
def compare_measure(request, kind: str, object_id: int):
    if kind not in KINDS:
        raise Http404
    obj, collaborative = _comparison_object(request, kind, object_id)
    user = request.user
    series_row = comparisons.series_of(kind, object_id)
    context = {"object": obj, "kind": kind, "collaborative": collaborative,
               "crumbs": _crumbs((obj.name, request.path)), "series_row": series_row}
    if series_row is None or not series_row.data.get("periods"):
        return render(request, "reports/compare/measure.html", context)
    series = series_row.data
    meta = series["meta"]
    own = access.member_trust_ids(user)
    named = kind == "shared" or access.names_other_trusts(
        user, centre_names_trusts=comparisons.name_trusts_setting())
    label = comparisons.labeller(series, named=named, own_trust_ids=own)
    trust_choices = sorted(((t["id"], label(t["id"])) for t in series["trusts"]),
                           key=lambda c: (c[0] not in own, c[1]))
    periods = series["periods"]
    period_choices = [(p, f"{dt.date.fromisoformat(p):%B %Y}") for p in reversed(periods)]
    default_period = (series["funnel_periods"] or periods)[-1]
    default_trust = trust_choices[0][0] if trust_choices else None
    form = CompareForm(request.GET or None, periods=period_choices, trusts=trust_choices)
    period, trust_id = default_period, default_trust
    if form.is_bound and form.is_valid():
        period, trust_id = form.cleaned_data["period"], form.cleaned_data["trust"]
    elif not form.is_bound:
        form = CompareForm(initial={"period": period, "trust": trust_id},
                           periods=period_choices, trusts=trust_choices)
    row = comparisons.period_of(kind, object_id, dt.date.fromisoformat(period))
    funnel_ctx = {"available": False, "reason": "No data for this period."}
    if row is not None and row.data.get("funnel"):
        result = comparisons.funnel_for_viewer(series, row.data, label)
        unit_word = meta["unit"]
        title = f"{meta['name']}, {dt.date.fromisoformat(period):%B %Y}"
        y_title = "Per cent" if unit_word == "%" else unit_word
        improvement = meta["direction"]
        a998, b998 = _outlier_rows(result, "998", unit_word)
        flagged = {r["trust"] for r in a998 + b998}
        a95, b95 = _outlier_rows(result, "95", unit_word, exclude=flagged)
        funnel_ctx = {
            "available": True,
            "svg": mark_safe(funnel_svg(result, title=title, y_title=y_title,
                                        improvement=improvement,
                                        highlight=[label(t) for t in own])),
            "figure": comparisons.plotly_json(funnel_figure(
                result, title=title, y_title=y_title, improvement=improvement)),
            "reading": describe(result),
            "reading95": describe(result, level="95"),
            "above998": a998, "below998": b998, "above95": a95, "below95": b95,
            "n": len(result.units), "adjusted": result.adjusted,
            "centre": _fmt(result.centre) + ("%" if unit_word == "%" else ""),
        }
    elif row is not None:
        funnel_ctx["reason"] = row.data.get("reason") or funnel_ctx["reason"]
    trust = next((t for t in series["trusts"] if t["id"] == trust_id), None)
    deciles_ctx = None
    if trust is not None:
        table = []
        for i, p in enumerate(periods):
            d = series["deciles"][i]
            table.append({"period": dt.date.fromisoformat(p), "n": d["n"],
                          "p10": _fmt(d.get("p10"), 2), "p50": _fmt(d.get("p50"), 2),
                          "p90": _fmt(d.get("p90"), 2), "trust": _fmt(trust["rates"][i], 2)})
        deciles_ctx = {"label": label(trust["id"]), "table": table,
                       "svg": mark_safe(_deciles_svg(series, trust["rates"],
                                                     label(trust["id"]))),
                       "figure": _deciles_figure(series, trust["rates"], label(trust["id"]),
                                                 meta)}
    context.update({
        "series": series, "meta": meta, "form": form, "period": period,
        "period_date": dt.date.fromisoformat(period), "funnel": funnel_ctx,
        "deciles": deciles_ctx, "built_ago": _built(series_row),
        "few_trusts": series_row.n_trusts < comparisons.FEW_TRUSTS,
        "n_trusts": series_row.n_trusts, "named": named, "method": series["method"],
    })
    return render(request, "reports/compare/measure.html", context)


# ---- national definitions ------------------------------------------------------------------


def _definition_crumbs(*items):
    return _crumbs(("National definitions", reverse("reports:national_measures")), *items)


@login_required
def national_measures(request):
    user = request.user
    if not access.reads_national_definitions(user):
        raise Http404
    can_publish = access.publishes_national_measures(user)
    setting_form = None
    if can_publish:
        setting_form = ComparisonSettingForm(
            initial={"name_trusts": comparisons.name_trusts_setting()})
    return render(request, "reports/compare/national_measures.html", {
        "measures": list(NationalMeasure.objects.order_by("topic", "name")),
        "compared": set(access.national_measures_compared_for(
            user, NationalMeasure.objects.all()).values_list("pk", flat=True)),
        "can_publish": can_publish, "setting_form": setting_form,
        "can_adopt": access.approves_anywhere(user),
        "crumbs": _definition_crumbs(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def national_measure_edit(request, pk: int | None = None):
    access.check_publish_national(request.user)
    instance = get_object_or_404(NationalMeasure, pk=pk) if pk else None
    form = NationalMeasureForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            nm = report_services.national_measure_save(by=request.user, instance=instance,
                                                       **fields)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"National definition ‘{nm.name}’ "
                                      f"{'saved' if instance else 'published'}.")
            return redirect("reports:national_measures")
    title = f"Change ‘{instance.name}’" if instance else "Publish a national definition"
    return render(request, "reports/compare/form.html", {
        "form": form, "title": title, "crumbs": _definition_crumbs((title, request.path)),
        "cancel": reverse("reports:national_measures"), "button": "Save" if instance
        else "Publish"})


@login_required
@require_POST
def comparison_setting(request):
    access.check_publish_national(request.user)
    form = ComparisonSettingForm(request.POST)
    form.is_valid()  # a single optional checkbox: always valid
    report_services.comparison_setting_save(by=request.user,
                                            name_trusts=form.cleaned_data.get("name_trusts"))
    messages.success(request, "Setting saved: trust users see other trusts "
                     + ("by name." if form.cleaned_data.get("name_trusts") else "anonymised."))
    return redirect("reports:national_measures")


@login_required
@require_http_methods(["GET", "POST"])
def national_measure_adopt(request, pk: int):
    user = request.user
    nm = get_object_or_404(NationalMeasure, pk=pk)
    if not access.reads_national_definitions(user):
        raise Http404
    if not access.approves_anywhere(user):
        raise PermissionDenied
    form = NationalAdoptForm(request.POST or None,
                             measures=comparisons.adoptable_measures(user, nm),
                             projects=comparisons.adoptable_projects(user))
    if request.method == "POST" and form.is_valid():
        how = form.cleaned_data["how"]
        try:
            adoption = report_services.national_adopt(
                national_measure=nm, by=user,
                measure=form.cleaned_data["measure"] if how == "link" else None,
                project=form.cleaned_data["project"] if how == "create" else None)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"‘{adoption.measure.name}’ now follows the national "
                                      f"definition. The comparison is rebuilt shortly.")
            return redirect("reports:compare_measure", "national", nm.pk)
    title = f"Adopt ‘{nm.name}’"
    return render(request, "reports/compare/adopt.html", {
        "form": form, "title": title, "nm": nm,
        "crumbs": _definition_crumbs((title, request.path))})
