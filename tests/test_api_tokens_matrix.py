"""Every API area through a token: a member, an outsider, the wrong role, and tokens that
no longer work, each on a representative read and write; and service tokens limited to one
trust, read-only or read-write. Bad, revoked and expired tokens answer 401, never 403.

Areas: projects (read a project, edit its title), measures (read a measure, add a data
point), PDSA (read a cycle, log a new one), collaboratives (read the collaborative, post
learning).
"""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from organisations import services
from organisations.models import ApiToken
from pdsa.models import Cycle
from tests.collaboratives.conftest import make_collaborative, take_part
from tests.factories import ChangeIdeaFactory, MeasureFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(trust_a, trust_b, alice, charlie):
    project = ProjectFactory(trust=trust_a, lead=alice, title="Falls on Ward 7")
    measure = MeasureFactory(project=project)
    idea = ChangeIdeaFactory(project=project)
    cycle = Cycle.objects.create(change_idea=idea, number=1, objective="Rounding",
                                 created_by=alice)
    fiona = UserFactory(full_name="Fiona Facilitator")
    collaborative = make_collaborative(trust_a, [fiona])
    take_part(collaborative, trust_a, fiona)
    return {"project": project, "measure": measure, "idea": idea, "cycle": cycle,
            "collaborative": collaborative}


# (method, url, body) for each area's representative read and write.
def _ops(w):
    p, m, i, cy, c = w["project"], w["measure"], w["idea"], w["cycle"], w["collaborative"]
    return {
        "projects": {
            "read": ("get", f"/api/v1/projects/{p.pk}/", None),
            "write": ("patch", f"/api/v1/projects/{p.pk}/", {"title": "Falls on Ward 7 (v2)"}),
        },
        "measures": {
            "read": ("get", f"/api/v1/measures/{m.pk}/", None),
            "write": ("post", "/api/v1/data-points/",
                      {"measure": m.pk, "period": "2025-01-01", "value": 4}),
        },
        "pdsa": {
            "read": ("get", f"/api/v1/pdsa-cycles/{cy.pk}/", None),
            "write": ("post", "/api/v1/pdsa-cycles/",
                      {"change_idea": i.pk, "objective": "Bay B", "prediction": "Fewer"}),
        },
        "collaboratives": {
            "read": ("get", f"/api/v1/collaboratives/{c.pk}/", None),
            "write": ("post", "/api/v1/learning-posts/",
                      {"collaborative": c.pk, "title": "Huddles", "body": "Two minutes"}),
        },
    }


AREAS = ["projects", "measures", "pdsa", "collaboratives"]


def call(secret, op, *, keyword="Bearer"):
    method, url, body = op
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    kwargs = {"format": "json"} if body is not None else {}
    return getattr(client, method)(url, body, **kwargs) if body is not None else \
        getattr(client, method)(url)


def personal(user, **kw):
    return services.api_token_create(by=user, name=f"{user.full_name} script", **kw)[1]


# ---- personal tokens: exactly the owner's access ---------------------------------------

# Who acts, and what each area answers to the read and the write. The wrong role: Bob the
# board member reads the trust's projects but enters nothing; Nadia the national analyst
# reads every collaborative and posts nothing.
PERSONAL = {
    "member": ("alice", {a: (200, 201) for a in AREAS} | {"projects": (200, 200)}),
    # A create whose body names an object outside the caller's scope answers 400 "does not
    # exist", as it does for a session (tests/pdsa/test_api.py): it reveals nothing either.
    "outsider": ("charlie", {"projects": (404, 404), "measures": (404, 404),
                             "pdsa": (404, 400), "collaboratives": (404, 400)}),
    "wrong_role": ("bob", {a: (200, 403) for a in AREAS if a != "collaboratives"}),
    "wrong_role_national": ("nadia", {"collaboratives": (200, 403)}),
}


PERSONAL_CASES = [(case, area) for case, (_, areas) in PERSONAL.items() for area in areas]


@pytest.mark.parametrize("case, area", PERSONAL_CASES)
def test_personal_token_acts_with_its_owners_access(case, area, world, personas):
    who, expected = PERSONAL[case]
    read, write = expected[area]
    secret = personal(personas[who])
    ops = _ops(world)[area]
    cycles = Cycle.objects.count()
    got = (call(secret, ops["read"]).status_code, call(secret, ops["write"]).status_code)
    assert got == (read, write)
    if write >= 400 and area == "pdsa":
        assert Cycle.objects.count() == cycles


@pytest.mark.parametrize("area", AREAS)
def test_revoked_token_answers_401_at_once(area, world, alice):
    token, secret = services.api_token_create(by=alice, name="Upload script")
    ops = _ops(world)[area]
    assert call(secret, ops["read"]).status_code == 200
    services.api_token_revoke(token=token, by=alice)
    for kind in ("read", "write"):
        response = call(secret, ops[kind])
        assert response.status_code == 401, kind
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("area", AREAS)
def test_expired_and_unknown_tokens_answer_401(area, world, alice):
    token, secret = services.api_token_create(by=alice, name="Old script", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3),
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    ops = _ops(world)[area]
    for kind in ("read", "write"):
        for bad in (secret, secret + "x", "qip_not-a-token", ""):
            response = call(bad, ops[kind])
            assert response.status_code == 401, (kind, bad)
            assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_token_keyword_is_accepted_too(world, alice):
    secret = personal(alice)
    op = _ops(world)["projects"]["read"]
    assert call(secret, op, keyword="Token").status_code == 200
    assert call(secret, op, keyword="bearer").status_code == 200


def test_a_switched_off_account_token_answers_401(world, alice):
    secret = personal(alice)
    alice.is_active = False
    alice.save()
    assert call(secret, _ops(world)["projects"]["read"]).status_code == 401


def test_a_token_needs_no_csrf_and_a_session_still_does(world, alice):
    secret = personal(alice)
    op = _ops(world)["projects"]["write"]
    assert call(secret, op).status_code == 200
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.patch(op[1], op[2], format="json").status_code == 403


# ---- service tokens: one trust, read-only or read-write --------------------------------


def service(trust, by, *, read_only):
    return services.service_token_create(trust=trust, by=by, name="Trust data warehouse",
                                         read_only=read_only)[1]


@pytest.mark.parametrize("area", AREAS)
def test_read_only_service_token_reads_its_trust_and_writes_nothing(area, world, tara):
    secret = service(world["project"].trust, tara, read_only=True)
    ops = _ops(world)[area]
    assert call(secret, ops["read"]).status_code == 200
    assert call(secret, ops["write"]).status_code == 403


# Read-write enters data and logs cycles; it never posts in a collaborative (that is the
# trust's people's voice, not a system's).
RW_WRITE = {"projects": 200, "measures": 201, "pdsa": 201, "collaboratives": 403}


@pytest.mark.parametrize("area", AREAS)
def test_read_write_service_token_writes_where_allowed(area, world, tara):
    secret = service(world["project"].trust, tara, read_only=False)
    ops = _ops(world)[area]
    assert call(secret, ops["read"]).status_code == 200
    assert call(secret, ops["write"]).status_code == RW_WRITE[area]


@pytest.mark.parametrize("area", AREAS)
def test_service_token_of_another_trust_gets_404(area, world, trust_b):
    from organisations.models import Membership
    from tests.conftest import _member

    admin_b = _member(trust_b, Membership.Role.TRUST_ADMIN, user__full_name="Ben Admin")
    secret = service(trust_b, admin_b, read_only=False)
    ops = _ops(world)[area]
    assert call(secret, ops["read"]).status_code == 404
    # Creates naming another trust's object answer 400 "does not exist" (as for people).
    expected = 400 if area in ("pdsa", "collaboratives") else 404
    assert call(secret, ops["write"]).status_code == expected
    assert Cycle.objects.count() == 1


@pytest.mark.parametrize("area", AREAS)
def test_revoked_service_token_answers_401(area, world, tara):
    token, secret = services.service_token_create(
        trust=world["project"].trust, by=tara, name="Old feed", read_only=False)
    ops = _ops(world)[area]
    assert call(secret, ops["read"]).status_code == 200
    services.service_token_revoke(token=token, by=tara)
    assert call(secret, ops["read"]).status_code == 401
    assert call(secret, ops["write"]).status_code == 401


def test_service_token_never_sees_another_trusts_project_even_if_open_to_everyone(
        world, trust_b, tara, charlie):
    open_b = ProjectFactory(trust=trust_b, lead=charlie, visibility="everyone")
    secret = service(world["project"].trust, tara, read_only=True)
    op = ("get", "/api/v1/projects/", None)
    ids = {row["id"] for row in call(secret, op).json()["results"]}
    assert world["project"].pk in ids and open_b.pk not in ids
    assert call(secret, ("get", f"/api/v1/projects/{open_b.pk}/", None)).status_code == 404
    trusts = {row["ods_code"] for row in
              call(secret, ("get", "/api/v1/trusts/", None)).json()["results"]}
    assert trusts == {world["project"].trust.ods_code}


def test_service_token_cannot_approve_a_project(world, tara):
    secret = service(world["project"].trust, tara, read_only=False)
    project = world["project"]
    response = call(secret, ("post", f"/api/v1/projects/{project.pk}/transition/",
                             {"to": "approved"}))
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.status == "active"


def test_tokens_pass_through_the_same_throttle(world, alice):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    secret = personal(alice)
    saved = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "2/min"}
    try:
        op = _ops(world)["projects"]["read"]
        codes = [call(secret, op).status_code for _ in range(3)]
    finally:
        UserRateThrottle.THROTTLE_RATES = saved
    assert codes == [200, 200, 429]
