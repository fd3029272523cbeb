"""Board-to-ward and national pages. Read-only; each reads a constant number of queries."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from organisations import access
from organisations.access import Permission
from organisations.models import Trust, Unit


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
    return render(
        request,
        "reports/trust.html",
        {
            "trust": trust,
            "units": units,
            "counts": _project_counts(visible),
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
