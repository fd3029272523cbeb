"""Board-to-ward and national pages. Read-only; each reads a constant number of queries."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe

from organisations import access
from organisations.access import Permission
from organisations.models import Trust, Unit
from reports.models import MeasureSnapshot
from reports.spc.icons import VARIATION_TITLES, assurance_icon_svg, variation_icon_svg

STALE_DAYS = 60


def _icon(kind: str, name: str) -> str:
    # Our own SVG, built from fixed strings in reports.spc.icons: safe to inline.
    if not name:
        return ""
    if kind == "variation":
        return mark_safe(variation_icon_svg(name, size=40))
    return mark_safe(assurance_icon_svg(name, size=40))


def _project_counts(qs):
    return qs.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status__in=["approved", "active", "sustaining"])),
        proposed=Count("id", filter=Q(status="proposed")),
        completed=Count("id", filter=Q(status="completed")),
    )


@login_required
def trusts(request):
    """Trusts whose dashboard the user may read."""
    ids = access.trust_ids_with(request.user, Permission.TRUST_DASHBOARD_VIEW)
    qs = Trust.objects.select_related("region").annotate(
        project_count=Count("projects", distinct=True)
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


@login_required
def trust(request, ods_code):
    """A trust from the board down to its wards: units in tree order with project counts."""
    trust = get_object_or_404(Trust.objects.select_related("region"), ods_code=ods_code.upper())
    access.check(request.user, Permission.TRUST_DASHBOARD_VIEW, trust=trust)
    visible = access.projects_visible_to(request.user).filter(trust=trust)
    units = list(
        Unit.objects.filter(trust=trust)
        .annotate(
            project_count=Count(
                "projects", filter=Q(projects__in=visible.values("pk")), distinct=True
            )
        )
        .order_by("path")
    )
    snapshots = list(
        MeasureSnapshot.objects.filter(measure__project__in=visible.values("pk"))
        .exclude(variation_icon="")
        .select_related("measure", "measure__project", "measure__project__unit")
        .order_by("measure__project__title", "measure__position", "measure_id")
    )
    for snap in snapshots:
        snap.variation_svg = _icon("variation", snap.variation_icon)
        snap.assurance_svg = _icon("assurance", snap.assurance)
        snap.variation_label = VARIATION_TITLES.get(snap.variation_icon, "")
    signals = {
        "improvement": sum(s.variation_icon.startswith("improvement") for s in snapshots),
        "concern": sum(s.variation_icon.startswith("concern") for s in snapshots),
        "common": sum(s.variation_icon == "common_cause" for s in snapshots),
    }
    from datetime import timedelta

    from django.utils import timezone

    stale_before = timezone.localdate() - timedelta(days=STALE_DAYS)
    counts = _project_counts(visible)
    counts["stale"] = visible.filter(
        status__in=["approved", "active", "sustaining"]
    ).filter(Q(progress_scored_on__lt=stale_before) | Q(progress_scored_on__isnull=True)).count()
    from pdsa.models import Cycle
    from pdsa.selectors import quality_summary

    # PDSA cycles that have the features of a cycle that works (one aggregate query).
    pdsa_quality = quality_summary(
        Cycle.objects.filter(change_idea__project__in=visible.values("pk"))
    )
    return render(
        request,
        "reports/trust.html",
        {
            "trust": trust,
            "units": units,
            "pdsa_quality": pdsa_quality,
            "snapshots": snapshots,
            "signals": signals,
            "counts": counts,
            "can_manage_units": access.has_permission(
                request.user, Permission.UNIT_MANAGE, trust=trust
            ),
            "crumbs": [("Home", "/"), ("Trusts", "/trusts/"), (trust.name, None)],
        },
    )


@login_required
def national(request):
    """Every trust by region, with its project counts. National analysts only."""
    if not access.has_permission(request.user, Permission.NATIONAL_VIEW):
        raise Http404
    qs = (
        Trust.objects.select_related("region")
        .annotate(
            project_count=Count("projects", distinct=True),
            active_count=Count(
                "projects",
                filter=Q(projects__status__in=["approved", "active", "sustaining"]),
                distinct=True,
            ),
        )
        .order_by("region__name", "name")
    )
    return render(
        request,
        "reports/national.html",
        {"trusts": qs, "crumbs": [("Home", "/"), ("National view", None)]},
    )
