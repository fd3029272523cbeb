"""A write the API committed answers success even if the connection drops right after the
commit (issue 13, item 4): the answer is read inside the write's transaction.

The test runs with real commits (transaction=True) and makes every query after the first
commit of the request fail, as a dropped PostgreSQL connection would. Before the fix the
projects API re-read the project after the commit and answered 500, so the client retried
and registered a second project.
"""

import datetime as dt

import pytest
from django.db import OperationalError, connection
from rest_framework.test import APIClient

from projects.models import Project
from tests.factories import DataPointFactory, DriverFactory, MeasureFactory, ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(alice, trust_a, ward_a):
    return ProjectFactory(trust=trust_a, unit=ward_a, lead=alice)


def _writes(project, trust, alice):
    driver = DriverFactory(project=project, text="Safe staffing")
    secondary = DriverFactory(project=project, parent=driver, text="Rostering")
    measure = MeasureFactory(project=project)
    point = DataPointFactory(measure=measure, period=dt.date(2024, 1, 1), value=2)
    return {
        "register a project": ("post", "/api/v1/projects/", {
            "trust": trust.ods_code, "title": "Sepsis screening in ED",
            "aim": "Screen 95% of patients with suspected sepsis by March 2027.",
            "problem": "Screening is missed at night."}, 201),
        "change a project": ("patch", f"/api/v1/projects/{project.pk}/",
                             {"title": "Fewer falls on ward 7"}, 200),
        "change its status": ("post", f"/api/v1/projects/{project.pk}/transition/",
                              {"to": "stopped", "reason": "Merged with the trust programme"},
                              200),
        "add a team member": ("post", f"/api/v1/projects/{project.pk}/team/",
                              {"name": "A patient partner", "role": "patient_partner"}, 201),
        "record a progress score": ("post", f"/api/v1/projects/{project.pk}/progress/",
                                    {"score": "2.0", "scored_on": "2026-11-01"}, 201),
        "add a driver": ("post", "/api/v1/drivers/",
                         {"project": project.pk, "text": "Falls huddles"}, 201),
        "add a change idea": ("post", "/api/v1/change-ideas/",
                              {"project": project.pk, "text": "Intentional rounding",
                               "drivers": [secondary.pk]}, 201),
        "add a measure": ("post", "/api/v1/measures/", {
            "project": project.pk, "name": "Falls", "kind": "outcome",
            "definition": "Falls per 1,000 bed days", "frequency": "monthly",
            "chart": "xmr", "direction": "decrease"}, 201),
        "change a data point": ("patch", f"/api/v1/data-points/{point.pk}/",
                                {"value": 3, "version": point.version}, 200),
    }


WRITES = ["register a project", "change a project", "change its status", "add a team member",
          "record a progress score", "add a driver", "add a change idea", "add a measure",
          "change a data point"]


@pytest.mark.parametrize("name", WRITES)
def test_a_committed_write_answers_success_when_the_connection_drops_after_the_commit(
    name, project, trust_a, alice, quentin, monkeypatch
):
    method, url, body, expected = _writes(project, trust_a, alice)[name]
    api = APIClient()
    api.force_authenticate(quentin)  # a QI lead may do every one of these writes
    committed = {"done": False}
    real_commit = connection.commit

    def commit_then_lose_the_connection():
        real_commit()
        committed["done"] = True

    def lost(execute, sql, params, many, context):
        if committed["done"]:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    connection.ensure_connection()
    monkeypatch.setattr(connection, "commit", commit_then_lose_the_connection)
    with connection.execute_wrapper(lost):
        response = getattr(api, method)(url, body, format="json")
    monkeypatch.undo()
    assert committed["done"], "the write never committed"
    assert response.status_code == expected, response.content
    assert response.json()["id"]
    if name == "register a project":
        assert Project.objects.filter(title="Sepsis screening in ED").count() == 1
