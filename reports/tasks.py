"""Celery tasks for dashboards: thin wrappers around services, ids as arguments."""

from __future__ import annotations

import datetime as dt

from celery import group, shared_task
from django.db import DatabaseError, InterfaceError
from django.db.models import F, Q
from django.utils import timezone

from measures import snapshots
from measures.models import Measure
from reports import board_pack

TRANSIENT = (DatabaseError, InterfaceError)
# Measures per chunk of the national rebuild: one chunk is a few queries and well under a
# second of work, so a chunk lost with a killed worker costs little to redo.
REBUILD_CHUNK = 500


@shared_task(name="reports.tasks.ping", time_limit=10, soft_time_limit=8, ignore_result=False)
def ping() -> str:
    """A no-op that proves a worker is consuming (used by the integration tests)."""
    return "pong"


def _chunks(ids: list[int], size: int) -> list[tuple[int, int]]:
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


@shared_task(name="reports.tasks.national_rebuild", time_limit=600, soft_time_limit=540)
def national_rebuild(started: str | None = None, chunk: int = REBUILD_CHUNK) -> int:
    """Nightly: rebuild every measure's snapshot (catches anything reconcile missed).

    Splits the measures into ranges of `chunk` ids and sends one `rebuild_chunk` task per
    range to the "bulk" queue, so any number of workers share the work and interactive
    refreshes (the default queue) never wait behind it. `started` (ISO time, default now)
    makes it resumable and safe to run twice: a chunk skips measures whose snapshot was
    built after `started` from their latest data, so sending the same rebuild again only
    redoes what is not done. Returns the number of chunks sent.
    """
    started = started or timezone.now().isoformat()
    ids = list(Measure.objects.order_by("pk").values_list("pk", flat=True))
    ranges = _chunks(ids, chunk)
    if ranges:
        group(rebuild_chunk.si(first, last, started) for first, last in ranges).apply_async()
    return len(ranges)


@shared_task(
    name="reports.tasks.rebuild_chunk",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    time_limit=300,
    soft_time_limit=240,
)
def rebuild_chunk(first_id: int, last_id: int, started: str) -> int:
    """Rebuild the snapshots of measures first_id..last_id not already rebuilt since
    `started` (see national_rebuild). Idempotent; returns how many it rebuilt."""
    since = dt.datetime.fromisoformat(started)
    done = Q(snapshot__computed_at__gte=since, dirty_since__isnull=True) & (
        Q(data_changed_at__isnull=True) | Q(snapshot__data_as_of__gte=F("data_changed_at"))
    )
    ids = list(
        Measure.objects.filter(pk__gte=first_id, pk__lte=last_id).exclude(done)
        .values_list("pk", flat=True)
    )
    return snapshots.measures_refresh_batch(ids) if ids else 0


@shared_task(name="reports.tasks.build_board_pack", time_limit=600, soft_time_limit=540)
def build_board_pack(pack_id: int) -> bool:
    """Build a board pack someone asked for (see reports.board_pack.build)."""
    return board_pack.build(pack_id=pack_id)
