"""Celery tasks for collaboratives: thin wrappers around `collaboratives.dashboard`, ids as
arguments, idempotent (the snapshot is `update_or_create`d on the collaborative)."""

from celery import shared_task
from django.db import DatabaseError, InterfaceError
from kombu.exceptions import OperationalError as BrokerError

from collaboratives import dashboard

TRANSIENT = (DatabaseError, InterfaceError, BrokerError)


@shared_task(
    name="collaboratives.tasks.refresh_dashboard",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    time_limit=300,
    soft_time_limit=240,
)
def refresh_dashboard(collaborative_id: int) -> bool:
    return dashboard.refresh(collaborative_id=collaborative_id)


@shared_task(name="collaboratives.tasks.reconcile", time_limit=600, soft_time_limit=540)
def reconcile(limit: int = 200) -> int:
    """Rebuild dashboards older than their data: teams enter data on their measures' pages
    (measures does not know about collaboratives), and a lost enqueue leaves one stale."""
    ids = dashboard.stale_ids(limit)
    for collaborative_id in ids:
        dashboard.refresh(collaborative_id=collaborative_id)
    return len(ids)
