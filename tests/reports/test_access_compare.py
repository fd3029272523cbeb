"""Access rows for comparing trusts (issue 14, item 7): national analysts read every
comparison, built only from what trusts shared; trust users read comparisons their trust
takes part in; outsiders get 404, members without the right 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from collaboratives.models import Adoption, Collaborative, Enrolment, Participation, SharedMeasure
from measures.models import Measure
from organisations.models import Membership
from reports import comparisons
from reports import services as report_services
from reports.models import ComparisonSnapshot, NationalMeasure
from tests.factories import (
    MeasureFactory,
    MembershipFactory,
    ProjectFactory,
    TrustFactory,
    UserFactory,
)
from tests.reports.compare_world import MONTHS, national_measure, points, trusts_with_data


@pytest.fixture
def world(trust_a, trust_b, alice, quentin, charlie, nadia, stranger):
    nm = national_measure(nadia)
    trusts_with_data(nm, nadia, 3, first=trust_a, months=MONTHS[:2])
    # Trust B keeps a P-chart measure it never shared: no comparison may read it.
    secret = MeasureFactory(project=ProjectFactory(trust=trust_b), chart=Measure.Chart.P,
                            name="Eastbrook private measure")
    points(secret, [(MONTHS[0], 99, 100)])
    comparisons.build("national", nm.pk)

    trust_c = TrustFactory(ods_code="RCC", name="Westfield Community")
    ivan = MembershipFactory(trust=trust_b, role=Membership.Role.QI_LEAD).user
    c = Collaborative.objects.create(
        name="Falls collaborative", topic="Falls", host_trust=trust_a, aim="Fewer falls.",
        start_date=dt.date(2025, 10, 1), end_date=dt.date(2027, 3, 31), created_by=quentin)
    sm = SharedMeasure.objects.create(collaborative=c, name="Falls risk assessed",
                                      definition="Within 6 hours.", chart=Measure.Chart.P,
                                      direction=Measure.Direction.INCREASE)
    Participation.objects.create(collaborative=c, trust=trust_b, status="invited",
                                 invited_by=quentin)
    for trust in (trust_a, trust_c):
        Participation.objects.create(collaborative=c, trust=trust, status="accepted",
                                     invited_by=quentin)
        project = ProjectFactory(trust=trust)
        enrolment = Enrolment.objects.create(collaborative=c, project=project,
                                             requested_by=quentin,
                                             status=Enrolment.Status.APPROVED)
        measure = MeasureFactory(project=project, chart=Measure.Chart.P)
        Adoption.objects.create(shared_measure=sm, enrolment=enrolment, measure=measure,
                                version=1, adopted_by=quentin)
        points(measure, [(MONTHS[0], 10, 20)])
    comparisons.build("shared", sm.pk)
    root = UserFactory(is_superuser=True, is_staff=True)
    return {"nm": nm, "sm": sm, "secret": secret, "people": {
        "alice": alice, "quentin": quentin, "charlie": charlie, "ivan": ivan, "nadia": nadia,
        "stranger": stranger, "root": root}}


# (page, args, {person: status}); alice and quentin are at trust A (adopted the national
# definition, takes part in the collaborative); charlie and ivan at trust B (did not adopt;
# invited to the collaborative, ivan is its QI lead); nadia a national analyst.
ROWS = [
    ("reports:compare", None, {"alice": 200, "charlie": 200, "nadia": 200, "stranger": 200}),
    ("reports:compare_measure", "national", {"alice": 200, "quentin": 200, "charlie": 403,
                                             "ivan": 403, "nadia": 200, "root": 200,
                                             "stranger": 404}),
    ("reports:compare_measure", "shared", {"alice": 200, "quentin": 200, "charlie": 404,
                                           "ivan": 403, "nadia": 200, "root": 200,
                                           "stranger": 404}),
    ("reports:national_measures", None, {"alice": 200, "charlie": 200, "nadia": 200,
                                         "stranger": 404}),
    ("reports:national_measure_create", None, {"nadia": 200, "root": 200, "alice": 403,
                                               "quentin": 403, "stranger": 404}),
    ("reports:national_measure_edit", "nm", {"nadia": 200, "alice": 403, "stranger": 404}),
    ("reports:national_measure_adopt", "nm", {"quentin": 200, "ivan": 200, "alice": 403,
                                              "nadia": 403, "stranger": 404}),
]


def _url(world, name, arg):
    if arg == "national":
        return reverse(name, args=["national", world["nm"].pk])
    if arg == "shared":
        return reverse(name, args=["shared", world["sm"].pk])
    if arg == "nm":
        return reverse(name, args=[world["nm"].pk])
    return reverse(name)


@pytest.mark.django_db
@pytest.mark.parametrize("name,arg,expected", ROWS, ids=[f"{r[0]}-{r[1]}" for r in ROWS])
def test_access_rows(client, world, name, arg, expected):
    url = _url(world, name, arg)
    for person, status in expected.items():
        client.force_login(world["people"][person],
                           backend="django.contrib.auth.backends.ModelBackend")
        assert client.get(url).status_code == status, (person, url)
        client.logout()
    assert client.get(url).status_code == 302  # signed out: to the sign-in page


@pytest.mark.django_db
def test_list_shows_only_comparisons_the_user_may_read(client, world):
    people = world["people"]
    for person, sees_national, sees_shared in (("alice", True, True), ("charlie", False, False),
                                               ("ivan", False, False), ("nadia", True, True)):
        client.force_login(people[person], backend="django.contrib.auth.backends.ModelBackend")
        body = client.get(reverse("reports:compare")).content.decode()
        assert (world["nm"].name in body) is sees_national, person
        assert ("Falls risk assessed" in body) is sees_shared, person
        client.logout()


@pytest.mark.django_db
def test_writes_refused_to_trust_users_and_strangers(client, world):
    people = world["people"]
    data = {"name": "Sneaky", "topic": "x", "definition": "x", "numerator": "x",
            "denominator": "x", "chart": "p", "rate_per": 1, "direction": "increase",
            "frequency": "monthly"}
    for person, status in (("alice", 403), ("stranger", 404)):
        client.force_login(people[person], backend="django.contrib.auth.backends.ModelBackend")
        assert client.post(reverse("reports:national_measure_create"), data).status_code == status
        assert client.post(reverse("reports:comparison_setting"),
                           {"name_trusts": "on"}).status_code == status
        client.logout()
    assert not NationalMeasure.objects.filter(name="Sneaky").exists()
    assert comparisons.name_trusts_setting() is False


@pytest.mark.django_db
def test_adopt_service_checks_the_project(world, trust_b):
    people = world["people"]
    nm = world["nm"]
    with pytest.raises(Http404):  # quentin (QI lead at A) cannot see trust B's project
        report_services.national_adopt(national_measure=nm, by=people["quentin"],
                                       measure=world["secret"])
    with pytest.raises(PermissionDenied):  # ivan sees it (his trust) but charlie does not lead
        project = ProjectFactory(trust=trust_b, visibility="trust")
        report_services.national_adopt(national_measure=nm, by=people["charlie"],
                                       project=project)
    adoption = report_services.national_adopt(national_measure=nm, by=people["ivan"],
                                              measure=world["secret"])
    assert adoption.measure == world["secret"]


@pytest.mark.django_db
def test_analysts_read_only_what_trusts_shared(world, trust_b):
    series = ComparisonSnapshot.objects.get(kind="national", object_id=world["nm"].pk,
                                            period=None).data
    assert trust_b.pk not in {t["id"] for t in series["trusts"]}
    row = ComparisonSnapshot.objects.get(kind="national", object_id=world["nm"].pk,
                                         period=MONTHS[0])
    assert all(u["numerator"] != 99 for u in row.data["units"])
