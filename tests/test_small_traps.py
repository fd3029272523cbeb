"""Issue 20 item 6: small traps a new user meets, one test each."""

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from pdsa import services as pdsa_services
from pdsa.models import Cycle
from tests.factories import ChangeIdeaFactory, MeasureFactory, ProjectFactory, UnitFactory

pytestmark = pytest.mark.django_db


def _in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_status_sentence_has_no_space_before_its_full_stop(client, quentin, trust_a):
    project = ProjectFactory(trust=trust_a, status="proposed", lead=quentin)
    html = _in(client, quentin).get(reverse("projects:status", args=[project.pk])).content
    text = _text(html.decode())
    assert "The project is Proposed." in text and "Proposed ." not in text


def test_u_chart_grid_and_template_speak_of_exposure_not_a_total(client, quentin, trust_a):
    project = ProjectFactory(trust=trust_a, lead=quentin)
    u = MeasureFactory(project=project, chart="u", unit_label="falls per 1,000 bed days")
    p = MeasureFactory(project=project, chart="p")
    _in(client, quentin)
    grid = _text(client.get(reverse("projects:measure_data", args=[project.pk, u.pk]))
                 .content.decode())
    assert "total it is out of" not in grid and "bed days" in grid
    assert "total it is out of" in _text(
        client.get(reverse("projects:measure_data", args=[project.pk, p.pk])).content.decode())
    xlsx = client.get(reverse("projects:measure_template", args=[project.pk, u.pk, "xlsx"]))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)
                                             if xlsx.streaming else xlsx.content))
    notes = " ".join(str(c.value) for row in book["How to fill this in"].iter_rows()
                     for c in row if c.value)
    assert "total it is out of" not in notes.lower() and "exposure" in notes


def test_a_pdsa_stage_cannot_be_dated_in_the_future(quentin, trust_a):
    idea = ChangeIdeaFactory(project=ProjectFactory(trust=trust_a, lead=quentin))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as err:
        pdsa_services.cycle_create(change_idea=idea, by=quentin, objective="Try a huddle",
                                   prediction="Fewer falls", done_date=tomorrow,
                                   carried_out_as_planned="Yes")
    assert "date done must be today or earlier" in str(err.value)
    assert not Cycle.objects.filter(change_idea=idea).exists()  # nothing half-saved
    cycle = pdsa_services.cycle_create(change_idea=idea, by=quentin, objective="Try a huddle",
                                       prediction="Fewer falls",
                                       done_date=timezone.localdate())
    assert cycle.done_date == timezone.localdate()


def test_unit_remove_says_why_it_cannot_instead_of_offering_the_button(client, tara, trust_a,
                                                                        ward_a):
    from organisations.models import Unit

    ProjectFactory(trust=trust_a, unit=ward_a)
    url = reverse("trust_admin:unit_remove", args=[trust_a.ods_code, ward_a.pk])
    html = _in(client, tara).get(url).content.decode()
    text = _text(html)
    assert "cannot be removed yet" in text and "1 project recorded against it" in text
    assert "Yes, remove" not in text
    assert f"unit={ward_a.pk}" in html  # where to go to move it
    client.post(url)
    assert Unit.objects.filter(pk=ward_a.pk).exists()
    empty = UnitFactory(trust=trust_a, name="Empty ward", kind="ward")
    page = _text(client.get(reverse("trust_admin:unit_remove",
                                    args=[trust_a.ods_code, empty.pk])).content.decode())
    assert "Yes, remove this unit" in page
