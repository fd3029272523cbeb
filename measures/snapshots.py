"""Each measure's SPC snapshot: compute the reading from its points and store it.

The measure page computes live from the points (`measure_spc_result`); dashboards and lists
read the stored `MeasureSnapshot`, rebuilt by `measures.tasks.refresh_measure` after every
data change (services mark the measure dirty and enqueue it on commit).
"""

from __future__ import annotations

import itertools
import operator
from collections import namedtuple

import numpy as np
import orjson
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.queries import id_list
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


def _store(snapshots: list[tuple]) -> None:
    """Insert or replace the snapshots, given as rows of (measure_id, *SNAPSHOT_FIELDS).
    On PostgreSQL through COPY into a temporary table and one INSERT … ON CONFLICT (no
    model instances, no per-value quoting in Python)."""
    if connection.vendor != "postgresql":
        MeasureSnapshot.objects.bulk_create(
            [MeasureSnapshot(**dict(zip(["measure_id", *SNAPSHOT_FIELDS], row, strict=True)))
             for row in snapshots],
            batch_size=500, update_conflicts=True, unique_fields=["measure"],
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
            for row in snapshots:
                copy.write_row((*row[:4], orjson.dumps(row[4], option=_NUMPY).decode(),
                                *row[5:]))
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
_first = operator.itemgetter(0)
_NUMPY = orjson.OPT_SERIALIZE_NUMPY  # a numpy float in a summary is written as a number
# What the computation reads of a measure (a whole Measure cost more to build than its chart).
_READ_FIELDS = ("id", "chart", "direction", "target", "rate_per", "data_changed_at",
                "dirty_since")


# Positions in a point row as `measures_refresh_batch` reads it: (measure_id, *Point).
_VALUE, _NUM, _DEN, _REBASE = 2, 3, 4, 5
_BATCHED = {Measure.Chart.P: "p", Measure.Chart.U: "u", Measure.Chart.C: "c",
            Measure.Chart.RUN: "run"}


def _results(measures, rows_of) -> dict:
    """Each measure's SPC result (None: no reading), from its point rows (tuples of
    (measure_id, *Point), in period order).

    Measures of one chart type that share a direction, target, rate multiplier,
    re-baselines and number of points are computed together: XmR by `spc.xmr_batch`, run,
    C, P and U by `spc.qic_batch` (both give exactly the one-by-one results, in a fraction
    of the time); G and T charts one by one."""
    results, groups = {}, {}
    for measure in measures:
        rows = rows_of.get(measure.pk)
        if not rows:
            results[measure.pk] = None
            continue
        chart = measure.chart
        batched = chart == Measure.Chart.XMR and all(r[_VALUE] is not None for r in rows)
        if batched or chart in _BATCHED:
            rebase = tuple(i for i, r in enumerate(rows) if r[_REBASE] and i > 0)
            key = (chart, measure.direction, measure.target, rebase, len(rows),
                   measure.rate_per if chart == Measure.Chart.U else None)
            groups.setdefault(key, []).append(measure)
            continue
        try:
            results[measure.pk] = measure_spc_result(
                measure, [Point(*r[1:]) for r in rows])
        except ValueError:  # too little data for this chart (one event on a T chart)
            results[measure.pk] = None
    for (chart, direction, target, rebase, _n, rate_per), group in groups.items():
        pks = [m.pk for m in group]
        if chart == Measure.Chart.XMR:
            batch = spc.xmr_batch([[r[_VALUE] for r in rows_of[pk]] for pk in pks],
                                  improvement=direction, target=target, rebase_at=rebase)
        else:
            column = _NUM if chart in (Measure.Chart.P, Measure.Chart.U) else _VALUE
            values = np.array([[r[column] for r in rows_of[pk]] for pk in pks], dtype=float)
            den = None
            if column == _NUM:
                den = np.array([[r[_DEN] for r in rows_of[pk]] for pk in pks], dtype=float)
                if chart == Measure.Chart.U:  # a rate per k of the exposure, as one by one
                    den = den / float(rate_per or 1)
            batch = spc.qic_batch(_BATCHED[chart], values, den, parts_at=rebase,
                                  improvement=direction, target=target, errors="none")
        results.update(zip(pks, batch, strict=True))
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
    measures = list(Measure.objects.select_for_update().filter(pk__in=id_list(measure_ids))
                    .only(*_READ_FIELDS).order_by("pk"))
    if not measures:
        return 0
    # Plain row tuples, grouped by measure: building 25,000 Point tuples a chunk cost
    # more than the batched charts computed from them.
    rows = (DataPoint.objects.filter(measure_id__in=id_list(m.pk for m in measures))
            .order_by("measure_id", "period")
            .values_list("measure_id", *Point._fields))
    rows_of = {measure_id: list(group) for measure_id, group in
               itertools.groupby(rows, key=_first)}
    results = _results(measures, rows_of)
    now = timezone.now()
    snapshots = []  # rows in the order of ["measure_id", *SNAPSHOT_FIELDS]
    for measure in measures:
        points, result = rows_of.get(measure.pk, ()), results[measure.pk]
        as_dict = result.summary() if result else {}
        snapshots.append((
            measure.pk,
            len(points),
            result.variation_icon if result else "",
            # Dashboards show no assurance from trial limits (too few points to read it).
            (result.assurance or "") if result and not too_few_points(result) else "",
            as_dict,
            points[-1][1] if points else None,
            result.latest_value if result else None,
            measure.data_changed_at,
            now,
            MeasureSnapshot.runs_signal_of(as_dict),
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
