"""Issue 15.5: the project list, a trust's measures matrix and a measure's data as CSV and
XLSX, from the API and the pages. Files are read back (csv, openpyxl): formula-looking text
is neutralised by the one helper (core.exports), only what the reader may see is exported,
and each download costs the same queries for few rows or many."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from core.exports import FORMULA_STARTS, neutralise
from measures.models import DataPoint, Measure, MeasureSnapshot
from tests.factories import MeasureFactory, ProjectFactory

pytestmark = pytest.mark.django_db

HOSTILE = ["=HYPERLINK(\"http://evil.example\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
           "\tTabbed", "\rReturn"]


def read_csv(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def read_xlsx(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def api_as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_neutralise_guards_every_formula_start_and_leaves_numbers():
    for start in FORMULA_STARTS:
        assert neutralise(start + "1") == "'" + start + "1"
    assert neutralise("Falls") == "Falls"
    assert neutralise(-3) == -3 and neutralise(2.5) == 2.5
    assert neutralise(dt.date(2026, 1, 1)) == dt.date(2026, 1, 1)


# ---- the project list -----------------------------------------------------------------------


@pytest.fixture
def register(trust_a, trust_b, alice):
    mine = [ProjectFactory(trust=trust_a, lead=alice, title=t) for t in HOSTILE]
    ProjectFactory(trust=trust_a, visibility="team", title="Private project")
    ProjectFactory(trust=trust_b, title="Another trust's project")
    return mine


def _titles(rows):
    return {r[1] for r in rows[1:]}


def _guarded(fmt):
    """HOSTILE as written: with the apostrophe; XML (XLSX) reads a lone CR back as LF."""
    return {"'" + (t.replace("\r", "\n") if fmt == "xlsx" else t) for t in HOSTILE}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_project_list_export_is_neutralised_and_scoped(fmt, register, alice):
    response = api_as(alice).get(f"/api/v1/projects/export/{fmt}/")
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert rows[0][:3] == ["ID", "Title", "Trust"]
    assert _titles(rows) == _guarded(fmt)
    assert all(not str(cell).startswith(FORMULA_STARTS) for row in rows for cell in row
               if cell is not None)
    assert f'filename="projects.{fmt}"' in response["Content-Disposition"]


def test_project_list_export_keeps_the_filters(register, alice, trust_a):
    ProjectFactory(trust=trust_a, lead=alice, title="Sepsis screening", status="completed")
    rows = read_csv(api_as(alice).get("/api/v1/projects/export/csv/",
                                      {"status": "completed"}))
    assert _titles(rows) == {"Sepsis screening"}
    assert rows[1][4] == "Completed"
    bad = api_as(alice).get("/api/v1/projects/export/csv/", {"status": "nonsense"})
    assert bad.status_code == 400


def test_the_project_list_page_links_to_its_download_with_its_filters(client, register,
                                                                      alice):
    client.force_login(alice)
    page = client.get(reverse("projects:list"), {"status": "active", "page": "1"})
    html = page.content.decode()
    assert "/api/v1/projects/export/csv/?status=active" in html
    assert "/api/v1/projects/export/xlsx/?status=active" in html
    assert "page=1" not in html.split("/api/v1/projects/export/csv/")[1][:40]
    # The page's session reads the file too (no token needed).
    assert read_csv(client.get("/api/v1/projects/export/csv/"))[0][1] == "Title"


@pytest.mark.parametrize("n", [3, 120])
def test_project_list_export_queries_are_constant(n, trust_a, alice,
                                                  django_assert_max_num_queries):
    for i in range(n):
        ProjectFactory(trust=trust_a, lead=alice, title=f"Project {i}")
    client = api_as(alice)
    with django_assert_max_num_queries(6):
        rows = read_xlsx(client.get("/api/v1/projects/export/xlsx/"))
    assert len(rows) == n + 1


# ---- a measure's data -----------------------------------------------------------------------


@pytest.fixture
def measure(alice, trust_a):
    measure = MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice),
                             name="Falls", frequency=Measure.Frequency.MONTHLY)
    for i, note in enumerate(HOSTILE):
        DataPoint.objects.create(measure=measure, period=dt.date(2025, i + 1, 1),
                                 value=-i, annotation=note.strip())
    return measure


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_measure_data_export_reads_back(fmt, measure, alice):
    response = api_as(alice).get(f"/api/v1/measures/{measure.pk}/export/{fmt}/")
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert rows[0] == ["period", "value", "annotation", "rebaseline"]
    assert len(rows) == 1 + len(HOSTILE)
    notes = [r[2] for r in rows[1:]]
    assert notes[0] == "'=HYPERLINK(\"http://evil.example\")"
    assert all(str(n).startswith("'") for n in notes[:4])
    values = [float(r[1]) for r in rows[1:]]
    assert values == [-float(i) for i in range(len(HOSTILE))]  # numbers stay numbers
    assert f'filename="falls-data.{fmt}"' in response["Content-Disposition"]


def test_measure_data_export_round_trips_through_bulk_ingest(measure, alice):
    client = api_as(alice)
    body = client.get(f"/api/v1/measures/{measure.pk}/export/csv/").content
    r = client.generic("POST", f"/api/v1/measures/{measure.pk}/data-points/", body,
                       content_type="text/csv")
    assert r.status_code == 200 and r.json() == {"created": 0, "updated": 0}


def test_the_measure_page_links_to_its_data(client, measure, bob):
    client.force_login(bob)  # a board member reads, and may download
    html = client.get(reverse("projects:measure_detail",
                              args=[measure.project_id, measure.pk])).content.decode()
    assert f"/api/v1/measures/{measure.pk}/export/csv/" in html
    assert read_xlsx(client.get(f"/api/v1/measures/{measure.pk}/export/xlsx/"))[1][0]


def test_measure_export_is_404_to_an_outsider(measure, charlie):
    assert api_as(charlie).get(f"/api/v1/measures/{measure.pk}/export/csv/").status_code == 404


@pytest.mark.parametrize("n", [5, 400])
def test_measure_export_queries_are_constant(n, alice, trust_a,
                                             django_assert_max_num_queries):
    measure = MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice),
                             frequency=Measure.Frequency.DAILY)
    DataPoint.objects.bulk_create(DataPoint(measure=measure, value=i,
                                            period=dt.date(2020, 1, 1) + dt.timedelta(days=i))
                                  for i in range(n))
    with django_assert_max_num_queries(5):
        rows = read_csv(api_as(alice).get(f"/api/v1/measures/{measure.pk}/export/csv/"))
    assert len(rows) == n + 1


# ---- a trust's measures matrix (API) --------------------------------------------------------


def _matrix(trust, n, lead):
    for i in range(n):
        project = ProjectFactory(trust=trust, lead=lead, title=HOSTILE[i % len(HOSTILE)])
        MeasureSnapshot.objects.create(measure=MeasureFactory(project=project),
                                       variation_icon="concern_high",
                                       latest_period=dt.date(2026, 1, 1))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_matrix_api_export_is_scoped_and_neutralised(fmt, trust_a, alice, bob):
    _matrix(trust_a, 6, alice)
    hidden = ProjectFactory(trust=trust_a, visibility="team", title="Private project")
    MeasureSnapshot.objects.create(measure=MeasureFactory(project=hidden, name="Secret"))
    url = f"/api/v1/trusts/{trust_a.ods_code}/measures-matrix/export/{fmt}/"
    response = api_as(bob).get(url)
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    assert rows[0][:4] == ["Trust", "Project", "Unit", "Measure"]
    assert {r[1] for r in rows[1:]} == _guarded(fmt)
    assert "Secret" not in {r[3] for r in rows[1:]}
    concern = read_csv(api_as(bob).get(url.replace(fmt, "csv"), {"show": "improvement"}))
    assert len(concern) == 1  # the filter of the page applies


def test_the_matrix_api_export_is_404_to_another_trust(trust_a, alice, charlie):
    _matrix(trust_a, 1, alice)
    url = f"/api/v1/trusts/{trust_a.ods_code}/measures-matrix/export/csv/"
    assert api_as(charlie).get(url).status_code == 404
    assert api_as(alice).get(url + "?unit=abc").status_code == 400
    assert api_as(alice).get(url + "?unit=" + "9" * 30).status_code == 400
    assert api_as(alice).get(url + "?unit=999999").status_code == 404
    # The page falls back to its defaults; an API client is told what it may send (the
    # schema's enum; schemathesis sent sort=-58800 and got 200).
    bad = api_as(alice).get(url + "?sort=nonsense&show=nonsense")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"show", "sort"}
    assert api_as(alice).get(url + "?sort=measure&show=concern").status_code == 200


def test_xlsx_drops_control_characters_a_workbook_cannot_hold(alice, trust_a):
    # openpyxl refuses them (IllegalCharacterError: a 500 under fuzzing); CSV keeps them.
    measure = MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice))
    DataPoint.objects.create(measure=measure, period=dt.date(2025, 1, 1), value=1,
                             annotation="Before\x01\x1fafter")
    rows = read_xlsx(api_as(alice).get(f"/api/v1/measures/{measure.pk}/export/xlsx/"))
    assert rows[1][2] == "Beforeafter"


@pytest.mark.parametrize("n", [2, 80])
def test_the_matrix_api_export_queries_are_constant(n, trust_a, alice, bob,
                                                    django_assert_max_num_queries):
    _matrix(trust_a, n, alice)
    with django_assert_max_num_queries(6):
        rows = read_xlsx(api_as(bob).get(
            f"/api/v1/trusts/{trust_a.ods_code}/measures-matrix/export/xlsx/"))
    assert len(rows) == n + 1
