"""Writes for organisations: keyword-only, validated, one transaction each."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from organisations import access
from organisations.access import Permission
from organisations.models import Membership, Region, Trust, Unit, User


def _path_for(unit: Unit) -> tuple[str, int]:
    if unit.parent_id is None:
        return f"{unit.pk:07d}/", 0
    return f"{unit.parent.path}{unit.pk:07d}/", unit.parent.depth + 1


@transaction.atomic
def unit_create(*, trust: Trust, name: str, kind: str, parent: Unit | None = None, by=None) -> Unit:
    """Create a unit under `parent` (or at the top of the trust) and give it its tree path."""
    if by is not None and not access.has_permission(by, Permission.UNIT_MANAGE, trust=trust):
        raise PermissionDenied
    unit = Unit(trust=trust, name=name, kind=kind, parent=parent)
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    unit.path, unit.depth = _path_for(unit)
    unit.save(update_fields=["path", "depth"])
    return unit


@transaction.atomic
def unit_update(*, unit: Unit, by=None, **fields) -> Unit:
    """Rename or move a unit; moving rewrites the paths of everything beneath it."""
    if by is not None and not access.has_permission(by, Permission.UNIT_MANAGE, trust=unit.trust):
        raise PermissionDenied
    old_path = unit.path
    for name, value in fields.items():
        setattr(unit, name, value)
    unit.full_clean(exclude=["path", "depth"])
    unit.path, unit.depth = _path_for(unit)
    unit.save()
    if unit.path != old_path:
        depth_change = unit.depth - old_path.count("/") + 1
        for child in Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk):
            child.path = unit.path + child.path[len(old_path) :]
            child.depth = child.depth + depth_change
            child.save(update_fields=["path", "depth"])
    return unit


def unit_descendants(unit: Unit, *, include_self: bool = True):
    """Every unit under `unit`, in one indexed prefix query."""
    qs = Unit.objects.filter(trust_id=unit.trust_id, path__startswith=unit.path)
    return qs if include_self else qs.exclude(pk=unit.pk)


@transaction.atomic
def membership_add(*, user: User, trust: Trust, role: str, by=None) -> Membership:
    if by is not None and not access.has_permission(
        by, Permission.MEMBERSHIP_MANAGE, trust=trust
    ):
        raise PermissionDenied
    membership, _ = Membership.objects.get_or_create(user=user, trust=trust, role=role)
    return membership


@transaction.atomic
def trust_create(*, ods_code: str, name: str, trust_type: str, region: Region,
                 staff_headcount: int) -> Trust:
    trust = Trust(
        ods_code=ods_code.strip().upper(),
        name=name,
        trust_type=trust_type,
        region=region,
        staff_headcount=staff_headcount,
    )
    trust.full_clean()
    trust.save()
    return trust
