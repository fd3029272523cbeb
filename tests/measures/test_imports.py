"""The data rules (measures.imports.validate_rows) and file parsing, shared by grid, upload
and API. Every upload rejection also asserts the database is unchanged."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from measures import imports, services
from measures.imports import RowsInvalid
from measures.models import DataPoint, Measure
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice)


@pytest.fixture
def xmr(project):
    return MeasureFactory(project=project, chart=Measure.Chart.XMR)


@pytest.fixture
def pchart(project):
    return MeasureFactory(project=project, chart=Measure.Chart.P,
                          direction=Measure.Direction.INCREASE)


def _csv(text, name="data.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _xlsx(rows, name="data.xlsx"):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile(name, buf.getvalue())


def _snapshot(measure):
    return list(DataPoint.objects.filter(measure=measure).order_by("period").values_list(
        "period", "value", "numerator", "denominator", "annotation", "rebaseline"))


def _upload(measure, upload, by):
    """Parse and save the way the upload page does; return the errors (or [])."""
    parsed = imports.parse_upload(measure, upload)
    if parsed.errors:
        return parsed.errors
    try:
        # As the upload page does: based on the data as the page showed it.
        measure.refresh_from_db()
        services.data_points_merge(measure=measure, rows=parsed.rows, by=by,
                                   base_version=measure.data_version)
    except RowsInvalid as exc:
        return exc.errors
    return []


# ---- the rules -------------------------------------------------------------------------


def test_valid_monthly_rows_clean(xmr):
    clean, errors = imports.validate_rows(xmr, [
        {"row": 2, "period": "2025-01-01", "value": "8.1", "annotation": "", "rebaseline": ""},
        {"row": 3, "period": "01/02/2025", "value": 7, "rebaseline": "yes"},
    ])
    assert errors == []
    assert [c.period for c in clean] == [dt.date(2025, 1, 1), dt.date(2025, 2, 1)]
    assert clean[1].rebaseline is True and clean[0].value == 8.1


@pytest.mark.parametrize("freq,period,ok", [
    ("monthly", "2025-03-01", True),
    ("monthly", "2025-03-02", False),
    ("quarterly", "2025-04-01", True),
    ("quarterly", "2025-05-01", False),
    ("weekly", "2025-03-03", True),   # a Monday, and the measure has no points yet
    ("weekly", "2025-03-04", False),
    ("daily", "2025-03-04", True),
])
def test_period_must_start_the_frequency(project, freq, period, ok):
    measure = MeasureFactory(project=project, frequency=freq)
    _, errors = imports.validate_rows(measure, [{"period": period, "value": 1}])
    assert (errors == []) is ok
    if not ok:
        assert errors[0].column == "period"


def test_weekly_points_follow_the_weekday_of_existing_points(project):
    measure = MeasureFactory(project=project, frequency="weekly")
    DataPointFactory(measure=measure, period=dt.date(2025, 3, 4))  # a Tuesday
    weekday = imports.reference_weekday(measure)
    _, ok = imports.validate_rows(measure, [{"period": "2025-03-11", "value": 1}],
                                  weekday=weekday)
    _, bad = imports.validate_rows(measure, [{"period": "2025-03-10", "value": 1}],
                                   weekday=weekday)
    assert ok == [] and "Tuesday" in bad[0].message


@pytest.mark.parametrize("chart,row,column,fragment", [
    ("xmr", {"period": "2025-01-01", "value": "abc"}, "value", "must be a number"),
    ("xmr", {"period": "2025-01-01", "value": "nan"}, "value", "must be a number"),
    ("xmr", {"period": "2025-01-01", "value": ""}, "value", "Enter the value"),
    ("xmr", {"period": "1 Jan 2025", "value": 1}, "period", "is not a date"),
    ("xmr", {"period": "", "value": 1}, "period", "Enter the period"),
    ("c", {"period": "2025-01-01", "value": -1}, "value", "cannot be negative"),
    ("c", {"period": "2025-01-01", "value": 1.5}, "value", "whole number"),
    ("p", {"period": "2025-01-01", "numerator": 5, "denominator": 4}, "numerator",
     "larger than the denominator"),
    ("p", {"period": "2025-01-01", "numerator": 0, "denominator": 0}, "denominator",
     "more than 0"),
    ("u", {"period": "2025-01-01", "numerator": 3, "denominator": ""}, "denominator",
     "Enter the denominator"),
    ("u", {"period": "2025-01-01", "numerator": -3, "denominator": 2}, "numerator",
     "cannot be negative"),
    ("u", {"period": "2025-01-01", "numerator": 3, "denominator": -2}, "denominator",
     "cannot be negative"),
    ("xmr", {"period": "2025-01-01", "value": 1, "rebaseline": "maybe"}, "rebaseline",
     "yes or no"),
    ("xmr", {"period": "2025-01-01", "value": 1, "annotation": "x" * 201}, "annotation",
     "200 characters"),
])
def test_each_rule_names_row_and_column(project, chart, row, column, fragment):
    measure = MeasureFactory(project=project, chart=chart)
    _, errors = imports.validate_rows(measure, [{"row": 7, **row}])
    assert len(errors) == 1
    assert errors[0].row == 7 and errors[0].column == column
    assert fragment in errors[0].message
    assert str(errors[0]).startswith("Row 7, column")


def test_duplicate_period_in_rows_is_rejected_naming_the_first(xmr):
    _, errors = imports.validate_rows(xmr, [
        {"row": 2, "period": "2025-01-01", "value": 1},
        {"row": 3, "period": "2025-01-01", "value": 2},
    ])
    assert errors[0].row == 3 and "also row 2" in errors[0].message


# ---- uploads: success -----------------------------------------------------------------


def test_csv_upload_saves_two_years_and_marks_dirty(xmr, alice):
    lines = ["period,value,annotation,rebaseline"]
    lines += [f"{2024 + i // 12}-{i % 12 + 1:02d}-01,{8 - i * 0.1:.1f},," + ("yes" if i == 12
              else "no") for i in range(24)]
    errors = _upload(xmr, _csv("\n".join(lines)), alice)
    assert errors == []
    assert xmr.points.count() == 24
    assert xmr.points.get(period=dt.date(2025, 1, 1)).rebaseline is True


def test_upload_merges_updates_existing_periods_and_keeps_others(xmr, alice):
    DataPointFactory(measure=xmr, period=dt.date(2024, 1, 1), value=1)
    DataPointFactory(measure=xmr, period=dt.date(2024, 2, 1), value=2)
    errors = _upload(xmr, _csv("period,value\n2024-02-01,20\n2024-03-01,3\n"), alice)
    assert errors == []
    assert dict(xmr.points.values_list("period", "value")) == {
        dt.date(2024, 1, 1): 1, dt.date(2024, 2, 1): 20, dt.date(2024, 3, 1): 3}


def test_xlsx_upload_with_real_dates_and_numbers(pchart, alice):
    upload = _xlsx([["period", "numerator", "denominator", "annotation", "rebaseline"],
                    [dt.datetime(2025, 1, 1), 40, 50, "Sepsis trolley", "no"],
                    [dt.datetime(2025, 2, 1), 45, 50, None, None]])
    assert _upload(pchart, upload, alice) == []
    assert pchart.points.count() == 2


def test_header_case_spaces_and_blank_rows_are_tolerated(xmr, alice):
    text = "\ufeffPeriod , Value\n\n2025-01-01,3\n,\n2025-02-01,4\n"
    assert _upload(xmr, _csv(text), alice) == []
    assert xmr.points.count() == 2


def test_templates_round_trip(xmr, pchart, alice):
    DataPointFactory(measure=xmr, period=dt.date(2024, 1, 1), value=2.5, annotation="Start")
    assert _upload(xmr, _csv(imports.template_csv(xmr).decode("utf-8-sig")), alice) == []
    wb = load_workbook(io.BytesIO(imports.template_xlsx(pchart)))
    assert [c.value for c in wb.active[1]] == imports.columns_for(pchart)
    assert imports.template_csv(xmr).decode("utf-8-sig").splitlines()[1] == \
        "2024-01-01,2.5,Start,no"


# ---- uploads: rejections leave the database unchanged ------------------------------------


@pytest.mark.parametrize("content,fragment", [
    ("period,value\n2025-01-01,1\n2025-01-01,2\n", "appears more than once"),
    ("period,value\n2025-01-15,1\n", "1st of the month"),
    ("period,value\n2025-01-01,abc\n", "must be a number"),
    ("period,value\nJanuary,1\n", "is not a date"),
    ("period,annotation\n2025-01-01,x\n", "missing the column ‘value’"),
    ("period,value\n", "no rows of data"),
    ("", "empty"),
    ("   \n\n", "empty"),
])
def test_csv_rejections_save_nothing(xmr, alice, content, fragment):
    DataPointFactory(measure=xmr, period=dt.date(2024, 1, 1), value=1)
    before = _snapshot(xmr)
    errors = _upload(xmr, _csv(content), alice)
    assert errors and any(fragment in str(e) for e in errors), errors
    assert _snapshot(xmr) == before


def test_one_bad_row_among_good_ones_saves_nothing(xmr, alice):
    before = _snapshot(xmr)
    text = "period,value\n" + "".join(f"2024-{m:02d}-01,{m}\n" for m in range(1, 12))
    text += "2024-12-01,-\n"
    errors = _upload(xmr, _csv(text), alice)
    assert [(e.row, e.column) for e in errors] == [(13, "value")]
    assert _snapshot(xmr) == before


@pytest.mark.parametrize("rows,fragment", [
    ([["period", "numerator", "denominator"], ["2025-01-01", 6, 5]], "larger than"),
    ([["period", "numerator", "denominator"], ["2025-01-01", 1, 0]], "more than 0"),
    ([["period", "numerator", "denominator"], ["2025-01-01", 1, None]], "Enter the denominator"),
    ([["period", "numerator", "denominator"], ["2025-01-01", -1, 5]], "cannot be negative"),
    ([["period", "value"], ["2025-01-01", 1]], "missing the columns ‘numerator’, ‘denominator’"),
])
def test_p_chart_rejections_save_nothing(pchart, alice, rows, fragment):
    before = _snapshot(pchart)
    errors = _upload(pchart, _xlsx(rows), alice)
    assert any(fragment in str(e) for e in errors), errors
    assert _snapshot(pchart) == before


def test_c_chart_negative_count_rejected(project, alice):
    measure = MeasureFactory(project=project, chart="c")
    errors = _upload(measure, _csv("period,value\n2025-01-01,-2\n"), alice)
    assert "cannot be negative" in str(errors[0])
    assert measure.points.count() == 0


def test_wrong_file_type_is_rejected(xmr, alice):
    errors = _upload(xmr, SimpleUploadedFile("data.pdf", b"%PDF-1.4"), alice)
    assert "CSV or an Excel" in str(errors[0])
    assert xmr.points.count() == 0


def test_xlsx_named_csv_and_garbage_xlsx_are_rejected(xmr, alice):
    real_xlsx = _xlsx([["period", "value"], ["2025-01-01", 1]]).read()
    errors = _upload(xmr, SimpleUploadedFile("data.csv", real_xlsx), alice)
    assert "not a CSV" in str(errors[0])
    errors = _upload(xmr, SimpleUploadedFile("data.xlsx", b"period,value\n2025-01-01,1\n"),
                     alice)
    assert "not an Excel workbook" in str(errors[0])
    assert xmr.points.count() == 0


def test_file_over_5_mb_is_rejected(xmr, alice):
    big = "period,value\n" + "x" * (imports.MAX_UPLOAD_BYTES + 1)
    errors = _upload(xmr, _csv(big), alice)
    assert "smaller than 5 MB" in str(errors[0])
    assert xmr.points.count() == 0


def test_more_than_2000_rows_is_rejected(project, alice):
    measure = MeasureFactory(project=project, frequency="daily")
    start = dt.date(2015, 1, 1)
    text = "period,value\n" + "".join(
        f"{start + dt.timedelta(days=i)},1\n" for i in range(imports.MAX_ROWS + 1))
    errors = _upload(measure, _csv(text), alice)
    assert "more than 2,000 rows" in str(errors[0])
    assert measure.points.count() == 0


def test_2000_rows_is_allowed(project, alice):
    measure = MeasureFactory(project=project, frequency="daily")
    start = dt.date(2015, 1, 1)
    text = "period,value\n" + "".join(
        f"{start + dt.timedelta(days=i)},1\n" for i in range(imports.MAX_ROWS))
    assert _upload(measure, _csv(text), alice) == []
    assert measure.points.count() == imports.MAX_ROWS


def test_every_bad_row_is_listed(xmr, alice):
    text = "period,value\n2025-01-02,1\n2025-02-01,x\n2025-03-01,\n"
    errors = _upload(xmr, _csv(text), alice)
    assert [(e.row, e.column) for e in errors] == [(2, "period"), (3, "value"), (4, "value")]
