"""Incremental sync and caching over the API (core/api.py): `?updated_since=` on every list
of the router (and the lists under a project), conditional GETs with ETag / If-None-Match →
304, one error shape, 401 vs 403 vs 404, and a constant query count for 10 and 1,000 rows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from collaboratives.models import (
    Collaborative,
    Comment,
    Enrolment,
    LearningPost,
    Participation,
    SharedMeasure,
    TeamReport,
)
from measures.models import DataPoint, Measure
from organisations import services as org_services
from organisations.models import Trust, Unit
from pdsa.models import Cycle
from projects.models import ChangeIdea, Driver, ProgressScore, Project, TeamMember
from qi_portal.urls import router
from tests.collaboratives.conftest import enrol, make_collaborative, take_part
from tests.factories import (
    ChangeIdeaFactory,
    DriverFactory,
    MeasureFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LONG_AGO = "2000-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"


@pytest.fixture
def world(trust_a, alice):
    UnitFactory(trust=trust_a)
    project = ProjectFactory(trust=trust_a, lead=alice, title="Falls on Ward 7")
    driver = DriverFactory(project=project)
    idea = ChangeIdeaFactory(project=project)
    measure = MeasureFactory(project=project)
    DataPoint.objects.create(measure=measure, period=dt.date(2025, 1, 1), value=3)
    Cycle.objects.create(change_idea=idea, number=1, objective="Rounding", created_by=alice)
    TeamMember.objects.create(project=project, name="Pat Partner", role="patient_partner")
    ProgressScore.objects.create(project=project, score="1.5", scored_on=dt.date(2025, 1, 1),
                                 recorded_by=alice)
    fiona = UserFactory(full_name="Fiona Facilitator")
    collaborative = make_collaborative(trust_a, [fiona])
    take_part(collaborative, trust_a, fiona)
    enrolment = enrol(collaborative, project, fiona)
    SharedMeasure.objects.create(collaborative=collaborative, name="Falls rate", kind="outcome",
                                 definition="Falls per 1,000 bed days", direction="down")
    TeamReport.objects.create(enrolment=enrolment, month=dt.date(2025, 11, 1), score="2.0",
                              submitted_by=alice)
    post = LearningPost.objects.create(collaborative=collaborative, author=alice,
                                       title="Huddles", body="Two minutes")
    Comment.objects.create(post=post, author=fiona, body="Thanks")
    return {"project": project, "driver": driver, "measure": measure,
            "collaborative": collaborative}


def list_urls(project):
    """Every list the router has, and the lists under a project."""
    urls = [reverse(f"{basename}-list") for _, viewset, basename in router.registry
            if hasattr(viewset, "list")]
    return urls + [f"/api/v1/projects/{project.pk}/team/",
                   f"/api/v1/projects/{project.pk}/progress/"]


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_every_list_filters_by_updated_since(api, world, trust_a):
    urls = list_urls(world["project"])
    assert len(urls) >= 17
    for url in urls:
        # ?count=true: the cursor-paged lists (core/pagination.py) count only when asked.
        everything = api.get(url, {"count": "true"})
        assert everything.status_code == 200, url
        assert everything.json()["count"] >= 1, url
        since = api.get(url, {"updated_since": LONG_AGO, "count": "true"}).json()
        assert since["count"] == everything.json()["count"], url
        stamps = [row.get("updated_at") for row in since["results"]]
        if all(stamps):
            assert stamps == sorted(stamps), url
        assert api.get(url, {"updated_since": FUTURE}).json()["results"] == [], url
        bad = api.get(url, {"updated_since": "last tuesday"})
        assert bad.status_code == 400, url
        assert list(bad.json()["errors"]) == ["updated_since"], url


def test_updated_since_lists_only_what_changed_oldest_first(api, world):
    first = Measure.objects.get()
    second = MeasureFactory(project=world["project"], name="Second")
    later = timezone.now() + dt.timedelta(seconds=5)
    Measure.objects.filter(pk=first.pk).update(updated_at=later)
    Measure.objects.filter(pk=second.pk).update(updated_at=later - dt.timedelta(seconds=1))
    rows = api.get("/api/v1/measures/", {"updated_since": (later - dt.timedelta(seconds=2))
                                         .isoformat()}).json()["results"]
    assert [r["id"] for r in rows] == [second.pk, first.pk]
    # A date alone is midnight UTC; a "+" sent unescaped (a space) still reads as an offset.
    assert len(api.get("/api/v1/measures/", {"updated_since": "2000-01-01"}).json()[
        "results"]) == 2
    assert api.get("/api/v1/measures/?updated_since=2999-01-01T00:00:00 01:00").json()[
        "results"] == []


def test_a_save_moves_updated_at(api, world):
    driver = world["driver"]
    before = Driver.objects.get(pk=driver.pk).updated_at
    response = api.patch(f"/api/v1/drivers/{driver.pk}/", {"text": "Safer rounds"},
                         format="json")
    assert response.status_code == 200
    assert Driver.objects.get(pk=driver.pk).updated_at > before
    since = before.isoformat()
    ids = [r["id"] for r in api.get("/api/v1/drivers/", {"updated_since": since})
           .json()["results"]]
    assert driver.pk in ids


@pytest.mark.parametrize("kind", ["list", "detail"])
def test_etag_answers_304_until_something_changes(api, world, kind):
    measure = world["measure"]
    url = "/api/v1/measures/" if kind == "list" else f"/api/v1/measures/{measure.pk}/"
    first = api.get(url)
    etag = first["ETag"]
    assert etag.startswith('W/"')
    assert "private" in first["Cache-Control"]
    again = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert api.get(url, HTTP_IF_NONE_MATCH='W/"something-else"').status_code == 200
    api.patch(f"/api/v1/measures/{measure.pk}/", {"name": "Falls per 1,000 bed days"},
              format="json")
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_etags_differ_between_people(world, alice, nadia):
    """The ETag is of the body, and bodies are per caller: no answer is shared."""
    url = "/api/v1/trusts/"
    a, n = APIClient(), APIClient()
    a.force_authenticate(alice)
    n.force_authenticate(nadia)
    from tests.factories import TrustFactory

    TrustFactory()
    assert a.get(url)["ETag"] != n.get(url)["ETag"]
    assert "Authorization" in a.get(url)["Vary"]


# ---- one error shape ----------------------------------------------------------------------


def test_400_has_detail_and_field_errors(api, world):
    response = api.post("/api/v1/drivers/", {"project": world["project"].pk}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["errors"]["text"] == ["This field is required."]


def test_400_for_the_request_as_a_whole_uses_non_field_errors(api, world):
    response = api.post("/api/v1/drivers/", "{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert "JSON parse error" in body["detail"]
    assert list(body["errors"]) == ["non_field_errors"]


def test_a_service_error_keeps_its_field(api, world):
    project = world["project"]
    response = api.post(f"/api/v1/projects/{project.pk}/transition/", {"to": "stopped"},
                        format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["reason"] == ["Say why the project is stopping."]


def test_repeated_parameter_is_400(api, world):
    response = api.get("/api/v1/measures/?page=1&page=2")
    assert response.status_code == 400
    assert response.json()["errors"] == {"page": ["Send this parameter once."]}


def test_404_for_what_you_may_not_see_and_for_ids_that_are_not_ids(world, charlie, api):
    outsider = APIClient()
    outsider.force_authenticate(charlie)
    url = f"/api/v1/measures/{world['measure'].pk}/"
    assert outsider.get(url).json() == {"detail": "No Measure matches the given query."}
    assert outsider.get(url).status_code == 404
    for bad in ("0.5", "%C2%84", str(2**70), "1e3"):
        response = api.get(f"/api/v1/measures/{bad}/")
        assert response.status_code == 404, bad
        assert response["Content-Type"] == "application/json"
        assert set(response.json()) == {"detail"}


def test_403_for_a_member_without_the_right(world, bob):
    client = APIClient()
    client.force_authenticate(bob)
    response = client.patch(f"/api/v1/drivers/{world['driver'].pk}/", {"text": "X"},
                            format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


def test_405_has_the_same_shape(api, world):
    response = api.delete(f"/api/v1/projects/{world['project'].pk}/")
    assert response.status_code == 405
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("header", [
    "Bearer qip_not-a-real-token",
    "Bearer",
    "Basic bm9ib2R5QGV4YW1wbGUub3JnOndyb25n",  # nobody@example.org:wrong
    None,
])
def test_401_with_a_challenge_for_missing_or_bad_credentials(world, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"detail"}


def test_revoked_and_expired_tokens_answer_401(world, alice):
    token, secret = org_services.api_token_create(by=alice, name="Sync script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/measures/").status_code == 200
    type(token).objects.filter(pk=token.pk).update(expires_at=timezone.now())
    expired = client.get("/api/v1/measures/")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    org_services.api_token_revoke(token=token, by=alice)
    assert client.get("/api/v1/measures/").status_code == 401


def test_a_signed_in_session_still_works_and_its_writes_need_csrf(world, alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.get("/api/v1/measures/").status_code == 200
    response = client.post("/api/v1/drivers/", {"project": world["project"].pk, "text": "A"},
                           format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_schema_documents_errors_304_and_updated_since(api):
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    listing = paths["/api/v1/measures/"]["get"]
    assert {"200", "304", "400", "401", "403", "404", "429"} <= set(listing["responses"])
    assert "updated_since" in [p["name"] for p in listing["parameters"]]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
            assert {"401", "403", "404"} <= set(operation["responses"]), (method, path)


# ---- a constant query count for 10 and 1,000 rows -----------------------------------------


def _ods(i: int) -> str:
    """A 3-character ODS code (the column's length, which PostgreSQL enforces) for i < 1,296."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "X" + digits[i // 36] + digits[i % 36]


def _grow(kind, start, n, w, alice, trust_a):
    p = w["project"]
    rows = range(start, start + n)
    if kind == "trusts":
        region = trust_a.region
        Trust.objects.bulk_create(Trust(ods_code=f"{i:03d}", name=f"Trust {i}",
                                        trust_type="acute", region=region,
                                        staff_headcount=100) for i in rows)
    elif kind == "units":
        Unit.objects.bulk_create(Unit(trust=trust_a, name=f"Ward {i}", kind="ward",
                                      path=f"9{i:05d}/", depth=0) for i in rows)
    elif kind == "projects":
        Project.objects.bulk_create(
            Project(trust=trust_a, title=f"Project {i}", aim="Aim", lead=alice,
                    created_by=alice)
            for i in rows)
    elif kind == "drivers":
        Driver.objects.bulk_create(Driver(project=p, text=f"Driver {i}", position=i)
                                   for i in rows)
    elif kind == "change-ideas":
        ChangeIdea.objects.bulk_create(ChangeIdea(project=p, text=f"Idea {i}", position=i)
                                       for i in rows)
    elif kind == "measures":
        Measure.objects.bulk_create(
            Measure(project=p, name=f"M {i}", kind="process", definition="d",
                    frequency="month", direction="up", position=i + 1) for i in rows)
    elif kind == "data-points":
        m = w["measure"]
        DataPoint.objects.bulk_create(
            DataPoint(measure=m, period=dt.date(1900, 1, 1) + dt.timedelta(days=i), value=i)
            for i in rows)
    elif kind == "pdsa-cycles":
        idea = ChangeIdea.objects.filter(project=p).first()
        Cycle.objects.bulk_create(Cycle(change_idea=idea, number=i + 100, objective=f"T {i}",
                                        created_by=alice) for i in rows)
    elif kind == "team":
        TeamMember.objects.bulk_create(TeamMember(project=p, name=f"Partner {i}",
                                                  role="patient_partner") for i in rows)
    elif kind == "progress":
        ProgressScore.objects.bulk_create(
            ProgressScore(project=p, score="2.0", scored_on=dt.date(2000, 1, 1)
                          + dt.timedelta(days=i), recorded_by=alice) for i in rows)
    elif kind == "learning-posts":
        LearningPost.objects.bulk_create(
            LearningPost(collaborative=w["collaborative"], author=alice, title=f"P {i}",
                         body="b") for i in rows)
    elif kind == "learning-comments":
        post = LearningPost.objects.first()
        Comment.objects.bulk_create(Comment(post=post, author=alice, body=f"c {i}")
                                    for i in rows)
    elif kind == "shared-measures":
        SharedMeasure.objects.bulk_create(
            SharedMeasure(collaborative=w["collaborative"], name=f"S {i}", kind="outcome",
                          definition="d", direction="down")
            for i in rows)
    elif kind == "collaboratives":
        c = w["collaborative"]
        Collaborative.objects.bulk_create(
            Collaborative(name=f"C {i}", topic="Falls", host_trust=trust_a, aim="Fewer falls",
                          start_date=c.start_date, end_date=c.end_date, created_by=alice)
            for i in rows)
    elif kind == "collaborative-trusts":
        region = trust_a.region
        trusts = Trust.objects.bulk_create(
            Trust(ods_code=_ods(i), name=f"Trust {i}", trust_type="acute", region=region,
                  staff_headcount=100) for i in rows)
        Participation.objects.bulk_create(
            Participation(collaborative=w["collaborative"], trust=t,
                          invited_by=alice, status=Participation.Status.ACCEPTED)
            for t in trusts)
    elif kind == "collaborative-teams":
        projects = Project.objects.bulk_create(
            Project(trust=trust_a, title=f"Team {i}", aim="Aim", lead=alice, created_by=alice)
            for i in rows)
        Enrolment.objects.bulk_create(
            Enrolment(collaborative=w["collaborative"], project=p, requested_by=alice,
                      status=Enrolment.Status.APPROVED) for p in projects)
    elif kind == "team-reports":
        enrolment = Enrolment.objects.filter(collaborative=w["collaborative"]).first()
        TeamReport.objects.bulk_create(
            TeamReport(enrolment=enrolment, month=dt.date(1900 + i // 12, i % 12 + 1, 1),
                       score="2.0", submitted_by=alice) for i in rows)
    else:
        raise AssertionError(kind)


GROWN = {
    "trusts": "/api/v1/trusts/", "units": "/api/v1/units/", "projects": "/api/v1/projects/",
    "drivers": "/api/v1/drivers/", "change-ideas": "/api/v1/change-ideas/",
    "measures": "/api/v1/measures/", "data-points": "/api/v1/data-points/",
    "pdsa-cycles": "/api/v1/pdsa-cycles/", "team": "team", "progress": "progress",
    "learning-posts": "/api/v1/learning-posts/",
    "learning-comments": "/api/v1/learning-comments/",
    "shared-measures": "/api/v1/shared-measures/",
    "collaboratives": "/api/v1/collaboratives/",
    "collaborative-trusts": "/api/v1/collaborative-trusts/",
    "collaborative-teams": "/api/v1/collaborative-teams/",
    "team-reports": "/api/v1/team-reports/",
}
# Collaboratives' lists are read by the platform operator here: every row in scope, so the
# count measures the serializers, not who sees what (tests/collaboratives test the scope).
AS_OPERATOR = {"collaboratives", "collaborative-trusts", "collaborative-teams", "team-reports"}
# The most queries any list may cost, whatever its size (measured on SQLite: 2 to 4).
MAX_LIST_QUERIES = 12


@pytest.mark.parametrize("kind", list(GROWN))
def test_list_query_count_is_the_same_for_10_and_1000_rows(kind, world, alice, nadia, trust_a,
                                                           django_assert_max_num_queries):
    url = GROWN[kind]
    if url in ("team", "progress"):
        url = f"/api/v1/projects/{world['project'].pk}/{url}/"
    client = APIClient()
    reader = (nadia if kind == "trusts"
              else UserFactory(is_superuser=True) if kind in AS_OPERATOR else alice)
    client.force_authenticate(reader)
    _grow(kind, 0, 10, world, alice, trust_a)
    # ?count=true asks the cursor-paged lists for their one count too (the most they cost).
    with CaptureQueriesContext(connection) as small:
        first = client.get(url, {"count": "true"})
    assert first.status_code == 200 and first.json()["count"] >= 10
    small = len(small)  # now: the query log is a bounded deque that _grow() overruns
    assert small <= MAX_LIST_QUERIES
    _grow(kind, 10, 990, world, alice, trust_a)
    with django_assert_max_num_queries(small):
        big = client.get(url, {"count": "true"})
    assert big.status_code == 200 and big.json()["count"] >= 1000
    with django_assert_max_num_queries(small):
        assert client.get(url, {"updated_since": LONG_AGO, "count": "true"}).json()[
            "count"] >= 1000


def test_ids_in_filters_and_text_in_bodies_are_checked(api, world):
    response = api.get("/api/v1/pdsa-cycles/", {"project": "0.5"})
    assert response.status_code == 400
    assert "project" in response.json()["errors"]
    assert api.get("/api/v1/pdsa-cycles/", {"project": str(10**30)}).status_code == 400
    project = world["project"]
    team = api.post(f"/api/v1/projects/{project.pk}/team/", {"name": 0, "role": "member"},
                    format="json")
    assert team.status_code == 400
    assert team.json()["errors"] == {"name": ["Not a valid string."]}
    assert TeamMember.objects.filter(project=project).count() == 1


def test_an_unknown_api_address_is_a_json_404_for_every_method(api):
    for method in ("get", "post", "delete"):
        response = getattr(api, method)("/api/v1/no-such-thing/0.5/")
        assert response.status_code == 404, method
        assert response.json() == {"detail": "There is no API endpoint at this address."}
