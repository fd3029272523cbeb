"""Celery tasks for dashboards: thin wrappers around services, ids as arguments."""

from celery import shared_task

from measures import snapshots
from measures.models import Measure


@shared_task(name="reports.tasks.ping", time_limit=10, soft_time_limit=8, ignore_result=False)
def ping() -> str:
    """A no-op that proves a worker is consuming (used by the integration tests)."""
    return "pong"


@shared_task(name="reports.tasks.national_rebuild", time_limit=3600, soft_time_limit=3500)
def national_rebuild() -> int:
    """Nightly: rebuild every measure's snapshot (catches anything reconcile missed)."""
    count = 0
    for measure_id in Measure.objects.values_list("pk", flat=True).iterator():
        snapshots.measure_refresh(measure_id=measure_id)
        count += 1
    return count
