"""Who may open what in a collaborative: every URL × persona, and proof that trust B's
things it never shared stay out of reach of trust A's members through every collaborative
page, download and API call (outsider 404, member without the right 403)."""

import pytest
from django.urls import reverse

from collaboratives import services
from collaboratives.models import Collaborative, Enrolment, Participation
from organisations import access
from organisations.access import Permission as P
from tests.collaboratives.conftest import sign_in
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["fiona", "quentin", "alice", "dora", "nadia", "root", "ivan"]
# Expected GET status per persona, in PERSONAS order.
MANAGE = [200, 403, 403, 404, 403, 200, 403]
READ = [200, 200, 200, 404, 200, 200, 403]
POST = [200, 200, 200, 404, 403, 200, 403]


def _urls(w):
    c = w["c"].pk
    a, sm = w["team_a"].pk, w["sm"].pk
    return {
        "list": (reverse("collaboratives:list"), [200] * 7),
        "create": (reverse("collaboratives:create"), [403, 200, 403, 403, 403, 200, 200]),
        "detail": (reverse("collaboratives:detail", args=[c]),
                   [200, 200, 200, 404, 200, 200, 200]),
        "edit": (reverse("collaboratives:edit", args=[c]), MANAGE),
        "facilitator_add": (reverse("collaboratives:facilitator_add", args=[c]), MANAGE),
        "session_create": (reverse("collaboratives:session_create", args=[c]), MANAGE),
        "session_edit": (reverse("collaboratives:session_edit", args=[c, w["session"].pk]),
                         MANAGE),
        "invite": (reverse("collaboratives:invite", args=[c]), MANAGE),
        "enrol": (reverse("collaboratives:enrol", args=[c]),
                  [403, 200, 403, 404, 403, 200, 403]),
        "team": (reverse("collaboratives:team", args=[c, a]), READ),
        "report": (reverse("collaboratives:report", args=[c, a]),
                   [403, 200, 200, 404, 403, 200, 403]),
        "shared_measure_create": (reverse("collaboratives:shared_measure_create", args=[c]),
                                  MANAGE),
        "shared_measure": (reverse("collaboratives:shared_measure", args=[c, sm]), READ),
        "shared_measure_edit": (reverse("collaboratives:shared_measure_edit", args=[c, sm]),
                                MANAGE),
        "dashboard": (reverse("collaboratives:dashboard", args=[c]), READ),
        "dashboard_csv": (reverse("collaboratives:dashboard_csv", args=[c]), READ),
        "dashboard_xlsx": (reverse("collaboratives:dashboard_xlsx", args=[c]), READ),
        "feed": (reverse("collaboratives:feed", args=[c]), READ),
        "post_create": (reverse("collaboratives:post_create", args=[c]), POST),
        "change_package": (reverse("collaboratives:change_package", args=[c]), READ),
        "package_idea_create": (reverse("collaboratives:package_idea_create", args=[c]),
                                MANAGE),
        "package_link": (reverse("collaboratives:package_link", args=[c, a]),
                         [403, 200, 200, 404, 403, 200, 403]),
    }


URL_NAMES = ["list", "create", "detail", "edit", "facilitator_add", "session_create",
             "session_edit", "invite", "enrol", "team", "report", "shared_measure_create",
             "shared_measure", "shared_measure_edit", "dashboard", "dashboard_csv",
             "dashboard_xlsx", "feed", "post_create", "change_package",
             "package_idea_create", "package_link"]


@pytest.mark.parametrize("name", URL_NAMES)
def test_every_page_answers_each_persona_as_the_rules_say(client, world, name):
    url, expected = _urls(world)[name]
    got = []
    for persona in PERSONAS:
        client.logout()
        got.append(sign_in(client, world["people"][persona]).get(url).status_code)
    assert dict(zip(PERSONAS, got, strict=True)) == dict(zip(PERSONAS, expected, strict=True))


def test_post_and_assess_pages(client, world):
    report = services.team_report_submit(enrolment=world["team_a"],
                                         month=world["c"].start_date, by=world["people"]["alice"],
                                         score="2.0", tested="Huddles")
    post = services.post_create(collaborative=world["c"], by=world["people"]["alice"],
                                title="Huddles work", body="Short huddles at handover")
    pages = {
        reverse("collaboratives:post", args=[world["c"].pk, post.pk]): READ,
        reverse("collaboratives:assess", args=[world["c"].pk, report.pk]): MANAGE,
    }
    for url, expected in pages.items():
        got = []
        for persona in PERSONAS:
            client.logout()
            got.append(sign_in(client, world["people"][persona]).get(url).status_code)
        assert got == expected, url


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(reverse("collaboratives:detail", args=[world["c"].pk]))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


# ---- POST-only actions: outsider 404, wrong role 403 ----------------------------------------


def _post(client, user, url, data=None):
    client.logout()
    return sign_in(client, user).post(url, data or {})


def test_only_facilitators_approve_enrolments(client, world):
    people = world["people"]
    pending = Enrolment.objects.create(
        collaborative=world["c"], requested_by=people["quentin"],
        project=ProjectFactory(trust=world["project_a"].trust, lead=people["alice"]))
    url = reverse("collaboratives:decide", args=[world["c"].pk, pending.pk])
    assert _post(client, people["dora"], url, {"decision": "approve"}).status_code == 404
    assert _post(client, people["quentin"], url, {"decision": "approve"}).status_code == 403
    assert _post(client, people["nadia"], url, {"decision": "approve"}).status_code == 403
    pending.refresh_from_db()
    assert pending.status == Enrolment.Status.PENDING
    assert _post(client, people["fiona"], url, {"decision": "approve"}).status_code == 302
    pending.refresh_from_db()
    assert pending.status == Enrolment.Status.APPROVED


def test_only_the_invited_trusts_lead_answers(client, world):
    people = world["people"]
    part = world["c"].participations.get(trust__ods_code="RII")
    url = reverse("collaboratives:respond", args=[world["c"].pk, part.pk])
    assert _post(client, people["dora"], url, {"answer": "accept"}).status_code == 404
    assert _post(client, people["alice"], url, {"answer": "accept"}).status_code == 403
    assert _post(client, people["fiona"], url, {"answer": "accept"}).status_code == 403
    part.refresh_from_db()
    assert part.status == Participation.Status.INVITED
    assert _post(client, people["ivan"], url, {"answer": "accept"}).status_code == 302
    part.refresh_from_db()
    assert part.status == Participation.Status.ACCEPTED


def test_a_member_cannot_act_for_another_trusts_team(client, world):
    people = world["people"]
    c, team_b = world["c"], world["team_b"]
    for name, kwargs in (("leave", {}), ("adopt", {"smid": world["sm"].pk}),
                         ("follow", {"aid": world["adopt_b"].pk})):
        url = reverse(f"collaboratives:{name}", kwargs={"pk": c.pk, "eid": team_b.pk, **kwargs})
        assert _post(client, people["alice"], url).status_code == 403, name
        assert _post(client, people["dora"], url).status_code == 404, name
    assert _post(client, people["alice"],
                 reverse("collaboratives:report", args=[c.pk, team_b.pk]),
                 {"month": "2025-10", "score": "2.0"}).status_code == 403
    team_b.refresh_from_db()
    assert team_b.status == "approved"
    assert not team_b.reports.exists()


# ---- trust B's things it never shared ---------------------------------------------------


def test_trust_b_unshared_things_stay_404_to_trust_a_members_everywhere(client, world):
    people = world["people"]
    c = world["c"]
    secret_measure, secret_cycle = world["secret_measure"], world["secret_cycle"]
    secret_project, project_b = world["secret_project"], world["project_b"]
    for persona in ("alice", "quentin"):
        client.logout()
        sign_in(client, people[persona])
        # The project pages, measure pages and PDSA pages of trust B.
        for url in (
            project_b.get_absolute_url(),
            secret_project.get_absolute_url(),
            reverse("projects:measure_detail", args=[project_b.pk, secret_measure.pk]),
            reverse("projects:measure_detail", args=[project_b.pk, world["adopt_b"].measure.pk]),
            secret_cycle.get_absolute_url(),
            # Through the collaborative: a team, a measure, a post of a collaborative trust
            # A is not in, and sharing B's cycle.
            reverse("collaboratives:team", args=[c.pk, world["other_team"].pk]),
            reverse("collaboratives:team", args=[world["other"].pk, world["other_team"].pk]),
            reverse("collaboratives:shared_measure", args=[c.pk, world["other_sm"].pk]),
            reverse("collaboratives:post", args=[c.pk, world["other_post"].pk]),
            reverse("collaboratives:dashboard", args=[world["other"].pk]),
            reverse("collaboratives:change_package", args=[world["other"].pk]),
            reverse("collaboratives:feed", args=[world["other"].pk]),
            reverse("collaboratives:post_create", args=[c.pk]) + f"?cycle={secret_cycle.pk}",
            # The API.
            f"/api/v1/projects/{project_b.pk}/",
            f"/api/v1/projects/{secret_project.pk}/",
            f"/api/v1/measures/{secret_measure.pk}/",
            f"/api/v1/measures/{world['adopt_b'].measure.pk}/",
            f"/api/v1/pdsa-cycles/{secret_cycle.pk}/",
            f"/api/v1/collaboratives/{world['other'].pk}/",
            f"/api/v1/shared-measures/{world['other_sm'].pk}/",
            f"/api/v1/learning-posts/{world['other_post'].pk}/",
            f"/api/v1/collaborative-teams/{world['other_team'].pk}/",
        ):
            assert client.get(url).status_code == 404, (persona, url)
        # Pages and downloads they may read show B's shared data, never the rest.
        for url in (
            reverse("collaboratives:detail", args=[c.pk]),
            reverse("collaboratives:team", args=[c.pk, world["team_b"].pk]),
            reverse("collaboratives:dashboard", args=[c.pk]),
            reverse("collaboratives:dashboard_csv", args=[c.pk]),
            reverse("collaboratives:change_package", args=[c.pk]),
            reverse("collaboratives:feed", args=[c.pk]),
            "/api/v1/collaboratives/", "/api/v1/shared-measures/", "/api/v1/learning-posts/",
            "/api/v1/collaborative-teams/", "/api/v1/team-reports/", "/api/v1/measures/",
            "/api/v1/pdsa-cycles/", "/api/v1/projects/",
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            for secret in ("Cedar Ward staff sickness", "Cedar secret huddle",
                           "Cedar private", "Cedar-only", "Eastbrook-only"):
                assert secret not in body, (persona, url, secret)
    # The team's shared data is what they do see.
    body = client.get(reverse("collaboratives:dashboard", args=[c.pk])).content.decode()
    assert "Falls on Cedar Ward" in body


def test_access_rules_in_words(world):
    c, people = world["c"], world["people"]
    assert access.has_permission(people["fiona"], P.COLLABORATIVE_MANAGE, collaborative=c)
    assert not access.has_permission(people["quentin"], P.COLLABORATIVE_MANAGE, collaborative=c)
    assert access.has_permission(people["alice"], P.COLLABORATIVE_POST, collaborative=c)
    assert not access.has_permission(people["nadia"], P.COLLABORATIVE_POST, collaborative=c)
    assert access.has_permission(people["nadia"], P.COLLABORATIVE_DATA_VIEW, collaborative=c)
    assert access.has_permission(people["ivan"], P.COLLABORATIVE_VIEW, collaborative=c)
    assert not access.has_permission(people["ivan"], P.COLLABORATIVE_DATA_VIEW, collaborative=c)
    assert not access.has_permission(people["dora"], P.COLLABORATIVE_VIEW, collaborative=c)
    # Taking part grants nothing on another trust's projects.
    assert not access.has_permission(people["alice"], P.PROJECT_VIEW,
                                     project=world["project_b"])
    visible = access.collaboratives_visible_to(people["dora"], Collaborative.objects.all())
    assert not visible.exists()
    visible = set(access.collaboratives_visible_to(people["alice"], Collaborative.objects.all()))
    assert visible == {c}
