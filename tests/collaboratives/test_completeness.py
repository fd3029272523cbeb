"""Issue 20 item 4: a month's reporting completeness counts only the shared measures and
the teams that existed (and so were due) that month."""

import datetime as dt

import pytest

from collaboratives import dashboard, services
from collaboratives.models import Enrolment, SharedMeasure
from measures.models import Measure
from tests.collaboratives.conftest import enrol, monthly_points
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _month(data, iso):
    return next(r for r in data["completeness"] if r["month"] == iso)


def test_a_measure_added_later_does_not_undo_earlier_months(world, fiona,
                                                           django_capture_on_commit_callbacks):
    c = world["c"]
    before = dashboard.build(c)
    assert _month(before, "2025-11-01")["data"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        later = services.shared_measure_create(
            collaborative=c, by=fiona, name="Lying and standing blood pressure done",
            definition="Patients 65 and over with a lying and standing blood pressure.",
            numerator="Done", denominator="Patients 65 and over", chart=Measure.Chart.P,
            direction=Measure.Direction.INCREASE, frequency=Measure.Frequency.MONTHLY,
            kind=Measure.Kind.PROCESS)
    SharedMeasure.objects.filter(pk=later.pk).update(
        created_at=dt.datetime(2026, 6, 10, tzinfo=dt.UTC))  # published in June 2026
    after = dashboard.build(c)
    nov = _month(after, "2025-11-01")
    assert nov["data"] == 2 and nov["data_pct"] == 100 and nov["measures_due"] == 1
    june = _month(after, "2026-06-01")  # now due, and nobody has sent it
    assert june["measures_due"] == 2 and june["data"] == 0


def test_a_team_that_joined_later_is_not_counted_before(world, fiona):
    c = world["c"]
    project = ProjectFactory(trust=world["project_a"].trust, lead=world["people"]["alice"])
    team = enrol(c, project, fiona)
    Enrolment.objects.filter(pk=team.pk).update(
        decided_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    adoption = services.shared_measure_adopt(shared_measure=world["sm"], enrolment=team,
                                             by=world["people"]["alice"])
    monthly_points(adoption.measure, n=3, start=dt.date(2026, 3, 1))
    data = dashboard.build(c)
    assert _month(data, "2026-02-01")["teams"] == 2
    assert _month(data, "2026-02-01")["data_pct"] == 100
    assert _month(data, "2026-03-01")["teams"] == 3 and _month(data, "2026-03-01")["data"] == 3


def test_a_month_with_no_measure_due_says_so_not_zero(world):
    c = world["c"]
    SharedMeasure.objects.filter(pk=world["sm"].pk).update(
        created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    data = dashboard.build(c)
    oct_ = _month(data, "2025-10-01")
    assert oct_["data"] is None and oct_["data_pct"] is None
