"""Every API endpoint and method of the router, through personal tokens: the member with the
right, an outsider (another trust: 404, or 400 "does not exist" for an id in a body), the
wrong role (403; a read the role may make: 200) and a revoked token (401).

The walker fails when the router has an endpoint or method without a row here, so a new
endpoint cannot ship without its access rows.
"""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from collaboratives.models import Comment, LearningPost, SharedMeasure, TeamReport
from core.api import SyncMixin
from measures.models import DataPoint
from organisations import services
from pdsa.models import Cycle
from projects.models import Driver, ProgressScore, TeamMember
from qi_portal.urls import router
from tests.collaboratives.conftest import enrol, make_collaborative, take_part
from tests.factories import (
    ChangeIdeaFactory,
    MeasureFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(trust_a, alice, quentin):
    unit = UnitFactory(trust=trust_a)
    p = ProjectFactory(trust=trust_a, lead=alice, title="Falls on Ward 7", unit=unit)
    primary = Driver.objects.create(project=p, text="Safe care", position=0)
    secondary = Driver.objects.create(project=p, parent=primary, text="Rounding", position=0)
    idea = ChangeIdeaFactory(project=p)
    idea.drivers.set([secondary])
    m = MeasureFactory(project=p)
    point = DataPoint.objects.create(measure=m, period=dt.date(2025, 1, 1), value=3)
    cycle = Cycle.objects.create(change_idea=idea, number=1, objective="Rounding",
                                 created_by=alice)
    member = TeamMember.objects.create(project=p, name="Pat Partner", role="patient_partner")
    score = ProgressScore.objects.create(project=p, score="1.5", scored_on=dt.date(2025, 1, 1),
                                         recorded_by=alice)
    fiona = UserFactory(full_name="Fiona Facilitator")
    c = make_collaborative(trust_a, [fiona])
    part = take_part(c, trust_a, fiona)
    e = enrol(c, p, fiona)
    shared = SharedMeasure.objects.create(collaborative=c, name="Falls rate", kind="outcome",
                                          definition="Falls per 1,000 bed days",
                                          direction="down")
    report = TeamReport.objects.create(enrolment=e, month=dt.date(2025, 11, 1), score="2.0",
                                       submitted_by=alice)
    post = LearningPost.objects.create(collaborative=c, author=alice, title="Huddles",
                                       body="Two minutes")
    comment = Comment.objects.create(post=post, author=fiona, body="Thanks")
    return {"p": p, "primary": primary, "secondary": secondary, "idea": idea, "m": m,
            "point": point, "cycle": cycle, "member": member, "score": score, "c": c,
            "part": part, "e": e, "shared": shared, "report": report, "post": post,
            "comment": comment, "fiona": fiona, "trust": trust_a, "unit": unit,
            "new": ProjectFactory(trust=trust_a, lead=alice, status="proposed")}


MEASURE_BODY = {"name": "Falls", "kind": "outcome", "definition": "Falls per 1,000 bed days",
                "frequency": "monthly", "direction": "decrease"}

# (route name, method) → (url(w), body(w) or None, member, expected: member, outsider,
# wrong-role, and the personas for member / wrong role when not alice / bob).
R = "alice", "bob"
ROWS = {
    ("trust-list", "get"): (lambda w: "/api/v1/trusts/", None, (200, 200, 200), R),
    ("trust-detail", "get"): (lambda w: f"/api/v1/trusts/{w['trust'].ods_code}/", None,
                              (200, 404, 200), R),
    ("trust-measures-matrix-export", "get"): (
        lambda w: f"/api/v1/trusts/{w['trust'].ods_code}/measures-matrix/export/csv/", None,
        (200, 404, 200), R),
    ("unit-list", "get"): (lambda w: "/api/v1/units/", None, (200, 200, 200), R),
    ("unit-detail", "get"): (lambda w: f"/api/v1/units/{w['unit'].pk}/", None,
                             (200, 404, 200), R),
    ("project-list", "get"): (lambda w: "/api/v1/projects/", None, (200, 200, 200), R),
    ("project-list", "post"): (
        lambda w: "/api/v1/projects/",
        lambda w: {"trust": w["trust"].ods_code, "title": "New", "aim": "Fewer falls"},
        (201, 404, 403), R),
    ("project-export", "get"): (lambda w: "/api/v1/projects/export/csv/", None,
                                (200, 200, 200), R),
    ("project-detail", "get"): (lambda w: f"/api/v1/projects/{w['p'].pk}/", None,
                                (200, 404, 200), R),
    ("project-detail", "put"): (lambda w: f"/api/v1/projects/{w['p'].pk}/",
                                lambda w: {"title": "Falls v2", "aim": "Fewer falls"},
                                (200, 404, 403), R),
    ("project-detail", "patch"): (lambda w: f"/api/v1/projects/{w['p'].pk}/",
                                  lambda w: {"title": "Falls v2"}, (200, 404, 403), R),
    ("project-progress", "get"): (lambda w: f"/api/v1/projects/{w['p'].pk}/progress/", None,
                                  (200, 404, 200), R),
    ("project-progress", "post"): (lambda w: f"/api/v1/projects/{w['p'].pk}/progress/",
                                   lambda w: {"score": "2.0", "scored_on": "2025-02-01"},
                                   (201, 404, 403), R),
    ("project-team", "get"): (lambda w: f"/api/v1/projects/{w['p'].pk}/team/", None,
                              (200, 404, 200), R),
    ("project-team", "post"): (lambda w: f"/api/v1/projects/{w['p'].pk}/team/",
                               lambda w: {"name": "Sam Carer", "role": "patient_partner"},
                               (201, 404, 403), R),
    ("project-team-remove", "delete"): (
        lambda w: f"/api/v1/projects/{w['p'].pk}/team/{w['member'].pk}/", None,
        (204, 404, 403), R),
    # Only a QI lead approves a proposed project; its clinician lead may not.
    ("project-transition", "post"): (lambda w: f"/api/v1/projects/{w['new'].pk}/transition/",
                                     lambda w: {"to": "approved"}, (200, 404, 403),
                                     ("quentin", "alice")),
    ("driver-list", "get"): (lambda w: "/api/v1/drivers/", None, (200, 200, 200), R),
    ("driver-list", "post"): (lambda w: "/api/v1/drivers/",
                              lambda w: {"project": w["p"].pk, "text": "Staffing"},
                              (201, 404, 403), R),
    ("driver-detail", "get"): (lambda w: f"/api/v1/drivers/{w['primary'].pk}/", None,
                               (200, 404, 200), R),
    ("driver-detail", "put"): (lambda w: f"/api/v1/drivers/{w['primary'].pk}/",
                               lambda w: {"text": "Safer care"}, (200, 404, 403), R),
    ("driver-detail", "patch"): (lambda w: f"/api/v1/drivers/{w['primary'].pk}/",
                                 lambda w: {"text": "Safer care"}, (200, 404, 403), R),
    ("driver-detail", "delete"): (lambda w: f"/api/v1/drivers/{w['secondary'].pk}/", None,
                                  (204, 404, 403), R),
    ("change-idea-list", "get"): (lambda w: "/api/v1/change-ideas/", None, (200, 200, 200), R),
    ("change-idea-list", "post"): (
        lambda w: "/api/v1/change-ideas/",
        lambda w: {"project": w["p"].pk, "text": "Bed alarms", "drivers": [w["secondary"].pk]},
        (201, 404, 403), R),
    ("change-idea-detail", "get"): (lambda w: f"/api/v1/change-ideas/{w['idea'].pk}/", None,
                                    (200, 404, 200), R),
    ("change-idea-detail", "put"): (lambda w: f"/api/v1/change-ideas/{w['idea'].pk}/",
                                    lambda w: {"text": "Bed alarms"}, (200, 404, 403), R),
    ("change-idea-detail", "patch"): (lambda w: f"/api/v1/change-ideas/{w['idea'].pk}/",
                                      lambda w: {"text": "Bed alarms"}, (200, 404, 403), R),
    ("change-idea-detail", "delete"): (lambda w: f"/api/v1/change-ideas/{w['idea'].pk}/",
                                       None, (204, 404, 403), R),
    ("measure-list", "get"): (lambda w: "/api/v1/measures/", None, (200, 200, 200), R),
    ("measure-list", "post"): (lambda w: "/api/v1/measures/",
                               lambda w: {"project": w["p"].pk, **MEASURE_BODY},
                               (201, 404, 403), R),
    ("measure-detail", "get"): (lambda w: f"/api/v1/measures/{w['m'].pk}/", None,
                                (200, 404, 200), R),
    ("measure-detail", "put"): (lambda w: f"/api/v1/measures/{w['m'].pk}/",
                                lambda w: MEASURE_BODY, (200, 404, 403), R),
    ("measure-detail", "patch"): (lambda w: f"/api/v1/measures/{w['m'].pk}/",
                                  lambda w: {"name": "Falls"}, (200, 404, 403), R),
    ("measure-detail", "delete"): (lambda w: f"/api/v1/measures/{w['m'].pk}/", None,
                                   (204, 404, 403), R),
    ("measure-bulk-data-points", "post"): (
        lambda w: f"/api/v1/measures/{w['m'].pk}/data-points/",
        lambda w: {"points": [{"period": "2025-02-01", "value": 4}]}, (200, 404, 403), R),
    ("measure-export", "get"): (lambda w: f"/api/v1/measures/{w['m'].pk}/export/csv/", None,
                                (200, 404, 200), R),
    ("measure-spc", "get"): (lambda w: f"/api/v1/measures/{w['m'].pk}/spc/", None,
                             (200, 404, 200), R),
    ("data-point-list", "get"): (lambda w: "/api/v1/data-points/", None, (200, 200, 200), R),
    ("data-point-list", "post"): (
        lambda w: "/api/v1/data-points/",
        lambda w: {"measure": w["m"].pk, "period": "2025-03-01", "value": 4},
        (201, 404, 403), R),
    ("data-point-detail", "get"): (lambda w: f"/api/v1/data-points/{w['point'].pk}/", None,
                                   (200, 404, 200), R),
    ("data-point-detail", "put"): (
        lambda w: f"/api/v1/data-points/{w['point'].pk}/",
        lambda w: {"period": "2025-01-01", "value": 5, "version": w["point"].version},
        (200, 404, 403), R),
    ("data-point-detail", "patch"): (
        lambda w: f"/api/v1/data-points/{w['point'].pk}/",
        lambda w: {"value": 5, "version": w["point"].version}, (200, 404, 403), R),
    ("data-point-detail", "delete"): (lambda w: f"/api/v1/data-points/{w['point'].pk}/",
                                      None, (204, 404, 403), R),
    ("pdsa-cycle-list", "get"): (lambda w: "/api/v1/pdsa-cycles/", None, (200, 200, 200), R),
    ("pdsa-cycle-list", "post"): (
        lambda w: "/api/v1/pdsa-cycles/",
        lambda w: {"change_idea": w["idea"].pk, "objective": "Bay B", "prediction": "Fewer"},
        (201, 400, 403), R),
    ("pdsa-cycle-detail", "get"): (lambda w: f"/api/v1/pdsa-cycles/{w['cycle'].pk}/", None,
                                   (200, 404, 200), R),
    # PUT is not offered (PATCH with `version` only): 405 for everyone signed in.
    ("pdsa-cycle-detail", "put"): (lambda w: f"/api/v1/pdsa-cycles/{w['cycle'].pk}/",
                                   lambda w: {"objective": "x"}, (405, 405, 405), R),
    ("pdsa-cycle-detail", "patch"): (
        lambda w: f"/api/v1/pdsa-cycles/{w['cycle'].pk}/",
        lambda w: {"objective": "Bay C", "version": w["cycle"].version}, (200, 404, 403), R),
    ("collaborative-list", "get"): (lambda w: "/api/v1/collaboratives/", None,
                                    (200, 200, 200), R),
    ("collaborative-detail", "get"): (lambda w: f"/api/v1/collaboratives/{w['c'].pk}/", None,
                                      (200, 404, 200), R),
    ("collaborative-trust-list", "get"): (lambda w: "/api/v1/collaborative-trusts/", None,
                                          (200, 200, 200), R),
    ("collaborative-trust-detail", "get"): (
        lambda w: f"/api/v1/collaborative-trusts/{w['part'].pk}/", None, (200, 404, 200), R),
    ("collaborative-team-list", "get"): (lambda w: "/api/v1/collaborative-teams/", None,
                                         (200, 200, 200), R),
    ("collaborative-team-detail", "get"): (
        lambda w: f"/api/v1/collaborative-teams/{w['e'].pk}/", None, (200, 404, 200), R),
    ("shared-measure-list", "get"): (lambda w: "/api/v1/shared-measures/", None,
                                     (200, 200, 200), R),
    ("shared-measure-list", "post"): (
        lambda w: "/api/v1/shared-measures/",
        lambda w: {"collaborative": w["c"].pk, **MEASURE_BODY, "name": "Harm"},
        (201, 400, 403), ("fiona", "alice")),
    ("shared-measure-detail", "get"): (lambda w: f"/api/v1/shared-measures/{w['shared'].pk}/",
                                       None, (200, 404, 200), R),
    ("team-report-list", "get"): (lambda w: "/api/v1/team-reports/", None, (200, 200, 200), R),
    ("team-report-list", "post"): (
        lambda w: "/api/v1/team-reports/",
        lambda w: {"enrolment": w["e"].pk, "month": "2025-12-01", "score": "2.0",
                   "tested": "Rounding", "learned": "It helps"},
        (201, 400, 403), ("alice", "fiona")),
    ("team-report-detail", "get"): (lambda w: f"/api/v1/team-reports/{w['report'].pk}/", None,
                                    (200, 404, 200), R),
    ("learning-post-list", "get"): (lambda w: "/api/v1/learning-posts/", None,
                                    (200, 200, 200), R),
    ("learning-post-list", "post"): (
        lambda w: "/api/v1/learning-posts/",
        lambda w: {"collaborative": w["c"].pk, "title": "Huddles 2", "body": "Daily"},
        (201, 400, 403), ("alice", "nadia")),
    ("learning-post-detail", "get"): (lambda w: f"/api/v1/learning-posts/{w['post'].pk}/",
                                      None, (200, 404, 200), R),
    ("learning-comment-list", "get"): (lambda w: "/api/v1/learning-comments/", None,
                                       (200, 200, 200), R),
    ("learning-comment-list", "post"): (
        lambda w: "/api/v1/learning-comments/",
        lambda w: {"post": w["post"].pk, "body": "Useful"}, (201, 400, 403),
        ("alice", "nadia")),
    ("learning-comment-detail", "get"): (
        lambda w: f"/api/v1/learning-comments/{w['comment'].pk}/", None, (200, 404, 200), R),
}


def router_operations():
    ops = set()
    for pattern in router.urls:
        actions = getattr(pattern.callback, "actions", None)
        if not actions or "format" in str(pattern.pattern):
            continue
        # HEAD is GET without the body (DRF adds it to `actions` once a view has run).
        ops |= {(pattern.name, method) for method in actions if method != "head"}
    return ops


def test_every_router_endpoint_and_method_has_access_rows():
    missing = sorted(router_operations() - set(ROWS))
    assert missing == [], f"add access rows to {__file__} for {missing}"
    assert len(ROWS) >= 60


def test_every_viewset_syncs_and_caches():
    for _, viewset, _ in router.registry:
        assert issubclass(viewset, SyncMixin), viewset


def _call(user_or_secret, method, url, body):
    client = APIClient()
    secret = user_or_secret
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


def _token(user):
    return services.api_token_create(by=user, name="matrix")[1]


@pytest.mark.parametrize("op", sorted(ROWS), ids=lambda op: f"{op[1]} {op[0]}")
def test_access_matrix(op, world, personas):
    url_of, body_of, (member, outsider, wrong), (who, wrong_who) = ROWS[op]
    people = {**personas, "fiona": world["fiona"]}
    method = op[1]
    url, body = url_of(world), body_of(world) if body_of else None

    token, revoked = services.api_token_create(by=people[who], name="revoked")
    services.api_token_revoke(token=token, by=people[who])
    got = {"revoked": _call(revoked, method, url, body).status_code,
           "outsider": _call(_token(people["charlie"]), method, url, body).status_code,
           "wrong_role": _call(_token(people[wrong_who]), method, url, body).status_code,
           "member": _call(_token(people[who]), method, url, body).status_code}
    assert got == {"revoked": 401, "outsider": outsider, "wrong_role": wrong, "member": member}
