"""The one CSV/XLSX writer every download uses (project list, measures matrix, a measure's
data), with the one guard against spreadsheet formulas. Imports Django only, no app.

A cell whose text starts like a formula (=, +, -, @, a tab or a carriage return) would run
in a spreadsheet (=HYPERLINK(...), =cmd|...): `neutralise` writes it with a leading
apostrophe so it stays text. Numbers and dates are left as they are (a negative number is a
number, not a formula). The uploads (measures.imports) strip that apostrophe when a file is
read back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.renderers import BaseRenderer, JSONRenderer

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(cell):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell[:1] in FORMULA_STARTS:
        return "'" + cell
    return cell


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads it as UTF-8), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence], *, sheet: str) -> bytes:
    """A one-sheet workbook, written row by row (write-only: memory stays flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(sheet[:31])
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(ws, value=_xlsx_text(name))
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    for row in rows:
        ws.append([_xlsx_cell(ws, cell) for cell in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_text(value):
    """Neutralised, without the control characters a workbook cannot hold (openpyxl raises
    IllegalCharacterError on them; CSV keeps them)."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise(value)


def _xlsx_cell(ws, value):
    value = _xlsx_text(value)
    if isinstance(value, str) and value.startswith("'"):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # never a formula, whatever openpyxl guesses
        return cell
    return value


def download(fmt: str, header: Sequence[str], rows: Iterable[Sequence], *, filename: str,
             sheet: str = "Data") -> HttpResponse:
    """The file as an attachment; `filename` without its extension."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == "csv":
        body = csv_bytes(header, rows)
    else:
        body = xlsx_bytes(header, rows, sheet=sheet)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


# ---- DRF: let a client ask for the file by its type (Accept: text/csv) ------------------------

class _FileRenderer(BaseRenderer):
    """The export actions answer a finished file (an HttpResponse); this renderer only
    renders their errors (a dict) when the client asked for the file's type."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(_FileRenderer):
    media_type = CONTENT_TYPES["xlsx"]
    format = "xlsx"


EXPORT_RENDERERS = [JSONRenderer, CSVRenderer, XLSXRenderer]

FORMAT_PARAMETER = OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH,
                                    enum=list(FORMATS), description="csv or xlsx")
