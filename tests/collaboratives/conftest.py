"""A falls collaborative with two trusts taking part, one invited and one outside.

- fiona: facilitator (faculty), no role at any trust
- quentin: QI lead at trust A (taking part)      - alice: clinician at A, leads A's team
- charlie: clinician at trust B (taking part), leads B's team
- ivan: QI lead at trust I (invited, not answered yet)
- dora: clinician at trust D — outside the collaborative, "should have no access"
- nadia: national analyst (reads)                 - root: the platform operator (superuser)

Trust B also keeps things it never shared: a project outside the collaborative, and a
measure and a PDSA cycle of its enrolled project that are not a shared measure.
"""

import datetime as dt

import pytest
from django.utils import timezone

from collaboratives import services
from collaboratives.models import Collaborative, Enrolment, Participation, SharedMeasure
from measures.models import DataPoint, Measure
from organisations.models import Membership
from pdsa.models import Cycle
from projects.models import Project
from tests.factories import (
    ChangeIdeaFactory,
    MeasureFactory,
    MembershipFactory,
    ProjectFactory,
    TrustFactory,
    UserFactory,
)

START = dt.date(2025, 10, 1)
END = dt.date(2027, 3, 31)


def make_collaborative(host, facilitators, **kw) -> Collaborative:
    c = Collaborative.objects.create(
        name=kw.pop("name", "Falls prevention collaborative"), topic="Falls in older people",
        host_trust=host, aim="Reduce falls with harm by 25% in every team by March 2027.",
        start_date=kw.pop("start_date", START), end_date=kw.pop("end_date", END),
        created_by=facilitators[0], **kw)
    c.facilitators.set(facilitators)
    return c


def take_part(c, trust, by, status=Participation.Status.ACCEPTED):
    return Participation.objects.create(collaborative=c, trust=trust, status=status,
                                        invited_by=by)


def enrol(c, project, by) -> Enrolment:
    return Enrolment.objects.create(collaborative=c, project=project, requested_by=by,
                                    status=Enrolment.Status.APPROVED, decided_by=by,
                                    decided_at=dt.datetime(2025, 10, 1, tzinfo=dt.UTC))


def monthly_points(measure, n=12, start=dt.date(2025, 10, 1), num=8, den=20):
    rows, d = [], start
    for i in range(n):
        rows.append(DataPoint(measure=measure, period=d, numerator=num + (i % 3),
                              denominator=den, value=None))
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    DataPoint.objects.bulk_create(rows)
    # What measures.services does on every data write (bulk_create goes round it).
    Measure.objects.filter(pk=measure.pk).update(data_changed_at=timezone.now())


@pytest.fixture
def trust_i(db):
    return TrustFactory(ods_code="RII", name="Invited Trust")


@pytest.fixture
def trust_d(db):
    return TrustFactory(ods_code="RDD", name="Distant Trust")


@pytest.fixture
def fiona(db):
    return UserFactory(full_name="Fiona Facilitator")


@pytest.fixture
def ivan(trust_i):
    return MembershipFactory(trust=trust_i, role=Membership.Role.QI_LEAD,
                             user__full_name="Ivan Invited").user


@pytest.fixture
def dora(trust_d):
    return MembershipFactory(trust=trust_d, role=Membership.Role.CLINICIAN,
                             user__full_name="Dora Distant").user


@pytest.fixture
def root(db):
    return UserFactory(full_name="Platform Operator", is_superuser=True, is_staff=True)


@pytest.fixture
def world(trust_a, trust_b, trust_i, fiona, quentin, alice, charlie, ivan, dora, nadia, root,
          django_capture_on_commit_callbacks):
    c = make_collaborative(trust_a, [fiona])
    take_part(c, trust_a, fiona)
    take_part(c, trust_b, fiona)
    take_part(c, trust_i, fiona, status=Participation.Status.INVITED)
    project_a = ProjectFactory(trust=trust_a, lead=alice, title="Falls on Ward 7",
                               visibility=Project.Visibility.TEAM)
    project_b = ProjectFactory(trust=trust_b, lead=charlie, title="Falls on Cedar Ward",
                               visibility=Project.Visibility.TEAM)
    team_a, team_b = enrol(c, project_a, quentin), enrol(c, project_b, fiona)
    with django_capture_on_commit_callbacks(execute=True):
        sm = services.shared_measure_create(
            collaborative=c, by=fiona, name="Falls risk assessed within 6 hours",
            definition="Patients admitted with a falls risk assessment within 6 hours.",
            numerator="Assessed within 6 hours", denominator="Patients admitted",
            chart=Measure.Chart.P, direction=Measure.Direction.INCREASE,
            frequency=Measure.Frequency.MONTHLY, kind=Measure.Kind.PROCESS)
        adopt_a = services.shared_measure_adopt(shared_measure=sm, enrolment=team_a, by=alice)
        adopt_b = services.shared_measure_adopt(shared_measure=sm, enrolment=team_b, by=charlie)
    # Published when the collaborative was set up (its completeness counts it from then).
    SharedMeasure.objects.filter(pk=sm.pk).update(
        created_at=dt.datetime(2025, 9, 15, tzinfo=dt.UTC))
    monthly_points(adopt_a.measure, num=8)
    monthly_points(adopt_b.measure, num=12)
    # What trust B never shared.
    secret_measure = MeasureFactory(project=project_b, name="Cedar Ward staff sickness")
    idea_b = ChangeIdeaFactory(project=project_b, text="Cedar secret huddle")
    secret_cycle = Cycle.objects.create(change_idea=idea_b, number=1, created_by=charlie,
                                        objective="Cedar private objective",
                                        learning="Cedar private learning")
    secret_project = ProjectFactory(trust=trust_b, lead=charlie, title="Cedar private project",
                                    visibility=Project.Visibility.TRUST)
    other = make_collaborative(trust_b, [charlie], name="Eastbrook-only collaborative")
    take_part(other, trust_b, charlie)
    other_team = enrol(other, secret_project, charlie)
    other_sm = services.shared_measure_create(
        collaborative=other, by=charlie, name="Cedar-only measure", definition="Secret",
        chart=Measure.Chart.XMR, direction=Measure.Direction.DECREASE,
        frequency=Measure.Frequency.MONTHLY)
    other_post = services.post_create(collaborative=other, by=charlie,
                                      title="Cedar-only learning", body="Only for Eastbrook")
    return {
        "c": c, "sm": sm, "team_a": team_a, "team_b": team_b, "adopt_a": adopt_a,
        "adopt_b": adopt_b, "project_a": project_a, "project_b": project_b,
        "secret_measure": secret_measure, "secret_cycle": secret_cycle,
        "secret_project": secret_project, "other": other, "other_team": other_team,
        "other_sm": other_sm, "other_post": other_post,
        "session": services.session_create(collaborative=c, by=fiona, title="Learning session 1",
                                           date=dt.date(2025, 11, 5), online=True),
        "people": {"fiona": fiona, "quentin": quentin, "alice": alice, "charlie": charlie,
                   "ivan": ivan, "dora": dora, "nadia": nadia, "root": root},
    }


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
