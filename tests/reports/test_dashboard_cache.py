"""Kept dashboards (reports.dashboard_cache): readers who may view the same projects share
one rendered copy; a reader who may view more gets their own; every write a dashboard shows
marks its trust's copies out of date; a cache that is down costs nothing but speed."""

import datetime as dt
import re

import pytest
from django.test import override_settings
from django.urls import reverse

from measures import services as measure_services
from measures.models import MeasureSnapshot
from organisations import access
from organisations.models import Membership
from projects import services as project_services
from projects.models import Project
from reports import dashboard_cache, rollups
from reports.models import RollupMark
from tests.factories import (
    ChangeIdeaFactory,
    MeasureFactory,
    MembershipFactory,
    ProjectFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _main(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


def _seen(html: str) -> int:
    return int(re.search(r"(\d+)</p><p class=\"nhsuk-card__description\">projects you can see",
                         html).group(1))


def _url(trust):
    return reverse("reports:trust", args=[trust.ods_code])


def test_board_members_share_one_copy(client, bob, trust_a, django_assert_max_num_queries):
    project = ProjectFactory(trust=trust_a, visibility="trust", title="Shared falls project")
    other = MembershipFactory(trust=trust_a, role=Membership.Role.BOARD_MEMBER).user
    MeasureSnapshot.objects.create(measure=MeasureFactory(project=project, name="Falls"),
                                   variation_icon="common_cause", n_points=20)
    first = _sign_in(client, bob).get(_url(trust_a)).content.decode()
    _sign_in(client, other)
    # The second board member reads bob's copy: session, user, trust, memberships, scope,
    # and whether the database marked the roll-ups out of date (reports.db_triggers).
    with django_assert_max_num_queries(6):
        second = client.get(_url(trust_a)).content.decode()
    assert _main(second) == _main(first)
    assert "Shared falls project" in second


def test_a_reader_who_sees_more_gets_their_own_copy_and_others_never_see_it(
        client, alice, bob, trust_a):
    ProjectFactory(trust=trust_a, visibility="trust")
    secret = ProjectFactory(trust=trust_a, visibility="team", lead=alice,
                            title="Alice's team-only project")
    MeasureSnapshot.objects.create(measure=MeasureFactory(project=secret, name="Team measure"),
                                   variation_icon="concern_high", n_points=20)
    as_alice = _sign_in(client, alice).get(_url(trust_a)).content.decode()
    assert _seen(as_alice) == 2 and "Team measure" in as_alice
    as_bob = _sign_in(client, bob).get(_url(trust_a)).content.decode()
    assert _seen(as_bob) == 1 and "Team measure" not in as_bob
    assert "Alice's team-only project" not in as_bob
    # and the other way round: bob's copy first, then alice's own
    dashboard_cache.touch([trust_a.pk])
    assert "Team measure" not in _sign_in(client, bob).get(_url(trust_a)).content.decode()
    assert "Team measure" in _sign_in(client, alice).get(_url(trust_a)).content.decode()


def test_show_sort_and_page_are_kept_apart(client, bob, trust_a):
    project = ProjectFactory(trust=trust_a, visibility="trust")
    for i, icon in enumerate(["concern_high", "common_cause"]):
        MeasureSnapshot.objects.create(measure=MeasureFactory(project=project, name=f"M{i}"),
                                       variation_icon=icon, n_points=20)
    _sign_in(client, bob)
    everything = client.get(_url(trust_a)).content.decode()
    concern = client.get(_url(trust_a), {"show": "concern"}).content.decode()
    assert ">M1</a>" in everything and ">M1</a>" not in concern
    # an unknown value reads the default copy
    odd = client.get(_url(trust_a), {"show": "nonsense", "page": "x"}).content.decode()
    assert ">M1</a>" in odd


def _snapshot_after_write(measure, lead, value):
    measure.refresh_from_db()
    measure_services.data_points_merge(
        measure=measure, by=lead, base_version=measure.data_version,
        rows=[{"row": 1, "period": "2026-01-01", "value": value}])


@pytest.mark.django_db(transaction=True)
def test_every_write_the_dashboard_shows_marks_it_out_of_date(client, trust_a):
    """Through the services, committed, with the eager refresh `make run` uses: the next
    read shows each change."""
    bob = MembershipFactory(trust=trust_a, role=Membership.Role.BOARD_MEMBER).user
    lead = MembershipFactory(trust=trust_a, role=Membership.Role.QI_LEAD).user
    project = ProjectFactory(trust=trust_a, visibility="trust", title="Falls on ward 7",
                             lead=lead, status="active")
    measure = MeasureFactory(project=project, name="Falls rate", unit_label="per 1,000")
    _sign_in(client, bob)
    page = client.get(_url(trust_a)).content.decode()
    assert "No measure has data yet." in page

    _snapshot_after_write(measure, lead, 7.5)  # a data point → snapshot → roll-ups
    page = client.get(_url(trust_a)).content.decode()
    assert "7.5 per 1,000" in page and "Built less than a minute ago." in page

    project_services.project_update(by=lead, project=Project.objects.get(pk=project.pk),
                                    title="Falls on ward 7 and 8")
    assert "Falls on ward 7 and 8" in client.get(_url(trust_a)).content.decode()

    project_services.progress_score_record(by=lead, project=Project.objects.get(pk=project.pk),
                                           score="2.0", scored_on=dt.date.today())
    assert "1 progress score recorded" in client.get(_url(trust_a)).content.decode()

    from pdsa import services as pdsa_services

    idea = ChangeIdeaFactory(project=project)
    pdsa_services.cycle_create(change_idea=idea, by=lead, objective="Try a safety huddle")
    assert "1 PDSA cycle logged" in client.get(_url(trust_a)).content.decode()

    UnitFactory(trust=trust_a, name="Ward 12", kind="ward")
    assert "Ward 12" in client.get(_url(trust_a)).content.decode()


def test_a_rollup_build_shows_at_once(client, bob, trust_a):
    ProjectFactory(trust=trust_a, visibility="trust")
    RollupMark.objects.all().delete()  # as if no write had marked it (the test below)
    _sign_in(client, bob)
    assert "The summary has not been built yet." in client.get(_url(trust_a)).content.decode()
    rollups.build(trust_a.pk)
    assert "Projects by status" in client.get(_url(trust_a)).content.decode()


DOWN = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # a real Redis client against a port where nothing listens
    "dashboards": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                   "LOCATION": "redis://127.0.0.1:1/0",
                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
}


def test_a_cache_that_is_down_builds_the_page_live(client, bob, trust_a, caplog):
    project = ProjectFactory(trust=trust_a, visibility="trust", title="Still shown")
    MeasureSnapshot.objects.create(measure=MeasureFactory(project=project),
                                   variation_icon="common_cause", n_points=20)
    with override_settings(CACHES=DOWN):
        response = _sign_in(client, bob).get(_url(trust_a))
        assert response.status_code == 200
        assert "Still shown" in response.content.decode()
        later = ProjectFactory(trust=trust_a, visibility="trust", title="A write still works")
        MeasureSnapshot.objects.create(measure=MeasureFactory(project=later),
                                       variation_icon="common_cause", n_points=20)
        assert "A write still works" in client.get(_url(trust_a)).content.decode()
    assert "dashboard cache unavailable" in caplog.text
    assert "could not mark the dashboards" in caplog.text


# ---- access rows: whose copy a reader gets (organisations.access.dashboard_scope) -------


@pytest.mark.parametrize(("persona", "scope"), [
    ("quentin", "all"),     # the trust's QI lead views every project
    ("nadia", "all"),       # a national analyst views every project
    ("bob", "trust"),       # any other member: TRUST and EVERYONE projects
    ("tara", "trust"),
    ("alice", "trust+"),    # … plus the team-only project she leads
    ("charlie", "everyone"),  # not a member (no dashboard, but the scope is still right)
    ("stranger", "everyone"),
])
def test_dashboard_scope_by_persona(personas, trust_a, persona, scope):
    ProjectFactory(trust=trust_a, visibility="team", lead=personas["alice"])
    got = access.dashboard_scope(personas[persona], trust_a,
                                 Project.objects.filter(trust=trust_a))
    assert got.startswith(scope) if scope.endswith("+") else got == scope


def test_dashboard_scope_differs_with_the_projects_seen(alice, trust_a):
    projects = Project.objects.filter(trust=trust_a)
    one = ProjectFactory(trust=trust_a, visibility="team", lead=alice)
    first = access.dashboard_scope(alice, trust_a, projects)
    ProjectFactory(trust=trust_a, visibility="team", coach=alice)
    del alice._qi_role_map
    second = access.dashboard_scope(alice, trust_a, projects)
    assert first != second and first.startswith("trust+") and second.startswith("trust+")
    one.delete()
    assert access.dashboard_scope(alice, trust_a, projects) not in (first, second, "trust")


def test_dashboard_scope_of_an_inactive_user(alice, trust_a):
    alice.is_active = False
    assert access.dashboard_scope(alice, trust_a, Project.objects.all()) == "none"
