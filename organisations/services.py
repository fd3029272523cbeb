"""Writes for organisations: keyword-only, validated, one transaction each."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, ProtectedError, Value
from django.db.models.functions import Concat, Substr
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from organisations import access, tokens
from organisations.access import Permission
from organisations.models import ApiToken, AuditEvent, Membership, Region, Trust, Unit, User

logger = logging.getLogger(__name__)
Role = Membership.Role
Action = AuditEvent.Action


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
        # One UPDATE for the whole subtree, however deep or wide: swap the path prefix.
        depth_change = unit.depth - (old_path.count("/") - 1)
        Unit.objects.filter(trust_id=unit.trust_id, path__startswith=old_path).exclude(
            pk=unit.pk
        ).update(
            path=Concat(Value(unit.path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + depth_change,
        )
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


# ---- people, roles and the unit tree, managed by a trust's administrators ---------------
#
# Each function checks access itself (a trust administrator at the trust, or the platform
# operator), writes in one transaction and records an AuditEvent in that same transaction:
# a change without its audit entry cannot be committed, nor an entry without its change.
# Only roles of `Membership.Role` at the given trust can be set here; nothing in this
# section touches `is_superuser`, `is_staff`, `is_national_analyst` or another trust.


def _require(by, perm: Permission, trust) -> None:
    if not access.has_permission(by, perm, trust=trust):
        raise PermissionDenied


def _lock(trust: Trust) -> None:
    """Serialise people changes at one trust (PostgreSQL row lock; SQLite locks the whole
    database for a write anyway), so two admins cannot each revoke the other's role and
    leave the trust with none."""
    Trust.objects.select_for_update().filter(pk=trust.pk).first()


def _audit(*, trust: Trust, by, action: str, description: str, user=None, unit=None):
    event = AuditEvent(
        trust=trust,
        actor=by,
        action=action,
        description=description[:300],
        target_user_id=getattr(user, "pk", None),
        target_unit_id=getattr(unit, "pk", unit if isinstance(unit, int) else None),
    )
    event.full_clean()
    event.save()
    return event


def _role_label(role: str) -> str:
    return Role(role).label


def _roles_in_words(roles: Iterable[str]) -> str:
    labels = [_role_label(r) for r in roles]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def _clean_roles(roles: Iterable[str]) -> list[str]:
    chosen = []
    for role in roles:
        if role not in Role.values:
            raise ValidationError({"roles": "Choose roles from the list."})
        if role not in chosen:
            chosen.append(role)
    if not chosen:
        raise ValidationError({"roles": "Choose at least one role."})
    # The order of Membership.Role, so messages and the audit read the same every time.
    return [r for r in Role.values if r in chosen]


def _person(user: User) -> str:
    return user.full_name or user.email


class Invitation:
    """What `invite_person` did, so the page can say so."""

    def __init__(self, *, user: User, created: bool, granted: list[str]):
        self.user, self.created, self.granted = user, created, granted

    @property
    def message(self) -> str:
        roles = _roles_in_words(self.granted)
        if self.created:
            return (
                f"{_person(self.user)} has been invited as {roles}. We have emailed "
                f"{self.user.email} a link to set their password."
            )
        return (
            f"{self.user.email} already has an account, so we added {_person(self.user)} to "
            f"this trust as {roles} and emailed them to say so. Their name and other roles "
            "are unchanged."
        )


def _send_invitation(*, user_id: int, trust_id: int, roles: list[str], set_password: bool,
                     base_url: str) -> None:
    user = User.objects.get(pk=user_id)
    trust = Trust.objects.get(pk=trust_id)
    link = base_url.rstrip("/") + (
        reverse(
            "accounts:password_reset_confirm",
            args=[
                urlsafe_base64_encode(force_bytes(user.pk)),
                default_token_generator.make_token(user),
            ],
        )
        if set_password
        else reverse("accounts:login")
    )
    context = {
        "user": user,
        "trust": trust,
        "roles": _roles_in_words(roles),
        "set_password": set_password,
        "link": link,
    }
    subject = render_to_string("organisations/invite_subject.txt", context).strip()
    body = render_to_string("organisations/invite_email.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # noqa: BLE001 — the invitation stands; they can ask for a reset link
        logger.exception("Could not send the invitation email to user %s", user_id)


@transaction.atomic
def invite_person(*, trust: Trust, email: str, full_name: str, roles: Iterable[str], by,
                  job_title: str = "", base_url: str) -> Invitation:
    """Give a person roles at `trust`: a new account (no usable password; an email with a
    set-password link) or, when the email already has one, new memberships at this trust
    only. An existing person's name, job title and other trusts' roles are never changed."""
    _require(by, Permission.MEMBERSHIP_MANAGE, trust)
    roles = _clean_roles(roles)
    email = User.objects.normalize_email((email or "").strip()).lower()
    _lock(trust)
    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = User(email=email, full_name=(full_name or "").strip(),
                    job_title=(job_title or "").strip())
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    elif not user.is_active:
        raise ValidationError(
            {"email": f"The account for {email} is switched off. Ask the platform "
                      "administrator to switch it back on before you add roles."}
        )
    held = set(Membership.objects.filter(user=user, trust=trust).values_list("role", flat=True))
    granted = [r for r in roles if r not in held]
    if not granted:
        raise ValidationError(
            {"roles": f"{_person(user)} already holds {_roles_in_words(roles)} at this trust. "
                      "Nothing was changed."}
        )
    for role in granted:
        membership = Membership(user=user, trust=trust, role=role)
        membership.full_clean()
        membership.save()
    if created:
        description = f"Invited {_person(user)} ({user.email}) as {_roles_in_words(granted)}"
    else:
        description = (f"Added {_person(user)} ({user.email}, an existing account) as "
                       f"{_roles_in_words(granted)}")
    _audit(trust=trust, by=by, action=Action.INVITED, description=description, user=user)
    set_password = created or not user.has_usable_password()
    transaction.on_commit(
        lambda: _send_invitation(user_id=user.pk, trust_id=trust.pk, roles=granted,
                                 set_password=set_password, base_url=base_url)
    )
    return Invitation(user=user, created=created, granted=granted)


@transaction.atomic
def grant_role(*, trust: Trust, user: User, role: str, by) -> Membership:
    """Give someone who already holds a role at `trust` another role there."""
    _require(by, Permission.MEMBERSHIP_MANAGE, trust)
    if role not in Role.values:
        raise ValidationError({"role": "Choose a role from the list."})
    _lock(trust)
    held = set(Membership.objects.filter(user=user, trust=trust).values_list("role", flat=True))
    if not held:
        raise ValidationError(f"{_person(user)} has no role at this trust. Invite them first.")
    if role in held:
        raise ValidationError({"role": f"{_person(user)} is already a {_role_label(role)}."})
    membership = Membership(user=user, trust=trust, role=role)
    membership.full_clean()
    membership.save()
    _audit(trust=trust, by=by, action=Action.ROLE_GRANTED,
           description=f"Granted {_role_label(role)} to {_person(user)}", user=user)
    return membership


@transaction.atomic
def revoke_role(*, membership: Membership, by) -> bool:
    """Take one role away. Revoking someone's last role at the trust removes them from it.
    A trust always keeps at least one trust administrator. Returns whether the person still
    holds a role at the trust."""
    trust = membership.trust
    _require(by, Permission.MEMBERSHIP_MANAGE, trust)
    _lock(trust)
    current = Membership.objects.select_related("user").filter(pk=membership.pk).first()
    if current is None:
        raise ValidationError("That role has already been revoked.")
    user = current.user
    other_admins = Membership.objects.filter(trust=trust, role=Role.TRUST_ADMIN).exclude(
        pk=current.pk
    )
    if current.role == Role.TRUST_ADMIN and not other_admins.exists():
        who = "You are" if user.pk == getattr(by, "pk", None) else f"{_person(user)} is"
        raise ValidationError(
            f"{who} the only trust administrator at {trust.name}. Make someone else a trust "
            "administrator first, then revoke this role."
        )
    current.delete()
    still_member = Membership.objects.filter(user=user, trust=trust).exists()
    description = f"Revoked {_role_label(current.role)} from {_person(user)}"
    if not still_member:
        description += "; they no longer hold any role at this trust"
    _audit(trust=trust, by=by, action=Action.ROLE_REVOKED, description=description, user=user)
    return still_member


def _place(parent: Unit | None) -> str:
    return parent.name if parent is not None else "the top of the trust"


def _where(parent: Unit | None) -> str:
    return f"under {parent.name}" if parent is not None else "at the top of the trust"


def _refuse_duplicate_name(*, trust_id: int, parent: Unit | None, name: str, exclude_pk=None):
    siblings = Unit.objects.filter(trust_id=trust_id, parent=parent, name__iexact=name)
    if exclude_pk is not None:
        siblings = siblings.exclude(pk=exclude_pk)
    if siblings.exists():
        raise ValidationError(
            {"name": f"There is already a unit called {name} {_where(parent)}. Choose "
                     "another name."}
        )


@transaction.atomic
def add_unit(*, trust: Trust, name: str, kind: str, parent: Unit | None = None, by) -> Unit:
    _require(by, Permission.UNIT_MANAGE, trust)
    name = (name or "").strip()
    if parent is not None and parent.trust_id != trust.pk:
        raise ValidationError({"parent": "Choose a unit of this trust."})
    _refuse_duplicate_name(trust_id=trust.pk, parent=parent, name=name)
    unit = unit_create(trust=trust, name=name, kind=kind, parent=parent, by=by)
    _audit(trust=trust, by=by, action=Action.UNIT_ADDED, unit=unit,
           description=f"Added {unit.get_kind_display().lower()} {unit.name} {_where(parent)}")
    return unit


def _fresh(unit: Unit) -> Unit:
    # The path may have changed since the page read it (another admin moved a branch).
    return Unit.objects.select_for_update(of=("self",)).select_related("trust", "parent").get(
        pk=unit.pk
    )


@transaction.atomic
def rename_unit(*, unit: Unit, name: str, by) -> Unit:
    _require(by, Permission.UNIT_MANAGE, unit.trust)
    unit = _fresh(unit)
    name = (name or "").strip()
    old = unit.name
    if name == old:
        raise ValidationError({"name": f"The unit is already called {old}."})
    _refuse_duplicate_name(trust_id=unit.trust_id, parent=unit.parent, name=name,
                           exclude_pk=unit.pk)
    unit = unit_update(unit=unit, name=name, by=by)
    _audit(trust=unit.trust, by=by, action=Action.UNIT_RENAMED, unit=unit,
           description=f"Renamed {old} to {unit.name}")
    return unit


@transaction.atomic
def move_unit(*, unit: Unit, parent: Unit | None, by) -> Unit:
    """Move a unit (and everything under it) under another unit of the same trust, or to
    the top of the trust."""
    _require(by, Permission.UNIT_MANAGE, unit.trust)
    unit = _fresh(unit)
    if parent is not None:
        parent = Unit.objects.select_for_update().get(pk=parent.pk)
        if parent.trust_id != unit.trust_id:
            raise ValidationError({"parent": "Choose a unit of this trust."})
        if parent.path.startswith(unit.path):
            raise ValidationError(
                {"parent": f"{unit.name} cannot move under itself or a unit under it. Choose "
                           f"a unit outside {unit.name}."}
            )
    if (parent.pk if parent else None) == unit.parent_id:
        raise ValidationError({"parent": f"{unit.name} is already {_where(parent)}."})
    _refuse_duplicate_name(trust_id=unit.trust_id, parent=parent, name=unit.name,
                           exclude_pk=unit.pk)
    before = _place(unit.parent)
    unit = unit_update(unit=unit, parent=parent, by=by)
    _audit(trust=unit.trust, by=by, action=Action.UNIT_MOVED, unit=unit,
           description=f"Moved {unit.name} from {before} to {_place(parent)}")
    return unit


@transaction.atomic
def remove_unit(*, unit: Unit, by) -> None:
    """Remove a unit with nothing under it and nothing recorded against it."""
    _require(by, Permission.UNIT_MANAGE, unit.trust)
    unit = _fresh(unit)
    if unit.children.exists():
        raise ValidationError(
            f"{unit.name} has units under it. Move or remove them first, then remove "
            f"{unit.name}."
        )
    trust, pk, name = unit.trust, unit.pk, unit.name
    try:
        with transaction.atomic():
            unit.delete()
    except ProtectedError as error:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
        raise ValidationError(
            f"{name} still has {' and '.join(kinds)} recorded against it. Move them to "
            "another unit first, then remove it."
        ) from None
    _audit(trust=trust, by=by, action=Action.UNIT_REMOVED, unit=pk,
           description=f"Removed {unit.get_kind_display().lower()} {name} {_where(unit.parent)}")


# ---- API tokens ------------------------------------------------------------------------
# The secret is made here, returned once with the token and never stored: only its hash.
# A personal token is its owner's to make and revoke. A service token belongs to a service
# account made for it (no usable password, one role at one trust) and is made and revoked by
# that trust's administrators, audited on the trust's trail in the same transaction.

TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 365


def _token_expiry(days: int | None, now):
    days = TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise ValidationError(
            {"expires_in_days": f"Enter a number of days from 1 to {TOKEN_MAX_DAYS}."}
        )
    return now + dt.timedelta(days=days)


def _new_token(*, user: User, name: str, days: int | None, **extra) -> tuple[ApiToken, str]:
    secret = tokens.new_secret()
    now = timezone.now()
    token = ApiToken(
        user=user, name=(name or "").strip(), prefix=secret[: tokens.PREFIX_LENGTH],
        key_hash=tokens.hash_secret(secret), created_at=now,
        expires_at=_token_expiry(days, now), **extra,
    )
    token.full_clean()
    token.save()
    return token, secret


def _refuse_token_signed_in(by) -> None:
    # A token may not make or revoke tokens: that needs the person, signed in.
    if getattr(by, "_qi_token", None) is not None or not getattr(by, "is_authenticated", False):
        raise PermissionDenied


@transaction.atomic
def api_token_create(*, by: User, name: str, expires_in_days: int | None = None
                     ) -> tuple[ApiToken, str]:
    """A personal token for `by`, acting with exactly their access. Returns the token and
    its secret (shown once)."""
    _refuse_token_signed_in(by)
    return _new_token(user=by, name=name, days=expires_in_days, created_by=by)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke one of `by`'s personal tokens; it stops working at once."""
    _refuse_token_signed_in(by)
    if token.user_id != by.pk or token.is_service:
        raise PermissionDenied
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    if not revoked:
        raise ValidationError("That token has already been revoked.")
    token.refresh_from_db()
    return token


@transaction.atomic
def service_token_create(*, trust: Trust, by: User, name: str, read_only: bool,
                         expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """A service token for a system at `trust`: a service account with one role there
    (board member if read-only, clinician if read-write), narrowed further by access."""
    _refuse_token_signed_in(by)
    if not access.manages_service_tokens_at(by, trust):
        raise PermissionDenied
    name = (name or "").strip()
    account = User(
        email=f"service-{secrets.token_hex(8)}@{trust.ods_code.lower()}.service.invalid",
        full_name=f"Service token: {name}"[:150],
        job_title="Service account (API token)",
    )
    account.set_unusable_password()
    account.full_clean(exclude=["password"])
    account.save()
    role = Role.BOARD_MEMBER if read_only else Role.CLINICIAN
    Membership.objects.create(user=account, trust=trust, role=role)
    token, secret = _new_token(user=account, name=name, days=expires_in_days, trust=trust,
                               read_only=read_only, created_by=by)
    kind = "read-only" if read_only else "read-write"
    _audit(trust=trust, by=by, action=Action.TOKEN_CREATED, user=account,
           description=f"Created {kind} service token {token.name} ({token.prefix}…), "
                       f"expires {timezone.localdate(token.expires_at):%d %B %Y}")
    return token, secret


@transaction.atomic
def service_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke a trust's service token at once and switch its service account off."""
    _refuse_token_signed_in(by)
    if not token.is_service or not access.manages_service_tokens_at(by, token.trust):
        raise PermissionDenied
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    if not revoked:
        raise ValidationError("That token has already been revoked.")
    User.objects.filter(pk=token.user_id).update(is_active=False)
    token.refresh_from_db()
    _audit(trust=token.trust, by=by, action=Action.TOKEN_REVOKED, user=token.user,
           description=f"Revoked service token {token.name} ({token.prefix}…)")
    return token
