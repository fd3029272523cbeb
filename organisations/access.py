"""Who may see and change what. The ONE place where authorization is decided.

Views, the API, exports and Celery tasks all ask `has_permission` (one object) or use the
queryset scopes below (lists); none re-implements these rules. Templates receive `can_*`
booleans computed here.

Rules, in words:
- Everyone must be signed in and active.
- Roles are held per trust (`Membership.Role`); a user may hold several at one trust.
- A national-centre analyst reads every trust and changes none.
- A superuser (platform operator) may do anything; they are few and audited by the admin log.
- Project rules depend on the project's visibility and team, see `_project_permission`.
- Outsiders get 404 (the object is not in their scope); members without the right get 403.

This module sits in the organisations layer and imports no app above it: the project
scopes take the caller's Project queryset (`projects_visible_to(user, Project.objects.all())`)
and read the model from it, so the rules stay here and the imports point down.
"""

from __future__ import annotations

import enum
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from organisations.models import Membership, Trust, Unit, User

Role = Membership.Role


class Permission(enum.StrEnum):
    # Trust level
    TRUST_VIEW = "trust.view"
    TRUST_DASHBOARD_VIEW = "trust.dashboard_view"
    UNIT_MANAGE = "trust.unit_manage"
    MEMBERSHIP_MANAGE = "trust.membership_manage"
    PROJECT_CREATE = "trust.project_create"
    # Project level (pass project=)
    PROJECT_VIEW = "project.view"
    PROJECT_EDIT = "project.edit"
    PROJECT_APPROVE = "project.approve"
    DATA_ENTER = "project.data_enter"
    PDSA_VIEW = "project.pdsa_view"
    PDSA_EDIT = "project.pdsa_edit"
    # Global
    NATIONAL_VIEW = "national.view"
    # Collaboratives (pass collaborative=; create, respond and enrol also take trust=).
    # The rules are in the collaboratives section at the end of this module.
    COLLABORATIVE_CREATE = "collaborative.create"
    COLLABORATIVE_VIEW = "collaborative.view"
    COLLABORATIVE_DATA_VIEW = "collaborative.data_view"
    COLLABORATIVE_MANAGE = "collaborative.manage"
    COLLABORATIVE_RESPOND = "collaborative.respond"
    COLLABORATIVE_ENROL = "collaborative.enrol"
    COLLABORATIVE_POST = "collaborative.post"


P = Permission

# What each trust role grants at its own trust (trust-level permissions).
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.CLINICIAN: frozenset({P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.PROJECT_CREATE}),
    Role.QI_LEAD: frozenset({P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.PROJECT_CREATE}),
    Role.BOARD_MEMBER: frozenset({P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW}),
    Role.TRUST_ADMIN: frozenset(
        {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.UNIT_MANAGE, P.MEMBERSHIP_MANAGE}
    ),
}

# A national-centre analyst may read these everywhere.
NATIONAL_READ: frozenset[Permission] = frozenset(
    {P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.PROJECT_VIEW, P.PDSA_VIEW, P.NATIONAL_VIEW}
)

PROJECT_PERMISSIONS = frozenset(
    {P.PROJECT_VIEW, P.PROJECT_EDIT, P.PROJECT_APPROVE, P.DATA_ENTER, P.PDSA_VIEW, P.PDSA_EDIT}
)


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def roles_at(user, trust_id: int) -> set[str]:
    """The roles a user holds at one trust (cached on the user object for the request)."""
    return set(_role_map(user).get(trust_id, ()))


def _role_map(user) -> dict[int, set[str]]:
    cache = getattr(user, "_qi_role_map", None)
    if cache is None:
        cache = {}
        for trust_id, role in Membership.objects.filter(user=user).values_list(
            "trust_id", "role"
        ):
            cache.setdefault(trust_id, set()).add(role)
        user._qi_role_map = cache
    return cache


def _trust_permissions(user, trust_id: int) -> set[Permission]:
    perms: set[Permission] = set()
    for role in roles_at(user, trust_id):
        perms |= ROLE_PERMISSIONS.get(role, frozenset())
    return perms


def _is_team_member(user, project) -> bool:
    if user.pk in (project.lead_id, project.coach_id, project.sponsor_id):
        return True
    prefetched = getattr(project, "_prefetched_objects_cache", {}).get("team")
    if prefetched is not None:  # the page already loaded the team: no query
        return any(member.user_id == user.pk for member in prefetched)
    # Asked several times per page (view, edit, data entry…): remember the answer.
    cache = project.__dict__.setdefault("_qi_team_member", {})
    if user.pk not in cache:
        cache[user.pk] = project.team.filter(user_id=user.pk).exists()
    return cache[user.pk]


def _project_permission(user, perm: Permission, project) -> bool:
    roles = roles_at(user, project.trust_id)
    is_qi_lead = Role.QI_LEAD in roles
    if perm is P.PROJECT_APPROVE:
        return is_qi_lead
    on_team = _is_team_member(user, project)
    if perm in (P.PROJECT_EDIT, P.DATA_ENTER, P.PDSA_EDIT):
        return on_team or is_qi_lead
    # PROJECT_VIEW, PDSA_VIEW
    if on_team or is_qi_lead:
        return True
    if project.visibility == project.Visibility.EVERYONE:
        return True
    if project.visibility == project.Visibility.TRUST:
        return bool(roles)
    return False


def has_permission(user, perm: Permission, *, trust=None, project=None, collaborative=None):
    """May `user` do `perm` in the given context? The only authorization question."""
    if not _active(user):
        return False
    perm = Permission(perm)
    token = service_token_of(user)
    if token is not None:
        return _service_token_permission(user, token, perm, trust, project, collaborative)
    if user.is_superuser:
        return True
    if user.is_national_analyst and perm in NATIONAL_READ:
        return True
    if perm is P.NATIONAL_VIEW:
        return False
    if perm in COLLABORATIVE_PERMISSIONS:
        return _collaborative_permission(user, perm, collaborative, trust)
    if perm in PROJECT_PERMISSIONS:
        if project is None:
            raise TypeError(f"{perm} needs project=")
        return _project_permission(user, perm, project)
    if trust is None:
        raise TypeError(f"{perm} needs trust=")
    trust_id = trust if isinstance(trust, int) else trust.pk
    return perm in _trust_permissions(user, trust_id)


def is_visible(user, *, trust=None, project=None, collaborative=None) -> bool:
    """Is the object in the user's scope at all? False → the page answers 404."""
    if collaborative is not None:
        return has_permission(user, P.COLLABORATIVE_VIEW, collaborative=collaborative)
    if project is not None:
        return has_permission(user, P.PROJECT_VIEW, project=project)
    return has_permission(user, P.TRUST_VIEW, trust=trust)


def check(user, perm: Permission, *, trust=None, project=None, collaborative=None):
    """Raise 404 for an outsider and PermissionDenied (403) for a member without `perm`."""
    if not is_visible(user, trust=trust, project=project, collaborative=collaborative):
        raise Http404
    if not has_permission(user, perm, trust=trust, project=project, collaborative=collaborative):
        raise PermissionDenied


def trust_ids_with(user, perm: Permission) -> set[int] | None:
    """Trust ids where `user` holds a trust-level `perm`; None means every trust."""
    if not _active(user):
        return set()
    token = service_token_of(user)
    if token is not None:
        allowed = perm in _service_token_allows(token) and perm in _trust_permissions(
            user, token.trust_id)
        return {token.trust_id} if allowed else set()
    if user.is_superuser or (user.is_national_analyst and perm in NATIONAL_READ):
        return None
    return {tid for tid in _role_map(user) if perm in _trust_permissions(user, tid)}


def manages_people_at(user, trust) -> bool:
    """May the user invite people and grant or revoke roles at `trust` (its trust
    administrators and the platform operator)? For "Manage people" links."""
    return has_permission(user, P.MEMBERSHIP_MANAGE, trust=trust)


def manages_units_at(user, trust) -> bool:
    """May the user add, rename, move or remove `trust`'s units? For "Manage units" links."""
    return has_permission(user, P.UNIT_MANAGE, trust=trust)


# ---- queryset scopes -------------------------------------------------------------------


def _scope(qs: QuerySet, field: str, ids: set[int] | None) -> QuerySet:
    if ids is None:
        return qs
    return qs.filter(**{f"{field}__in": ids})


def trusts_visible_to(user) -> QuerySet[Trust]:
    return _scope(Trust.objects.select_related("region"), "pk", trust_ids_with(user, P.TRUST_VIEW))


def units_visible_to(user) -> QuerySet[Unit]:
    qs = Unit.objects.select_related("trust", "parent")
    return _scope(qs, "trust_id", trust_ids_with(user, P.TRUST_VIEW))


def trusts_where(user, perm: Permission) -> QuerySet[Trust]:
    return _scope(Trust.objects.all(), "pk", trust_ids_with(user, perm))


def _team_project_ids(projects: QuerySet, user) -> QuerySet:
    team_member = projects.model.team.rel.related_model
    return team_member.objects.filter(user=user).values("project_id")


def projects_visible_to(user, projects: QuerySet) -> QuerySet:
    """`projects` (a Project queryset) narrowed to those the user may view, by the same
    rules as `_project_permission`."""
    qs = projects
    Project = projects.model
    if not _active(user):
        return qs.none()
    token = service_token_of(user)
    if token is not None:  # the rules below for its account, at its one trust only
        qs = qs.filter(trust_id=token.trust_id)
    elif user.is_superuser or user.is_national_analyst:
        return qs
    roles = _role_map(user)
    member_trusts = set(roles)
    qi_lead_trusts = {tid for tid, rs in roles.items() if Role.QI_LEAD in rs}
    conditions = [
        Q(visibility=Project.Visibility.EVERYONE),
        Q(lead=user) | Q(coach=user) | Q(sponsor=user),
        Q(pk__in=_team_project_ids(projects, user)),
    ]
    if member_trusts:
        conditions.append(Q(visibility=Project.Visibility.TRUST, trust_id__in=member_trusts))
    if qi_lead_trusts:
        conditions.append(Q(trust_id__in=qi_lead_trusts))
    return qs.filter(reduce(or_, conditions))


def dashboard_scope(user, trust, projects: QuerySet) -> str:
    """Which of `trust`'s projects (`projects`: the trust's Project queryset) the user may
    view, as a key that readers who may view the same projects share: the dashboards keep
    one rendered copy per key (reports.dashboard_cache). Call after TRUST_DASHBOARD_VIEW is
    checked. "all": every project (the operator, national analysts, the trust's QI leads);
    "trust": the TRUST and EVERYONE ones (any other member); "everyone": the EVERYONE ones;
    either of the last two + a digest of the further projects the user is on. At most one
    query beyond the cached role map."""
    import hashlib

    if not _active(user):
        return "none"
    token = service_token_of(user)
    if token is not None and token.trust_id != trust.pk:
        return "none"
    if token is None and (user.is_superuser or user.is_national_analyst):
        return "all"
    roles = _role_map(user).get(trust.pk, set())
    if Role.QI_LEAD in roles:
        return "all"
    Project = projects.model
    if roles:
        base, shared = "trust", [Project.Visibility.TRUST, Project.Visibility.EVERYONE]
    else:
        base, shared = "everyone", [Project.Visibility.EVERYONE]
    extra = sorted(projects_visible_to(user, projects.exclude(visibility__in=shared))
                   .values_list("pk", flat=True))
    if not extra:
        return base
    digest = hashlib.sha256(",".join(map(str, extra)).encode()).hexdigest()[:16]
    return f"{base}+{digest}"


def operates_the_platform(user) -> bool:
    """The platform operator (a superuser who is not a national analyst): their place is the
    admin, not a trust's pages."""
    return _active(user) and user.is_superuser and not user.is_national_analyst


def approves_anywhere(user) -> bool:
    """Does the user approve projects at some trust (a QI lead, or the operator)? No query
    beyond the cached role map."""
    if not _active(user) or service_token_of(user) is not None:
        return False
    return user.is_superuser or any(Role.QI_LEAD in rs for rs in _role_map(user).values())


def projects_approvable_by(user, projects: QuerySet) -> QuerySet:
    """`projects` narrowed to those the user may approve (PROJECT_APPROVE's rule)."""
    if not _active(user) or service_token_of(user) is not None:
        return projects.none()
    if user.is_superuser:
        return projects
    qi_lead_trusts = {tid for tid, rs in _role_map(user).items() if Role.QI_LEAD in rs}
    return projects.filter(trust_id__in=qi_lead_trusts)


def projects_editable_by(user, projects: QuerySet) -> QuerySet:
    """`projects` (a Project queryset) narrowed to those the user may edit."""
    qs = projects
    if not _active(user):
        return qs.none()
    token = service_token_of(user)
    if token is not None:
        if P.PROJECT_EDIT not in _service_token_allows(token):
            return qs.none()
        return projects_visible_to(user, qs)
    if user.is_superuser:
        return qs
    roles = _role_map(user)
    qi_lead_trusts = {tid for tid, rs in roles.items() if Role.QI_LEAD in rs}
    cond = (
        Q(lead=user)
        | Q(coach=user)
        | Q(sponsor=user)
        | Q(pk__in=_team_project_ids(projects, user))
        | Q(trust_id__in=qi_lead_trusts)
    )
    return qs.filter(cond)


# ---- collaboratives ----------------------------------------------------------------------
# A collaborative brings teams (enrolled projects) from several trusts together. Its faculty
# (facilitators) manage it. A *member* is anyone with a role at a trust taking part: members
# read its shared measures, its teams' data for those measures, the monthly reports and the
# shared learning, and post learning. Nothing here grants any project, measure or PDSA
# permission: the rest of another trust stays out of reach (404), whatever page or API asks.
# The QI lead or trust administrator of an invited trust sees the collaborative's page (to
# answer the invitation) and, once it takes part, enrols its projects. A national analyst
# reads every collaborative and changes none.
#
# Collaboratives sit above this layer: these rules read the object's relations by name
# (`facilitators`, `participations` with `trust_id` and `status`) and the scopes take the
# caller's queryset, as the project scopes do.

COLLABORATIVE_PERMISSIONS = frozenset({
    P.COLLABORATIVE_CREATE, P.COLLABORATIVE_VIEW, P.COLLABORATIVE_DATA_VIEW,
    P.COLLABORATIVE_MANAGE, P.COLLABORATIVE_RESPOND, P.COLLABORATIVE_ENROL,
    P.COLLABORATIVE_POST,
})
# Who answers for a trust in a collaborative: invitations, enrolments, leaving.
TRUST_LEAD_ROLES = frozenset({Role.QI_LEAD, Role.TRUST_ADMIN})
TAKING_PART = "accepted"
INVITED = "invited"


def _trust_pk(trust) -> int:
    return trust if isinstance(trust, int) else trust.pk


def _leads_trust(user, trust_id: int) -> bool:
    return bool(roles_at(user, trust_id) & TRUST_LEAD_ROLES)


def _standing(user, collaborative) -> tuple[bool, frozenset[int], frozenset[int]]:
    """(is a facilitator, ids of the user's trusts taking part, ids of the user's trusts
    invited). Asked several times a page: two queries, then remembered on the object."""
    cache = collaborative.__dict__.setdefault("_qi_standing", {})
    if user.pk in cache:
        return cache[user.pk]
    prefetched = getattr(collaborative, "_prefetched_objects_cache", {})
    if "facilitators" in prefetched:
        facilitator = any(u.pk == user.pk for u in prefetched["facilitators"])
    else:
        facilitator = collaborative.facilitators.filter(pk=user.pk).exists()
    mine = set(_role_map(user))
    if "participations" in prefetched:
        rows = [(p.trust_id, p.status) for p in prefetched["participations"]]
    elif mine:
        rows = list(collaborative.participations.filter(trust_id__in=mine)
                    .values_list("trust_id", "status"))
    else:
        rows = []
    taking_part = frozenset(t for t, s in rows if s == TAKING_PART and t in mine)
    invited = frozenset(t for t, s in rows if s == INVITED and t in mine)
    cache[user.pk] = (facilitator, taking_part, invited)
    return cache[user.pk]


def forget_standing(collaborative) -> None:
    """Drop the remembered standing after a write changes who facilitates or takes part."""
    collaborative.__dict__.pop("_qi_standing", None)


def _collaborative_permission(user, perm: Permission, collaborative, trust) -> bool:
    if perm is P.COLLABORATIVE_CREATE:  # at the host trust
        if trust is None:
            raise TypeError(f"{perm} needs trust=")
        return _leads_trust(user, _trust_pk(trust))
    if collaborative is None:
        raise TypeError(f"{perm} needs collaborative=")
    facilitator, taking_part, invited = _standing(user, collaborative)
    if perm is P.COLLABORATIVE_VIEW:
        return (facilitator or bool(taking_part) or user.is_national_analyst
                or any(_leads_trust(user, t) for t in invited))
    if perm is P.COLLABORATIVE_DATA_VIEW:
        return facilitator or bool(taking_part) or user.is_national_analyst
    if perm is P.COLLABORATIVE_MANAGE:
        return facilitator
    if perm is P.COLLABORATIVE_POST:
        return facilitator or bool(taking_part)
    # RESPOND (accept, decline, leave) and ENROL answer for one trust.
    if trust is None:
        raise TypeError(f"{perm} needs trust=")
    trust_id = _trust_pk(trust)
    pool = taking_part if perm is P.COLLABORATIVE_ENROL else taking_part | invited
    return trust_id in pool and _leads_trust(user, trust_id)


def collaborative_host_trust_ids(user) -> set[int] | None:
    """Trusts where the user may start a collaborative (None: any trust)."""
    if not _active(user) or service_token_of(user) is not None:
        return set()
    if user.is_superuser:
        return None
    return {tid for tid, rs in _role_map(user).items() if rs & TRUST_LEAD_ROLES}


def people_answering_for(trust) -> QuerySet[User]:
    """The active people who answer for `trust` in collaboratives (its QI leads and trust
    administrators): who is told of an invitation."""
    return (User.objects.filter(is_active=True, memberships__trust_id=_trust_pk(trust),
                                memberships__role__in=TRUST_LEAD_ROLES)
            .distinct().order_by("pk"))


def invitations_waiting_for(user) -> list[dict]:
    """Collaboratives that invited a trust the user answers for, not yet answered:
    [{"trust": name, "collaborative": name, "collaborative_id": id}], oldest trust first.
    Read through the trust's `participations` by name (collaboratives sit above)."""
    ids = trust_ids_answered_by(user)
    if not ids:
        return []
    rows = (Trust.objects.filter(pk__in=ids, participations__status=INVITED)
            .order_by("name", "participations__collaborative__name")
            .values_list("name", "participations__collaborative__name",
                         "participations__collaborative_id"))
    return [{"trust": t, "collaborative": c, "collaborative_id": cid} for t, c, cid in rows]


def trust_ids_answered_by(user) -> set[int]:
    """Trusts the user answers for in collaboratives (their QI lead or administrator)."""
    if not _active(user) or service_token_of(user) is not None:
        return set()
    return {tid for tid, rs in _role_map(user).items() if rs & TRUST_LEAD_ROLES}


def _collaborative_scope(user, collaboratives: QuerySet, *, invited_leads: bool) -> QuerySet:
    if not _active(user):
        return collaboratives.none()
    if user.is_superuser or user.is_national_analyst:
        return collaboratives
    Collaborative = collaboratives.model
    through = Collaborative.facilitators.through
    Participation = Collaborative.participations.rel.related_model
    roles = _role_map(user)
    parts = Q(status=TAKING_PART, trust_id__in=set(roles))
    if invited_leads:
        parts |= Q(status=INVITED, trust_id__in=trust_ids_answered_by(user))
    return collaboratives.filter(
        Q(pk__in=through.objects.filter(user_id=user.pk).values("collaborative_id"))
        | Q(pk__in=Participation.objects.filter(parts).values("collaborative_id"))
    )


def collaboratives_visible_to(user, collaboratives: QuerySet) -> QuerySet:
    """`collaboratives` narrowed to those whose page the user may see (COLLABORATIVE_VIEW)."""
    return _collaborative_scope(user, collaboratives, invited_leads=True)


def collaboratives_readable_by(user, collaboratives: QuerySet) -> QuerySet:
    """`collaboratives` narrowed to those whose shared data, reports and learning the user
    may read (COLLABORATIVE_DATA_VIEW). Lists of those things filter on this."""
    return _collaborative_scope(user, collaboratives, invited_leads=False)


def collaboratives_managed_by(user, collaboratives: QuerySet) -> QuerySet:
    """`collaboratives` narrowed to those the user facilitates (COLLABORATIVE_MANAGE)."""
    if not _active(user) or service_token_of(user) is not None:
        return collaboratives.none()
    if user.is_superuser:
        return collaboratives
    through = collaboratives.model.facilitators.through
    return collaboratives.filter(
        pk__in=through.objects.filter(user_id=user.pk).values("collaborative_id")
    )


# ---- API tokens ----------------------------------------------------------------------------
# `organisations.tokens` signs an API request in with a token and puts the token on the user
# object (`user._qi_token`), as the role map is cached there. A *personal* token changes
# nothing: its owner's access, decided above. A *service* token's account holds one role at
# one trust (board member when read-only, clinician when read-write), and these rules narrow
# it further, deny by default:
# - only its trust: any project, trust or unit elsewhere is out of scope (404), even a
#   project visible to everyone; collaboratives only through its trust's membership;
# - read-only: the read permissions and no others, and no unsafe HTTP method at all (403);
# - read-write: also enter data, log and edit PDSA cycles, edit and register projects, on
#   the projects of its trust it may see; never approve, manage people or units, or act for
#   the trust in a collaborative.

READ_PERMISSIONS: frozenset[Permission] = frozenset({
    P.TRUST_VIEW, P.TRUST_DASHBOARD_VIEW, P.PROJECT_VIEW, P.PDSA_VIEW,
    P.COLLABORATIVE_VIEW, P.COLLABORATIVE_DATA_VIEW,
})
SERVICE_WRITE: frozenset[Permission] = frozenset({
    P.PROJECT_CREATE, P.PROJECT_EDIT, P.DATA_ENTER, P.PDSA_EDIT,
})
SERVICE_PROJECT_WRITE = frozenset({P.PROJECT_EDIT, P.DATA_ENTER, P.PDSA_EDIT})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def service_token_of(user):
    """The service token this request signed in with, or None (a person, or a personal
    token)."""
    token = getattr(user, "_qi_token", None)
    if token is None or token.trust_id is None:
        return None
    return token


def _service_token_allows(token) -> frozenset[Permission]:
    return READ_PERMISSIONS if token.read_only else READ_PERMISSIONS | SERVICE_WRITE


def _service_token_permission(user, token, perm, trust, project, collaborative) -> bool:
    if perm not in _service_token_allows(token):
        return False
    if perm in COLLABORATIVE_PERMISSIONS:
        return _collaborative_permission(user, perm, collaborative, trust)
    if perm in PROJECT_PERMISSIONS:
        if project is None:
            raise TypeError(f"{perm} needs project=")
        if project.trust_id != token.trust_id:
            return False
        if perm in SERVICE_PROJECT_WRITE:  # read-write: wherever it may read, at its trust
            return _project_permission(user, P.PROJECT_VIEW, project)
        return _project_permission(user, perm, project)
    if trust is None:
        raise TypeError(f"{perm} needs trust=")
    trust_id = _trust_pk(trust)
    return trust_id == token.trust_id and perm in _trust_permissions(user, trust_id)


def api_method_allowed(user, method: str) -> bool:
    """May this API request use `method` at all? A read-only service token may not write,
    whatever the endpoint (answered 403 before the view runs)."""
    token = service_token_of(user)
    if token is not None and token.read_only:
        return method.upper() in SAFE_METHODS
    return True


def manages_service_tokens_at(user, trust) -> bool:
    """May the user create, list and revoke `trust`'s service tokens (its trust
    administrators and the platform operator)? Never with a token."""
    if getattr(user, "_qi_token", None) is not None:
        return False
    return has_permission(user, P.MEMBERSHIP_MANAGE, trust=trust)


# ---- national comparisons (reports.comparisons) ----------------------------------------------
# Trusts are compared on shared measures: a national definition the centre publishes, or a
# collaborative's shared measure. Only measures a trust has explicitly shared are read: those
# its QI lead linked to a national definition, or its teams adopted in a collaborative.
# - National analysts (and the platform operator) publish and edit national definitions, set
#   whether trust users see other trusts named, and read every comparison. Never by token.
# - Anyone with a role at a trust reads the published definitions (to adopt them); members of
#   a trust that adopted a definition read its comparison; other members get 403, people with
#   no role anywhere 404.
# - A collaborative's comparison is its shared data: COLLABORATIVE_DATA_VIEW decides (404 for
#   outsiders, 403 for an invited trust's lead who has not joined).
# - A trust's QI lead links a project's measure to a national definition: PROJECT_APPROVE's
#   rule (the QI lead of the project's trust); 404 if the project is out of sight.
# - Names: other trusts are named to trust users only if the centre says so; their own trust
#   is always named; analysts always see names.
# National comparisons sit above this layer: the scopes take the caller's queryset and read
# the relation `adoptions__measure__project__trust_id` by name.


def _person(user) -> bool:
    return _active(user) and service_token_of(user) is None


def reads_all_comparisons(user) -> bool:
    """National analysts and the platform operator: every comparison, every name."""
    return _person(user) and (user.is_superuser or user.is_national_analyst)


def publishes_national_measures(user) -> bool:
    """May the user publish or change national definitions and the centre's setting?"""
    return reads_all_comparisons(user)


def member_trust_ids(user) -> set[int]:
    """The trusts where the user holds any role (their own trusts, always named)."""
    if not _person(user):
        return set()
    return set(_role_map(user))


def check_publish_national(user) -> None:
    """404 for people with no role anywhere, 403 for trust users, nothing for publishers."""
    if publishes_national_measures(user):
        return
    if not member_trust_ids(user):
        raise Http404
    raise PermissionDenied


def reads_national_definitions(user) -> bool:
    """May the user see the list of published national definitions?"""
    return reads_all_comparisons(user) or bool(member_trust_ids(user))


def national_measures_compared_for(user, national_measures: QuerySet) -> QuerySet:
    """`national_measures` narrowed to those whose comparison the user may read."""
    if reads_all_comparisons(user):
        return national_measures
    mine = member_trust_ids(user)
    if not mine:
        return national_measures.none()
    model = national_measures.model
    ids = model.objects.filter(adoptions__measure__project__trust_id__in=mine).values("pk")
    return national_measures.filter(pk__in=ids)


def check_national_comparison(user, national_measure, *, adopting_trust_ids) -> None:
    """Read the comparison on `national_measure`, adopted by `adopting_trust_ids`."""
    if reads_all_comparisons(user):
        return
    mine = member_trust_ids(user)
    if not mine:
        raise Http404
    if not mine & set(adopting_trust_ids):
        raise PermissionDenied


def check_shared_comparison(user, collaborative) -> None:
    """Read the comparison on one of `collaborative`'s shared measures."""
    if not _person(user):
        raise Http404
    check(user, P.COLLABORATIVE_DATA_VIEW, collaborative=collaborative)


def check_adopt_national(user, project) -> None:
    """Link one of `project`'s measures to a national definition: its trust's QI lead."""
    if not _person(user):
        raise Http404
    check(user, P.PROJECT_APPROVE, project=project)


def names_other_trusts(user, *, centre_names_trusts: bool) -> bool:
    """Does the user see trusts other than their own by name in comparisons?"""
    return reads_all_comparisons(user) or bool(centre_names_trusts)


# ---- QI capability, NHS IMPACT and the national activity table (issue 14, items 1, 3, 7) ---
# A trust's capability returns and NHS IMPACT self-assessments are made for the centre:
# - read: any member of that trust (any role), national analysts, the operator; a service
#   token only at its own trust. Anyone else: 404.
# - record (form or upload): that trust's QI leads and trust administrators, and the
#   operator; never a national analyst or a service token. Other members: 403.
# - the level list (awareness, practitioner...): national analysts and the operator.
# - the national pages (activity table, national capability, IMPACT distribution): national
#   analysts and the operator (NATIONAL_VIEW); anyone else 404. They show trust-level
#   figures only: counts from roll-ups of projects shared with the whole trust or wider,
#   never team-only ones, and capability returns made for the centre.

CAPABILITY_RECORD_ROLES = frozenset({Role.QI_LEAD, Role.TRUST_ADMIN})


def may_read_capability(user, trust) -> bool:
    return has_permission(user, P.TRUST_VIEW, trust=trust)


def may_record_capability(user, trust) -> bool:
    if not _active(user) or getattr(user, "_qi_token", None) is not None:
        return False
    if user.is_superuser:
        return True
    return bool(roles_at(user, _trust_pk(trust)) & CAPABILITY_RECORD_ROLES)


def check_capability(user, trust, *, record: bool = False) -> None:
    """404 for an outsider, 403 for a member who may not record (when `record`)."""
    if not may_read_capability(user, trust):
        raise Http404
    if record and not may_record_capability(user, trust):
        raise PermissionDenied


def may_edit_capability_levels(user) -> bool:
    if not _active(user) or getattr(user, "_qi_token", None) is not None:
        return False
    return bool(user.is_superuser or user.is_national_analyst)


def check_national(user) -> None:
    """The national centre's pages: 404 for anyone without NATIONAL_VIEW."""
    if not has_permission(user, P.NATIONAL_VIEW):
        raise Http404


# ---- learning repository and sharing beyond the trust (issue 14, items 4, 5, 7) -----------
# A project's owner chooses what leaves the trust (`Project.sharing`): nothing (the
# default), the summary (title, aim, change ideas), or the summary and the learning (PDSA
# Study/Act text, the learning posts of its collaborative teams). reports/learning.py stores
# that choice on each repository row as `shared`; these rules read it:
# - National analysts and the platform operator read every row shared beyond its trust and
#   case studies, and NOTHING that is not shared, whatever else NATIONAL_READ lets them open.
# - Anyone with a role at a trust reads the same shared rows, plus their own trusts' rows
#   of projects they may already view (the project rules above: team-only projects stay
#   with their team and QI leads), plus the learning posts and change package ideas of
#   collaboratives whose learning they already read (COLLABORATIVE_DATA_VIEW).
#   A project at another trust that is not shared never appears, even if its
#   visibility is "everyone signed in": in the repository only `sharing` counts.
# - People with no role anywhere: 404 (they have no place in the repository). Service
#   tokens: none (the repository is a page, not an API).
# - Case studies are added by national analysts and the operator only; other users of the
#   repository get 403, people with no place in it 404.
# The repository rows sit above this layer: the scope takes the caller's querysets and
# reads the fields `shared`, `trust_id`, `project_id`, `collaborative_id` and `kind` by name.

LEARNING_COLLABORATIVE_KINDS = ("post", "package_idea")


def uses_learning_repository(user) -> bool:
    """May the user open the learning repository at all?"""
    if not _active(user) or service_token_of(user) is not None:
        return False
    return bool(user.is_superuser or user.is_national_analyst or _role_map(user))


def check_learning_repository(user) -> None:
    """404 for a signed-in person with no place in the repository (see the rules above)."""
    if not uses_learning_repository(user):
        raise Http404


def check_manage_case_studies(user) -> None:
    """Adding case studies: 404 outside the repository, 403 for its other users."""
    check_learning_repository(user)
    if not manages_case_studies(user):
        raise PermissionDenied


def manages_case_studies(user) -> bool:
    """May the user add outside case studies (national analysts and the operator)?"""
    if not _active(user) or getattr(user, "_qi_token", None) is not None:
        return False
    return bool(user.is_superuser or user.is_national_analyst)


def learning_visible_to(user, documents: QuerySet, *, projects: QuerySet,
                        collaboratives: QuerySet) -> QuerySet:
    """`documents` (repository rows) narrowed to those the user may read, by the rules
    above. `projects` and `collaboratives` are the caller's querysets of those models."""
    if not uses_learning_repository(user):
        return documents.none()
    shared = Q(shared=True)
    if user.is_superuser or user.is_national_analyst:
        return documents.filter(shared)
    mine = set(_role_map(user))
    # A project's rows carry its trust, so only the projects of the reader's own trusts can
    # match: asking for those alone spares reading every project in the country.
    own_projects = projects_visible_to(user, projects.filter(trust_id__in=mine))
    own = Q(trust_id__in=mine, project_id__in=own_projects.values("pk"))
    readable = collaboratives_readable_by(user, collaboratives).values("pk")
    collab = Q(kind__in=LEARNING_COLLABORATIVE_KINDS, collaborative_id__in=readable)
    return documents.filter(shared | own | collab)
