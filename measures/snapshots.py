"""Each measure's SPC snapshot: compute the reading from its points and store it.

The measure page computes live from the points (`measure_spc_result`); dashboards and lists
read the stored `MeasureSnapshot`, rebuilt by `measures.tasks.refresh_measure` after every
data change (services mark the measure dirty and enqueue it on commit).
"""

from __future__ import annotations

import itertools
import json
from collections import namedtuple

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from measures.models import DataPoint, Measure, MeasureSnapshot
from measures.signals import snapshots_stored
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
        # Rate per k of the exposure: counts over exposure / k (qicharts2's `multiply`; the
        # limits scale with it and Laney's z-scores do not change).
        k = float(measure.rate_per or 1)
        return spc.u_chart(
            [p.numerator for p in points],
            [None if p.denominator is None else p.denominator / k for p in points],
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


def full_result(measure) -> dict:
    """The whole reading with every point, computed from the measure's data as it is now
    (the API's `spc` answer): a snapshot keeps only its summary (`SPCResult.summary`).
    {} when there is no reading."""
    points = [Point(*row) for row in measure.points.order_by("period")
              .values_list(*Point._fields)]
    if not points:
        return {}
    try:
        return measure_spc_result(measure, points).to_dict()
    except ValueError:  # too little data for this chart (one event on a T chart)
        return {}


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


def _store(snapshots: list[MeasureSnapshot]) -> None:
    """Insert or replace the snapshots. On PostgreSQL through COPY into a temporary table
    and one INSERT … ON CONFLICT: Django's bulk upsert quotes each ~10 KB chart JSON in
    Python, which cost more than the rest of the rebuild together."""
    if connection.vendor != "postgresql":
        MeasureSnapshot.objects.bulk_create(
            snapshots, batch_size=500, update_conflicts=True, unique_fields=["measure"],
            update_fields=SNAPSHOT_FIELDS,
        )
        return
    table = MeasureSnapshot._meta.db_table
    columns = ["measure_id", *SNAPSHOT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS snapshot_in_v2 (measure_id bigint, n_points "
            "integer, variation_icon text, assurance text, result jsonb, latest_period date, "
            "latest_value double precision, data_as_of timestamptz, computed_at timestamptz, "
            "runs_signal boolean) ON COMMIT DELETE ROWS")
        with cursor.cursor.copy(f"COPY snapshot_in_v2 ({', '.join(columns)}) FROM STDIN") as copy:
            for snap in snapshots:
                copy.write_row((snap.measure_id, snap.n_points, snap.variation_icon,
                                snap.assurance, json.dumps(snap.result), snap.latest_period,
                                snap.latest_value, snap.data_as_of, snap.computed_at,
                                snap.runs_signal))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in SNAPSHOT_FIELDS)
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM "
            f"snapshot_in_v2 ON CONFLICT (measure_id) DO UPDATE SET {updates}")
        cursor.execute("TRUNCATE snapshot_in_v2")


def measure_refresh(*, measure_id: int) -> bool:
    """Recompute and store a measure's snapshot; clear its dirty mark. Idempotent.

    Returns False when there was nothing to do (the measure is gone).
    """
    done = measures_refresh_batch([measure_id]) == 1
    if done:  # the layers above (the dashboards' roll-ups) listen; nothing here knows them
        snapshots_stored.send(sender=MeasureSnapshot, measure_ids=[measure_id])
    return done


SNAPSHOT_FIELDS = ["n_points", "variation_icon", "assurance", "result", "latest_period",
                   "latest_value", "data_as_of", "computed_at", "runs_signal"]
# What the SPC computation reads of a point: plain tuples, not model instances (building
# 25,000 DataPoint objects cost more than computing their charts).
Point = namedtuple("Point", "period value numerator denominator rebaseline")


def _results(measures, points_of) -> dict:
    """Each measure's SPC result (None: no reading). XmR measures that share a direction,
    target and re-baselines are computed together by `spc.xmr_batch` (identical results,
    a fraction of the time); the other charts one by one."""
    results, xmr_groups = {}, {}
    for measure in measures:
        points = points_of.get(measure.pk, [])
        if not points:
            results[measure.pk] = None
        elif measure.chart == Measure.Chart.XMR and all(p.value is not None for p in points):
            rebase = tuple(i for i, p in enumerate(points) if p.rebaseline and i > 0)
            key = (measure.direction, measure.target, rebase)
            xmr_groups.setdefault(key, []).append(measure)
        else:
            try:
                results[measure.pk] = measure_spc_result(measure, points)
            except ValueError:  # too little data for this chart (one event on a T chart)
                results[measure.pk] = None
    for (direction, target, rebase), group in xmr_groups.items():
        batch = spc.xmr_batch([[p.value for p in points_of[m.pk]] for m in group],
                              improvement=direction, target=target, rebase_at=rebase)
        results.update(zip([m.pk for m in group], batch, strict=True))
    return results


@transaction.atomic
def measures_refresh_batch(measure_ids) -> int:
    """Rebuild the snapshots of many measures in a constant number of queries: lock the
    measures, read all their points in one query, compute, store the snapshots at once
    (`_store`) and clear the dirty marks of those that had one. Idempotent; returns how
    many measures were rebuilt (measures that are gone are skipped).

    The measures stay locked (as `services._lock` does for a data write) until the
    snapshots are stored, so no write can slip in between the read and the dirty-mark
    clearing: a write waits, then marks the measure dirty again and enqueues its refresh.
    """
    measures = list(Measure.objects.select_for_update().filter(pk__in=list(measure_ids))
                    .order_by("pk"))
    if not measures:
        return 0
    points_of: dict[int, list] = {}
    rows = (DataPoint.objects.filter(measure_id__in=[m.pk for m in measures])
            .order_by("measure_id", "period")
            .values_list("measure_id", *Point._fields))
    for measure_id, points in itertools.groupby(rows.iterator(chunk_size=20_000),
                                                key=lambda row: row[0]):
        points_of[measure_id] = [Point(*row[1:]) for row in points]
    results = _results(measures, points_of)
    now = timezone.now()
    snapshots = []
    for measure in measures:
        points, result = points_of.get(measure.pk, []), results[measure.pk]
        snapshots.append(MeasureSnapshot(
            measure=measure,
            n_points=len(points),
            variation_icon=result.variation_icon if result else "",
            # Dashboards show no assurance from trial limits (too few points to read it).
            assurance=(result.assurance or "") if result and not too_few_points(result)
            else "",
            result=(as_dict := result.summary() if result else {}),
            runs_signal=MeasureSnapshot.runs_signal_of(as_dict),
            latest_period=points[-1].period if points else None,
            latest_value=result.latest_value if result else None,
            data_as_of=measure.data_changed_at,
            computed_at=now,
        ))
    _store(snapshots)
    # Clear each mark only if no newer write arrived while we computed (conditional update;
    # the lock already prevents that on PostgreSQL, this keeps it true everywhere). Only
    # measures that were marked cost a query: a nightly rebuild finds few.
    for measure in measures:
        if measure.dirty_since is not None:
            Measure.objects.filter(pk=measure.pk, dirty_since=measure.dirty_since).update(
                dirty_since=None)
    return len(measures)
