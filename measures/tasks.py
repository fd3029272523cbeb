"""Celery tasks for measures: thin wrappers around `measures.snapshots`, ids as arguments."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from kombu.exceptions import OperationalError as BrokerError

from measures import snapshots

TRANSIENT = (DatabaseError, InterfaceError, BrokerError)


@shared_task(
    name="measures.tasks.refresh_measure",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    time_limit=120,
    soft_time_limit=100,
)
def refresh_measure(measure_id: int) -> bool:
    return snapshots.measure_refresh(measure_id=measure_id)


@shared_task(name="measures.tasks.reconcile", time_limit=600, soft_time_limit=540)
def reconcile(limit: int = 500) -> int:
    """Rebuild measures whose snapshot does not reflect their data: a dirty mark left by a
    dead broker, or a rebuild lost with a killed worker (snapshot older than the data)."""
    ids = snapshots.stale_measure_ids(limit)
    for measure_id in ids:
        snapshots.measure_refresh(measure_id=measure_id)
    return len(ids)
