"""Reads for organisations, already scoped by `organisations.access`."""

from django.db.models import Count

from organisations import access
from organisations.models import Membership, Trust, Unit


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
