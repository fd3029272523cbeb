"""The API and list pages under hostile or careless use: format suffixes on every extra
action, throttles that answer 429 with Retry-After, and counts that reveal nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from projects.models import Project
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory


@pytest.fixture
def api():
    return APIClient()


def test_every_extra_action_answers_with_a_format_suffix(api, alice, trust_a):
    # GET /api/v1/projects/<id>/team.json used to raise TypeError (500) for everyone.
    project = ProjectFactory(trust=trust_a, lead=alice)
    measure = MeasureFactory(project=project)
    DataPointFactory(measure=measure, period=dt.date(2026, 1, 1), value=3)
    api.force_authenticate(alice)
    for url in (f"/api/v1/projects/{project.pk}/team.json",
                f"/api/v1/projects/{project.pk}/progress.json",
                f"/api/v1/measures/{measure.pk}/spc.json"):
        response = api.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Type"].startswith("application/json")
    response = api.post(f"/api/v1/projects/{project.pk}/transition.json", {"to": "nowhere"},
                        format="json")
    assert response.status_code == 400
    response = api.post(f"/api/v1/measures/{measure.pk}/data-points.json", {"points": []},
                        format="json")
    assert response.status_code in (200, 201, 400)


def test_the_api_throttles_a_user_with_retry_after(api, alice, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    assert "rest_framework.throttling.UserRateThrottle" in \
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    api.force_authenticate(alice)
    saved = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
    try:
        codes = [api.get("/api/v1/trusts/").status_code for _ in range(4)]
        last = api.get("/api/v1/trusts/")
    finally:
        UserRateThrottle.THROTTLE_RATES = saved
    assert codes == [200, 200, 200, 429]
    assert last.status_code == 429 and int(last["Retry-After"]) > 0


def test_trust_list_counts_only_projects_the_reader_may_see(client, alice, bob, trust_a):
    ProjectFactory(trust=trust_a, lead=alice, visibility=Project.Visibility.TRUST)
    ProjectFactory(trust=trust_a, lead=alice, visibility=Project.Visibility.TEAM)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    trust = next(t for t in client.get(reverse("reports:trusts")).context["trusts"]
                 if t.pk == trust_a.pk)
    assert trust.project_count == 1  # the team-only project is not even counted
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    trust = next(t for t in client.get(reverse("reports:trusts")).context["trusts"]
                 if t.pk == trust_a.pk)
    assert trust.project_count == 2
