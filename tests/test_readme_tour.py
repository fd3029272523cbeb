"""The README is the first thing a new user reads: its demo sign-ins and its five-minute tour
must hold on the demo data (issue 9, item 10). The table is read from README.md itself."""

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from measures.models import Measure
from organisations.models import User
from projects.models import Project

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
LANDING = {  # what the table says → where that is
    "My projects": "/projects/?mine=1",
    "Trust dashboard": "/trusts/",
    "National view": "/national/",
    "`/admin/`": "/admin/",
}
ROWS = re.findall(r"^\| (\S+@example\.nhs\.uk) \| [^|]+ \| ([^|]+?) \|$", README, re.M)


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the snapshot rebuilds
        call_command("seed_demo", stdout=io.StringIO())


def _sign_in(client, email):
    client.force_login(User.objects.get(email=email),
                       backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_table_lists_every_demo_account():
    from organisations.demo import PEOPLE

    assert sorted(email for email, _ in ROWS) == sorted(p[0] for p in PEOPLE)


def test_each_demo_account_lands_where_the_readme_says(client, demo):
    # One test for every row: the demo is loaded once (a few seconds).
    for email, lands_on in ROWS:
        response = _sign_in(client, email).get("/")
        assert response.status_code == 302
        assert response["Location"].startswith(LANDING[lands_on]), (email, response["Location"])
        assert client.get(response["Location"]).status_code == 200, email


def _tour_step_1_the_falls_project_page(client):
    _sign_in(client, "clinician@example.nhs.uk")
    mine = client.get("/projects/?mine=1").content.decode()
    project = Project.objects.get(title="Reducing falls on Ward 7 (Elderly Care)")
    assert project.title in mine
    html = client.get(project.get_absolute_url()).content.decode()
    for words in ("Charter", "Team", "Progress", "The evidence suggests", "Driver diagram",
                  "Measures", "PDSA cycles"):
        assert words in html, words
    assert "app-sparkline" in html  # each measure's latest SPC reading


def _tour_step_2_a_measure_page_and_its_upload(client):
    _sign_in(client, "clinician@example.nhs.uk")
    measure = Measure.objects.get(name="Inpatient falls per 1,000 occupied bed days")
    page = client.get(reverse("projects:measure_detail",
                              args=[measure.project_id, measure.pk]))
    assert page.status_code == 200
    assert page.context["reading"] and page.context["icons"]["variation"]
    assert page.context["pdsa_markers"]  # PDSA cycles marked at their dates
    assert page.content.decode().count('class="nhsuk-table__row"') >= 1  # the data table
    template = client.get(reverse("projects:measure_template",
                                  args=[measure.project_id, measure.pk, "csv"]))
    assert template.status_code == 200 and b"period" in template.content
    upload = reverse("projects:measure_upload", args=[measure.project_id, measure.pk])
    assert client.get(upload).status_code == 200


def _tour_step_3_register_shows_similar_projects(client):
    _sign_in(client, "clinician@example.nhs.uk")
    project = Project.objects.get(title="Reducing falls on Ward 7 (Elderly Care)")
    similar = client.get(reverse("projects:similar"),
                         {"trust": project.trust_id, "title": "Reducing falls on ward 7"})
    assert project.title in similar.content.decode()
    assert client.get(reverse("projects:create")).status_code == 200


def _tour_step_4_pdsa_cycles(client):
    _sign_in(client, "clinician@example.nhs.uk")
    mine = client.get(reverse("pdsa:mine"))
    assert mine.status_code == 200
    assert client.get(reverse("pdsa:new")).status_code == 200


def _tour_step_5_board_and_qi_lead(client):
    _sign_in(client, "board@example.nhs.uk")
    html = client.get("/trusts/ZNT/").content.decode()
    assert "Northgate" in html and "PDSA" in html
    _sign_in(client, "national@example.nhs.uk")
    assert client.get("/national/").status_code == 200


def test_the_five_minute_tour(client, demo):
    _tour_step_1_the_falls_project_page(client)
    _tour_step_2_a_measure_page_and_its_upload(client)
    _tour_step_3_register_shows_similar_projects(client)
    _tour_step_4_pdsa_cycles(client)
    _tour_step_5_board_and_qi_lead(client)
