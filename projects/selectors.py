"""Reads for the project register, already scoped by `organisations.access` and joined.

Pages, the API and exports share these, so a list costs the same queries everywhere.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.postgres.search import TrigramSimilarity
from django.core.cache import cache
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Greatest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core import search as core_search
from organisations import access
from organisations.models import Membership, Unit, User
from projects import similarity as matching
from projects.models import ChangeIdea, ProgressScore, Project, TeamMember

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


def list_rows(ids: list[int], *, only: tuple[str, ...] = ()) -> list[Project]:
    """The projects `ids` (already chosen from what the reader may see) in that order, with
    what the list shows: a ranked search orders thousands of matches, and joining each
    to its trust, unit and lead before picking the page's 25 cost more than the ranking
    (issue 21). One query."""
    qs = Project.objects.select_related("trust", "unit", "lead")
    rows = with_stale(qs.only(*only) if only else qs).in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


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

    Search uses core.search (PostgreSQL full-text search, a plain fallback on SQLite) over
    the title (weight A), aim (B), problem (C) and the project's change ideas with their
    PDSA cycles' objective, study and act text (D, see `_ideas_text`); with the default
    sort, the best match comes first.
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
    if search.strip():
        qs = _search(qs, search)
        if sort in ("", DEFAULT_SORT):
            return qs
    return qs.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


SEARCH_FIELDS = {"title": "A", "aim": "B", "problem": "C", "search_ideas": "D"}
# PostgreSQL: the documents that migrations projects 0006 and reports 0007 index with GIN
# expression indexes; queries must use exactly these expressions to be served by them.
PROJECT_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(aim, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(problem, '')), 'C')"
)
# The same document stored by PostgreSQL (migration projects 0007, a generated column):
# ranking reads it rather than computing PROJECT_DOCUMENT again for every match.
STORED_DOCUMENT = "projects_project.search_document"
IDEA_DOCUMENT = "to_tsvector('english', coalesce(text, ''))"
CYCLE_DOCUMENT = (
    "to_tsvector('english', coalesce(objective, '') || ' ' || coalesce(results, '') || ' ' "
    "|| coalesce(learning, '') || ' ' || coalesce(next_steps, ''))"
)


def _search(qs: QuerySet[Project], query: str) -> QuerySet[Project]:
    """`qs` narrowed to projects matching `query` in their own text, a change idea or a
    PDSA cycle, best first (`search_rank`)."""
    if not core_search.is_postgresql(qs):
        return core_search.search(qs.annotate(search_ideas=Subquery(_ideas_text())),
                                  SEARCH_FIELDS, query)
    # Each table answers from its own GIN index; a project's rank is its own text's, plus
    # a little for a matching change idea or cycle (weight D, as on SQLite).
    ideas = (ChangeIdea.objects.annotate(hit=core_search.document_matches(IDEA_DOCUMENT, query))
             .filter(hit=True).values("project_id"))
    cycle_model = ChangeIdea.pdsa_cycles.rel.related_model  # pdsa is a layer up: by name
    cycles = (cycle_model.objects.annotate(
        hit=core_search.document_matches(CYCLE_DOCUMENT, query))
        .filter(hit=True).values("change_idea__project_id"))
    # `pk IN (…)` for the project's own text too, so that index serves it as well (an OR
    # of the expression itself would compute it for every visible project).
    own = (Project.objects.annotate(hit=core_search.document_matches(PROJECT_DOCUMENT, query))
           .filter(hit=True).values("pk"))
    bonus = core_search.WEIGHTS["D"] / 10
    return (qs.filter(Q(pk__in=own) | Q(pk__in=ideas) | Q(pk__in=cycles))
            .annotate(search_rank=core_search.document_rank(STORED_DOCUMENT, query)
                      + Case(When(pk__in=ideas, then=Value(bonus)), default=Value(0.0))
                      + Case(When(pk__in=cycles, then=Value(bonus)), default=Value(0.0)))
            .order_by("-search_rank", "pk"))


def _ideas_text():
    """One project's change ideas and their PDSA cycles' objective, study and act text, as
    one string (a correlated subquery, so the project row is not repeated). PDSA cycles
    live one layer up: this follows the reverse relation `pdsa_cycles` the pdsa models
    declare, by name, without importing them."""
    parts = ["text", "pdsa_cycles__objective", "pdsa_cycles__results",
             "pdsa_cycles__learning", "pdsa_cycles__next_steps"]
    text = Concat(*[item for name in parts for item in (
        Coalesce(name, Value(""), output_field=TextField()), Value(" "))],
                  output_field=TextField())
    return (ChangeIdea.objects.filter(project=OuterRef("pk")).order_by().values("project")
            .annotate(words=core_search.JoinedText(text)).values("words")[:1])


THEMES_CACHE_SECONDS = 300


def themes_visible_to(user) -> list[str]:
    """Strategic themes in use, for the list filter. The DISTINCT reads every project the
    reader may see (3–6 ms for the national analyst, on every list page: issue 21), so the
    answer is kept per reader until any project is saved (the newest `updated_at`, one
    index read, is in the key: a new theme shows at once) or for five minutes (a new
    membership that shows more projects)."""
    latest = Project.objects.aggregate(at=Max("updated_at"))["at"]
    key = f"project-themes:{user.pk}:{latest.timestamp() if latest else 0}"
    return cache.get_or_set(key, lambda: _themes_visible_to(user), THEMES_CACHE_SECONDS)


def _themes_visible_to(user) -> list[str]:
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
# The words compared and the score are projects/similarity.py; `Project.save()` stores each
# project's normalised title and aim. PostgreSQL scores in SQL with pg_trgm (a GIN trigram
# index on each column serves the `%` prefilter, so the check stays fast at national
# scale); SQLite scores the trust's visible projects in Python, with the same numbers.

SIMILARITY_THRESHOLD = matching.SIMILARITY_THRESHOLD
SIMILAR_LIMIT = 5
similarity = matching.score  # how alike two projects are, from raw titles and aims


class _TrigramMatch(Func):
    """`column % 'text'`: pg_trgm's similarity is at least `pg_trgm.similarity_threshold`
    (0.3 unless a DBA changed it), answered from the GIN trigram index."""

    function = ""
    arg_joiner = " %% "
    output_field = BooleanField()


def _shared_candidates(user, visible: QuerySet[Project], *, trust) -> QuerySet[Project]:
    """Projects at other trusts that the duplicate check also searches: those enrolled as
    teams in a collaborative that `trust` takes part in, among the ones the user may see
    (`visible`, scoped by organisations.access, so the warning never links to a 404).

    collaboratives/ sits above projects in the layers, so this module does not import it:
    it follows the reverse relations the collaboratives models declare, by name.
    """
    return visible.filter(
        collaborative_enrolments__status="approved",
        collaborative_enrolments__collaborative__participations__trust=trust,
        collaborative_enrolments__collaborative__participations__status="accepted",
    ).exclude(trust=trust)


def similar_projects(user, *, trust, title: str, aim: str = "", exclude_id=None) -> list[Project]:
    """Up to 5 projects the user can see, at `trust` or shared with them through a
    collaborative, whose title (and aim) look like these, most similar first, each with a
    `similarity` attribute (0–1, two decimals).

    Queries: on PostgreSQL one (the scored, prefiltered candidates with their trust, unit
    and lead); on SQLite two (every candidate's words, then the best five with their
    joins). Plus organisations.access's role map when it is not cached yet.
    """
    want_title, want_aim = matching.normalise(title), matching.normalise(aim)
    if not want_title and not want_aim:
        return []
    visible = visible_projects(user)
    shared = _shared_candidates(user, visible, trust=trust)
    candidates = visible.filter(Q(trust=trust) | Q(pk__in=shared.values("pk")))
    if exclude_id:
        candidates = candidates.exclude(pk=exclude_id)
    found = _best_matches(candidates, want_title, want_aim)
    trust_id = trust if isinstance(trust, int) else trust.pk
    for project in found:  # the warning names the trust of a collaborative partner's team
        project.elsewhere = project.trust_id != trust_id
    return found


def _best_matches(candidates: QuerySet[Project], want_title: str, want_aim: str):
    """The best five of `candidates` for these normalised words, scored where they live."""
    if connections[candidates.db].vendor == "postgresql":
        return _similar_in_postgresql(candidates, want_title, want_aim)
    return _similar_in_python(candidates, want_title, want_aim)


def _with_trigram_score(candidates: QuerySet[Project], want_title: str, want_aim: str):
    """`candidates` with `score`: similarity.combine of pg_trgm's similarity() of the titles
    and of the aims, in PostgreSQL's real arithmetic, so it equals the Python score."""
    title_score = aim_score = Value(0.0)
    if want_title:
        title_score = TrigramSimilarity("match_title", Value(want_title))
    if want_aim:
        aim_score = TrigramSimilarity("match_aim", Value(want_aim))
    return candidates.annotate(title_score=title_score, aim_score=aim_score).annotate(
        score=Greatest(
            F("title_score"),
            ExpressionWrapper(
                (F("title_score") + F("aim_score")) * Value(0.5), output_field=FloatField()
            ),
        )
    )


def _similar_in_postgresql(candidates: QuerySet[Project], want_title: str, want_aim: str):
    # Anything scoring SIMILARITY_THRESHOLD has a title or an aim at least that alike, so
    # the `%` prefilter (at pg_trgm's lower threshold, served by the GIN indexes) loses
    # nothing.
    prefilter = Q()
    if want_title:
        prefilter |= Q(_TrigramMatch(F("match_title"), Value(want_title)))
    if want_aim:
        prefilter |= Q(_TrigramMatch(F("match_aim"), Value(want_aim)))
    found = list(
        _with_trigram_score(candidates.filter(prefilter), want_title, want_aim)
        .filter(score__gte=SIMILARITY_THRESHOLD)
        .select_related("trust", "unit", "lead")
        .order_by("-score", "pk")[:SIMILAR_LIMIT]
    )
    for project in found:
        project.similarity = round(project.score, 2)
    return found


def _similar_in_python(candidates: QuerySet[Project], want_title: str, want_aim: str):
    title_grams, aim_grams = matching.trigrams(want_title), matching.trigrams(want_aim)
    scored = []
    rows = candidates.values_list("pk", "match_title", "match_aim")
    for pk, other_title, other_aim in rows.iterator(chunk_size=2000):
        score = matching.combine(
            matching.set_similarity(title_grams, matching.trigrams(other_title)),
            matching.set_similarity(aim_grams, matching.trigrams(other_aim)) if aim_grams
            else 0.0,
        )
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
