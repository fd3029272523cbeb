"""Reads for PDSA cycles, already scoped by `organisations.access` and already joined.

Pages, the API and dashboards share these, so each costs a constant number of queries
however many cycles there are.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse

from pdsa.models import Cycle
from projects import selectors as project_selectors
from projects.models import ChangeIdea

_MeasureLink = Cycle.measures.through


def with_quality(qs: QuerySet[Cycle]) -> QuerySet[Cycle]:
    """Annotate what `Cycle.quality_features()` needs, so it costs no further query."""
    return qs.annotate(
        has_measures=Exists(_MeasureLink.objects.filter(cycle_id=OuterRef("pk"))),
        has_followers=Exists(Cycle.objects.filter(follows_id=OuterRef("pk"))),
    )


def _base() -> QuerySet[Cycle]:
    return with_quality(
        Cycle.objects.select_related("change_idea__project__trust", "created_by", "follows")
    )


def cycles_visible_to(user) -> QuerySet[Cycle]:
    """Cycles on projects the user may view (PDSA_VIEW follows PROJECT_VIEW's rules)."""
    return _base().filter(change_idea__project__in=project_selectors.visible_projects(user))


def cycle_for_page(pk: int) -> Cycle:
    """One cycle with what its page shows; access is checked by the caller."""
    return get_object_or_404(_base().prefetch_related("measures", "followed_by"), pk=pk)


def my_open_cycles(user) -> QuerySet[Cycle]:
    """Cycles not yet complete on projects the user can edit, or that they started
    (and can still see)."""
    editable = project_selectors.editable_projects(user)
    visible = project_selectors.visible_projects(user)
    return (
        _base()
        .exclude(status=Cycle.Status.COMPLETE)
        .filter(Q(change_idea__project__in=editable) | Q(created_by=user))
        .filter(change_idea__project__in=visible)
        .order_by("-updated_at", "-pk")
    )


def project_timeline(project) -> list[dict]:
    """Each change idea of the project with its cycles in ramp order (by number).

    Two queries whatever the size: the change ideas, then all their cycles (prefetch)."""
    cycles = with_quality(Cycle.objects.select_related("created_by")).order_by("number")
    ideas = ChangeIdea.objects.filter(project=project).prefetch_related(
        Prefetch("pdsa_cycles", queryset=cycles, to_attr="cycles")
    )
    return [{"change_idea": idea, "cycles": idea.cycles} for idea in ideas]


def project_cycles(project) -> QuerySet[Cycle]:
    return _base().filter(change_idea__project=project)


def quality_summary(cycles: QuerySet[Cycle]) -> dict[str, int]:
    """How many cycles have each quality feature, in one aggregate query.

    Keys: total, prediction, data_linked, study_compares, ramp, all_four, and the status
    counts (planning, doing, studying, acting, complete)."""
    # Drop annotations/ordering the caller added so the aggregate stays one plain query.
    return _quality_counts(Cycle.objects.filter(pk__in=cycles.order_by().values("pk")))


def quality_summary_of_projects(projects) -> dict[str, int]:
    """`quality_summary` of every cycle of `projects` (a queryset of project ids, or a
    list), aggregated over the cycles joined to their change ideas directly: a trust's
    dashboard counts 5,000 cycles, and finding each again by its id took a quarter of
    the aggregate's time (issue 21)."""
    return _quality_counts(Cycle.objects.filter(change_idea__project__in=projects))


def _quality_counts(plain: QuerySet[Cycle]) -> dict[str, int]:
    """The counts over `plain`: a queryset of cycles with no annotations and no join that
    could repeat a cycle."""
    has_measures = Exists(_MeasureLink.objects.filter(cycle_id=OuterRef("pk")))
    has_followers = Exists(Cycle.objects.filter(follows_id=OuterRef("pk")))
    prediction = ~Q(prediction="")
    data_linked = Q(has_measures)
    study = ~Q(results="")
    ramp = Q(follows__isnull=False) | Q(has_followers)
    aggregates = {
        "total": Count("pk"),
        "prediction": Count("pk", filter=prediction),
        "data_linked": Count("pk", filter=data_linked),
        "study_compares": Count("pk", filter=study),
        "ramp": Count("pk", filter=ramp),
        "all_four": Count("pk", filter=prediction & data_linked & study & ramp),
    }
    for status in Cycle.Status:
        aggregates[status.value] = Count("pk", filter=Q(status=status))
    # Aliases are prefixed: an aggregate named like a field ("prediction") would shadow it.
    counts = plain.aggregate(**{f"n_{key}": agg for key, agg in aggregates.items()})
    return {key: counts[f"n_{key}"] for key in aggregates}


def markers_for_measures(measure_ids: Iterable[int]) -> dict[int, list[dict]]:
    """PDSA markers for measure charts: {measure id: [{date, label, url}, ...]} in date order.

    One query. Cycles linked to a measure belong to the measure's project, so a caller that
    may see the measure may see these cycles."""
    ids = list(measure_ids)
    result: dict[int, list[dict]] = {mid: [] for mid in ids}
    if not ids:
        return result
    links = _MeasureLink.objects.filter(measure_id__in=ids).select_related(
        "cycle__change_idea"
    )
    for link in links:
        cycle = link.cycle
        label = f"PDSA {cycle.number}: {cycle.change_idea.text}"
        if cycle.decision:
            label += f" ({cycle.get_decision_display().lower()})"
        result.setdefault(link.measure_id, []).append(
            {
                "date": cycle.key_date,
                "label": label,
                "url": reverse("pdsa:detail", args=[cycle.pk]),
            }
        )
    for markers in result.values():
        markers.sort(key=lambda m: m["date"])
    return result
