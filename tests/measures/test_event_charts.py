"""Rare-event measures: G and T charts recorded event by event, in the browser and the API."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from measures import imports, services, snapshots
from measures.models import DataPoint, Measure, MeasureSnapshot
from reports import spc
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

FALL_DATES = [dt.date(2026, 1, 3), dt.date(2026, 1, 20), dt.date(2026, 3, 1),
              dt.date(2026, 3, 9), dt.date(2026, 5, 30)]


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice)


@pytest.fixture
def t_measure(project):
    return MeasureFactory(project=project, name="Falls with harm", chart="t",
                          frequency="event", direction="increase", unit_label="")


@pytest.fixture
def g_measure(project):
    return MeasureFactory(project=project, name="Surgical site infections", chart="g",
                          frequency="event", direction="increase", unit_label="")


def test_event_charts_need_the_event_frequency_and_only_they_have_it(project, alice):
    with pytest.raises(ValidationError) as error:
        services.measure_create(project=project, by=alice, name="Falls", kind="outcome",
                                definition="Falls with harm", frequency="monthly", chart="t",
                                direction="increase")
    assert "Each event" in error.value.message_dict["frequency"][0]
    with pytest.raises(ValidationError) as error:
        services.measure_create(project=project, by=alice, name="Falls", kind="outcome",
                                definition="Falls", frequency="event", chart="xmr",
                                direction="decrease")
    assert "frequency" in error.value.message_dict
    assert not Measure.objects.exists()


def test_a_t_chart_takes_dates_alone_and_draws_the_days_between(t_measure, alice):
    rows = [{"row": i, "period": d.isoformat()} for i, d in enumerate(FALL_DATES, 1)]
    services.data_points_merge(measure=t_measure, rows=rows, by=alice)
    points = list(t_measure.points.order_by("period"))
    assert [p.value for p in points] == [None] * 5
    result = snapshots.measure_spc_result(t_measure, points)
    expected = spc.t_chart([17.0, 40.0, 8.0, 82.0])
    assert [p.value for p in result.points] == [p.value for p in expected.points]
    assert snapshots.plotted_points(t_measure, points) == points[1:]


def test_one_event_on_a_t_chart_says_so_and_the_snapshot_still_builds(t_measure, alice,
                                                                        client):
    DataPointFactory(measure=t_measure, period=FALL_DATES[0], value=None)
    assert snapshots.measure_refresh(measure_id=t_measure.pk)
    snap = MeasureSnapshot.objects.get(measure=t_measure)
    assert snap.n_points == 1 and snap.variation_icon == ""
    page = sign_in(client, alice).get(
        reverse("projects:measure_detail", args=[t_measure.project_id, t_measure.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "at least two events" in html
    assert "since the only event recorded" in html


def test_same_day_events_are_refused_with_a_way_forward(t_measure, alice):
    _, errors = imports.validate_rows(t_measure, [
        {"row": 1, "period": "2026-01-03"}, {"row": 2, "period": "2026-01-03"}])
    assert errors and "one event a day" in errors[0].message


def test_a_g_chart_needs_whole_counts_of_cases_between_events(g_measure):
    clean, errors = imports.validate_rows(g_measure, [
        {"row": 1, "period": "2026-01-03", "value": "112"},
        {"row": 2, "period": "2026-02-10", "value": "-1"},
        {"row": 3, "period": "2026-02-11", "value": "2.5"},
        {"row": 4, "period": "2026-03-11"}])
    assert [e.row for e in errors] == [2, 3, 4]
    assert "cases since the last event" in errors[2].message
    assert len(clean) == 1


def test_the_grid_and_the_template_show_event_columns(client, alice, t_measure, g_measure):
    sign_in(client, alice)
    grid = client.get(reverse("projects:measure_data", args=[t_measure.project_id,
                                                             t_measure.pk])).content.decode()
    assert "Event date" in grid and ">Value<" not in grid
    grid = client.get(reverse("projects:measure_data", args=[g_measure.project_id,
                                                             g_measure.pk])).content.decode()
    assert "Cases since the previous event" in grid
    assert imports.columns_for(t_measure) == ["period", "annotation", "rebaseline"]
    assert imports.required_columns(g_measure) == ["period", "value"]


def test_upload_of_event_dates_then_the_chart_page(client, alice, t_measure):
    csv = "period,annotation\n" + "\n".join(d.isoformat() + "," for d in FALL_DATES)
    url = reverse("projects:measure_upload", args=[t_measure.project_id, t_measure.pk])
    response = sign_in(client, alice).post(
        url, {"file": SimpleUploadedFile("falls.csv", csv.encode(), "text/csv")})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert DataPoint.objects.filter(measure=t_measure).count() == 5
    page = client.get(reverse("projects:measure_detail",
                              args=[t_measure.project_id, t_measure.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="nhsuk-table__row"') == 4  # the first event starts the clock
    assert "days between events" in html
    assert "since the last event" in html and "82 days" in html


def test_switching_between_g_and_t_is_refused_once_there_is_data(g_measure, alice):
    DataPointFactory(measure=g_measure, period=FALL_DATES[0], value=40)
    with pytest.raises(ValidationError) as error:
        services.measure_update(measure=g_measure, by=alice, chart="t")
    assert "chart" in error.value.message_dict
    g_measure.refresh_from_db()
    assert g_measure.chart == "g"


def test_the_api_takes_event_dates_for_a_t_chart(client, alice, t_measure):
    sign_in(client, alice)
    url = reverse("measure-bulk-data-points", args=[t_measure.pk])
    response = client.post(url, {"points": [{"period": d.isoformat()} for d in FALL_DATES]},
                           content_type="application/json")
    assert response.status_code in (200, 201), response.content
    assert t_measure.points.count() == 5
