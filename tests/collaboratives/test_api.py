"""The collaboratives API: the same scoping as the pages, for members, outsiders and the
wrong role, on every endpoint (read and write)."""

import pytest

from collaboratives import services
from collaboratives.models import Comment, LearningPost, SharedMeasure, TeamReport
from tests.collaboratives.conftest import sign_in

pytestmark = pytest.mark.django_db

LISTS = ["collaboratives", "collaborative-trusts", "collaborative-teams", "shared-measures",
         "team-reports", "learning-posts", "learning-comments"]


@pytest.fixture
def shared(world):
    alice = world["people"]["alice"]
    report = services.team_report_submit(enrolment=world["team_a"], month=world["c"].start_date,
                                         by=alice, score="1.5", tested="Huddles")
    post = services.post_create(collaborative=world["c"], by=alice, title="Huddles work",
                                body="Two minutes at handover", tags=["huddles"])
    comment = services.comment_create(post=post, by=world["people"]["charlie"],
                                      body="Trying it too")
    return {"report": report, "post": post, "comment": comment}


def _ids(client, name):
    response = client.get(f"/api/v1/{name}/")
    assert response.status_code == 200, name
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("persona, sees", [
    ("fiona", True), ("alice", True), ("charlie", True), ("nadia", True), ("root", True),
    ("dora", False),
])
def test_lists_show_members_what_they_may_read(client, world, shared, persona, sees):
    sign_in(client, world["people"][persona])
    c = world["c"]
    expected = {
        "collaboratives": c.pk, "shared-measures": world["sm"].pk,
        "collaborative-teams": world["team_a"].pk, "team-reports": shared["report"].pk,
        "learning-posts": shared["post"].pk, "learning-comments": shared["comment"].pk,
        "collaborative-trusts": c.participations.get(trust=world["project_a"].trust).pk,
    }
    for name in LISTS:
        assert (expected[name] in _ids(client, name)) is sees, name
        got = client.get(f"/api/v1/{name}/{expected[name]}/").status_code
        assert got == (200 if sees else 404), name


def test_an_invited_lead_sees_the_collaborative_but_not_its_data(client, world, shared):
    sign_in(client, world["people"]["ivan"])
    assert world["c"].pk in _ids(client, "collaboratives")
    for name in ("shared-measures", "team-reports", "learning-posts", "collaborative-teams"):
        assert _ids(client, name) == set(), name


def test_members_of_one_collaborative_do_not_see_another(client, world):
    sign_in(client, world["people"]["alice"])
    assert world["other"].pk not in _ids(client, "collaboratives")
    assert world["other_sm"].pk not in _ids(client, "shared-measures")
    assert world["other_post"].pk not in _ids(client, "learning-posts")


def test_only_facilitators_add_shared_measures(client, world):
    body = {"collaborative": world["c"].pk, "name": "Falls per 1,000 bed days",
            "definition": "Falls from Datix", "chart": "u", "numerator": "Falls",
            "denominator": "Bed days (thousands)", "direction": "decrease",
            "frequency": "monthly", "kind": "outcome"}
    sign_in(client, world["people"]["alice"])
    assert client.post("/api/v1/shared-measures/", body).status_code == 403
    client.logout()
    sign_in(client, world["people"]["dora"])  # outsider: the collaborative is not in scope
    assert client.post("/api/v1/shared-measures/", body).status_code == 400
    client.logout()
    sign_in(client, world["people"]["nadia"])
    assert client.post("/api/v1/shared-measures/", body).status_code == 403
    assert not SharedMeasure.objects.filter(name=body["name"]).exists()
    client.logout()
    sign_in(client, world["people"]["fiona"])
    response = client.post("/api/v1/shared-measures/", body)
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 1


def test_a_team_reports_through_the_api_and_others_cannot(client, world):
    body = {"enrolment": world["team_a"].pk, "month": "2025-11-01", "score": "2.0",
            "tested": "Huddles", "learned": "Short ones", "help_needed": ""}
    sign_in(client, world["people"]["charlie"])  # a member, not on team A
    assert client.post("/api/v1/team-reports/", body).status_code == 403
    client.logout()
    sign_in(client, world["people"]["dora"])
    assert client.post("/api/v1/team-reports/", body).status_code == 400
    assert not TeamReport.objects.exists()
    client.logout()
    sign_in(client, world["people"]["alice"])
    assert client.post("/api/v1/team-reports/", {**body, "score": "2.3"}).status_code == 400
    response = client.post("/api/v1/team-reports/", body)
    assert response.status_code == 201, response.content
    assert response.json()["score"] == "2.0"


def test_posts_and_comments_through_the_api(client, world, shared):
    sign_in(client, world["people"]["nadia"])  # reads, posts nothing
    body = {"collaborative": world["c"].pk, "title": "Bed sensors", "body": "Fewer night falls"}
    assert client.post("/api/v1/learning-posts/", body).status_code == 403
    client.logout()
    sign_in(client, world["people"]["charlie"])
    response = client.post("/api/v1/learning-posts/", {**body, "tags": ["sensors"]},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["tag_names"] == ["sensors"]
    assert client.post("/api/v1/learning-comments/", {
        "post": shared["post"].pk, "body": "Patient 943 476 5919 agreed"}).status_code == 400
    assert client.post("/api/v1/learning-comments/", {
        "post": shared["post"].pk, "body": "Agreed"}).status_code == 201
    assert Comment.objects.filter(body="Agreed").exists()
    client.logout()
    sign_in(client, world["people"]["dora"])
    assert client.post("/api/v1/learning-comments/", {
        "post": shared["post"].pk, "body": "Hello"}).status_code == 400
    assert client.post("/api/v1/learning-posts/", body).status_code == 400
    assert LearningPost.objects.filter(title="Bed sensors").count() == 1
