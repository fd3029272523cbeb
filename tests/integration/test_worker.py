"""The write path end to end on real services: a data write commits, the live Celery worker
rebuilds the measure's SPC snapshot from PostgreSQL, and the dirty mark clears."""

import time
from datetime import date

import pytest
from django.db import connection, transaction

from measures import services
from measures.models import Measure, MeasureSnapshot
from measures.tasks import reconcile
from reports.tasks import ping
from tests.factories import DataPointFactory, MeasureFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_runs_on_postgres_with_the_connection_pool(live_worker):
    assert connection.vendor == "postgresql"
    assert "pool" in connection.settings_dict["OPTIONS"]


def test_worker_answers_a_task_through_redis(live_worker):
    assert ping.delay().get(timeout=30) == "pong"


def test_data_write_is_picked_up_by_the_worker(live_worker):
    measure = MeasureFactory(chart=Measure.Chart.XMR, direction=Measure.Direction.DECREASE)
    values = [8, 9, 7, 8, 9, 8, 7, 9, 8, 8, 9, 7, 5, 5, 4, 5, 5, 4, 5, 4]
    with transaction.atomic():
        for i, v in enumerate(values):
            DataPointFactory(measure=measure, period=date(2024 + i // 12, i % 12 + 1, 1), value=v)
        services.measure_mark_dirty(measure_id=measure.pk)
    # on_commit has sent refresh_measure to Redis; the worker computes from PostgreSQL.
    assert _wait_for(lambda: MeasureSnapshot.objects.filter(measure=measure).exists())
    snapshot = MeasureSnapshot.objects.get(measure=measure)
    assert snapshot.n_points == len(values)
    assert snapshot.variation_icon == "improvement_low"
    assert _wait_for(lambda: Measure.objects.get(pk=measure.pk).dirty_since is None)


def test_reconcile_on_the_worker_clears_missed_marks(live_worker):
    measure = MeasureFactory()
    DataPointFactory(measure=measure, period=date(2025, 1, 1), value=3)
    from django.utils import timezone

    # A mark left behind as if the broker had been down when the data was written.
    Measure.objects.filter(pk=measure.pk).update(dirty_since=timezone.now())

    reconcile.delay()  # results are not stored (CELERY_TASK_IGNORE_RESULT): watch the data
    assert _wait_for(lambda: Measure.objects.get(pk=measure.pk).dirty_since is None)
    assert MeasureSnapshot.objects.get(measure=measure).n_points == 1
