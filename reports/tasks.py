"""Celery tasks for dashboards: thin wrappers around services, ids as arguments."""

from celery import shared_task


@shared_task(name="reports.tasks.ping", time_limit=10)
def ping() -> str:
    """A no-op used by the health of the worker and the integration tests."""
    return "pong"


@shared_task(name="reports.tasks.reconcile", time_limit=120, soft_time_limit=100)
def reconcile() -> int:
    """Pick up measures whose data changed but whose snapshot was not rebuilt."""
    from projects.models import Measure

    return Measure.objects.filter(dirty_since__isnull=False).count()


@shared_task(name="reports.tasks.national_rebuild", time_limit=1800, soft_time_limit=1700)
def national_rebuild() -> int:
    return 0
