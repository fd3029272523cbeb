"""Celery tasks for dashboards: thin wrappers around services, ids as arguments."""

from __future__ import annotations

import datetime as dt
import logging

from celery import group, shared_task
from django.db import DatabaseError, InterfaceError, transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.utils import timezone

from measures import snapshots
from measures.models import Measure
from measures.signals import snapshots_stored
from organisations.capability import capability_changed
from projects.models import ChangeIdea
from reports import board_pack, comparisons, dashboard_cache, learning, rollups
from reports import national as national_figures

TRANSIENT = (DatabaseError, InterfaceError)
# Measures per chunk of the national rebuild: one chunk is a few queries and well under a
# second of work, so a chunk lost with a killed worker costs little to redo.
REBUILD_CHUNK = 500
# Seconds a roll-up build waits after the first refresh that asks for it, so the refreshes
# of one upload (or one rebuild chunk) are summarised by one build.
ROLLUP_DEBOUNCE = 5
log = logging.getLogger(__name__)


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
    if not ids:
        return 0
    # The roll-ups follow through reconcile_rollups (their trusts' snapshots are now newer
    # than their roll-ups): one build a trust, not one a chunk. The kept dashboards of the
    # chunk's trusts are marked out of date now (one query and one cache write a chunk).
    done = snapshots.measures_refresh_batch(ids)
    dashboard_cache.touch(rollups.trust_ids_of_measures(ids))
    return done


@shared_task(name="reports.tasks.build_board_pack", time_limit=600, soft_time_limit=540)
def build_board_pack(pack_id: int) -> bool:
    """Build a board pack someone asked for (see reports.board_pack.build)."""
    return board_pack.build(pack_id=pack_id)


@shared_task(
    name="reports.tasks.refresh_rollups",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    time_limit=300,
    soft_time_limit=240,
)
def refresh_rollups(trust_id: int) -> bool:
    """Build this month's roll-ups of a trust if a build is still wanted (see
    reports.rollups): of many sends, and of several workers, one builds. True if built."""
    if not rollups.claim(trust_id):
        return False
    try:
        rollups.build(trust_id)
    except Exception:
        rollups.mark_again(trust_id)
        raise
    return True


def request_rollups(trust_id: int) -> bool:
    """Ask for a trust's roll-ups; sends the build (delayed by ROLLUP_DEBOUNCE) only if none
    is wanted already. Returns whether it sent one. A broker that is down leaves the mark
    set: `reconcile_rollups` sends the build later."""
    if not rollups.request(trust_id):
        return False
    try:
        refresh_rollups.apply_async((trust_id,), countdown=ROLLUP_DEBOUNCE)
    except Exception:  # noqa: BLE001 — broker down: the mark stays, reconcile retries
        log.warning("Could not enqueue the roll-ups of trust %s; reconcile will", trust_id)
    return True


def _after_snapshots(measure_ids: list[int]) -> None:
    trust_ids = rollups.trust_ids_of_measures(measure_ids)
    dashboard_cache.touch(trust_ids)
    for trust_id in trust_ids:
        request_rollups(trust_id)


@receiver(snapshots_stored, dispatch_uid="reports.rollups")
def _on_snapshots_stored(sender, measure_ids, **kwargs):
    """Measures stored snapshots: once that commits, ask for their trusts' roll-ups."""
    ids = list(measure_ids)
    transaction.on_commit(lambda: _after_snapshots(ids))


@shared_task(name="reports.tasks.reconcile_rollups", time_limit=600, soft_time_limit=540)
def reconcile_rollups() -> int:
    """Periodic: send the roll-up builds of trusts whose roll-up is missing, still wanted
    (a mark left by a dead broker) or older than their newest snapshot (after the nightly
    rebuild): one task a trust, spread across workers; a duplicate finds no mark and stops.
    Returns how many it sent."""
    behind = rollups.trusts_behind()
    for trust_id in behind:
        rollups.request(trust_id)
        refresh_rollups.delay(trust_id)
    return len(behind)


@shared_task(name="reports.tasks.backfill_rollups", time_limit=1800, soft_time_limit=1700)
def backfill_rollups(trust_id: int | None = None, months: int = 12) -> int:
    """Build the last `months` months of roll-ups from history, for one trust or all."""
    ids = [trust_id] if trust_id else rollups.trusts_with_projects()
    return sum(rollups.build(tid, months=months) for tid in ids)


# ---- comparisons of trusts (reports.comparisons): nightly, and debounced after changes -----
# Seconds a comparison's build waits after the first change that asks for it, so the
# refreshes of one upload (or of a rebuild chunk) are compared by one build.
COMPARISON_DEBOUNCE = 10


@shared_task(
    name="reports.tasks.build_comparison",
    autoretry_for=TRANSIENT,
    retry_backoff=True,
    max_retries=5,
    time_limit=300,
    soft_time_limit=240,
)
def build_comparison(kind: str, object_id: int, *, force: bool = False) -> bool:
    """Build one comparison if a build is still wanted (or `force`): of many sends, one
    builds. True if built."""
    if not force and not comparisons.claim(kind, object_id):
        return False
    try:
        return comparisons.build(kind, object_id)
    except Exception:
        comparisons.mark_again(kind, object_id)
        raise


def request_comparison(kind: str, object_id: int) -> bool:
    """Ask for a comparison's rebuild; sends it (delayed) only if none is wanted already.
    A broker that is down leaves the mark set: the nightly build catches it up."""
    if not comparisons.request(kind, object_id):
        return False
    try:
        build_comparison.apply_async((kind, object_id), countdown=COMPARISON_DEBOUNCE)
    except Exception:  # noqa: BLE001 — broker down: the mark stays, the nightly build runs
        log.warning("Could not enqueue comparison %s %s", kind, object_id)
    return True


def _comparisons_after_snapshots(measure_ids: list[int]) -> None:
    for kind, object_id in comparisons.keys_of_measures(measure_ids):
        request_comparison(kind, object_id)


@receiver(snapshots_stored, dispatch_uid="reports.comparisons")
def _on_snapshots_stored_compare(sender, measure_ids, **kwargs):
    """Measures stored snapshots: once that commits, rebuild the comparisons reading them."""
    ids = list(measure_ids)
    transaction.on_commit(lambda: _comparisons_after_snapshots(ids))


@shared_task(name="reports.tasks.build_all_comparisons", time_limit=600, soft_time_limit=540)
def build_all_comparisons() -> int:
    """Nightly: rebuild every comparison (one task each, spread across workers) and drop
    those no longer comparable. Returns how many it sent."""
    comparisons.remove_orphans()
    keys = comparisons.comparable_keys()
    if keys:
        group(build_comparison.si(kind, object_id, force=True)
              for kind, object_id in keys).apply_async()
    return len(keys)


# ---- learning repository (reports/learning.py; receivers in reports/learning_signals.py) --


@shared_task(name="reports.tasks.refresh_learning", autoretry_for=TRANSIENT, max_retries=3,
             retry_backoff=True, time_limit=120, soft_time_limit=100)
def refresh_learning(kind: str, object_id: int) -> int:
    """Rebuild the repository rows of one project ("project", or "change_idea" for the
    project of that change idea), collaborative or case study. Returns rows stored."""
    if kind == "change_idea":
        project_id = ChangeIdea.objects.filter(pk=object_id).values_list(
            "project_id", flat=True).first()
        return learning.refresh_project(project_id) if project_id else 0
    if kind == "project":
        return learning.refresh_project(object_id)
    if kind == "collaborative":
        return learning.refresh_collaborative(object_id)
    if kind == "case_study":
        return learning.refresh_case_study(object_id)
    raise ValueError(f"Unknown learning kind {kind!r}")


@shared_task(name="reports.tasks.rebuild_learning", time_limit=1800, soft_time_limit=1700)
def rebuild_learning() -> int:
    """Nightly: rebuild the whole learning repository (catches anything a lost refresh
    missed, and trust renames). Returns rows stored."""
    return learning.rebuild_all()


# ---- national activity and capability (reports/national.py; issue 14, items 1, 3, 6) ------


@shared_task(name="reports.tasks.build_national", autoretry_for=TRANSIENT, max_retries=3,
             retry_backoff=True, time_limit=600, soft_time_limit=540)
def build_national() -> int:
    """Nightly, and after capability data changes: rebuild the national activity table and
    the capability and NHS IMPACT figures. Returns trusts built."""
    return national_figures.build()


def _after_capability_change() -> None:
    national_figures.mark_dirty()
    try:
        build_national.apply_async(countdown=ROLLUP_DEBOUNCE)
    except Exception:  # noqa: BLE001 — broker down: the nightly build catches up
        log.warning("Could not enqueue the national build; the nightly build will")


@receiver(capability_changed, dispatch_uid="reports.national")
def _on_capability_changed(sender, trust_id=None, **kwargs):
    """Sent by organisations.capability after its change committed."""
    _after_capability_change()
