"""The outbox: data writes mark measures dirty; a rebuild stores a snapshot and clears it."""

from datetime import date

import pytest
from django.db import transaction

from measures import services, snapshots, tasks
from measures.models import Measure, MeasureSnapshot
from tests.factories import DataPointFactory, MeasureFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _points(measure, values):
    for i, v in enumerate(values):
        DataPointFactory(measure=measure, period=date(2024 + i // 12, i % 12 + 1, 1), value=v)


def test_mark_dirty_rebuilds_on_commit_in_eager_mode():
    measure = MeasureFactory(direction=Measure.Direction.INCREASE, target=50)
    with transaction.atomic():
        _points(measure, [10, 12, 11, 13, 12, 11, 12, 30, 31, 32, 33, 34, 35, 36])
        services.measure_mark_dirty(measure_id=measure.pk)
    snapshot = MeasureSnapshot.objects.get(measure=measure)
    assert snapshot.n_points == 14
    assert snapshot.variation_icon.startswith("improvement")
    assert Measure.objects.get(pk=measure.pk).dirty_since is None


def test_broker_failure_keeps_the_write_and_the_mark(monkeypatch):
    measure = MeasureFactory()

    def broker_down(*args, **kwargs):
        from kombu.exceptions import OperationalError

        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.refresh_measure, "delay", broker_down)
    with transaction.atomic():
        _points(measure, [1, 2, 3])
        services.measure_mark_dirty(measure_id=measure.pk)
    assert measure.points.count() == 3
    assert Measure.objects.get(pk=measure.pk).dirty_since is not None
    assert not MeasureSnapshot.objects.filter(measure=measure).exists()
    # The periodic reconcile picks it up.
    assert tasks.reconcile() == 1
    assert Measure.objects.get(pk=measure.pk).dirty_since is None
    assert MeasureSnapshot.objects.get(measure=measure).n_points == 3


def test_refresh_is_idempotent_and_quiet_for_a_deleted_measure():
    measure = MeasureFactory()
    _points(measure, [4, 5, 6])
    assert snapshots.measure_refresh(measure_id=measure.pk)
    assert snapshots.measure_refresh(measure_id=measure.pk)
    assert MeasureSnapshot.objects.filter(measure=measure).count() == 1
    pk = measure.pk
    measure.delete()
    assert snapshots.measure_refresh(measure_id=pk) is False


def test_a_write_during_the_rebuild_keeps_the_mark():
    measure = MeasureFactory(chart=Measure.Chart.G)  # G charts are computed one by one
    _points(measure, [4, 5, 6])
    from django.utils import timezone

    Measure.objects.filter(pk=measure.pk).update(dirty_since=timezone.now())
    original = snapshots.measure_spc_result

    def newer_write_arrives(m, points=None):
        Measure.objects.filter(pk=m.pk).update(dirty_since=timezone.now())
        return original(m, points)

    snapshots.measure_spc_result = newer_write_arrives
    try:
        snapshots.measure_refresh(measure_id=measure.pk)
    finally:
        snapshots.measure_spc_result = original
    assert Measure.objects.get(pk=measure.pk).dirty_since is not None


def test_reconcile_repairs_a_snapshot_older_than_its_data_without_a_dirty_mark():
    # A rebuild lost with a killed worker: the data changed after the snapshot was built,
    # and the dirty mark is gone (cleared by a rebuild that saw older data).
    fresh, stale = MeasureFactory(), MeasureFactory()
    for measure in (fresh, stale):
        with transaction.atomic():
            _points(measure, [1, 2, 3])
            services.measure_mark_dirty(measure_id=measure.pk)
    assert tasks.reconcile() == 0  # everything is up to date
    DataPointFactory(measure=stale, period=date(2025, 1, 1), value=9)
    from django.utils import timezone

    Measure.objects.filter(pk=stale.pk).update(data_changed_at=timezone.now(),
                                               dirty_since=None)
    assert snapshots.stale_measure_ids(10) == [stale.pk]
    assert tasks.reconcile() == 1
    assert MeasureSnapshot.objects.get(measure=stale).n_points == 4
    assert snapshots.stale_measure_ids(10) == []


def test_a_measure_with_no_snapshot_is_rebuilt_by_reconcile():
    measure = MeasureFactory()
    _points(measure, [5, 6])
    assert not MeasureSnapshot.objects.filter(measure=measure).exists()
    assert tasks.reconcile() == 1
    assert MeasureSnapshot.objects.get(measure=measure).n_points == 2


# ---- the batched rebuild (issue 12: the national rebuild at scale) ---------------------------


def _mixed_measures(n):
    """n measures of every chart type, directions and targets, some with a re-baseline, one
    without data: what a real trust has."""
    charts = ["xmr", "xmr", "xmr", "run", "p", "u", "c", "g", "t"]
    measures = []
    for i in range(n):
        chart = charts[i % len(charts)]
        measure = MeasureFactory(
            chart=chart, frequency="event" if chart in ("g", "t") else "monthly",
            direction=["increase", "decrease"][i % 2], target=[None, 10.0][(i // 2) % 2])
        measures.append(measure)
        if i == n - 1:
            continue  # no data yet
        for k in range(14 + i % 5):
            DataPointFactory(
                measure=measure, period=date(2023 + k // 12, k % 12 + 1, 1),
                value=None if chart in ("p", "u", "t") else float((k * 7 + i) % 11 + 1),
                numerator=float((k * 3 + i) % 9) if chart in ("p", "u") else None,
                denominator=20.0 if chart in ("p", "u") else None,
                rebaseline=(k == 9 and i % 3 == 0))
    return measures


def test_the_batch_stores_what_one_by_one_computation_gives():
    measures = _mixed_measures(27)
    assert snapshots.measures_refresh_batch([m.pk for m in measures]) == 27
    for measure in measures:
        snap = MeasureSnapshot.objects.get(measure=measure)
        points = list(measure.points.order_by("period"))
        if not points:
            assert (snap.n_points, snap.result, snap.variation_icon) == (0, {}, "")
            continue
        expected = snapshots.measure_spc_result(measure, points)
        whole = expected.to_dict()
        # The snapshot keeps the summary: everything but the points, the latest point as
        # the whole result writes it, and the last 24 plotted values.
        assert snap.result == {**{k: v for k, v in whole.items() if k != "points"},
                               "n_points": len(whole["points"]),
                               "latest": whole["points"][-1],
                               "recent": [p["value"] for p in whole["points"][-24:]]}, \
            measure.chart
        assert snapshots.full_result(measure) == whole
        assert snap.variation_icon == expected.variation_icon
        assert snap.n_points == len(points) and snap.latest_period == points[-1].period


@pytest.mark.parametrize("n", [5, 60])
def test_the_batch_costs_the_same_queries_for_5_and_60_measures(n, django_assert_max_num_queries):
    ids = [m.pk for m in _mixed_measures(n)]
    MeasureSnapshot.objects.all().delete()
    # Savepoint, lock + measures, points, the store (SQLite: the upsert; PostgreSQL: temp
    # table, INSERT … ON CONFLICT, TRUNCATE), no dirty marks here.
    with django_assert_max_num_queries(8):
        assert snapshots.measures_refresh_batch(ids) == n
    assert MeasureSnapshot.objects.count() == n


def test_the_sparkline_from_the_summary_draws_what_the_whole_result_draws():
    from measures import charts

    for measure in _mixed_measures(9):
        snapshots.measures_refresh_batch([measure.pk])
        snap = MeasureSnapshot.objects.get(measure=measure)
        whole = snapshots.full_result(measure)
        assert charts.sparkline(snap.result) == charts.sparkline(whole)
        if len(whole.get("points", [])) >= 2:
            assert "<polyline" in charts.sparkline(snap.result)


@pytest.mark.parametrize("chart", ["run", "p", "u", "c"])
def test_measures_batched_together_store_their_own_readings(chart):
    """Measures of one chart with the same length, direction, target and rate multiplier
    share one `qic_batch` pass in the rebuild; each still stores its one-by-one reading
    (a gap in one of them sends that one through the single chart)."""
    measures = []
    for i in range(8):
        measure = MeasureFactory(chart=chart, direction="decrease", target=4.0,
                                 rate_per=1000 if chart == "u" else 1)
        measures.append(measure)
        for k in range(15):
            gap = i == 3 and k == 6
            DataPointFactory(
                measure=measure, period=date(2023 + k // 12, k % 12 + 1, 1),
                value=None if chart in ("p", "u") or gap else float((k * 5 + i * 3) % 13),
                numerator=(None if gap else float((k * 3 + i) % 9)) if chart in ("p", "u")
                else None,
                denominator=float(20 + k + i) * (50 if chart == "u" else 1)
                if chart in ("p", "u") else None,
                rebaseline=k == 10)
    assert snapshots.measures_refresh_batch([m.pk for m in measures]) == 8
    for measure in measures:
        expected = snapshots.measure_spc_result(measure, list(measure.points.order_by("period")))
        assert MeasureSnapshot.objects.get(measure=measure).result == expected.summary()


def test_points_are_read_by_measure_through_the_one_index_that_keeps_their_order():
    """The unique (measure, period) index serves every lookup by measure, in period order.
    A second index on the measure alone (Django's default for a foreign key) made
    PostgreSQL read a rebuild chunk's points through it and sort them: twice the time
    (migration measures 0012, issue 21)."""
    from django.db import connection

    from measures.models import DataPoint

    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, DataPoint._meta.db_table)
    by_columns = {tuple(c["columns"]): c for c in found.values() if c["index"] or c["unique"]}
    assert by_columns[("measure_id", "period")]["unique"]
    assert ("measure_id",) not in by_columns
