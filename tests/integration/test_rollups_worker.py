"""A saved data point reaches the dashboards' roll-up through Redis and a live worker:
the measure's refresh asks for its trust's roll-ups, the debounced build follows."""

from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone

from measures import services
from reports.models import Rollup
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory
from tests.integration.polling import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=40.0):
    return wait_for(predicate, timeout)


def test_a_saved_point_reaches_the_rollup_through_the_broker(live_worker):
    project = ProjectFactory()
    measure = MeasureFactory(project=project)
    values = [8, 9, 7, 8, 9, 8, 7, 9, 8, 8, 9, 7, 5, 5, 4, 5, 5, 4, 5, 4]
    with transaction.atomic():
        for i, v in enumerate(values):
            DataPointFactory(measure=measure, period=date(2024 + i // 12, i % 12 + 1, 1), value=v)
        services.measure_mark_dirty(measure_id=measure.pk)
    month = timezone.localdate().replace(day=1)

    def built():
        row = Rollup.objects.filter(trust=project.trust, unit=None, month=month).first()
        return row is not None and row.built_at is not None and row.by_variation == {
            "improvement_low": 1}

    # refresh_measure on the worker, then refresh_rollups after its 5 s debounce
    assert _wait_for(built)
    assert Rollup.objects.get(trust=project.trust, unit=None, month=month).dirty_since is None


def test_a_saved_point_reaches_the_kept_dashboard_through_the_worker(live_worker, client):
    """The board member's dashboard is kept in Redis; the worker's refresh marks it out of
    date there, so the next read in this process shows the new value (ADR 0006)."""
    from organisations.models import Membership
    from tests.factories import MembershipFactory

    project = ProjectFactory(visibility="trust")
    board = MembershipFactory(trust=project.trust, role=Membership.Role.BOARD_MEMBER).user
    lead = MembershipFactory(trust=project.trust, role=Membership.Role.QI_LEAD).user
    measure = MeasureFactory(project=project, name="Falls rate", unit_label="per 1,000")
    with transaction.atomic():
        for i in range(12):
            DataPointFactory(measure=measure, period=date(2025, i + 1, 1), value=5 + i % 3)
        services.measure_mark_dirty(measure_id=measure.pk)
    client.force_login(board, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/trusts/{project.trust.ods_code}/"
    shown = ">7 per 1,000</td>"  # the last of 5, 6, 7, …, 7
    assert _wait_for(lambda: shown in client.get(url).content.decode())
    assert shown in client.get(url).content.decode()  # the kept copy
    measure.refresh_from_db()
    services.data_points_merge(measure=measure, by=lead, base_version=measure.data_version,
                               rows=[{"row": 1, "period": "2026-01-01", "value": 9.5}])
    assert _wait_for(lambda: ">9.5 per 1,000</td>" in client.get(url).content.decode())


def _month_row(trust):
    return Rollup.objects.filter(trust=trust, unit=None,
                                 month=timezone.localdate().replace(day=1)).first()


def test_an_approval_reaches_the_rollup_through_the_broker(live_worker):
    """Issue 20 item 2: a status change (no measure data) asks for the roll-up on commit."""
    from organisations.models import Membership
    from projects import services as project_services
    from tests.factories import MembershipFactory

    project = ProjectFactory(visibility="trust", status="proposed")
    lead = MembershipFactory(trust=project.trust, role=Membership.Role.QI_LEAD).user
    assert _wait_for(lambda: (r := _month_row(project.trust)) is not None and r.built_at
                     and r.by_status == {"proposed": 1})
    project_services.project_transition(by=lead, project=project, to="approved")
    assert _wait_for(lambda: _month_row(project.trust).by_status == {"approved": 1})


def test_a_bulk_update_reaches_the_board_summary_through_the_worker(live_worker, client):
    """QuerySet.update sends no signal: the database marks the trust, the dashboard asks the
    worker for the build and says "Updating…", and the build brings the summary level."""
    from organisations.models import Membership
    from projects.models import Project
    from reports.models import RollupMark
    from tests.factories import MembershipFactory

    project = ProjectFactory(visibility="trust", status="active")
    board = MembershipFactory(trust=project.trust, role=Membership.Role.BOARD_MEMBER).user
    assert _wait_for(lambda: (r := _month_row(project.trust)) is not None and r.built_at
                     and r.by_status == {"active": 1} and r.dirty_since is None)
    Project.objects.filter(pk=project.pk).update(status="completed")
    assert RollupMark.objects.filter(trust_id=project.trust_id).exists()
    client.force_login(board, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/trusts/{project.trust.ods_code}/"
    first = client.get(url).content.decode()
    assert "Updating…" in first or _month_row(project.trust).by_status == {"completed": 1}
    assert _wait_for(lambda: _month_row(project.trust).by_status == {"completed": 1})
    assert _wait_for(lambda: "Updating…" not in client.get(url).content.decode())
