"""Reads for organisations, already scoped by `organisations.access`."""

from django.db.models import Count, Prefetch, Q

from organisations import access
from organisations.models import AuditEvent, Membership, Trust, Unit, User


def memberships_of(user):
    return Membership.objects.filter(user=user).select_related("trust", "trust__region")


def trusts_visible_to(user):
    return access.trusts_visible_to(user)


def units_visible_to(user, *, trust=None):
    qs = access.units_visible_to(user)
    if trust is not None:
        qs = qs.filter(trust=trust)
    return qs


def trust_with_units(trust: Trust):
    """A trust's units in tree order (path sorts parents before children)."""
    return Unit.objects.filter(trust=trust).order_by("path")


def trusts_by_region(user):
    return (
        access.trusts_visible_to(user)
        .annotate(unit_count=Count("units", distinct=True))
        .order_by("region__name", "name")
    )


def people_at(trust: Trust, *, search: str = ""):
    """The people holding a role at `trust`, each with `roles_here` (their memberships at
    this trust only): two queries for any number of people. Call after `access.check`."""
    held = Membership.objects.filter(trust=trust)
    qs = User.objects.filter(pk__in=held.values("user_id")).prefetch_related(
        Prefetch("memberships", queryset=held.order_by("role"), to_attr="roles_here")
    )
    if search:
        qs = qs.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    return qs.order_by("full_name", "email")


def audit_events_at(trust: Trust):
    return AuditEvent.objects.filter(trust=trust).select_related("actor")
