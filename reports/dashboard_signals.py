"""Mark a trust's kept dashboards out of date (reports.dashboard_cache.touch) when what they
show is saved or deleted: its projects, units, measures, snapshots, change ideas, PDSA
cycles and progress scores, or the trust itself. Snapshots stored in bulk send
`snapshots_stored` instead (reports.tasks). Connected by ReportsConfig.ready().

What a roll-up counts (projects, units, progress scores, cycles, measures removed) also
asks for the trust's roll-up build once the change commits (`_want_rollups`: one request
a trust and transaction, however many rows were saved). Writes that send no signal
(QuerySet.update, bulk_create) are marked by the database instead (reports.db_triggers);
the dashboard page and the periodic reconcile ask for those builds.

The trust is read from the object, or from its project in one small query when the
project is not already loaded."""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from measures.models import Measure, MeasureSnapshot
from organisations.models import Trust, Unit
from pdsa.models import Cycle
from projects.models import ChangeIdea, ProgressScore, Project
from reports import dashboard_cache, tasks

log = logging.getLogger(__name__)


class _RollupRequest:
    """An on-commit callback asking for one trust's roll-ups; kept in the transaction's
    own list, so a rollback drops it with the change and a second save finds it there."""

    __qualname__ = "dashboard_signals._RollupRequest"  # on_commit(robust=True) logs it

    def __init__(self, trust_id: int):
        self.trust_id = trust_id
        self.sent = False

    def __call__(self):
        self.sent = True
        try:
            tasks.request_rollups(self.trust_id)
        except DatabaseError:  # gone just after the commit: the trigger's mark stays
            log.warning("Could not ask for the roll-ups of trust %s; reconcile will",
                        self.trust_id)


def _want_rollups(trust_id) -> None:
    if trust_id is None:
        return
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(
            isinstance(func, _RollupRequest) and func.trust_id == trust_id and not func.sent
            for _, func, _ in conn.run_on_commit):
        return
    # robust: the change is committed whatever happens here; a request that fails (the
    # database gone just after the commit) leaves the trigger's mark for reconcile.
    transaction.on_commit(_RollupRequest(trust_id), robust=True)


def _trust_of_project(instance, project_id):
    project = instance._state.fields_cache.get("project")
    if project is not None:
        return project.trust_id
    return Project.objects.filter(pk=project_id).values_list("trust_id", flat=True).first()


@receiver([post_save, post_delete], sender=Trust, dispatch_uid="dashboards.trust")
def _trust_changed(sender, instance, **kwargs):
    dashboard_cache.touch([instance.pk])


@receiver([post_save, post_delete], sender=Project, dispatch_uid="dashboards.project")
@receiver([post_save, post_delete], sender=Unit, dispatch_uid="dashboards.unit")
def _owned_by_trust(sender, instance, **kwargs):
    dashboard_cache.touch([instance.trust_id])
    _want_rollups(instance.trust_id)


@receiver([post_save, post_delete], sender=Measure, dispatch_uid="dashboards.measure")
@receiver([post_save, post_delete], sender=ChangeIdea, dispatch_uid="dashboards.idea")
@receiver([post_save, post_delete], sender=ProgressScore, dispatch_uid="dashboards.score")
def _in_a_project(sender, instance, signal=None, **kwargs):
    trust_id = _trust_of_project(instance, instance.project_id)
    dashboard_cache.touch([trust_id])
    if sender is ProgressScore or signal is post_delete or kwargs.get("created"):
        _want_rollups(trust_id)


@receiver([post_save, post_delete], sender=MeasureSnapshot, dispatch_uid="dashboards.snap")
def _snapshot_changed(sender, instance, **kwargs):
    measure = instance._state.fields_cache.get("measure")
    if measure is not None:
        trust_id = _trust_of_project(measure, measure.project_id)
    else:
        trust_id = (Measure.objects.filter(pk=instance.measure_id)
                    .values_list("project__trust_id", flat=True).first())
    dashboard_cache.touch([trust_id])


@receiver([post_save, post_delete], sender=Cycle, dispatch_uid="dashboards.cycle")
def _cycle_changed(sender, instance, **kwargs):
    trust_id = (ChangeIdea.objects.filter(pk=instance.change_idea_id)
                .values_list("project__trust_id", flat=True).first())
    dashboard_cache.touch([trust_id])
    _want_rollups(trust_id)
