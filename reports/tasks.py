"""Celery tasks for dashboards: thin wrappers around services, ids as arguments."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from kombu.exceptions import OperationalError as BrokerError

TRANSIENT = (DatabaseError, InterfaceError, BrokerError)


@shared_task(name="reports.tasks.ping", time_limit=10, soft_time_limit=8)
def ping() -> str:
    """A no-op that proves a worker is consuming (used by the integration tests)."""
    return "pong"


@shared_task(
    name="reports.tasks.refresh_measure",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=100,
)
def refresh_measure(measure_id: int) -> bool:
    from reports import services

    return services.measure_refresh(measure_id=measure_id)


@shared_task(name="reports.tasks.reconcile", time_limit=600, soft_time_limit=540)
def reconcile(limit: int = 500) -> int:
    """Rebuild measures whose data changed but whose snapshot was not (broker was down)."""
    from projects.models import Measure
    from reports import services

    ids = list(
        Measure.objects.filter(dirty_since__isnull=False)
        .order_by("dirty_since")
        .values_list("pk", flat=True)[:limit]
    )
    for measure_id in ids:
        services.measure_refresh(measure_id=measure_id)
    return len(ids)


@shared_task(name="reports.tasks.national_rebuild", time_limit=3600, soft_time_limit=3500)
def national_rebuild() -> int:
    """Nightly: rebuild every measure's snapshot (catches anything reconcile missed)."""
    from projects.models import Measure
    from reports import services

    count = 0
    for measure_id in Measure.objects.values_list("pk", flat=True).iterator():
        services.measure_refresh(measure_id=measure_id)
        count += 1
    return count
