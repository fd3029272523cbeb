"""The demo's history (issue 20 item 3): the seeders create every row today, so the
12-month trends were empty but for this month and the board read "14 progress scores in
the last 30 days". This dates each demo row to when its story says it happened: a project
from its start date, its status changes spread after it, each progress score when it was
scored, each PDSA cycle when it was planned (and changed when its last stage was done).
Nothing is dated in the future. Run by seed_demo before the roll-ups are built from
history; a row already dated (a second seed) is left alone."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from pdsa.models import Cycle
from projects.models import ProgressScore, Project


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def backdate(projects=None) -> int:
    """Date the history of `projects` (default: every project with a start date before
    the day it was created). Returns how many projects it dated."""
    now = timezone.now()
    today = timezone.localdate()
    qs = projects if projects is not None else Project.objects.all()
    done = 0
    for project in qs.filter(start_date__isnull=False).order_by("pk"):
        began = min(_at(project.start_date, 9), now - dt.timedelta(hours=1))
        if timezone.localdate(project.created_at) <= project.start_date:
            continue  # already dated
        Project.objects.filter(pk=project.pk).update(created_at=began)
        # Status history: created at the start, each later change a few weeks apart, the
        # last no later than yesterday (the page's "what changed" keeps its own dates).
        rows = list(project.history.order_by("history_date", "history_id")
                    .values_list("history_id", flat=True))
        if rows:
            room = max(now - dt.timedelta(days=1) - began, dt.timedelta(0))
            step = min(dt.timedelta(days=30), room / max(len(rows), 1))
            for i, history_id in enumerate(rows):
                project.history.filter(history_id=history_id).update(
                    history_date=began + step * i)
        for score in ProgressScore.objects.filter(project=project):
            ProgressScore.objects.filter(pk=score.pk).update(
                recorded_at=min(_at(score.scored_on, 16), now))
        for cycle in Cycle.objects.filter(change_idea__project=project):
            planned = cycle.planned_start or project.start_date
            created = min(max(_at(planned - dt.timedelta(days=2)), began), now)
            last = cycle.key_date or planned
            changed = min(max(_at(min(last, today), 15), created), now)
            Cycle.objects.filter(pk=cycle.pk).update(created_at=created, updated_at=changed)
        done += 1
    return done
