import pytest
from rest_framework.test import APIClient

from pdsa.models import Cycle
from tests.factories import ChangeIdeaFactory, MeasureFactory, ProjectFactory

LIST = "/api/v1/pdsa-cycles/"


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


def detail(cycle):
    return f"{LIST}{cycle.pk}/"


def test_list_is_scoped_and_paginated(api, alice, cycle, trust_b):
    hidden = ChangeIdeaFactory(
        project=ProjectFactory(trust=trust_b, visibility="team"), text="Trust B idea"
    )
    Cycle.objects.create(change_idea=hidden, number=1, objective="x", created_by=alice)
    response = as_user(api, alice).get(LIST, {"count": "true"})
    assert response.status_code == 200
    assert response.data["count"] == 1
    item = response.data["results"][0]
    assert item["id"] == cycle.pk
    assert item["status"] == "doing"
    assert item["version"] == 1
    assert item["quality"] == {
        "prediction": True, "data_linked": False, "study_compares": False, "ramp": False,
    }


def test_list_filters(api, alice, project, idea, make_cycle):
    import datetime

    other_idea = ChangeIdeaFactory(project=project)
    early = make_cycle(idea, planned_start=datetime.date(2026, 1, 5))
    late = make_cycle(other_idea, planned_start=datetime.date(2026, 6, 1), decision="adopt")
    as_user(api, alice)

    def ids(query):
        return [c["id"] for c in api.get(LIST, query).data["results"]]

    assert ids({"project": project.pk}) == [late.pk, early.pk]
    assert ids({"change_idea": idea.pk}) == [early.pk]
    assert ids({"status": "complete"}) == [late.pk]
    assert ids({"date_from": "2026-03-01"}) == [late.pk]
    assert ids({"date_to": "2026-03-01"}) == [early.pk]
    assert ids({"project": project.pk + 100}) == []


@pytest.mark.parametrize("n", [5, 500])
def test_list_query_count_is_constant(api, alice, idea, n, django_assert_max_num_queries):
    Cycle.objects.bulk_create(
        Cycle(change_idea=idea, number=i + 1, objective="t", created_by=alice) for i in range(n)
    )
    as_user(api, alice)
    # 1 memberships (scope), 2 count, 3 page of cycles (joined, quality annotated),
    # 4 their measures (prefetch).
    with django_assert_max_num_queries(4):
        response = api.get(LIST)
    assert len(response.data["results"]) == min(n, 50)


def test_create(api, alice, idea, measure):
    response = as_user(api, alice).post(
        LIST,
        {
            "change_idea": idea.pk,
            "objective": "Rounding on bay A",
            "prediction": "Falls halve",
            "measures": [measure.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["number"] == 1
    assert response.data["measures"] == [measure.pk]
    assert response.data["project"] == idea.project_id
    cycle = Cycle.objects.get()
    assert cycle.history.get().history_user == alice


def test_create_with_an_nhs_number_is_400_and_saves_nothing(api, alice, idea):
    response = as_user(api, alice).post(
        LIST,
        {"change_idea": idea.pk, "objective": "Review patient 943 476 5919"},
        format="json",
    )
    assert response.status_code == 400
    assert "This looks like an NHS number." in response.data["errors"]["objective"][0]
    assert not Cycle.objects.exists()


def test_update_with_a_date_of_birth_is_400_and_saves_nothing(api, alice, cycle):
    response = as_user(api, alice).patch(
        detail(cycle), {"version": 1, "observations": "Mr X, DOB 12/03/1954"}, format="json"
    )
    assert response.status_code == 400
    assert "date of birth" in response.data["errors"]["observations"][0]
    cycle.refresh_from_db()
    assert (cycle.observations, cycle.version) == ("", 1)


def test_create_with_a_measure_of_another_project_is_400(api, alice, idea):
    measure = MeasureFactory(project=ProjectFactory(trust=idea.project.trust, lead=alice))
    response = as_user(api, alice).post(
        LIST, {"change_idea": idea.pk, "objective": "x", "measures": [measure.pk]}, format="json"
    )
    assert response.status_code == 400
    assert "measures" in response.data["errors"]


def test_patch_updates_and_bumps_version(api, alice, cycle):
    response = as_user(api, alice).patch(
        detail(cycle),
        {"version": 1, "carried_out_as_planned": "yes", "what_happened": "Rounded hourly"},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert (response.data["version"], response.data["status"]) == (2, "studying")


def test_patch_needs_a_version(api, alice, cycle):
    response = as_user(api, alice).patch(detail(cycle), {"learning": "x"}, format="json")
    assert response.status_code == 400
    assert "version" in response.data["errors"]


def test_patch_with_a_stale_version_is_409_with_current_values(api, alice, quentin, cycle):
    first = as_user(api, alice).patch(
        detail(cycle), {"version": 1, "objective": "Alice's objective"}, format="json"
    )
    assert first.status_code == 200
    second = as_user(APIClient(), quentin).patch(
        detail(cycle), {"version": 1, "objective": "Quentin's objective"}, format="json"
    )
    assert second.status_code == 409
    assert second.data["current"]["objective"] == "Alice's objective"
    assert second.data["current"]["version"] == 2
    cycle.refresh_from_db()
    assert cycle.objective == "Alice's objective"


def test_put_and_delete_are_not_allowed(api, alice, cycle):
    as_user(api, alice)
    assert api.put(detail(cycle), {"version": 1}, format="json").status_code == 405
    assert api.delete(detail(cycle)).status_code == 405


def test_outsider_gets_404(api, charlie, project, cycle):
    project.visibility = project.Visibility.TEAM
    project.save()
    as_user(api, charlie)
    assert api.get(detail(cycle)).status_code == 404
    response = api.patch(detail(cycle), {"version": 1, "learning": "x"}, format="json")
    assert response.status_code == 404
    new = {"change_idea": cycle.change_idea_id, "objective": "x"}
    response = api.post(LIST, new, format="json")
    assert response.status_code == 400  # the change idea does not exist for them
    assert not Cycle.objects.exclude(pk=cycle.pk).exists()


@pytest.mark.parametrize("persona", ["bob", "nadia"])
def test_readers_can_read_but_not_write(api, personas, persona, cycle):
    as_user(api, personas[persona])
    assert api.get(detail(cycle)).status_code == 200
    response = api.patch(detail(cycle), {"version": 1, "learning": "x"}, format="json")
    assert response.status_code == 403
    new = {"change_idea": cycle.change_idea_id, "objective": "x"}
    assert api.post(LIST, new, format="json").status_code == 403
    assert Cycle.objects.count() == 1


def test_anonymous_is_refused(api, cycle):
    assert api.get(LIST).status_code in (401, 403)


def test_schema_documents_the_endpoint(api, alice):
    response = as_user(api, alice).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/pdsa-cycles/" in paths
    patch = paths["/api/v1/pdsa-cycles/{id}/"]["patch"]
    assert "409" in patch["responses"]


def test_a_saved_patch_answers_from_what_it_committed(api, alice, cycle, monkeypatch):
    # The connection drops right after the commit: the client must still hear "saved"
    # (a 500 here made its retry a 409 although the first save had landed).
    from django.db import OperationalError, connection

    from pdsa import services

    committed = {"done": False}
    real_update = services.cycle_update

    def update_then_lose_the_connection(**kwargs):
        saved = real_update(**kwargs)
        committed["done"] = True
        return saved

    def lost(execute, sql, params, many, context):
        if committed["done"]:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    monkeypatch.setattr(services, "cycle_update", update_then_lose_the_connection)
    with connection.execute_wrapper(lost):
        response = as_user(api, alice).patch(
            detail(cycle),
            {"version": 1, "carried_out_as_planned": "yes", "what_happened": "Rounded hourly"},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert (response.data["version"], response.data["status"]) == (2, "studying")
    assert response.data["quality"]["prediction"] is True
