"""API: /api/v1/drivers, change-ideas, measures, data-points (+ bulk)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from measures.models import DataPoint, Measure
from projects.models import ChangeIdea, Driver
from tests.factories import (
    ChangeIdeaFactory,
    DataPointFactory,
    DriverFactory,
    MeasureFactory,
    ProjectFactory,
)


@pytest.fixture
def api():
    return APIClient()


def as_user(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice)


@pytest.fixture
def measure(project):
    return MeasureFactory(project=project)


def _snap(measure):
    return sorted(DataPoint.objects.filter(measure=measure).values_list("period", "value"))


# ---- reads -----------------------------------------------------------------------------


def test_lists_are_scoped_and_paginated(api, project, measure, charlie, alice):
    DriverFactory(project=project)
    DataPointFactory(measure=measure)
    for name in ("drivers", "measures", "data-points", "change-ideas"):
        mine = as_user(api, alice).get(f"/api/v1/{name}/").json()
        assert "results" in mine and "next" in mine
        assert len(mine["results"]) == (0 if name == "change-ideas" else 1), name
        theirs = as_user(api, charlie).get(f"/api/v1/{name}/", {"count": "true"}).json()
        assert theirs["count"] == 0 and theirs["results"] == [], name
    assert as_user(api, alice).get("/api/v1/measures/?count=true").json()["count"] == 1


def test_outsider_gets_404_on_objects(api, measure, charlie):
    point = DataPointFactory(measure=measure)
    as_user(api, charlie)
    assert api.get(f"/api/v1/measures/{measure.pk}/").status_code == 404
    assert api.patch(f"/api/v1/data-points/{point.pk}/", {"value": 9},
                     format="json").status_code == 404
    assert api.post(f"/api/v1/measures/{measure.pk}/data-points/",
                    {"points": [{"period": "2025-01-01", "value": 1}]},
                    format="json").status_code == 404
    r = api.post("/api/v1/data-points/", {"measure": measure.pk, "period": "2025-01-01",
                                          "value": 1}, format="json")
    assert r.status_code == 404
    assert DataPoint.objects.count() == 1


def test_board_member_reads_but_gets_403_on_writes(api, project, measure, bob):
    point = DataPointFactory(measure=measure, period=dt.date(2024, 1, 1), value=3)
    as_user(api, bob)
    assert len(api.get(f"/api/v1/data-points/?measure={measure.pk}").json()["results"]) == 1
    assert api.post("/api/v1/data-points/", {"measure": measure.pk, "period": "2025-01-01",
                                             "value": 1}, format="json").status_code == 403
    assert api.patch(f"/api/v1/data-points/{point.pk}/", {"value": 9},
                     format="json").status_code == 403
    assert api.delete(f"/api/v1/data-points/{point.pk}/").status_code == 403
    assert api.post(f"/api/v1/measures/{measure.pk}/data-points/",
                    {"points": [{"period": "2025-01-01", "value": 1}]},
                    format="json").status_code == 403
    assert api.post("/api/v1/drivers/", {"project": project.pk, "text": "X"},
                    format="json").status_code == 403
    assert api.post("/api/v1/measures/", {
        "project": project.pk, "name": "X", "kind": "outcome", "definition": "d",
        "frequency": "monthly", "chart": "xmr", "direction": "decrease"},
        format="json").status_code == 403
    assert _snap(measure) == [(dt.date(2024, 1, 1), 3.0)]
    assert not Driver.objects.exists()


def test_anonymous_is_refused(api, measure):
    assert api.get("/api/v1/measures/").status_code in (401, 403)


def test_filters_by_measure_and_project(api, project, alice, trust_a):
    m1, m2 = MeasureFactory(project=project), MeasureFactory(project=project)
    other = MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice))
    for m in (m1, m2, other):
        DataPointFactory(measure=m)
    as_user(api, alice)
    assert api.get(f"/api/v1/data-points/?measure={m1.pk}&count=true").json()["count"] == 1
    assert api.get(f"/api/v1/data-points/?project={project.pk}&count=true").json()["count"] == 2
    assert api.get("/api/v1/data-points/?project=abc").status_code == 400


@pytest.mark.parametrize("n", [1, 25])
def test_list_query_counts_are_constant(api, project, alice, n, django_assert_max_num_queries):
    secondary = DriverFactory(project=project, parent=DriverFactory(project=project))
    for _ in range(n):
        m = MeasureFactory(project=project)
        DataPointFactory(measure=m)
        idea = ChangeIdeaFactory(project=project)
        idea.drivers.add(secondary)
    as_user(api, alice)
    for name in ("measures", "data-points", "change-ideas", "drivers"):
        # session-free auth; the user's memberships; count; page (+ driver prefetch)
        with django_assert_max_num_queries(5):
            assert api.get(f"/api/v1/{name}/").status_code == 200


# ---- writes ---------------------------------------------------------------------------


def test_clinician_builds_a_diagram_over_the_api(api, project, alice):
    as_user(api, alice)
    p = api.post("/api/v1/drivers/", {"project": project.pk, "text": "Safe mobility"},
                 format="json").json()
    s = api.post("/api/v1/drivers/", {"project": project.pk, "parent": p["id"],
                                      "text": "Walking aids"}, format="json").json()
    assert s["level"] == "secondary"
    r = api.post("/api/v1/change-ideas/", {"project": project.pk, "text": "Huddle",
                                           "drivers": [s["id"]]}, format="json")
    assert r.status_code == 201
    bad = api.post("/api/v1/change-ideas/", {"project": project.pk, "text": "X",
                                             "drivers": [p["id"]]}, format="json")
    assert bad.status_code == 400 and ChangeIdea.objects.count() == 1
    assert api.patch(f"/api/v1/drivers/{p['id']}/", {"text": "Safer"},
                     format="json").json()["text"] == "Safer"
    assert api.delete(f"/api/v1/drivers/{p['id']}/").status_code == 204
    assert not Driver.objects.exists()


def test_measure_create_and_update(api, project, alice):
    as_user(api, alice)
    r = api.post("/api/v1/measures/", {
        "project": project.pk, "name": "Falls", "kind": "outcome", "definition": "d",
        "frequency": "monthly", "chart": "xmr", "direction": "decrease", "target": 5},
        format="json")
    assert r.status_code == 201, r.json()
    mid = r.json()["id"]
    r = api.patch(f"/api/v1/measures/{mid}/", {"chart": "c"}, format="json")
    assert r.status_code == 200 and r.json()["chart"] == "c"
    assert Measure.objects.get().chart == "c"


def test_data_point_create_update_delete(api, measure, alice):
    as_user(api, alice)
    r = api.post("/api/v1/data-points/", {"measure": measure.pk, "period": "2025-01-01",
                                          "value": 4.5, "annotation": "Start"}, format="json")
    assert r.status_code == 201, r.json()
    pid = r.json()["id"]
    dup = api.post("/api/v1/data-points/", {"measure": measure.pk, "period": "2025-01-01",
                                            "value": 1}, format="json")
    assert dup.status_code == 400 and dup.json()["errors"][0]["column"] == "period"
    version = r.json()["version"]
    r = api.patch(f"/api/v1/data-points/{pid}/", {"value": 5, "version": version},
                  format="json")
    assert r.status_code == 200 and r.json()["value"] == 5
    bad = api.patch(f"/api/v1/data-points/{pid}/", {"period": "2025-01-09",
                                                    "version": r.json()["version"]},
                    format="json")
    assert bad.status_code == 400
    assert _snap(measure) == [(dt.date(2025, 1, 1), 5.0)]
    assert api.delete(f"/api/v1/data-points/{pid}/").status_code == 204
    assert not DataPoint.objects.exists()


def test_bulk_is_all_or_nothing_with_the_upload_rules(api, measure, alice):
    DataPointFactory(measure=measure, period=dt.date(2024, 1, 1), value=1)
    before = _snap(measure)
    as_user(api, alice)
    url = f"/api/v1/measures/{measure.pk}/data-points/"
    r = api.post(url, {"points": [
        {"period": "2024-02-01", "value": 2},
        {"period": "2024-02-01", "value": 3},
        {"period": "2024-03-15", "value": 3},
        {"period": "2024-04-01", "value": "abc"},
    ]}, format="json")
    assert r.status_code == 400
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [
        (2, "period"), (3, "period"), (4, "value")]
    assert _snap(measure) == before
    assert api.post(url, {"points": "nope"}, format="json").status_code == 400
    r = api.post(url, {"points": [{"period": "2024-01-01", "value": 10},
                                  {"period": "2024-02-01", "value": 2}],
                       "base_version": api.get(f"/api/v1/measures/{measure.pk}/").json()[
                           "data_version"]}, format="json")
    assert r.status_code == 200 and r.json() == {"created": 1, "updated": 1}
    assert _snap(measure) == [(dt.date(2024, 1, 1), 10.0), (dt.date(2024, 2, 1), 2.0)]


def test_bulk_p_chart_rules(api, project, alice):
    measure = MeasureFactory(project=project, chart="p", direction="increase")
    as_user(api, alice)
    r = api.post(f"/api/v1/measures/{measure.pk}/data-points/", {"points": [
        {"period": "2024-01-01", "numerator": 6, "denominator": 5},
        {"period": "2024-02-01", "numerator": 1, "denominator": 0},
    ]}, format="json")
    assert r.status_code == 400 and len(r.json()["errors"]) == 2
    assert not measure.points.exists()


def test_schema_documents_the_endpoints(api, alice):
    r = as_user(api, alice).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    paths = r.json()["paths"] if r["Content-Type"].startswith("application/json") else None
    if paths is not None:
        assert "/api/v1/measures/{id}/data-points/" in paths
        assert "/api/v1/change-ideas/" in paths


def test_spc_reading_comes_from_the_snapshot(api, measure, alice, bob, charlie,
                                             django_capture_on_commit_callbacks):
    as_user(api, alice)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/measures/{measure.pk}/data-points/", {"points": [
            {"period": f"2024-{m:02d}-01", "value": v} for m, v in
            zip(range(1, 13), [5, 6, 5, 7, 6, 5, 6, 5, 7, 6, 5, 6], strict=True)]},
            format="json")
    data = as_user(api, bob).get(f"/api/v1/measures/{measure.pk}/spc/").json()
    assert data["n_points"] == 12 and data["stale"] is False
    assert data["variation_icon"] == "common_cause"
    assert data["latest_value"] == 6.0
    assert len(data["result"]["points"]) == 12
    assert as_user(api, charlie).get(f"/api/v1/measures/{measure.pk}/spc/").status_code == 404
