"""Roll-ups: a trust's and each unit's month as the board sees it, built by Celery after
measure refreshes (debounced, idempotent), read by the dashboards with 12-month trends."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from measures import services as measure_services
from measures import snapshots
from measures.models import MeasureSnapshot
from pdsa import services as pdsa_services
from projects.models import ProgressScore, Project
from qi_portal.celery import app
from reports import rollups, tasks
from reports.models import Rollup
from tests.factories import (
    ChangeIdeaFactory,
    DataPointFactory,
    MeasureFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = rollups.previous_month(THIS_MONTH)


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _score(project, score, on):
    ProgressScore.objects.create(project=project, score=Decimal(score), scored_on=on,
                                 recorded_by=project.lead)
    Project.objects.filter(pk=project.pk).update(progress_score=Decimal(score),
                                                 progress_scored_on=on)


def _snap(project, variation, assurance="", latest=THIS_MONTH):
    measure = MeasureFactory(project=project)
    MeasureSnapshot.objects.create(measure=measure, n_points=20, result={},
                                   variation_icon=variation, assurance=assurance,
                                   latest_period=latest)
    return measure


def _cycle(project, idea=None, **fields):
    idea = idea or ChangeIdeaFactory(project=project)
    fields.setdefault("objective", "Test rounding on one bay for one week")
    fields.setdefault("planned_start", TODAY)
    return pdsa_services.cycle_create(change_idea=idea, by=project.lead, **fields)


@pytest.fixture
def small_trust(trust_a, ward_a):
    """Medicine (division) > Ward 7. Four projects the board may see, one team-only."""
    division = ward_a.parent
    on_ward = ProjectFactory(trust=trust_a, unit=ward_a, title="Falls on Ward 7")
    _score(on_ward, "1.5", LAST_MONTH)
    _score(on_ward, "2.5", TODAY)
    on_division = ProjectFactory(trust=trust_a, unit=division, status="proposed",
                                 visibility=Project.Visibility.EVERYONE, title="Sepsis")
    stale = ProjectFactory(trust=trust_a, title="Discharge",
                           start_date=TODAY - dt.timedelta(days=100))
    falling = ProjectFactory(trust=trust_a, unit=ward_a, title="Pressure ulcers")
    _score(falling, "3.0", LAST_MONTH - dt.timedelta(days=1))
    _score(falling, "2.0", TODAY)
    secret = ProjectFactory(trust=trust_a, unit=ward_a, title="Team-only audit",
                            visibility=Project.Visibility.TEAM, status="completed")
    _score(secret, "4.0", TODAY)
    improving = _snap(on_ward, "improvement_low", "consistent_pass")
    _snap(stale, "concern_high", "consistent_fail", latest=LAST_MONTH)
    _snap(on_division, "common_cause")
    gone = _snap(on_division, "common_cause",
                 latest=TODAY - rollups.MEASURE_STALE_AFTER - dt.timedelta(days=1))
    _snap(secret, "concern_low")
    # A ramp of two cycles linked to a measure: the second has all four features (prediction,
    # linked data, a study, a ramp), the first no study; and one on the team-only project.
    first = _cycle(on_ward, prediction="Falls will halve", measures=[improving])
    _cycle(on_ward, first.change_idea, prediction="Falls will halve again", follows=first,
           what_happened="Rounded hourly", results="Halved, as predicted",
           measures=[improving])
    _cycle(secret, prediction="Fewer")
    return {"ward": ward_a, "division": division, "on_ward": on_ward, "falling": falling,
            "secret": secret, "improving": improving, "gone": gone, "stale": stale}


def test_trust_rollup_counts_what_the_board_sees(trust_a, small_trust):
    rollups.build(trust_a.pk)
    row = Rollup.objects.get(trust=trust_a, unit=None, month=THIS_MONTH)
    assert row.by_status == {"active": 3, "proposed": 1}  # not the team-only completed one
    assert row.by_score == {"2.5": 1, "2.0": 1, "none": 2}
    assert row.projects_active == 3
    assert row.stale == 1
    assert (row.cycles_logged, row.cycles_all_four) == (2, 1)
    assert row.by_variation == {"improvement_low": 1, "concern_high": 1, "common_cause": 2}
    assert row.by_assurance == {"consistent_pass": 1, "consistent_fail": 1}
    assert (row.special_cause_improvement, row.special_cause_concern) == (1, 1)
    changes = row.changes
    assert changes["moved_up"] == [small_trust["on_ward"].pk]
    assert changes["moved_down"] == [small_trust["falling"].pk]
    assert changes["gone_stale"] == [small_trust["gone"].pk]
    assert changes["new_special_cause_count"] == 2
    assert row.has_icons and row.built_at is not None


def test_unit_rollups_cover_their_subtree(trust_a, small_trust):
    rollups.build(trust_a.pk)
    ward = Rollup.objects.get(unit=small_trust["ward"], month=THIS_MONTH)
    division = Rollup.objects.get(unit=small_trust["division"], month=THIS_MONTH)
    assert ward.by_status == {"active": 2}
    assert division.by_status == {"active": 2, "proposed": 1}
    assert ward.cycles_logged == division.cycles_logged == 2
    assert ward.by_variation == {"improvement_low": 1}
    assert division.by_variation == {"improvement_low": 1, "common_cause": 2}


def test_new_special_cause_compares_with_last_months_rollup(trust_a, small_trust):
    rollups.build(trust_a.pk)
    row = Rollup.objects.get(trust=trust_a, unit=None, month=THIS_MONTH)
    Rollup.objects.filter(pk=row.pk).update(month=LAST_MONTH)  # as if built last month
    extra = _snap(small_trust["on_ward"], "concern_low")
    rollups.build(trust_a.pk)
    now = Rollup.objects.get(trust=trust_a, unit=None, month=THIS_MONTH)
    assert now.changes["new_special_cause"] == [extra.pk]


def test_building_twice_leaves_one_row_per_scope(trust_a, small_trust):
    assert rollups.build(trust_a.pk) == 3  # the trust, Medicine, Ward 7
    first = Rollup.objects.get(trust=trust_a, unit=None, month=THIS_MONTH).built_at
    assert rollups.build(trust_a.pk) == 3
    assert Rollup.objects.filter(trust=trust_a, month=THIS_MONTH).count() == 3
    assert Rollup.objects.get(trust=trust_a, unit=None, month=THIS_MONTH).built_at >= first


def test_backfill_builds_twelve_months_from_history(trust_a, small_trust):
    # Registered three months ago (their first history row says so too).
    then = timezone.now() - dt.timedelta(days=92)
    Project.objects.filter(trust=trust_a).update(created_at=then)
    Project.history.filter(trust=trust_a).update(history_date=then)
    assert rollups.build(trust_a.pk, months=12) == 36
    last = Rollup.objects.get(trust=trust_a, unit=None, month=LAST_MONTH)
    assert not last.has_icons and last.by_variation == {}
    # Scores as they stood at the end of last month (from scored_on).
    assert last.by_score == {"1.5": 1, "3.0": 1, "none": 2}
    assert last.cycles_logged == 0
    old = Rollup.objects.get(trust=trust_a, unit=None,
                             month=rollups.last_months(12)[0])
    assert old.by_status == {}  # no project existed yet


def test_many_requests_send_one_build_and_one_worker_builds(trust_a, small_trust, settings):
    """The debounce: 2,000 refreshes before the build starts send one task; of several
    workers given the task only the first that claims the mark builds."""
    if settings.REDIS_URL:
        pytest.skip("sends to the in-memory broker only, never to a shared Redis")
    app.conf.task_always_eager = False
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
        sent = sum(tasks.request_rollups(trust_a.pk) for _ in range(2000))
        queued = conn.default_channel.queue_purge("celery")
    assert (sent, queued) == (1, 1)
    app.conf.task_always_eager = True
    builds = [tasks.refresh_rollups(trust_a.pk) for _ in range(3)]
    assert builds == [True, False, False]
    row = Rollup.objects.get(trust=trust_a, unit=None, month=THIS_MONTH)
    assert row.dirty_since is None and row.built_at is not None
    # A refresh after the build asks again (no update is lost).
    assert rollups.request(trust_a.pk) is True


def _rollup_builds(queries) -> int:
    """Builds of the trust's row (the row `request` made, then each build updates it)."""
    return sum(1 for q in queries
               if re.match(r'UPDATE "reports_rollup" SET .*"by_status" = ', q["sql"]))


def test_a_2000_row_upload_causes_one_rollup_build(trust_a, django_capture_on_commit_callbacks):
    project = ProjectFactory(trust=trust_a)
    measure = MeasureFactory(project=project)
    rows = [{"period": dt.date(1900 + i // 12, i % 12 + 1, 1), "value": float(i % 7)}
            for i in range(2000)]
    with CaptureQueriesContext(connection) as ctx:
        with django_capture_on_commit_callbacks(execute=True):
            measure_services.data_points_replace(measure=measure, by=project.lead, rows=rows)
    assert MeasureSnapshot.objects.get(measure=measure).n_points == 2000
    assert _rollup_builds(ctx.captured_queries) == 1  # one scope (no units), one build


def test_saving_a_data_point_updates_the_rollup_eagerly(trust_a, ward_a,
                                                       django_capture_on_commit_callbacks):
    """`make run` mode (tasks eager): a saved point refreshes its measure, then the
    roll-ups of its trust and the units above it."""
    project = ProjectFactory(trust=trust_a, unit=ward_a)
    measure = MeasureFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        for i, value in enumerate([8, 9, 7, 8, 9, 8, 7, 9, 8, 8, 9, 7, 5, 5, 4, 5, 5, 4, 5, 4]):
            DataPointFactory(measure=measure, period=dt.date(2024 + i // 12, i % 12 + 1, 1),
                             value=value)
        measure_services.data_point_create(measure=measure, by=project.lead,
                                           period=dt.date(2025, 9, 1), value=4)
    assert MeasureSnapshot.objects.get(measure=measure).variation_icon == "improvement_low"
    for unit in (None, ward_a.parent, ward_a):
        row = Rollup.objects.get(trust=trust_a, unit=unit, month=THIS_MONTH)
        assert row.by_variation == {"improvement_low": 1}
        assert row.dirty_since is None


def test_reconcile_builds_trusts_left_behind(trust_a, small_trust):
    assert trust_a.pk in rollups.trusts_behind()
    assert tasks.reconcile_rollups() == 1
    assert rollups.trusts_behind() == []
    snapshots.measures_refresh_batch([small_trust["improving"].pk])  # no commit: no build
    assert rollups.trusts_behind() == [trust_a.pk]


# ---- the page ----------------------------------------------------------------------------

def test_dashboard_shows_rollup_trends_without_javascript(client, bob, trust_a, small_trust):
    rollups.build(trust_a.pk, months=12)
    html = _sign_in(client, bob).get(reverse("reports:trust", args=[trust_a.ods_code])) \
        .content.decode()
    assert "Board summary for" in html and "Built less than a minute ago." in html
    assert "Updating" not in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 288') == 4
    assert "Projects in progress as a table" in html
    assert "Not recorded" in html  # backfilled months have no measure icons
    assert "<script" not in html.split("Board summary for")[1].split("From board to ward")[0]
    assert "1 project moved up the progress scale and 1 moved down" in html


def test_dashboard_says_updating_while_a_build_is_wanted(client, bob, trust_a, small_trust):
    rollups.build(trust_a.pk)
    rollups.request(trust_a.pk)
    html = _sign_in(client, bob).get(reverse("reports:trust", args=[trust_a.ods_code])) \
        .content.decode()
    assert "Updating…" in html


def test_board_member_sees_no_team_only_project_in_the_rollup(client, bob, trust_a,
                                                             small_trust):
    rollups.build(trust_a.pk)
    html = _sign_in(client, bob).get(
        reverse("reports:unit", args=[trust_a.ods_code, small_trust["ward"].pk])
    ).content.decode()
    summary = html.split("Board summary for")[1].split("Since last month")[0]
    assert re.search(r"Completed</td><td[^>]*>0<", summary)
    assert re.search(r"Active</td><td[^>]*>2<", summary)
    assert "Team-only audit" not in html


@pytest.mark.parametrize("who,status", [("charlie", 404), ("stranger", 404), ("bob", 200),
                                        ("alice", 200), ("nadia", 200)])
def test_rollup_pages_access(client, request, trust_a, small_trust, who, status):
    rollups.build(trust_a.pk)
    user = request.getfixturevalue(who)
    for url in (reverse("reports:trust", args=[trust_a.ods_code]),
                reverse("reports:unit", args=[trust_a.ods_code, small_trust["ward"].pk])):
        response = _sign_in(client, user).get(url)
        assert response.status_code == status
        if status == 200:
            assert b"Board summary for" in response.content


@pytest.mark.parametrize("n_projects", [5, 60])
def test_dashboard_with_rollups_keeps_its_query_count(client, bob, trust_a, ward_a, n_projects,
                                                      django_assert_max_num_queries):
    for i in range(n_projects):
        project = ProjectFactory(trust=trust_a, unit=ward_a if i % 2 else None)
        _snap(project, "concern_high" if i % 3 else "common_cause")
    rollups.build(trust_a.pk, months=12)
    _sign_in(client, bob)
    # as test_dashboard_matrix pins it: one query reads every roll-up row shown (and one
    # asks whether the database marked them out of date since)
    with django_assert_max_num_queries(17):
        html = client.get(reverse("reports:trust", args=[trust_a.ods_code])).content.decode()
    assert f"Measures with special cause concern: {sum(1 for i in range(n_projects) if i % 3)}" \
        in html
