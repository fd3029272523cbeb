"""Reads for the project register, already scoped by `organisations.access` and joined.

Pages, the API and exports share these, so a list costs the same queries everywhere.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.db.models import BooleanField, Case, Prefetch, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from organisations import access
from organisations.models import Membership, Unit, User
from projects.models import ProgressScore, Project, TeamMember

# A progress score goes stale when nobody has updated it for this long.
STALE_AFTER = datetime.timedelta(days=60)
# Only projects still under way can go stale; proposed, completed and stopped ones cannot.
OPEN_STATUSES = (Project.Status.APPROVED, Project.Status.ACTIVE, Project.Status.SUSTAINING)

SORTS = {
    "title": ("title", "id"),
    "-title": ("-title", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "score": ("progress_score", "id"),
    "-score": ("-progress_score", "-id"),
    "target": ("target_date", "id"),
    "-target": ("-target_date", "-id"),
}
DEFAULT_SORT = "-updated"


def stale_condition(today: datetime.date | None = None) -> Q:
    """Open projects whose latest score is older than 60 days, or that started more than
    60 days ago and have none."""
    cutoff = (today or timezone.localdate()) - STALE_AFTER
    return Q(status__in=OPEN_STATUSES) & (
        Q(progress_scored_on__lt=cutoff)
        | Q(progress_scored_on__isnull=True, start_date__lt=cutoff)
    )


def is_stale(project: Project, today: datetime.date | None = None) -> bool:
    if project.status not in OPEN_STATUSES:
        return False
    cutoff = (today or timezone.localdate()) - STALE_AFTER
    if project.progress_scored_on is not None:
        return project.progress_scored_on < cutoff
    return project.start_date is not None and project.start_date < cutoff


def with_stale(qs: QuerySet) -> QuerySet:
    return qs.annotate(
        is_stale=Case(When(stale_condition(), then=Value(True)), default=Value(False),
                      output_field=BooleanField())
    )


def mine_condition(user) -> Q:
    """Projects `user` leads, sponsors, coaches or is on the team of."""
    return (
        Q(lead=user)
        | Q(coach=user)
        | Q(sponsor=user)
        | Q(pk__in=TeamMember.objects.filter(user=user).values("project_id"))
    )


def visible_projects(user) -> QuerySet[Project]:
    """Every project the user may view (organisations.access decides), unjoined."""
    return access.projects_visible_to(user, Project.objects.all())


def awaiting_approval(user) -> QuerySet[Project]:
    """The QI lead's worklist: proposed projects they may approve, oldest first."""
    return (
        access.projects_approvable_by(user, Project.objects.all())
        .filter(status=Project.Status.PROPOSED)
        .select_related("trust", "lead")
        .order_by("created_at", "id")
    )


def editable_projects(user) -> QuerySet[Project]:
    """Every project the user may edit (organisations.access decides), unjoined."""
    return access.projects_editable_by(user, Project.objects.all())


def projects_visible_to(user, *, trust=None, mine=False) -> QuerySet[Project]:
    qs = visible_projects(user).select_related("trust", "unit", "lead")
    if trust is not None:
        qs = qs.filter(trust=trust)
    if mine:
        qs = qs.filter(mine_condition(user))
    return with_stale(qs)


def project_list(
    user,
    *,
    trust=None,
    unit: Unit | None = None,
    status: str = "",
    theme: str = "",
    score=None,
    stale: bool | None = None,
    mine: bool = False,
    search: str = "",
    sort: str = DEFAULT_SORT,
) -> QuerySet[Project]:
    """The register, filtered. `trust` is a Trust (or id); `unit` includes its subtree.

    Search is `icontains` over title and aim, fine on SQLite and for tens of thousands of
    projects; on PostgreSQL a `SearchVector` with a GIN index is the next step.
    """
    qs = projects_visible_to(user, mine=mine)
    if trust is not None:
        qs = qs.filter(trust=trust)
    if unit is not None:
        qs = qs.filter(unit__trust_id=unit.trust_id, unit__path__startswith=unit.path)
    if status:
        qs = qs.filter(status=status)
    if theme:
        qs = qs.filter(strategic_theme__iexact=theme)
    if score not in (None, ""):
        qs = qs.filter(progress_score=Decimal(str(score)))
    if stale is True:
        qs = qs.filter(stale_condition())
    elif stale is False:
        qs = qs.exclude(stale_condition())
    if search:
        for word in search.split()[:8]:
            qs = qs.filter(Q(title__icontains=word) | Q(aim__icontains=word))
    return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def themes_visible_to(user) -> list[str]:
    """Strategic themes in use, for the list filter."""
    return list(
        visible_projects(user)
        .exclude(strategic_theme="")
        .order_by("strategic_theme")
        .values_list("strategic_theme", flat=True)
        .distinct()
    )


def project_for_page(user, pk: int) -> Project:
    """One project with its people, team and scores; 404 for anyone who may not see it."""
    qs = with_stale(
        Project.objects.select_related(
            "trust", "unit", "lead", "sponsor", "coach", "created_by"
        ).prefetch_related(
            Prefetch("team", queryset=TeamMember.objects.select_related("user").order_by("id")),
            Prefetch(
                "progress_scores",
                queryset=ProgressScore.objects.select_related("recorded_by").order_by(
                    "scored_on", "id"
                ),
            ),
        )
    )
    project = get_object_or_404(qs, pk=pk)
    access.check(user, access.Permission.PROJECT_VIEW, project=project)
    return project


def trust_people(trust) -> QuerySet[User]:
    """Portal users who are members of `trust` (leads, sponsors, coaches, team members)."""
    trust_id = trust if isinstance(trust, int) else trust.pk
    return User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(trust_id=trust_id).values("user_id"),
    ).order_by("full_name", "email")


# ---- similar projects (duplicate warning) ------------------------------------------------

# Ordinary English words plus words every QI title uses ("reduce", "improve", "project"),
# which would otherwise make unrelated projects look alike.
STOP_WORDS = frozenset(
    """a about after all an and are as at be before by for from has have in into is it its
    of on or our over per than that the their this to under up using via was we with within
    without will by project projects programme improve improving improvement improvements
    reduce reducing reduction increase increasing decrease decreasing better qi quality
    pilot new""".split()
)
# Two projects are "similar" when their word sets overlap by at least this much (Jaccard:
# shared words / all distinct words). 0.34 ≈ a third of the distinct meaningful words in
# common, e.g. "Reducing falls on Ward 7" vs "Falls prevention on Ward 7" (falls, ward, 7
# of falls, ward, 7, prevention → 0.75) but not "Falls on Ward 7" vs "Sepsis in ED" (0).
SIMILARITY_THRESHOLD = 0.34
SIMILAR_LIMIT = 5
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    # A tiny suffix stripper so "falls"/"fall" and "reducing"/"reduce" meet.
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> frozenset[str]:
    return frozenset(
        _stem(w) for w in _WORD.findall((text or "").lower()) if w not in STOP_WORDS
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def similarity(title_a: str, title_b: str, aim_a: str = "", aim_b: str = "") -> float:
    """Title overlap; when both aims are given, the mean of title and aim overlap counts
    too (whichever is higher), so a new title for an old aim is still caught."""
    title_score = _jaccard(tokens(title_a), tokens(title_b))
    if aim_a and aim_b:
        both = (title_score + _jaccard(tokens(aim_a), tokens(aim_b))) / 2
        return max(title_score, both)
    return title_score


def similar_projects(user, *, trust, title: str, aim: str = "", exclude_id=None) -> list[Project]:
    """Up to 5 projects at `trust` the user can see whose title (and aim) look like these,
    most similar first, each with a `similarity` attribute (0–1).

    Shared collaboratives are not searched yet: when collaboratives exist, add the visible
    projects enrolled in the same collaboratives here.
    """
    if not tokens(title) and not tokens(aim):
        return []
    candidates = visible_projects(user).filter(trust=trust)
    if exclude_id:
        candidates = candidates.exclude(pk=exclude_id)
    scored = []
    for pk, other_title, other_aim in candidates.values_list("pk", "title", "aim").iterator():
        score = similarity(title, other_title, aim, other_aim)
        if score >= SIMILARITY_THRESHOLD:
            scored.append((score, pk))
    scored.sort(key=lambda pair: (-pair[0], pair[1]))
    top = dict((pk, score) for score, pk in scored[:SIMILAR_LIMIT])
    if not top:
        return []
    found = Project.objects.select_related("trust", "unit", "lead").in_bulk(list(top))
    result = []
    for pk, score in top.items():
        project = found[pk]
        project.similarity = round(score, 2)
        result.append(project)
    return result
