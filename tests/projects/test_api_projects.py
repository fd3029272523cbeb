"""The projects API: same services and scopes as the pages."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from projects.models import Project
from tests.factories import ProjectFactory, TeamMemberFactory

TODAY = timezone.localdate()


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice, status=Project.Status.PROPOSED)


def test_anonymous_is_denied(api, project):
    assert api.get("/api/v1/projects/").status_code == 401  # with a WWW-Authenticate challenge


def test_list_is_scoped_paginated_and_filtered(api, alice, trust_a, trust_b, ward_a):
    ProjectFactory(trust=trust_a, title="Falls on Ward 7", unit=ward_a, status="active")
    ProjectFactory(trust=trust_a, title="Sepsis", aim="Antibiotics within an hour",
                   status="proposed")
    ProjectFactory(trust=trust_a, title="Secret", visibility=Project.Visibility.TEAM)
    ProjectFactory(trust=trust_b, title="Willow Ward")
    ProjectFactory(trust=trust_a, title="Mine", lead=alice, status="proposed")
    as_user(api, alice)
    body = api.get("/api/v1/projects/").json()
    assert body["count"] == 3
    assert {"next", "previous", "results"} <= set(body)

    def names(params):
        return sorted(p["title"] for p in api.get("/api/v1/projects/", params).json()["results"])
    assert names({"trust": trust_a.ods_code, "status": "active"}) == ["Falls on Ward 7"]
    assert names({"unit": ward_a.parent_id}) == ["Falls on Ward 7"]
    assert names({"search": "antibiotics"}) == ["Sepsis"]
    assert names({"mine": "true"}) == ["Mine"]
    first = api.get("/api/v1/projects/", {"search": "ward 7"}).json()["results"][0]
    assert first["trust"] == trust_a.ods_code
    assert first["unit"]["name"] == "Ward 7"
    assert first["is_stale"] is False


def test_bad_filter_is_400(api, alice):
    response = as_user(api, alice).get("/api/v1/projects/", {"status": "nonsense"})
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_retrieve_outsider_gets_404(api, charlie, project):
    assert as_user(api, charlie).get(f"/api/v1/projects/{project.pk}/").status_code == 404


def test_create_uses_the_service(api, alice, trust_a, ward_a):
    response = as_user(api, alice).post(
        "/api/v1/projects/",
        {"trust": trust_a.ods_code, "title": "Falls", "aim": "Fewer falls", "unit": ward_a.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "proposed"
    assert body["lead"]["id"] == alice.pk
    project = Project.objects.get(pk=body["id"])
    assert project.history.first().history_user == alice


def test_create_validation_errors_are_400_and_save_nothing(api, alice, trust_a, trust_b):
    from tests.factories import UnitFactory

    as_user(api, alice)
    response = api.post("/api/v1/projects/", {"trust": trust_a.ods_code}, format="json")
    assert response.status_code == 400
    assert {"title", "aim"} <= set(response.json()["errors"])
    response = api.post(
        "/api/v1/projects/",
        {"trust": trust_a.ods_code, "title": "F", "aim": "A",
         "unit": UnitFactory(trust=trust_b).pk,
         "start_date": "2026-05-01", "target_date": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["unit"] == ["Choose a unit of the project's trust."]
    assert "target_date" in response.json()["errors"]
    assert not Project.objects.exists()


def test_create_at_another_trust_is_404_and_wrong_role_403(api, charlie, bob, trust_a):
    data = {"trust": trust_a.ods_code, "title": "F", "aim": "A"}
    assert as_user(api, charlie).post("/api/v1/projects/", data).status_code == 404
    assert as_user(api, bob).post("/api/v1/projects/", data).status_code == 403


def test_update_by_team_and_403_for_board(api, alice, bob, project):
    url = f"/api/v1/projects/{project.pk}/"
    response = as_user(api, alice).patch(url, {"scope": "Ward 7 only"}, format="json")
    assert response.status_code == 200
    assert response.json()["scope"] == "Ward 7 only"
    assert as_user(api, bob).patch(url, {"scope": "x"}, format="json").status_code == 403


def test_update_ignores_status_and_trust(api, alice, trust_b, project):
    url = f"/api/v1/projects/{project.pk}/"
    response = as_user(api, alice).patch(
        url, {"status": "completed", "trust": trust_b.ods_code}, format="json"
    )
    assert response.status_code == 200
    project.refresh_from_db()
    assert (project.status, project.trust_id) == ("proposed", project.trust_id)


def test_transition_rules(api, alice, quentin, charlie, project):
    url = f"/api/v1/projects/{project.pk}/transition/"
    assert as_user(api, alice).post(url, {"to": "approved"}).status_code == 403
    assert as_user(api, charlie).post(url, {"to": "approved"}).status_code == 404
    response = as_user(api, quentin).post(url, {"to": "approved"})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    response = as_user(api, alice).post(url, {"to": "completed"})
    assert response.status_code == 400
    assert "cannot become completed" in response.json()["errors"]["status"][0]
    response = as_user(api, alice).post(url, {"to": "stopped"})
    assert response.json()["errors"] == {"reason": ["Say why the project is stopping."]}


def test_team_endpoints(api, alice, bob, charlie, project):
    url = f"/api/v1/projects/{project.pk}/team/"
    as_user(api, alice)
    assert api.post(url, {"user": bob.pk}).status_code == 201
    assert api.post(url, {"name": "Mrs Jones", "role": "patient_partner"}).status_code == 201
    assert api.post(url, {"user": charlie.pk}).status_code == 400
    body = api.get(url).json()
    assert body["count"] == 2
    member_id = body["results"][0]["id"]
    assert as_user(api, bob).post(url, {"name": "X"}).status_code == 201  # bob is on the team
    assert as_user(api, charlie).get(url).status_code == 404
    assert as_user(api, alice).delete(f"{url}{member_id}/").status_code == 204


def test_team_write_by_wrong_role_is_403(api, bob, project):
    url = f"/api/v1/projects/{project.pk}/team/"
    assert as_user(api, bob).post(url, {"name": "X"}).status_code == 403


def test_progress_endpoints(api, alice, bob, charlie, project):
    url = f"/api/v1/projects/{project.pk}/progress/"
    as_user(api, alice)
    old = (TODAY - datetime.timedelta(days=30)).isoformat()
    response = api.post(url, {"score": "1.5", "scored_on": old, "comment": "Planning"})
    assert response.status_code == 201
    assert response.json()["label"] == "Planning for the project has begun"
    future = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = api.post(url, {"score": "2.0", "scored_on": future})
    assert response.status_code == 400
    assert "scored_on" in response.json()["errors"]
    assert api.post(url, {"score": "2.2", "scored_on": old}).status_code == 400
    assert api.get(url).json()["count"] == 1
    project.refresh_from_db()
    assert project.progress_score == Decimal("1.5")
    assert as_user(api, bob).post(url, {"score": "2.0", "scored_on": old}).status_code == 403
    assert as_user(api, charlie).get(url).status_code == 404


@pytest.mark.parametrize("n", [10, 200])
def test_list_query_count_is_constant(api, quentin, trust_a, ward_a, n,
                                      django_assert_max_num_queries):
    Project.objects.bulk_create(
        Project(trust=trust_a, unit=ward_a, lead=quentin, sponsor=quentin, coach=quentin,
                created_by=quentin, title=f"P{i}", aim="A", status="active")
        for i in range(n)
    )
    TeamMemberFactory(project=Project.objects.first(), user=quentin)
    as_user(api, quentin)
    # memberships (role map), filter choices: strategic themes, trusts, units; count; one
    # page of projects joined to trust, unit, lead, sponsor and coach.
    with django_assert_max_num_queries(6):
        body = api.get("/api/v1/projects/", {"mine": "1", "sort": "title"}).json()
    assert body["count"] == n


def test_schema_documents_the_endpoints(client, db):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/projects/", "/api/v1/projects/{id}/progress/",
                 "/api/v1/projects/{id}/team/", "/api/v1/projects/{id}/transition/"):
        assert path in schema
    assert "ProjectCreate" in schema and "ProgressScoreInput" in schema
