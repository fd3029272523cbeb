"""Keep the learning repository current: when a project, change idea, PDSA cycle,
collaborative, learning post, change package idea or case study is saved or deleted, send
`reports.tasks.refresh_learning` for what it belongs to once the write commits.

If the broker is down the write still succeeds (a warning is logged, without any of the
text) and the nightly `rebuild_learning` catches up. Connected by ReportsConfig.ready().
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from collaboratives.models import Collaborative, Enrolment, LearningPost, PackageIdea
from pdsa.models import Cycle
from projects.models import ChangeIdea, Project
from reports.models import CaseStudy
from reports.tasks import refresh_learning

log = logging.getLogger(__name__)


def _send(kind: str, object_id: int | None) -> None:
    if not object_id:
        return

    def enqueue():
        try:
            refresh_learning.delay(kind, object_id)
        except Exception:  # noqa: BLE001 - the write stands; the nightly rebuild catches up
            log.warning("Could not refresh the learning repository for %s %s", kind, object_id)

    transaction.on_commit(enqueue)


@receiver([post_save, post_delete], sender=Project, dispatch_uid="learning.project")
def _project_changed(sender, instance, **kwargs):
    _send("project", instance.pk)


@receiver([post_save, post_delete], sender=ChangeIdea, dispatch_uid="learning.change_idea")
def _change_idea_changed(sender, instance, **kwargs):
    _send("project", instance.project_id)


@receiver([post_save, post_delete], sender=Cycle, dispatch_uid="learning.cycle")
def _cycle_changed(sender, instance, **kwargs):
    _send("change_idea", instance.change_idea_id)


@receiver([post_save, post_delete], sender=Collaborative, dispatch_uid="learning.collab")
def _collaborative_changed(sender, instance, **kwargs):
    _send("collaborative", instance.pk)


@receiver([post_save, post_delete], sender=LearningPost, dispatch_uid="learning.post")
@receiver([post_save, post_delete], sender=PackageIdea, dispatch_uid="learning.package")
@receiver([post_save, post_delete], sender=Enrolment, dispatch_uid="learning.enrolment")
def _collaborative_part_changed(sender, instance, **kwargs):
    _send("collaborative", instance.collaborative_id)


@receiver([post_save, post_delete], sender=CaseStudy, dispatch_uid="learning.case_study")
def _case_study_changed(sender, instance, **kwargs):
    _send("case_study", instance.pk)
