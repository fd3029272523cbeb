"""Concurrent edits of a measure's data are detected, not silently overwritten (issue 13).

Every data write bumps `Measure.data_version` and stamps the points it changes with it. A
write based on an older version that would change a point someone else changed since is
refused with DataConflict: 409 with the saved values in the API, the form kept with a message
on the pages. The race itself, on real PostgreSQL, is in tests/integration/test_faults.py.
"""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from measures import services
from measures.models import Measure
from tests.factories import MeasureFactory, ProjectFactory


@pytest.fixture
def measure(alice, trust_a):
    project = ProjectFactory(trust=trust_a, lead=alice)
    return MeasureFactory(project=project, name="Falls", chart="xmr")


@pytest.fixture
def api():
    return APIClient()


def _rows(*pairs):
    return [{"row": i, "period": period, "value": value}
            for i, (period, value) in enumerate(pairs, start=1)]


def _values(measure):
    return dict(measure.points.values_list("period", "value"))


def _version(measure) -> int:
    return Measure.objects.get(pk=measure.pk).data_version


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


# ---- the service ---------------------------------------------------------------------------


def test_every_write_bumps_the_version_and_stamps_its_points(measure, alice):
    assert _version(measure) == 0
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 1)), by=alice)
    assert _version(measure) == 1
    services.data_points_merge(measure=measure, by=alice, base_version=1,
                               rows=_rows(("2024-01-01", 2), ("2024-02-01", 3)))
    assert _version(measure) == 2
    assert set(measure.points.values_list("version", flat=True)) == {2}
    # Sending what is saved changes nothing, so nothing is bumped.
    summary = services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 2)),
                                         by=alice)
    assert str(summary) == "No changes" and _version(measure) == 2


def test_a_stale_upload_is_refused_and_names_what_is_saved(measure, alice, quentin):
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 1)), by=alice)
    seen = _version(measure)  # both open the upload page now
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 5)), by=quentin,
                               base_version=seen)
    with pytest.raises(services.DataConflict) as caught:
        services.data_points_merge(measure=measure, by=alice, base_version=seen,
                                   rows=_rows(("2024-01-01", 9), ("2024-02-01", 4)))
    assert "1 January 2024 is 5" in caught.value.message
    assert caught.value.data_version == seen + 1
    assert _values(measure) == {dt.date(2024, 1, 1): 5}  # all or nothing: February not added


def test_a_stale_upload_of_other_periods_is_not_a_conflict(measure, alice, quentin):
    services.data_points_merge(measure=measure, by=alice,
                               rows=_rows(("2024-01-01", 1), ("2024-02-01", 2)))
    seen = _version(measure)
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 5)), by=quentin,
                               base_version=seen)
    summary = services.data_points_merge(measure=measure, rows=_rows(("2024-02-01", 7)),
                                         by=alice, base_version=seen)
    assert summary.updated == 1
    assert _values(measure) == {dt.date(2024, 1, 1): 5, dt.date(2024, 2, 1): 7}


def test_without_a_base_version_saved_values_cannot_be_replaced(measure, alice):
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 1)), by=alice)
    with pytest.raises(services.DataConflict) as caught:
        services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 2)), by=alice)
    assert "send the measure's data_version (1) as base_version" in caught.value.message
    assert _values(measure) == {dt.date(2024, 1, 1): 1}


def test_a_stale_single_point_update_is_refused(measure, alice, quentin):
    point = services.data_point_create(measure=measure, by=alice, period="2024-01-01",
                                       value=1)
    services.data_point_update(point=point, by=quentin, expected_version=point.version,
                               value=2)
    with pytest.raises(services.DataConflict):
        services.data_point_update(point=point, by=alice, expected_version=point.version,
                                   value=3)
    assert _values(measure) == {dt.date(2024, 1, 1): 2}


# ---- the pages -------------------------------------------------------------------------------


def _base_on(page) -> str:
    return re.search(r'name="base_version" value="(\d+)"', page.content.decode()).group(1)


def test_grid_that_would_undo_someone_elses_change_keeps_the_form(client, measure, alice,
                                                                   quentin):
    services.data_points_merge(measure=measure, by=alice,
                               rows=_rows(("2024-01-01", 1), ("2024-02-01", 2)))
    url = reverse("projects:measure_data", args=[measure.project_id, measure.pk])
    page = _sign_in(client, alice).get(url)
    base = _base_on(page)
    assert base == "1"
    # Quentin changes January while Alice's grid is open.
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 8)), by=quentin,
                               base_version=1)
    jan, feb = measure.points.order_by("period")
    data = {"rows-TOTAL_FORMS": "2", "rows-INITIAL_FORMS": "0", "rows-MIN_NUM_FORMS": "0",
            "rows-MAX_NUM_FORMS": "2000", "save": "1", "base_version": base,
            # Alice only edits February, but her grid still holds January's old value.
            "rows-0-id": jan.pk, "rows-0-period": "2024-01-01", "rows-0-value": "1",
            "rows-1-id": feb.pk, "rows-1-period": "2024-02-01", "rows-1-value": "20"}
    response = client.post(url, data)
    assert response.status_code == 409
    text = response.content.decode()
    assert "Someone else changed this measure" in text and "1 January 2024 is 8" in text
    assert 'value="20"' in text  # her input is still in the form
    assert _base_on(response) == base  # saving again is still checked against her version
    assert _values(measure) == {dt.date(2024, 1, 1): 8, dt.date(2024, 2, 1): 2}


def test_grid_based_on_the_current_version_saves(client, measure, alice):
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 1)), by=alice)
    url = reverse("projects:measure_data", args=[measure.project_id, measure.pk])
    base = _base_on(_sign_in(client, alice).get(url))
    jan = measure.points.get()
    response = client.post(url, {
        "rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "0", "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "2000", "save": "1", "base_version": base,
        "rows-0-id": jan.pk, "rows-0-period": "2024-01-01", "rows-0-value": "4"})
    assert response.status_code == 302
    assert _values(measure) == {dt.date(2024, 1, 1): 4}


def test_upload_page_refuses_a_stale_overwrite(client, measure, alice, quentin):
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 1)), by=alice)
    url = reverse("projects:measure_upload", args=[measure.project_id, measure.pk])
    base = _base_on(_sign_in(client, alice).get(url))
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 6)), by=quentin,
                               base_version=int(base))
    upload = SimpleUploadedFile("d.csv", b"period,value\n2024-01-01,3\n", "text/csv")
    response = client.post(url, {"file": upload, "base_version": base})
    assert response.status_code == 409
    assert "1 January 2024 is 6" in response.content.decode()
    assert _values(measure) == {dt.date(2024, 1, 1): 6}


# ---- the API ---------------------------------------------------------------------------------


def test_api_bulk_answers_409_with_the_saved_points_and_version(api, measure, alice, quentin):
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 1)), by=alice)
    api.force_authenticate(alice)
    read = api.get(f"/api/v1/measures/{measure.pk}/").json()["data_version"]
    services.data_points_merge(measure=measure, rows=_rows(("2024-01-01", 6)), by=quentin,
                               base_version=read)
    url = f"/api/v1/measures/{measure.pk}/data-points/"
    body = {"points": [{"period": "2024-01-01", "value": 3}], "base_version": read}
    response = api.post(url, body, format="json")
    assert response.status_code == 409
    payload = response.json()
    assert payload["data_version"] == read + 1
    assert [(p["period"], p["value"]) for p in payload["current"]] == [("2024-01-01", 6.0)]
    retry = api.post(url, {**body, "base_version": payload["data_version"]}, format="json")
    assert retry.status_code == 200 and retry.json() == {"created": 0, "updated": 1}
    bad = api.post(url, {**body, "base_version": "x"}, format="json")
    assert bad.status_code == 400 and "base_version" in bad.json()["errors"]


def test_api_patch_needs_the_points_version(api, measure, alice, quentin):
    point = services.data_point_create(measure=measure, by=alice, period="2024-01-01",
                                       value=1)
    api.force_authenticate(alice)
    url = f"/api/v1/data-points/{point.pk}/"
    assert api.patch(url, {"value": 2}, format="json").status_code == 400
    services.data_point_update(point=point, by=quentin, expected_version=point.version,
                               value=5)
    stale = api.patch(url, {"value": 2, "version": point.version}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"][0]["value"] == 5
    fresh = api.get(url).json()["version"]
    assert api.patch(url, {"value": 2, "version": fresh}, format="json").status_code == 200
    assert _values(measure) == {dt.date(2024, 1, 1): 2}


def test_schema_documents_the_conflicts(api, alice):
    api.force_authenticate(alice)
    paths = api.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "409" in paths["/api/v1/measures/{id}/data-points/"]["post"]["responses"]
    assert "409" in paths["/api/v1/data-points/{id}/"]["patch"]["responses"]
