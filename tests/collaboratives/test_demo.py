"""The demo falls-prevention collaborative: teams from all three demo trusts, its
facilitator signs in and sees the dashboard, a year of data per team, reports and learning,
and loading the demo again changes nothing."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from collaboratives import demo, selectors
from collaboratives.models import (
    Collaborative,
    DashboardSnapshot,
    LearningPost,
    PackageTest,
    TeamReport,
)
from organisations.models import User
from tests.collaboratives.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    return Collaborative.objects.get(name=demo.NAME)


def test_the_demo_collaborative_has_teams_from_all_three_trusts(client, seeded):
    c = seeded
    assert sorted(c.enrolments.values_list("project__trust__ods_code", flat=True)) == [
        "ZEB", "ZNT", "ZWM"]
    assert c.sessions.count() == 2
    assert c.shared_measures.count() == 1
    for a in c.shared_measures.get().adoptions.select_related("measure"):
        assert a.measure.points.count() == 12
    assert TeamReport.objects.filter(enrolment__collaborative=c).count() == 35
    assert LearningPost.objects.filter(collaborative=c, cycle__isnull=False).exists()
    facilitator = User.objects.get(email=demo.FACILITATOR)
    assert list(c.facilitators.all()) == [facilitator]
    sign_in(client, facilitator)
    page = client.get(reverse("collaboratives:dashboard", args=[c.pk])).content.decode()
    assert "Funnel plot of the latest period" in page
    assert DashboardSnapshot.objects.get(collaborative=c).data["measures"][0]["funnel"][
        "available"]
    detail = client.get(c.get_absolute_url()).content.decode()
    assert "Late teams" in detail and "Falls prevention on the district nursing" in detail
    # Members from the other trusts read it; the feed has learning in it.
    client.logout()
    sign_in(client, User.objects.get(email="clinician.westmoor@example.nhs.uk"))
    feed = client.get(reverse("collaboratives:feed", args=[c.pk])).content.decode()
    assert "Home visits: a falls review card" in feed


def test_the_demo_completeness_is_not_zero_for_every_month(seeded):
    """Issue 20 item 4: the demo's measure and teams date from the collaborative's start, so
    each month with data counts them (it read 0% for every month)."""
    from collaboratives import dashboard

    rows = dashboard.build(seeded)["completeness"]
    with_data = [r for r in rows if r["data"]]
    assert len(with_data) >= 6, rows
    assert all(r["teams"] == 3 and r["measures_due"] == 1 for r in rows)
    assert max(r["data_pct"] for r in with_data) == 100


def test_loading_the_demo_again_changes_nothing(seeded, django_capture_on_commit_callbacks):
    before = (Collaborative.objects.count(), TeamReport.objects.count(),
              LearningPost.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    assert (Collaborative.objects.count(), TeamReport.objects.count(),
            LearningPost.objects.count()) == before
    assert selectors.late_teams(seeded, seeded.start_date) == {"month": None, "teams": []}


def test_the_demo_change_package_links_northgates_huddle_cycles(client, seeded):
    tests = PackageTest.objects.filter(idea__collaborative=seeded)
    assert tests.exists()
    assert {t.enrolment.project.trust.ods_code for t in tests} == {"ZNT"}
    sign_in(client, User.objects.get(email="qilead.eastbrook@example.nhs.uk"))
    page = client.get(reverse("collaboratives:change_package", args=[seeded.pk]))
    assert "A falls safety huddle at every handover" in page.content.decode()
