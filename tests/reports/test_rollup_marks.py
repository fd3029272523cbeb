"""Issue 20 item 2: the board summary follows every change a roll-up counts — status,
PDSA cycles, progress scores, units, measures removed — whether the write went through a
service (signals ask for the build on commit) or through QuerySet.update / bulk_create /
raw SQL (the database's triggers mark the trust; the dashboard and reconcile build it)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from measures.models import Measure
from pdsa.models import Cycle
from projects import services as project_services
from projects.models import ProgressScore, Project
from reports import db_triggers, rollups, tasks
from reports.models import Rollup, RollupMark
from tests.factories import (
    ChangeIdeaFactory,
    MeasureFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _marked(trust) -> bool:
    return RollupMark.objects.filter(trust_id=trust.pk).exists()


def _clear():
    RollupMark.objects.all().delete()


def _statuses(html: str) -> dict[str, int]:
    table = html.split("Projects by status", 1)[1].split("</table>", 1)[0]
    return {label: int(n) for label, n in re.findall(
        r'<td class="nhsuk-table__cell">([^<]+)</td><td class="nhsuk-table__cell '
        r'nhsuk-table__cell--numeric">(\d+)</td>', table)}


def _direct(trust) -> dict[str, int]:
    board = Project.objects.filter(trust=trust, visibility__in=rollups.BOARD)
    return {label: board.filter(status=value).count() for value, label in Project.Status.choices}


def test_the_triggers_are_installed_on_this_database():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {row[0] for row in cursor.fetchall()}
    assert set(db_triggers.trigger_names()) <= names


def test_writes_that_send_no_signal_mark_the_trust(trust_a, trust_b, ward_a):
    project = ProjectFactory(trust=trust_a, visibility="trust", status="proposed")
    other = ProjectFactory(trust=trust_b, visibility="trust")
    idea = ChangeIdeaFactory(project=project)
    measure = MeasureFactory(project=project)
    _clear()

    Project.objects.filter(pk=project.pk).update(status="active")
    assert _marked(trust_a) and not _marked(trust_b)
    _clear()
    ProgressScore.objects.bulk_create([ProgressScore(
        project=project, score="2.0", scored_on=timezone.localdate(),
        recorded_by=project.created_by or UserFactory())])
    assert _marked(trust_a) and not _marked(trust_b)
    _clear()
    Cycle.objects.bulk_create([Cycle(change_idea=idea, number=1, objective="Try a huddle",
                                    created_by=UserFactory())])
    assert _marked(trust_a)
    _clear()
    Cycle.objects.filter(change_idea=idea).update(objective="Try a safety huddle")
    assert _marked(trust_a)
    _clear()
    type(ward_a).objects.filter(pk=ward_a.pk).update(name="Ward 12 (renamed)")
    assert _marked(trust_a)
    _clear()
    Measure.objects.filter(pk=measure.pk).update(name="Renamed only")  # not counted
    assert not _marked(trust_a)
    Measure.objects.filter(pk=measure.pk).delete()
    assert _marked(trust_a)
    _clear()
    # a project moved to another trust marks both
    Project.objects.filter(pk=other.pk).update(trust=trust_a)
    assert _marked(trust_a) and _marked(trust_b)
    _clear()
    with connection.cursor() as cursor:  # raw SQL too
        cursor.execute("UPDATE projects_project SET status = 'completed' WHERE id = %s",
                       [project.pk])
    assert _marked(trust_a)


def test_a_bulk_status_change_reaches_the_board_summary(client, bob, trust_a):
    projects = [ProjectFactory(trust=trust_a, visibility="trust", status="proposed")
                for _ in range(3)]
    tasks.reconcile_rollups()  # built, as a worker would
    assert not _marked(trust_a)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("reports:trust", args=[trust_a.ods_code])
    before = _statuses(client.get(url).content.decode())
    assert before["Proposed"] == 3

    Project.objects.filter(pk__in=[p.pk for p in projects[:2]]).update(status="approved")
    html = client.get(url).content.decode()
    # On the embedded default the build the page asked for ran at once: the summary agrees
    # with the tables, and the mark is taken.
    assert _statuses(html) == {**_direct(trust_a)} and _statuses(html)["Approved"] == 2
    assert not _marked(trust_a)


def test_service_writes_ask_for_the_build_once_a_transaction(trust_a, trust_b, quentin):
    project = ProjectFactory(trust=trust_a, visibility="trust", status="proposed",
                             lead=quentin)
    project_services.project_transition(by=quentin, project=project, to="approved")
    for day in (3, 2, 1):
        project_services.progress_score_record(
            by=quentin, project=project, score="1.5",
            scored_on=timezone.localdate() - dt.timedelta(days=day))
    ProjectFactory(trust=trust_b, visibility="trust")
    # The test's transaction never commits: every callback asked for is still queued.
    asks = [func.trust_id for _, func, _ in connection.run_on_commit
            if type(func).__name__ == "_RollupRequest"]
    assert sorted(asks) == sorted([trust_a.pk, trust_b.pk])  # one a trust, however many rows


def test_service_writes_rebuild_the_summary_on_commit(
        client, bob, trust_a, quentin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        project = ProjectFactory(trust=trust_a, visibility="trust", status="proposed",
                                 lead=quentin)
    month = rollups.month_of(timezone.localdate())
    assert Rollup.objects.get(trust=trust_a, unit=None, month=month).by_status == {
        "proposed": 1}
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_transition(by=quentin, project=project, to="approved")
    row = Rollup.objects.get(trust=trust_a, unit=None, month=month)
    assert row.by_status.get("approved") == 1 and row.dirty_since is None
    _clear()  # nothing left for the page to ask for: it shows what the commit built
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("reports:trust", args=[trust_a.ods_code])).content.decode()
    assert _statuses(html)["Approved"] == 1 and _statuses(html)["Proposed"] == 0


def test_reconcile_builds_marked_trusts_and_drops_marks_of_trusts_gone(trust_a):
    ProjectFactory(trust=trust_a, visibility="trust", status="active")
    tasks.reconcile_rollups()
    Project.objects.filter(trust=trust_a).update(status="completed")
    RollupMark.objects.create(trust_id=987654321, wanted_since=timezone.now())
    assert trust_a.pk in rollups.trusts_behind()
    assert not RollupMark.objects.filter(trust_id=987654321).exists()
    tasks.reconcile_rollups()
    row = Rollup.objects.get(trust=trust_a, unit=None,
                             month=rollups.month_of(timezone.localdate()))
    assert row.by_status.get("completed") == 1 and not _marked(trust_a)


def test_a_unit_with_its_own_page_follows_bulk_moves(client, bob, trust_a):
    ward = UnitFactory(trust=trust_a, name="Ward 9", kind="ward")
    project = ProjectFactory(trust=trust_a, visibility="trust", status="active")
    tasks.reconcile_rollups()
    Project.objects.filter(pk=project.pk).update(unit=ward)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("reports:unit", args=[trust_a.ods_code, ward.pk])).content.decode()
    assert _statuses(html)["Active"] == 1
