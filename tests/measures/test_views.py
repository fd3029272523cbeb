"""Measure pages: create/edit, the chart page, data grid, upload and templates."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from measures import services
from measures.models import Measure, MeasureSnapshot
from tests.factories import (
    DataPointFactory,
    DriverFactory,
    MeasureFactory,
    ProjectFactory,
)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on-commit work (the snapshot rebuild) as a real commit would."""
    return django_capture_on_commit_callbacks


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice, aim="Reduce falls by 30% by March 2027")


@pytest.fixture
def measure(project):
    return MeasureFactory(project=project, name="Falls per 1,000 bed days",
                          unit_label="per 1,000 bed days")


def _months(n, start=2024):
    return [dt.date(start + i // 12, i % 12 + 1, 1) for i in range(n)]


def _points(measure, values, **kw):
    return [DataPointFactory(measure=measure, period=d, value=v, **kw)
            for d, v in zip(_months(len(values)), values, strict=True)]


def _snap(measure):
    return sorted(measure.points.values_list("period", "value", "numerator", "denominator",
                                             "annotation", "rebaseline"))


MEASURE_POST = {
    "name": "Falls per 1,000 bed days", "kind": "outcome",
    "definition": "Falls from Datix / occupied bed days x 1000, monthly.",
    "unit_label": "per 1,000 bed days", "frequency": "monthly", "chart": "xmr",
    "direction": "decrease", "target": "5", "driver": "",
}


# ---- access ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["measure_create"])
def test_outsider_gets_404_and_board_member_403_on_create(client, project, charlie, bob, name):
    url = reverse(f"projects:{name}", args=[project.pk])
    assert sign_in(client, charlie).get(url).status_code == 404
    assert sign_in(client, bob).get(url).status_code == 403
    assert sign_in(client, bob).post(url, MEASURE_POST).status_code == 403
    assert not Measure.objects.exists()


@pytest.mark.parametrize("name", ["measure_edit", "measure_data", "measure_upload",
                                  "measure_remove"])
def test_writes_are_404_for_outsiders_and_403_for_readers(client, measure, charlie, bob, name):
    url = reverse(f"projects:{name}", args=[measure.project_id, measure.pk])
    assert sign_in(client, charlie).get(url).status_code == 404
    assert sign_in(client, bob).get(url).status_code == 403
    assert sign_in(client, bob).post(url, {}).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, measure):
    url = reverse("projects:measure_detail", args=[measure.project_id, measure.pk])
    assert client.get(url).status_code == 302


def test_measure_of_another_project_is_404(client, measure, alice, trust_a):
    other = ProjectFactory(trust=trust_a, lead=alice)
    url = reverse("projects:measure_detail", args=[other.pk, measure.pk])
    assert sign_in(client, alice).get(url).status_code == 404


def test_board_member_can_read_the_chart_but_sees_no_data_links(client, measure, bob):
    _points(measure, [8, 7, 9, 8, 7, 8])
    response = sign_in(client, bob).get(
        reverse("projects:measure_detail", args=[measure.project_id, measure.pk]))
    assert response.status_code == 200
    assert b"Upload data" not in response.content


def test_national_analyst_reads_any_measure(client, measure, nadia):
    response = sign_in(client, nadia).get(
        reverse("projects:measure_detail", args=[measure.project_id, measure.pk]))
    assert response.status_code == 200


# ---- create / edit --------------------------------------------------------------------


def test_clinician_adds_a_measure_and_lands_on_its_page(client, project, alice):
    driver = DriverFactory(project=project, text="Safe mobility")
    response = sign_in(client, alice).post(
        reverse("projects:measure_create", args=[project.pk]),
        {**MEASURE_POST, "driver": driver.pk})
    measure = Measure.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:measure_detail",
                                           args=[project.pk, measure.pk])
    assert measure.driver == driver and measure.target == 5
    assert measure.history.first().history_user == alice
    page = client.get(response["Location"])
    assert b"Download the template" in page.content and b"Upload data" in page.content


def test_create_form_explains_each_chart(client, project, alice):
    page = sign_in(client, alice).get(reverse("projects:measure_create", args=[project.pk]))
    for word in (b"XmR chart", b"P chart", b"U chart", b"C chart", b"Run chart",
                 b"percentage of a total"):
        assert word in page.content


def test_missing_fields_are_listed_and_nothing_saved(client, project, alice):
    response = sign_in(client, alice).post(
        reverse("projects:measure_create", args=[project.pk]), {"name": ""})
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    assert b"Enter the operational definition" in response.content
    assert not Measure.objects.exists()


def test_driver_from_another_project_is_refused(client, project, alice, trust_a):
    foreign = DriverFactory(project=ProjectFactory(trust=trust_a, lead=alice))
    response = sign_in(client, alice).post(
        reverse("projects:measure_create", args=[project.pk]),
        {**MEASURE_POST, "driver": foreign.pk})
    assert response.status_code == 200
    assert not Measure.objects.exists()


def test_edit_changes_measure_and_marks_it_dirty(client, measure, alice, on_commit):
    _points(measure, [1, 2, 3])
    with on_commit(execute=True):
        response = sign_in(client, alice).post(
            reverse("projects:measure_edit", args=[measure.project_id, measure.pk]),
            {**MEASURE_POST, "name": "Falls rate", "chart": "run"})
    assert response.status_code == 302
    measure.refresh_from_db()
    assert measure.name == "Falls rate" and measure.chart == "run"
    # Eager Celery rebuilt the snapshot on commit.
    assert MeasureSnapshot.objects.get(measure=measure).n_points == 3


def test_edit_cannot_switch_a_measure_with_values_to_a_ratio_chart(client, measure, alice):
    _points(measure, [1, 2, 3])
    response = sign_in(client, alice).post(
        reverse("projects:measure_edit", args=[measure.project_id, measure.pk]),
        {**MEASURE_POST, "chart": "p"})
    assert response.status_code == 200
    assert b"already has data" in response.content
    measure.refresh_from_db()
    assert measure.chart == "xmr"


def test_remove_measure_after_confirmation(client, measure, alice):
    url = reverse("projects:measure_remove", args=[measure.project_id, measure.pk])
    assert b"Are you sure" in sign_in(client, alice).get(url).content
    assert client.post(url).status_code == 302
    assert not Measure.objects.filter(pk=measure.pk).exists()


# ---- measure page ------------------------------------------------------------------------


def test_chart_page_has_json_figure_icons_reading_and_table(client, measure, alice):
    values = [8.2, 7.9, 8.4, 8.0, 7.7, 8.3, 8.1, 7.8, 8.2, 8.0, 7.9, 8.1,
              5.6, 5.4, 5.8, 5.5, 5.3, 5.7, 5.5, 5.4, 5.6, 5.2, 5.5, 5.6]
    pts = _points(measure, values)
    pts[12].annotation = "Falls huddle introduced"
    pts[12].save()
    response = sign_in(client, alice).get(
        reverse("projects:measure_detail", args=[measure.project_id, measure.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-chart="chart-data-measure-{measure.pk}"' in html
    assert f'<script id="chart-data-measure-{measure.pk}" type="application/json">' in html
    assert "plotly/plotly.min.js" in html and "js/charts.js" in html
    assert "<script>" not in html  # CSP: no inline scripts
    assert "Special cause improvement" in html  # the reading
    assert "Special cause variation: improvement" in html  # the icon's title
    assert "Show the chart data as a table" in html
    assert "Falls huddle introduced" in html
    start = html.index(f'id="chart-data-measure-{measure.pk}"')
    blob = html[html.index(">", start) + 1: html.index("</script>", start)]
    figure = json.loads(blob)
    assert figure["data"] and figure["layout"]


def test_p_chart_page_shows_percentages(client, project, alice):
    measure = MeasureFactory(project=project, chart="p", direction="increase", unit_label="")
    for d in _months(14):
        DataPointFactory(measure=measure, period=d, value=None, numerator=40, denominator=50)
    response = sign_in(client, alice).get(
        reverse("projects:measure_detail", args=[project.pk, measure.pk]))
    assert response.status_code == 200
    assert "80%" in response.content.decode()


def test_empty_measure_page_points_to_data_entry(client, measure, alice):
    response = sign_in(client, alice).get(
        reverse("projects:measure_detail", args=[measure.project_id, measure.pk]))
    assert b"There is no data for this measure yet" in response.content
    assert b"data-chart" not in response.content


def test_trial_limits_are_flagged_under_12_points(client, measure, alice):
    _points(measure, [1, 2, 3, 2, 1])
    response = sign_in(client, alice).get(
        reverse("projects:measure_detail", args=[measure.project_id, measure.pk]))
    assert b"trial limits" in response.content


# ---- data grid -------------------------------------------------------------------------


def _grid(rows, *, total=None, base_version=0):
    """The grid's POST. `base_version` is the measure's data_version the page was opened
    at (0: before any write through the services, as factory-made points are)."""
    data = {"rows-TOTAL_FORMS": str(total or len(rows)), "rows-INITIAL_FORMS": "0",
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "2000", "save": "1",
            "base_version": str(base_version)}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if key in ("rebaseline", "DELETE"):
                if value:
                    data[f"rows-{i}-{key}"] = "on"
            else:
                data[f"rows-{i}-{key}"] = "" if value is None else str(value)
    return data


def test_grid_shows_existing_points(client, measure, alice):
    _points(measure, [3, 4])
    page = sign_in(client, alice).get(
        reverse("projects:measure_data", args=[measure.project_id, measure.pk]))
    assert b'value="2024-01-01"' in page.content and b'value="2024-02-01"' in page.content
    assert b'type="date"' in page.content


def test_grid_adds_edits_and_deletes_in_one_save(client, measure, alice, on_commit):
    a, b, c = _points(measure, [3, 4, 5])
    data = _grid([
        {"id": a.pk, "period": "2024-01-01", "value": "30"},
        {"id": b.pk, "period": "2024-02-01", "value": "4", "DELETE": True},
        {"id": c.pk, "period": "2024-03-01", "value": "5", "rebaseline": True,
         "annotation": "New process"},
        {"period": "2024-04-01", "value": "6"},
        {},  # a blank extra row is ignored
    ])
    with on_commit(execute=True):
        response = sign_in(client, alice).post(
            reverse("projects:measure_data", args=[measure.project_id, measure.pk]), data)
    assert response.status_code == 302
    assert _snap(measure) == [
        (dt.date(2024, 1, 1), 30.0, None, None, "", False),
        (dt.date(2024, 3, 1), 5.0, None, None, "New process", True),
        (dt.date(2024, 4, 1), 6.0, None, None, "", False),
    ]
    assert MeasureSnapshot.objects.get(measure=measure).n_points == 3


def test_grid_can_move_a_point_to_another_period_and_swap_two(client, measure, alice):
    a, b = _points(measure, [3, 4])
    data = _grid([{"id": a.pk, "period": "2024-02-01", "value": "3"},
                  {"id": b.pk, "period": "2024-01-01", "value": "4"}])
    response = sign_in(client, alice).post(
        reverse("projects:measure_data", args=[measure.project_id, measure.pk]), data)
    assert response.status_code == 302
    assert dict(measure.points.values_list("period", "value")) == {
        dt.date(2024, 2, 1): 3, dt.date(2024, 1, 1): 4}


def test_grid_errors_are_listed_by_row_and_nothing_is_saved(client, measure, alice):
    a, b = _points(measure, [3, 4])
    before = _snap(measure)
    data = _grid([
        {"id": a.pk, "period": "2024-01-01", "value": "99"},
        {"id": b.pk, "period": "2024-02-01", "value": "x"},
        {"period": "2024-01-01", "value": "5"},
        {"period": "2024-05-15", "value": "5"},
    ])
    response = sign_in(client, alice).post(
        reverse("projects:measure_data", args=[measure.project_id, measure.pk]), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html and "Nothing has been saved" in html
    assert 'href="#id_rows-1-value"' in html
    assert "Row 3, column ‘period’" in html and "appears more than once" in html
    assert "Row 4, column ‘period’" in html
    assert _snap(measure) == before


def test_grid_add_rows_button_adds_blank_rows_without_saving(client, measure, alice):
    data = _grid([{"period": "2024-01-01", "value": "5"}])
    data.pop("save")
    data["add_rows"] = "1"
    response = sign_in(client, alice).post(
        reverse("projects:measure_data", args=[measure.project_id, measure.pk]), data)
    assert response.status_code == 200
    assert b'name="rows-5-period"' in response.content
    assert b'value="2024-01-01"' in response.content
    assert not measure.points.exists()


def test_grid_for_p_chart_uses_numerator_and_denominator(client, project, alice):
    measure = MeasureFactory(project=project, chart="p", direction="increase")
    url = reverse("projects:measure_data", args=[project.pk, measure.pk])
    page = sign_in(client, alice).get(url)
    assert b"rows-0-numerator" in page.content and b"rows-0-value" not in page.content
    response = client.post(url, _grid([{"period": "2024-01-01", "numerator": 9,
                                        "denominator": 8}]))
    assert "cannot be larger than the denominator" in response.content.decode()
    assert not measure.points.exists()


def test_grid_refuses_rows_deleted_meanwhile(client, measure, alice):
    (a,) = _points(measure, [3])
    data = _grid([{"id": a.pk, "period": "2024-01-01", "value": "4"}])
    a.delete()
    response = sign_in(client, alice).post(
        reverse("projects:measure_data", args=[measure.project_id, measure.pk]), data)
    assert b"Reload the page" in response.content
    assert not measure.points.exists()


# ---- upload page ----------------------------------------------------------------------


def test_upload_page_saves_a_good_file_and_redirects_to_the_chart(
    client, measure, alice, on_commit
):
    text = "period,value,annotation,rebaseline\n" + "".join(
        f"{d},{8 if i < 12 else 5.5},,no\n" for i, d in enumerate(_months(24)))
    url = reverse("projects:measure_upload", args=[measure.project_id, measure.pk])
    with on_commit(execute=True):
        response = sign_in(client, alice).post(
            url, {"file": SimpleUploadedFile("falls.csv", text.encode())})
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:measure_detail",
                                           args=[measure.project_id, measure.pk])
    assert measure.points.count() == 24
    measure.refresh_from_db()
    assert measure.dirty_since is None  # rebuilt on commit (eager Celery)
    assert MeasureSnapshot.objects.get(measure=measure).n_points == 24
    assert b"24 points added" in client.get(response["Location"]).content


def test_upload_page_lists_row_errors_in_an_error_summary(client, measure, alice):
    _points(measure, [1])
    before = _snap(measure)
    url = reverse("projects:measure_upload", args=[measure.project_id, measure.pk])
    text = "period,value\n2024-02-01,2\n2024-03-07,3\n2024-04-01,abc\n"
    response = sign_in(client, alice).post(
        url, {"file": SimpleUploadedFile("d.csv", text.encode())})
    html = response.content.decode()
    assert response.status_code == 200
    assert "nhsuk-error-summary" in html and "2 errors" in html
    assert "Row 3, column ‘period’" in html and "Row 4, column ‘value’" in html
    assert _snap(measure) == before


def test_upload_without_a_file_asks_for_one(client, measure, alice):
    url = reverse("projects:measure_upload", args=[measure.project_id, measure.pk])
    response = sign_in(client, alice).post(url, {})
    assert b"Choose a CSV or Excel file to upload" in response.content


def test_templates_download_for_any_viewer(client, measure, bob):
    _points(measure, [1.5])
    for fmt, ctype in (("csv", "text/csv"), ("xlsx", "spreadsheetml")):
        response = sign_in(client, bob).get(
            reverse("projects:measure_template", args=[measure.project_id, measure.pk, fmt]))
        assert response.status_code == 200
        assert ctype in response["Content-Type"]
        assert "attachment" in response["Content-Disposition"]
    bad = client.get(reverse("projects:measure_template",
                             args=[measure.project_id, measure.pk, "pdf"]))
    assert bad.status_code == 404


def test_template_then_upload_user_flow(client, project, alice):
    """The quick path: add a measure, download the template, fill it, upload, see the chart."""
    sign_in(client, alice)
    client.post(reverse("projects:measure_create", args=[project.pk]), MEASURE_POST)
    measure = Measure.objects.get()
    template = client.get(reverse("projects:measure_template",
                                  args=[project.pk, measure.pk, "csv"])).content
    text = template.decode("utf-8-sig") + "".join(
        f"{d},{8 - i * 0.1:.1f},,no\r\n" for i, d in enumerate(_months(24)))
    client.post(reverse("projects:measure_upload", args=[project.pk, measure.pk]),
                {"file": SimpleUploadedFile("filled.csv", text.encode())})
    page = client.get(reverse("projects:measure_detail", args=[project.pk, measure.pk]))
    assert b"data-chart" in page.content and measure.points.count() == 24


# ---- services (direct) ----------------------------------------------------------------


def test_services_refuse_readers(measure, bob):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.data_points_merge(measure=measure, rows=[{"period": "2024-01-01",
                                                           "value": 1}], by=bob)
    assert not measure.points.exists()


def test_mark_dirty_runs_inside_the_write(measure, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.data_points_merge(measure=measure, rows=[{"period": "2024-01-01",
                                                           "value": 1}], by=alice)
    measure.refresh_from_db()
    assert measure.dirty_since is not None and measure.dirty_since <= timezone.now()
    assert len(callbacks) == 1


@pytest.mark.parametrize("chart", ["run", "xmr", "p", "u", "c"])
def test_every_chart_type_draws_with_a_rebaseline(client, project, alice, chart):
    measure = MeasureFactory(project=project, chart=chart, direction="decrease", target=3)
    for i, d in enumerate(_months(15)):
        if chart in ("p", "u"):
            DataPointFactory(measure=measure, period=d, value=None, numerator=3 + i % 4,
                             denominator=20, rebaseline=(i == 8))
        else:
            DataPointFactory(measure=measure, period=d, value=3 + i % 4, rebaseline=(i == 8))
    response = sign_in(client, alice).get(
        reverse("projects:measure_detail", args=[project.pk, measure.pk]))
    assert response.status_code == 200
    assert b"data-chart" in response.content and b"New limits from here" in response.content
