"""IHI progress scores: history, the denormalised latest score, staleness, the step chart
and the suggested score."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from measures.models import MeasureSnapshot
from pdsa import services as pdsa_services
from projects import selectors, services
from projects.models import Project
from projects.views import charter as views
from reports import selectors as report_selectors
from tests.factories import (
    ChangeIdeaFactory,
    DataPointFactory,
    DriverFactory,
    MeasureFactory,
    ProjectFactory,
    TeamMemberFactory,
)

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def project(alice, trust_a):
    return services.project_create(by=alice, trust=trust_a, title="Falls", aim="Fewer falls")


def record(project, by, score, days_ago, comment=""):
    return services.progress_score_record(
        by=by, project=project, score=score, scored_on=TODAY - days_ago * DAY, comment=comment
    )


def test_latest_score_by_date_is_copied_to_the_project(project, alice):
    record(project, alice, "1.0", 100)
    record(project, alice, "2.0", 10)
    record(project, alice, "1.5", 50)  # entered late, but older: not the latest
    project.refresh_from_db()
    assert project.progress_score == Decimal("2.0")
    assert project.progress_scored_on == TODAY - 10 * DAY
    assert project.progress_scores.count() == 3


def test_score_must_be_on_the_scale_and_not_in_the_future(project, alice):
    with pytest.raises(ValidationError) as error:
        record(project, alice, "2.2", 1)
    assert "score" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        record(project, alice, "2.0", -1)
    assert error.value.message_dict["scored_on"] == [
        "The date of the score must be today or earlier."
    ]
    assert not project.progress_scores.exists()


def test_only_the_team_or_a_qi_lead_may_score(project, bob, quentin):
    with pytest.raises(PermissionDenied):
        record(project, bob, "1.0", 1)
    record(project, quentin, "1.0", 1)


@pytest.mark.parametrize(
    "status, scored_days_ago, started_days_ago, stale",
    [
        ("active", 61, 400, True),
        ("active", 59, 400, False),
        ("active", None, 61, True),
        ("active", None, 30, False),
        ("active", None, None, False),
        ("completed", 200, 400, False),
        ("proposed", None, 400, False),
    ],
)
def test_stale_after_sixty_days(trust_a, status, scored_days_ago, started_days_ago, stale):
    p = ProjectFactory(
        trust=trust_a,
        status=status,
        progress_score=Decimal("2.0") if scored_days_ago else None,
        progress_scored_on=TODAY - scored_days_ago * DAY if scored_days_ago else None,
        start_date=TODAY - started_days_ago * DAY if started_days_ago else None,
    )
    assert selectors.is_stale(p) is stale
    annotated = selectors.with_stale(Project.objects.filter(pk=p.pk)).get()
    assert annotated.is_stale is stale


def test_progress_page_records_a_score(client, project, alice):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("projects:progress", args=[project.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"The evidence in the portal suggests" in page.content
    response = client.post(url, {"score": "1.5", "scored_on": TODAY.isoformat(), "comment": "x"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.progress_score == Decimal("1.5")


def test_progress_page_shows_errors_and_saves_nothing(client, project, alice):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("projects:progress", args=[project.pk])
    tomorrow = (TODAY + DAY).isoformat()
    response = client.post(url, {"score": "", "scored_on": tomorrow})
    assert b"Choose a progress score" in response.content
    response = client.post(url, {"score": "2.0", "scored_on": tomorrow})
    assert b"must be today or earlier" in response.content
    assert not project.progress_scores.exists()


def test_project_page_draws_a_step_chart_with_a_table(client, project, alice):
    record(project, alice, "1.0", 300)
    record(project, alice, "2.5", 100, comment="First PDSA cycles")
    Project.objects.filter(pk=project.pk).update(status=Project.Status.ACTIVE)
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    content = client.get(project.get_absolute_url()).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in content
    assert 'role="img"' in content and "<title id=\"progress-chart-title\">" in content
    assert "Show the scores as a table" in content
    assert "First PDSA cycles" in content
    assert "2.5 – Changes tested, but no improvement" in content
    assert "Score out of date" in content  # 100 days old


def test_step_chart_geometry():
    class S:
        def __init__(self, score, day, label="x"):
            self.score, self.scored_on, self.label = Decimal(score), day, label

    day0 = datetime.date(2025, 1, 1)
    chart = views.progress_chart(
        [S("1.0", day0), S("3.0", day0 + 50 * DAY)], today=day0 + 100 * DAY
    )
    points = [tuple(map(float, p.split(","))) for p in chart["path"].split()]
    # start, step across at 1.0, step up to 3.0, hold to today
    assert len(points) == 4
    assert points[0][1] == points[1][1] > points[2][1] == points[3][1]
    assert points[1][0] == points[2][0]
    assert points[3][0] == chart["plot_right"]
    assert views.progress_chart([]) is None


def test_suggestion_starts_at_intent_without_a_team(trust_a):
    p = ProjectFactory(trust=trust_a)
    suggestion = report_selectors.suggest_progress_score(p)
    assert suggestion.score == Decimal("0.5")
    assert "not complete" in suggestion.reasons[0]


def test_suggestion_climbs_with_the_evidence(trust_a, django_assert_max_num_queries):

    p = ProjectFactory(trust=trust_a)
    TeamMemberFactory(project=p)
    assert report_selectors.suggest_progress_score(p).score == Decimal("1.0")
    DriverFactory(project=p)
    ChangeIdeaFactory(project=p)
    assert report_selectors.suggest_progress_score(p).score == Decimal("1.5")
    m1 = MeasureFactory(project=p)
    DataPointFactory(measure=m1)
    suggestion = report_selectors.suggest_progress_score(p)
    assert suggestion.score == Decimal("2.0")
    assert "1 measure has data." in suggestion.reasons
    MeasureSnapshot.objects.create(measure=m1, variation_icon="improvement_low")
    assert report_selectors.suggest_progress_score(p).score == Decimal("3.0")
    for _ in range(2):
        m = MeasureFactory(project=p)
        MeasureSnapshot.objects.create(measure=m, variation_icon="improvement_high")
    # team, drivers, change ideas, cycles (if the pdsa app has them), measures with data,
    # improving measures
    with django_assert_max_num_queries(6):
        suggestion = report_selectors.suggest_progress_score(p)
    assert suggestion.score == Decimal("4.0")
    assert "3 measures show special cause variation" in " ".join(suggestion.reasons)


def test_suggestion_counts_pdsa_cycles(trust_a, alice):
    p = ProjectFactory(trust=trust_a, lead=alice)
    TeamMemberFactory(project=p)
    idea = ChangeIdeaFactory(project=p)
    for n in range(3):
        pdsa_services.cycle_create(change_idea=idea, by=alice, objective=f"Test {n}",
                                   prediction="Falls will halve")
    suggestion = report_selectors.suggest_progress_score(p)
    assert suggestion.score == Decimal("2.5")  # changes are being tested
    assert "3 PDSA cycles have been logged." in suggestion.reasons
    m = MeasureFactory(project=p)
    DataPointFactory(measure=m)
    suggestion = report_selectors.suggest_progress_score(p)
    assert suggestion.score == Decimal("2.5")
    assert "No measure shows a signal of improvement yet." in suggestion.reasons
