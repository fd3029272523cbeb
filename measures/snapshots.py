"""Each measure's SPC snapshot: compute the reading from its points and store it.

The measure page computes live from the points (`measure_spc_result`); dashboards and lists
read the stored `MeasureSnapshot`, rebuilt by `measures.tasks.refresh_measure` after every
data change (services mark the measure dirty and enqueue it on commit).
"""

from __future__ import annotations

import itertools

from django.db import transaction
from django.db.models import F, Q

from measures.models import Measure, MeasureSnapshot
from reports import spc
from reports.spc.reading import too_few_points


def plotted_points(measure, points):
    """The data points the chart draws, one for each point of the SPC result.

    A T chart draws the time between events, so its first event starts the clock and is not
    drawn; every other chart draws every point.
    """
    return list(points[1:]) if measure.chart == "t" else list(points)


def _days_between(points) -> list[float]:
    return [float((b.period - a.period).days) for a, b in itertools.pairwise(points)]


def measure_spc_result(measure, points=None):
    """The SPC result for a measure's data, by its chart type (pure computation)."""
    if points is None:
        points = list(measure.points.order_by("period"))
    drawn = plotted_points(measure, points)
    rebase = tuple(i for i, p in enumerate(drawn) if p.rebaseline and i > 0)
    improvement = measure.direction
    if measure.chart == "p":
        return spc.p_chart(
            [p.numerator for p in points], [p.denominator for p in points],
            parts_at=rebase, improvement=improvement, target=measure.target,
        )
    if measure.chart == "u":
        return spc.u_chart(
            [p.numerator for p in points], [p.denominator for p in points],
            parts_at=rebase, improvement=improvement, target=measure.target,
        )
    if measure.chart == "t":
        if not drawn:
            raise ValueError("A T chart needs at least two events: the time between them is "
                             "what it draws.")
        return spc.t_chart(
            _days_between(points), parts_at=rebase, improvement=improvement,
            target=measure.target,
        )
    values = [p.value for p in points]
    if measure.chart == "g":
        return spc.g_chart(
            values, parts_at=rebase, improvement=improvement, target=measure.target
        )
    if measure.chart == "c":
        return spc.c_chart(
            values, parts_at=rebase, improvement=improvement, target=measure.target
        )
    if measure.chart == "run":
        return spc.run_chart(values, parts_at=rebase, improvement=improvement)
    return spc.xmr(values, improvement=improvement, target=measure.target, rebase_at=rebase)


@transaction.atomic
def stale_measure_ids(limit: int) -> list[int]:
    """Measures whose snapshot does not reflect their data: marked dirty, never built, or
    built from older data (a rebuild lost to a killed worker or a dead broker)."""
    stale = (
        Q(dirty_since__isnull=False)
        | Q(snapshot__isnull=True)
        | Q(data_changed_at__isnull=False, snapshot__data_as_of__isnull=True)
        | Q(snapshot__data_as_of__lt=F("data_changed_at"))
    )
    return list(
        Measure.objects.filter(stale).order_by(F("dirty_since").asc(nulls_last=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def measure_refresh(*, measure_id: int) -> bool:
    """Recompute and store a measure's snapshot; clear its dirty mark. Idempotent.

    Returns False when there was nothing to do (the measure is gone).
    """
    measure = Measure.objects.select_for_update().filter(pk=measure_id).first()
    if measure is None:
        return False
    dirty_since = measure.dirty_since
    points = list(measure.points.order_by("period"))
    try:
        result = measure_spc_result(measure, points) if points else None
    except ValueError:  # too little data for this chart (one event on a T chart): no reading
        result = None
    MeasureSnapshot.objects.update_or_create(
        measure=measure,
        defaults={
            "n_points": len(points),
            "variation_icon": result.variation_icon if result else "",
            # Dashboards show no assurance from trial limits (too few points to read it).
            "assurance": (result.assurance or "")
            if result and not too_few_points(result) else "",
            "result": result.to_dict() if result else {},
            "latest_period": points[-1].period if points else None,
            "data_as_of": measure.data_changed_at,
        },
    )
    # Clear the mark only if no newer write arrived while we computed (conditional update).
    Measure.objects.filter(pk=measure_id, dirty_since=dirty_since).update(dirty_since=None)
    return True
