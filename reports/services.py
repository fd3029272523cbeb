"""Dashboard writes: mark measures dirty, rebuild their SPC snapshots.

The database is the outbox: a data write sets `Measure.dirty_since` in its own transaction
and asks for a rebuild on commit. If the broker is down the write still succeeds; the
periodic `reconcile` task finds the dirty mark later.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)


def measure_mark_dirty(*, measure_id: int) -> None:
    """Call inside the write's transaction, after changing a measure's data or settings."""
    from projects.models import Measure

    Measure.objects.filter(pk=measure_id, dirty_since__isnull=True).update(
        dirty_since=timezone.now()
    )
    transaction.on_commit(lambda: _enqueue_refresh(measure_id))


def _enqueue_refresh(measure_id: int) -> None:
    from reports.tasks import refresh_measure

    try:
        refresh_measure.delay(measure_id)
    except Exception:  # noqa: BLE001 — broker down: the dirty mark stays, reconcile retries
        log.warning("Could not enqueue refresh of measure %s; reconcile will pick it up",
                    measure_id)


def measure_spc_result(measure, points=None):
    """The SPC result for a measure's data, by its chart type (pure computation)."""
    from reports import spc

    if points is None:
        points = list(measure.points.order_by("period"))
    rebase = tuple(i for i, p in enumerate(points) if p.rebaseline and i > 0)
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
    values = [p.value for p in points]
    if measure.chart == "c":
        return spc.c_chart(
            values, parts_at=rebase, improvement=improvement, target=measure.target
        )
    if measure.chart == "run":
        return spc.run_chart(values, parts_at=rebase, improvement=improvement)
    return spc.xmr(values, improvement=improvement, target=measure.target, rebase_at=rebase)


@transaction.atomic
def measure_refresh(*, measure_id: int) -> bool:
    """Recompute and store a measure's snapshot; clear its dirty mark. Idempotent.

    Returns False when there was nothing to do (the measure is gone).
    """
    from projects.models import Measure
    from reports.models import MeasureSnapshot

    measure = Measure.objects.select_for_update().filter(pk=measure_id).first()
    if measure is None:
        return False
    dirty_since = measure.dirty_since
    points = list(measure.points.order_by("period"))
    result = measure_spc_result(measure, points) if points else None
    MeasureSnapshot.objects.update_or_create(
        measure=measure,
        defaults={
            "n_points": len(points),
            "variation_icon": result.variation_icon if result else "",
            "assurance": (result.assurance or "") if result else "",
            "result": result.to_dict() if result else {},
            "latest_period": points[-1].period if points else None,
        },
    )
    # Clear the mark only if no newer write arrived while we computed (conditional update).
    Measure.objects.filter(pk=measure_id, dirty_since=dirty_since).update(dirty_since=None)
    return True
