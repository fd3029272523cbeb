"""The collaborative dashboard and the shared-learning feed cost the same number of queries
for 5 teams as for 100 (the dashboard reads its stored snapshot; the feed joins and
prefetches what it shows)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collaboratives import dashboard, services
from collaboratives.models import Adoption, Comment, Enrolment, LearningPost
from measures.models import Measure
from organisations.models import Membership
from projects.models import Project
from tests.collaboratives.conftest import make_collaborative, monthly_points, sign_in, take_part
from tests.factories import MembershipFactory, TrustFactory, UserFactory

pytestmark = pytest.mark.django_db


def _collaborative_with(n_teams: int):
    fiona = UserFactory(full_name="Fiona Facilitator")
    trusts = [TrustFactory() for _ in range(3)]
    c = make_collaborative(trusts[0], [fiona])
    for t in trusts:
        take_part(c, t, fiona)
    member = MembershipFactory(trust=trusts[0], role=Membership.Role.CLINICIAN).user
    sm = services.shared_measure_create(
        collaborative=c, by=fiona, name="Risk assessed", definition="Assessed in 6 hours",
        numerator="Assessed", denominator="Admitted", chart="p", direction="increase",
        frequency="monthly")
    for i in range(n_teams):
        trust = trusts[i % 3]
        project = Project.objects.create(trust=trust, title=f"Team {i}", aim="Fewer falls",
                                         lead=fiona, created_by=fiona)
        team = Enrolment.objects.create(collaborative=c, project=project, requested_by=fiona,
                                        status=Enrolment.Status.APPROVED)
        measure = Measure.objects.create(project=project, name=sm.name, kind="process",
                                         definition=sm.definition, frequency="monthly",
                                         chart="p", direction="increase")
        Adoption.objects.create(shared_measure=sm, enrolment=team, measure=measure, version=1,
                                adopted_by=fiona)
        monthly_points(measure, n=12, num=5 + i % 7, den=20)
        post = LearningPost.objects.create(collaborative=c, author=fiona, enrolment=team,
                                           title=f"Learning {i}", body="Huddles help")
        post.tags.set(services._tags(c, ["huddles", f"team {i % 4}"]))
        Comment.objects.create(post=post, author=member, body="Thanks")
    dashboard.refresh(collaborative_id=c.pk)  # as the task does after the data change
    return c, member


@pytest.mark.parametrize("n_teams", [5, 100])
def test_dashboard_query_count_does_not_grow_with_teams(client, n_teams,
                                                        django_assert_max_num_queries):
    c, member = _collaborative_with(n_teams)
    sign_in(client, member)
    url = reverse("collaboratives:dashboard", args=[c.pk])
    # session + user, the collaborative, the facilitator check, the member's trusts (role
    # map), their participations, the snapshot, and the freshness check (the
    # collaborative's change time, the newest adopted measure's data): 9 + slack 2.
    with django_assert_max_num_queries(11):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="app-small-multiple"') == n_teams


@pytest.mark.parametrize("n_teams", [5, 100])
def test_feed_query_count_does_not_grow_with_posts(client, n_teams,
                                                   django_assert_max_num_queries):
    c, member = _collaborative_with(n_teams)
    sign_in(client, member)
    url = reverse("collaboratives:feed", args=[c.pk])
    # session + user, the collaborative, facilitator check, role map, participations,
    # count of posts (paginator), the page of posts joined to authors and teams, their
    # tags (one prefetch), the collaborative's tags: 9 + slack 2.
    with django_assert_max_num_queries(11):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Huddles help") == min(n_teams, 20)
    assert "1 comment" in html


def test_dashboard_build_query_count_does_not_grow_with_teams():
    counts = []
    for n in (5, 40):
        c, _member = _collaborative_with(n)
        with CaptureQueriesContext(connection) as ctx:
            dashboard.build(c, today=dt.date(2026, 11, 1))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("n_teams", [5, 100])
def test_collaborative_page_query_count_does_not_grow_with_teams(client, n_teams,
                                                                 django_assert_max_num_queries):
    c, member = _collaborative_with(n_teams)
    sign_in(client, member)
    # session + user, the collaborative, facilitator check, role map, participations; its
    # sessions, trusts, teams, shared measures and faculty; which teams are the user's: 12.
    with django_assert_max_num_queries(12):
        response = client.get(c.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count("/teams/") >= n_teams
