"""Issue 9.1: every free-text field of every model of ours carries the patient-data screen,
so no page, upload, API call or service can store an NHS number by going round a form."""

import pytest
from django.apps import apps
from django.db import models

from core.screening import no_patient_identifiers

OUR_APPS = ("organisations", "projects", "measures", "pdsa", "collaboratives", "reports")

# Text that is not free text: identifiers, codes, secrets, machine values.
NOT_FREE_TEXT = {
    ("organisations", "User", "password"),
    ("organisations", "Trust", "ods_code"),
    ("organisations", "Region", "code"),
    ("organisations", "Unit", "path"),
    ("measures", "MeasureSnapshot", "variation_icon"),
    ("measures", "MeasureSnapshot", "assurance"),
    ("reports", "BoardPack", "html"),  # built by the task from screened data
    ("reports", "BoardPack", "failure"),  # a fixed message of ours
}


def free_text_fields():
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            if model.__name__.startswith("Historical"):
                continue  # simple-history's copies: written only from the screened rows
            for field in model._meta.get_fields():
                if not isinstance(field, (models.CharField, models.TextField)):
                    continue
                if field.choices or isinstance(field, models.EmailField):
                    continue
                if (app, model.__name__, field.name) in NOT_FREE_TEXT:
                    continue
                yield pytest.param(field, id=f"{app}.{model.__name__}.{field.name}")


@pytest.mark.parametrize("field", list(free_text_fields()))
def test_free_text_field_has_the_patient_data_screen(field):
    assert no_patient_identifiers in field.validators


def test_the_walk_finds_the_fields_people_type_into():
    names = {p.id for p in free_text_fields()}
    for expected in ("measures.DataPoint.annotation", "projects.Driver.text",
                     "projects.ChangeIdea.text", "measures.Measure.definition",
                     "projects.ProgressScore.comment", "projects.TeamMember.name",
                     "pdsa.Cycle.prediction"):
        assert expected in names


# ---- the surfaces people reported: upload, grid, API, driver diagram --------------------

NOTE = "Patient 943 476 5919 fell"


@pytest.fixture
def measure(alice, trust_a):
    from tests.factories import MeasureFactory, ProjectFactory

    return MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice), chart="xmr",
                          frequency="monthly")


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_a_csv_upload_with_an_nhs_number_in_a_note_saves_nothing_and_names_the_row(
    client, alice, measure
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    csv = f"period,value,annotation\n2026-01-01,3,\n2026-02-01,4,{NOTE}\n"
    response = _sign_in(client, alice).post(
        reverse("projects:measure_upload", args=[measure.project_id, measure.pk]),
        {"file": SimpleUploadedFile("falls.csv", csv.encode(), "text/csv")},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Row 3" in html and "NHS number" in html
    assert not measure.points.exists()


def test_the_data_grid_refuses_an_nhs_number(client, alice, measure):
    from django.urls import reverse

    data = {"rows-TOTAL_FORMS": "1", "rows-INITIAL_FORMS": "0", "rows-0-period": "2026-01-01",
            "rows-0-value": "3", "rows-0-annotation": "Mrs Jones, NHS no 9434765919",
            "save": "1"}
    response = _sign_in(client, alice).post(
        reverse("projects:measure_data", args=[measure.project_id, measure.pk]), data)
    assert response.status_code == 200
    assert "NHS number" in response.content.decode()
    assert not measure.points.exists()


def test_the_api_bulk_upload_refuses_an_nhs_number(alice, measure):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(alice)
    response = api.post(f"/api/v1/measures/{measure.pk}/data-points/",
                        {"points": [{"period": "2026-01-01", "value": 3, "annotation": NOTE}]},
                        format="json")
    assert response.status_code == 400
    assert response.data["errors"][0]["row"] == 1
    assert response.data["errors"][0]["column"] == "annotation"
    assert not measure.points.exists()


def test_drivers_and_change_ideas_refuse_nhs_numbers(client, alice, measure):
    from django.urls import reverse
    from rest_framework.test import APIClient

    project = measure.project
    response = _sign_in(client, alice).post(
        reverse("projects:diagram", args=[project.pk]),
        {"action": "add_primary", "primary-text": "Falls of 943 476 5919"})
    assert response.status_code == 200 and "NHS number" in response.content.decode()
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post("/api/v1/drivers/", {"project": project.pk, "text": "re 9434765919"},
                        format="json")
    assert response.status_code == 400
    assert not project.drivers.exists()
