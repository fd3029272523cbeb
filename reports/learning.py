"""The learning repository (issue 14, items 4, 5 and 7): one search across what trusts share
beyond themselves, plus case studies from outside the portal.

Documents are denormalised into `reports.models.LearningDocument` from the apps below:

=============  ======================================  =================================
kind           from                                    shared beyond the trust when
=============  ======================================  =================================
project        a project's title and aim               the project shares its summary
change_idea    a project's change idea                 the project shares its summary
pdsa           a PDSA cycle's Study and Act text       the project shares its learning
post           a collaborative's learning post         its team's project shares its
                                                       learning (a post with no team stays
                                                       inside the collaborative)
package_idea   a collaborative's change package idea   always: a change package is
                                                       published to spread
case_study     reports.CaseStudy                       always
=============  ======================================  =================================

Who reads which rows is `organisations.access.learning_visible_to`. The table is kept
current by `reports.tasks.refresh_learning` (sent on commit by the signal receivers in
reports/tasks.py for one project, collaborative or case study) and rebuilt in full nightly
(`reports.tasks.rebuild_learning`). Pages read only this table: a constant number of
queries, whatever the size of the repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from collaboratives.models import Collaborative, LearningPost, PackageIdea
from core import search as engine
from organisations import access
from pdsa.models import Cycle
from projects.models import ChangeIdea, Project
from reports.models import CaseStudy, LearningDocument

Kind = LearningDocument.Kind
Sharing = Project.Sharing
SUMMARY_SHARED = (Sharing.SUMMARY, Sharing.LEARNING)
FIELDS = {"title": "A", "body": "B", "context": "C"}
BATCH = 1000


def _trust_fields(trust) -> dict:
    if trust is None:
        return {}
    return {"trust_id": trust.pk, "trust_name": trust.name, "trust_type": trust.trust_type,
            "region_id": trust.region_id, "region_name": trust.region.name}


def _text(*parts: str) -> str:
    return "\n".join(p.strip() for p in parts if p and p.strip())


# ---- building documents -------------------------------------------------------------------


def _project_documents(projects: Iterable[Project], now) -> Iterator[LearningDocument]:
    for project in projects:
        base = {"project_id": project.pk, **_trust_fields(project.trust),
                "topic": project.strategic_theme, "built_at": now}
        url = reverse("projects:detail", args=[project.pk])
        yield LearningDocument(
            kind=Kind.PROJECT, object_id=project.pk,
            shared=project.sharing in SUMMARY_SHARED,
            title=project.title[:300], body=_text(project.aim, project.problem),
            context=project.trust.name, url=url,
            year=(project.start_date or project.created_at).year, **base,
        )
        for idea in project.change_ideas.all():
            yield LearningDocument(
                kind=Kind.CHANGE_IDEA, object_id=idea.pk,
                shared=project.sharing in SUMMARY_SHARED, title=idea.text[:300],
                body="", context=_text(project.title, project.aim), url=url,
                year=(project.start_date or project.created_at).year, **base,
            )
            for cycle in idea.pdsa_cycles.all():
                when = cycle.act_date or cycle.studied_date or cycle.created_at
                yield LearningDocument(
                    kind=Kind.PDSA, object_id=cycle.pk,
                    shared=project.sharing == Sharing.LEARNING,
                    title=f"PDSA {cycle.number}: {cycle.objective}"[:300],
                    body=_text(cycle.results, cycle.learning, cycle.next_steps),
                    context=_text(idea.text, project.title), decision=cycle.decision,
                    url=reverse("pdsa:detail", args=[cycle.pk]), year=when.year, **base,
                )


def _projects(qs: QuerySet[Project]) -> QuerySet[Project]:
    cycles = Cycle.objects.order_by("number", "pk")
    ideas = ChangeIdea.objects.order_by("position", "pk").prefetch_related(
        Prefetch("pdsa_cycles", queryset=cycles))
    return qs.select_related("trust__region").prefetch_related(
        Prefetch("change_ideas", queryset=ideas)).order_by("pk")


def _post_project(post: LearningPost) -> Project | None:
    if post.enrolment_id:
        return post.enrolment.project
    if post.cycle_id:
        return post.cycle.change_idea.project
    return None


def _collaborative_documents(collaboratives: Iterable[Collaborative], now):
    for collab in collaboratives:
        base = {"collaborative_id": collab.pk, "collaborative_name": collab.name,
                "topic": collab.topic, "built_at": now}
        for post in collab.posts.all():
            project = _post_project(post)
            trust = project.trust if project is not None else collab.host_trust
            yield LearningDocument(
                kind=Kind.POST, object_id=post.pk, project_id=getattr(project, "pk", None),
                shared=project is not None and project.sharing == Sharing.LEARNING,
                title=post.title[:300], body=post.body,
                context=_text(collab.name, project.title if project else ""),
                url=reverse("collaboratives:post", args=[collab.pk, post.pk]),
                year=post.created_at.year, **_trust_fields(trust), **base,
            )
        for idea in collab.package_ideas.all():
            yield LearningDocument(
                kind=Kind.PACKAGE_IDEA, object_id=idea.pk, shared=True,
                title=idea.title[:300], body=idea.description, context=collab.name,
                url=reverse("collaboratives:change_package", args=[collab.pk]),
                year=idea.created_at.year, **_trust_fields(collab.host_trust), **base,
            )


def _collaboratives(qs: QuerySet[Collaborative]) -> QuerySet[Collaborative]:
    posts = LearningPost.objects.select_related(
        "enrolment__project__trust__region", "cycle__change_idea__project__trust__region")
    return qs.select_related("host_trust__region").prefetch_related(
        Prefetch("posts", queryset=posts.order_by("pk")),
        Prefetch("package_ideas", queryset=PackageIdea.objects.order_by("pk")),
    ).order_by("pk")


def _case_documents(cases: Iterable[CaseStudy], now):
    for case in cases:
        yield LearningDocument(
            kind=Kind.CASE_STUDY, object_id=case.pk, shared=True, title=case.title[:300],
            body=case.summary, context=_text(case.source_name, case.country),
            topic=case.topic, year=case.year, url=case.source_url, built_at=now,
        )


def _store(docs: Iterable[LearningDocument]) -> int:
    """Insert in batches. On PostgreSQL a trigger writes each row's weighted vector (title
    A, body B, context C) with the row (migration reports 0011)."""
    count, batch = 0, []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= BATCH:
            count += _insert(batch)
            batch = []
    if batch:
        count += _insert(batch)
    return count


def _insert(batch: list[LearningDocument]) -> int:
    LearningDocument.objects.bulk_create(batch)
    return len(batch)


# ---- keeping the table current --------------------------------------------------------------


def refresh_project(project_id: int) -> int:
    """Rebuild one project's documents (its summary, change ideas, cycles, and the learning
    posts of its teams, whose sharing follows it). Returns the number stored."""
    now = timezone.now()
    with transaction.atomic():
        LearningDocument.objects.filter(
            project_id=project_id, kind__in=[Kind.PROJECT, Kind.CHANGE_IDEA, Kind.PDSA]
        ).delete()
        count = _store(_project_documents(_projects(Project.objects.filter(pk=project_id)),
                                          now))
        collab_ids = set(LearningDocument.objects.filter(project_id=project_id, kind=Kind.POST)
                         .values_list("collaborative_id", flat=True))
        collab_ids |= set(Collaborative.objects.filter(enrolments__project_id=project_id)
                          .values_list("pk", flat=True))
    for collab_id in collab_ids:
        count += refresh_collaborative(collab_id)
    return count


def refresh_collaborative(collaborative_id: int) -> int:
    now = timezone.now()
    with transaction.atomic():
        LearningDocument.objects.filter(collaborative_id=collaborative_id).delete()
        return _store(_collaborative_documents(
            _collaboratives(Collaborative.objects.filter(pk=collaborative_id)), now))


def refresh_case_study(case_id: int) -> int:
    now = timezone.now()
    with transaction.atomic():
        LearningDocument.objects.filter(kind=Kind.CASE_STUDY, object_id=case_id).delete()
        return _store(_case_documents(CaseStudy.objects.filter(pk=case_id), now))


def rebuild_all() -> int:
    """Nightly, and after the demo seed: every document again, in one transaction (readers
    see the old table until it commits)."""
    now = timezone.now()
    with transaction.atomic():
        LearningDocument.objects.all().delete()
        count = _store(_project_documents(_projects(Project.objects.all()).iterator(
            chunk_size=BATCH), now))
        count += _store(_collaborative_documents(
            _collaboratives(Collaborative.objects.all()).iterator(chunk_size=200), now))
        count += _store(_case_documents(CaseStudy.objects.all(), now))
    return count


# ---- writes -------------------------------------------------------------------------------


def case_study_create(*, by, **fields) -> CaseStudy:
    """Add an outside case study (national analysts and the operator). Validated in full,
    saved in one transaction; its repository row follows on commit (learning_signals)."""
    if not access.manages_case_studies(by):
        raise PermissionDenied
    with transaction.atomic():
        case = CaseStudy(created_by=by, **fields)
        case.full_clean()
        case.save()
    return case


# ---- reading ------------------------------------------------------------------------------

FILTERS = ("topic", "trust_type", "region", "decision", "collaborative", "year")


def documents_for(user) -> QuerySet[LearningDocument]:
    """The repository rows `user` may read (organisations.access decides)."""
    return access.learning_visible_to(
        user, LearningDocument.objects.all(),
        projects=Project.objects.all(), collaboratives=Collaborative.objects.all(),
    )


def find(user, query: str, *, topic: str = "", trust_type: Iterable[str] = (),
         region: int | None = None, decision: Iterable[str] = (),
         collaborative: int | None = None, year: int | None = None):
    """Ranked, filtered rows for `query` (all rows, newest first, when it is blank)."""
    qs = documents_for(user)
    if topic:
        qs = qs.filter(topic__iexact=topic)
    if trust_type:
        qs = qs.filter(trust_type__in=list(trust_type))
    if region:
        qs = qs.filter(region_id=region)
    if decision:
        qs = qs.filter(decision__in=list(decision))
    if collaborative:
        qs = qs.filter(collaborative_id=collaborative)
    if year:
        qs = qs.filter(year=year)
    if (query or "").strip():
        vector = "search_vector" if engine.is_postgresql(qs) else ""
        return engine.search(qs, FIELDS, query, vector_field=vector)
    return qs.order_by("-year", "-pk")


HEADLINED = ("title", "body")


def with_highlights(rows, query: str, user) -> list:
    """The page's rows, loaded in full in their order, with `title_html` / `snippet_html`
    (escaped, matches in <mark>) and `link` (the item's page when the reader may open it,
    else empty). Three queries at most, whatever the page size.

    `rows` need only their keys: the page ranks `find(...).only("pk")`, so the ranking sorts
    (key, rank) pairs rather than every column of every match (issue 21: "falls" as the
    analyst, 32 → 23 ms for its 28,000 matches). Pass only rows of `find` or
    `documents_for`: their keys were narrowed by organisations.access, the reload is not."""
    keys = [row.pk for row in rows]
    full = engine.with_headlines(LearningDocument.objects.all(), query,
                                 HEADLINED).in_bulk(keys) if keys else {}
    rows = [full[key] for key in keys if key in full]
    project_ids = {r.project_id for r in rows if r.project_id
                   and r.kind in (Kind.PROJECT, Kind.CHANGE_IDEA, Kind.PDSA)}
    collab_ids = {r.collaborative_id for r in rows if r.collaborative_id
                  and r.kind in (Kind.POST, Kind.PACKAGE_IDEA)}
    open_projects = set(access.projects_visible_to(
        user, Project.objects.filter(pk__in=project_ids)).values_list("pk", flat=True)
    ) if project_ids else set()
    open_collabs = set(access.collaboratives_readable_by(
        user, Collaborative.objects.filter(pk__in=collab_ids)).values_list("pk", flat=True)
    ) if collab_ids else set()
    for row in rows:
        if query:
            row.title_html = engine.highlight(row, "title", query)
            row.snippet_html = engine.highlight(row, "body", query)
        else:
            row.title_html = row.title
            row.snippet_html = engine.highlight_text(row.body, "")
        if not row.body and row.context:  # a change idea: show the project it belongs to
            row.snippet_html = engine.highlight_text(row.context.splitlines()[0], query)
        if row.kind == Kind.CASE_STUDY:
            row.link = row.url
        elif row.kind in (Kind.POST, Kind.PACKAGE_IDEA):
            row.link = row.url if row.collaborative_id in open_collabs else ""
        else:
            row.link = row.url if row.project_id in open_projects else ""
    return rows


def built_at():
    return LearningDocument.objects.aggregate(at=Max("built_at"))["at"]


FACETS_CACHE_SECONDS = 300


def facets(user, *, built=None) -> dict:
    """Choices for the filters, from the rows the user may read (three queries), cached
    per user for a few minutes and until the repository is rebuilt (`built`, from
    `built_at`): they cost ~200 ms on the national table, the search itself less."""
    key = f"learning-facets:{user.pk}:{built.timestamp() if built else 0}"
    return cache.get_or_set(key, lambda: _facets(user), FACETS_CACHE_SECONDS)


def _facets(user) -> dict:
    docs = documents_for(user)
    topics = sorted({t for t in docs.exclude(topic="").values_list("topic", flat=True)
                     .order_by().distinct()}, key=str.lower)
    collabs = list(docs.exclude(collaborative_id=None)
                   .values_list("collaborative_id", "collaborative_name")
                   .order_by("collaborative_name").distinct())
    years = sorted(set(docs.exclude(year=None).values_list("year", flat=True)
                       .order_by().distinct()),
                   reverse=True)
    return {"topics": topics, "collaboratives": collabs, "years": years}
