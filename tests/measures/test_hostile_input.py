"""Hostile input on the measurement side: formula cells in exports, zip bombs dressed as
workbooks, and markup in the text that reaches a chart."""

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from measures import charts, imports, services
from measures.models import DataPoint
from reports import spc
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

FORMULAS = ['=HYPERLINK("http://evil.example/x","x")', "=1+1", "+SUM(1,2)", "@SUM(1)",
            "-2+3"]


@pytest.fixture
def measure(alice, trust_a):
    return MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice), chart="xmr",
                          frequency="monthly")


@pytest.fixture
def noted(measure):
    for i, note in enumerate(FORMULAS):
        DataPointFactory(measure=measure, period=dt.date(2026, i + 1, 1), value=i - 2,
                         annotation=note)
    return measure


def test_csv_export_keeps_formula_looking_notes_as_text(noted):
    rows = list(csv.reader(io.StringIO(imports.template_csv(noted).decode("utf-8-sig"))))
    notes = [row[2] for row in rows[1:]]
    assert notes == ["'" + note for note in FORMULAS]
    assert [row[1] for row in rows[1:]] == ["-2", "-1", "0", "1", "2"]  # numbers untouched


def test_xlsx_export_has_no_formula_cells(noted):
    sheet = load_workbook(io.BytesIO(imports.template_xlsx(noted))).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert [row[2].value for row in sheet.iter_rows(min_row=2)] == FORMULAS


def test_exports_upload_again_unchanged(noted, alice):
    before = sorted(noted.points.values_list("period", "value", "annotation"))
    for name, data in (("data.csv", imports.template_csv(noted)),
                       ("data.xlsx", imports.template_xlsx(noted))):
        parsed = imports.parse_upload(noted, SimpleUploadedFile(name, data))
        assert parsed.errors == []
        services.data_points_merge(measure=noted, rows=parsed.rows, by=alice)
        assert sorted(noted.points.values_list("period", "value", "annotation")) == before


def _bomb() -> bytes:
    """A real workbook whose sheet unpacks to ~12 MB of XML from a few kilobytes."""
    wb = Workbook()
    wb.active.append(["period", "value"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b"<!--" + b" " * 12_000_000
                                    + b"--></worksheet>")
            dst.writestr(info, data)
    return out.getvalue()


def test_an_xlsx_that_inflates_far_past_its_data_is_refused_before_parsing(measure):
    bomb = _bomb()
    assert len(bomb) < 100_000
    parsed = imports.parse_upload(measure, SimpleUploadedFile("data.xlsx", bomb))
    assert parsed.rows == []
    assert "unpacks to more than" in str(parsed.errors[0])
    assert not DataPoint.objects.filter(measure=measure).exists()


def test_markup_in_a_unit_label_is_text_on_the_chart():
    result = spc.xmr([3, 4, 5, 4, 3])
    unit = '<a href="http://evil.example">x</a><b style="color:red">'
    fig = charts.spc_figure(result, title="Falls", unit=unit)
    values = next(t for t in fig.data if t.name == "Value")
    assert all("<a " not in text and "<b " not in text for text in values.text)
    assert "&lt;a href" in values.text[0]
    assert "<a " not in fig.layout.yaxis.title.text
