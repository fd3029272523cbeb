"""A saved data point reaches the dashboards' roll-up through Redis and a live worker:
the measure's refresh asks for its trust's roll-ups, the debounced build follows."""

import time
from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone

from measures import services
from reports.models import Rollup
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=40.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


def test_a_saved_point_reaches_the_rollup_through_the_broker(live_worker):
    project = ProjectFactory()
    measure = MeasureFactory(project=project)
    values = [8, 9, 7, 8, 9, 8, 7, 9, 8, 8, 9, 7, 5, 5, 4, 5, 5, 4, 5, 4]
    with transaction.atomic():
        for i, v in enumerate(values):
            DataPointFactory(measure=measure, period=date(2024 + i // 12, i % 12 + 1, 1), value=v)
        services.measure_mark_dirty(measure_id=measure.pk)
    month = timezone.localdate().replace(day=1)

    def built():
        row = Rollup.objects.filter(trust=project.trust, unit=None, month=month).first()
        return row is not None and row.built_at is not None and row.by_variation == {
            "improvement_low": 1}

    # refresh_measure on the worker, then refresh_rollups after its 5 s debounce
    assert _wait_for(built)
    assert Rollup.objects.get(trust=project.trust, unit=None, month=month).dirty_since is None
