"""Data points from a grid, a file or the API: parsing and the ONE copy of the rules.

Every way of entering data (the data-entry grid, CSV/XLSX upload, the API's bulk endpoint
and single-point writes) passes its rows through :func:`validate_rows`, so the rules below
hold everywhere:

- period: a date, written YYYY-MM-DD (DD/MM/YYYY is accepted too), at the start of the
  measure's period: monthly → the 1st of the month; quarterly → the 1st of January, April,
  July or October; weekly → the same weekday as the measure's existing points, or a Monday
  when it has none; daily → any date. A period may appear only once in the rows.
- run and XmR charts need a value; C charts a whole, non-negative count; P and U charts a
  numerator and a denominator, neither negative, the denominator above zero; P charts whole
  counts with the numerator no larger than the denominator.
- annotation: up to 200 characters; rebaseline: yes/no (also y/n, true/false, 1/0, blank).

Uploads MERGE into the measure's data: a period already in the database is updated from the
file; periods not in the file are left alone. Nothing is saved unless every row is valid.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.screening import screen_text

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
# An .xlsx is a zip: a small file can inflate to gigabytes of XML. 2,000 rows of a measure
# are well under 1 MB unpacked; refuse anything that unpacks past this before parsing it.
MAX_XLSX_INFLATED_BYTES = 8 * 1024 * 1024
MAX_COLUMNS = 30
# A cell that starts like a formula becomes live in a spreadsheet (=HYPERLINK(...)):
# exports write such text so that it stays text, and imports read it back unchanged.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ANNOTATION_MAX = 200
UPLOAD_EXTENSIONS = (".csv", ".xlsx")

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0", ""}


@dataclass(frozen=True)
class RowError:
    """One problem: `row` is the row number the user sees (None for the whole file)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self):
        if self.row is None:
            return self.message
        where = f"Row {self.row}"
        if self.column:
            where += f", column ‘{self.column}’"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class CleanRow:
    row: int
    period: dt.date
    value: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    annotation: str = ""
    rebaseline: bool = False

    def fields(self) -> dict:
        return {
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "annotation": self.annotation,
            "rebaseline": self.rebaseline,
        }


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class RowsInvalid(Exception):
    """Raised by the services when any row breaks a rule; nothing has been saved."""

    def __init__(self, errors: Sequence[RowError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


# ---- columns --------------------------------------------------------------------------


def columns_for(measure) -> list[str]:
    """The template's columns for a measure, in order."""
    return ["period", *_value_columns(measure), "annotation", "rebaseline"]


def required_columns(measure) -> list[str]:
    return ["period", *_value_columns(measure)]


def _value_columns(measure) -> list[str]:
    if measure.uses_ratio:
        return ["numerator", "denominator"]
    return ["value"] if measure.needs_value else []  # a T chart needs only the dates


def frequency_rule(measure, reference_weekday: int | None = None) -> str:
    """The period rule in plain English, for hints and error messages."""
    freq = measure.frequency
    if freq == "event":
        return "the date of the event, for example 2026-04-17 (one row for each event)"
    if freq == "monthly":
        return "the 1st of the month, for example 2026-04-01"
    if freq == "quarterly":
        return "the 1st of January, April, July or October, for example 2026-04-01"
    if freq == "weekly":
        day = _WEEKDAYS[reference_weekday if reference_weekday is not None else 0]
        return f"the first day of the week: a {day}, like this measure's other points"
    return "any date"


_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


# ---- cell parsing --------------------------------------------------------------------------


def _text(raw) -> str:
    if raw is None:
        return ""
    return str(raw).strip()


def parse_period(raw) -> dt.date | None:
    """A date from a cell: a date/datetime (XLSX) or YYYY-MM-DD / DD/MM/YYYY text."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = _text(raw)
    if "T" in text or " " in text:
        text = text.replace("T", " ").split(" ")[0]
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _number(raw) -> tuple[float | None, str | None]:
    """(number, error). Blank → (None, None)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if isinstance(raw, bool):
        return None, "must be a number"
    if isinstance(raw, (int, float)):
        num = float(raw)
    else:
        text = _text(raw).replace(",", "")
        try:
            num = float(text)
        except ValueError:
            return None, "must be a number"
    if not math.isfinite(num):
        return None, "must be a number"
    return num, None


def _bool(raw) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


# ---- the rules --------------------------------------------------------------------------


def period_error(measure, period: dt.date, reference_weekday: int | None) -> str | None:
    freq = measure.frequency
    if freq == "monthly" and period.day != 1:
        return f"must be {frequency_rule(measure)}"
    if freq == "quarterly" and (period.day != 1 or period.month not in (1, 4, 7, 10)):
        return f"must be {frequency_rule(measure)}"
    if freq == "weekly":
        expected = reference_weekday if reference_weekday is not None else 0
        if period.weekday() != expected:
            return f"must be {frequency_rule(measure, expected)} ({period:%Y-%m-%d} is a " \
                   f"{_WEEKDAYS[period.weekday()]})"
    return None


def reference_weekday(measure, *, exclude_ids: Iterable[int] = ()) -> int | None:
    """The weekday weekly points must fall on: that of the measure's earliest point."""
    if measure.frequency != "weekly" or measure.pk is None:
        return None
    first = (
        measure.points.exclude(pk__in=list(exclude_ids)).order_by("period")
        .values_list("period", flat=True).first()
    )
    return first.weekday() if first else None


def validate_rows(
    measure,
    rows: Sequence[Mapping],
    *,
    weekday: int | None = None,
) -> tuple[list[CleanRow], list[RowError]]:
    """Check every row against the measure; return the clean rows and every error.

    Each row is a mapping with keys from :func:`columns_for` plus ``row`` (the number shown
    to the user). Raw cells may be text or typed values (XLSX, JSON).
    """
    clean: list[CleanRow] = []
    errors: list[RowError] = []
    seen: dict[dt.date, int] = {}
    ratio = measure.uses_ratio
    chart = measure.chart
    for i, raw in enumerate(rows, start=1):
        n = raw.get("row", i)
        row_errors: list[RowError] = []

        def err(column, message, n=n, row_errors=row_errors):
            row_errors.append(RowError(n, column, message))

        period = None
        if _text(raw.get("period")) == "" and not isinstance(raw.get("period"), dt.date):
            err("period", "Enter the period as a date, for example 2026-04-01")
        else:
            period = parse_period(raw.get("period"))
            if period is None:
                err("period", f"‘{_text(raw.get('period'))}’ is not a date: write it as "
                              "YYYY-MM-DD, for example 2026-04-01")
            else:
                problem = period_error(measure, period, weekday)
                if problem:
                    err("period", f"The period {problem}")
                elif period in seen and measure.by_event:
                    err("period", f"{period:%Y-%m-%d} appears more than once (also row "
                                  f"{seen[period]}): record one event a day, and note any "
                                  "other in the annotation")
                elif period in seen:
                    err("period", f"{period:%Y-%m-%d} appears more than once (also row "
                                  f"{seen[period]}): give each period once")
                else:
                    seen[period] = n

        value = numerator = denominator = None
        if ratio:
            numerator, e = _number(raw.get("numerator"))
            if e:
                err("numerator", f"The numerator {e}")
            elif numerator is None:
                err("numerator", "Enter the numerator (the count)")
            elif numerator < 0:
                err("numerator", "The numerator cannot be negative")
            elif chart == "p" and not numerator.is_integer():
                err("numerator", "The numerator must be a whole number")
            denominator, e = _number(raw.get("denominator"))
            if e:
                err("denominator", f"The denominator {e}")
            elif denominator is None:
                err("denominator", "Enter the denominator")
            elif denominator < 0:
                err("denominator", "The denominator cannot be negative")
            elif denominator == 0:
                err("denominator", "The denominator must be more than 0")
            elif chart == "p" and not denominator.is_integer():
                err("denominator", "The denominator must be a whole number")
            elif chart == "p" and numerator is not None and numerator > denominator:
                err("numerator", "The numerator cannot be larger than the denominator")
        elif measure.needs_value:
            value, e = _number(raw.get("value"))
            if e:
                err("value", f"The value {e}")
            elif value is None:
                err("value", "Enter the number of cases since the last event" if chart == "g"
                    else "Enter the value")
            elif chart in ("c", "g") and value < 0:
                err("value", "A count cannot be negative")
            elif chart in ("c", "g") and not value.is_integer():
                err("value", "A count must be a whole number")

        annotation = _text(raw.get("annotation"))
        if annotation[:1] == "'" and annotation[1:2] in FORMULA_STARTS:
            annotation = annotation[1:]  # our own export's guard against formulas
        if len(annotation) > ANNOTATION_MAX:
            err("annotation", f"The annotation must be {ANNOTATION_MAX} characters or fewer")
        for problem in screen_text(annotation):  # the model's screen, with the row named
            err("annotation", problem)
        rebaseline = _bool(raw.get("rebaseline"))
        if rebaseline is None:
            err("rebaseline", "Rebaseline must be yes or no")

        if row_errors:
            errors.extend(row_errors)
            continue
        clean.append(CleanRow(n, period, value, numerator, denominator, annotation, rebaseline))
    return clean, errors


# ---- files ------------------------------------------------------------------------------


def _header(cells) -> list[str]:
    return [_text(c).lower().replace(" ", "_") for c in cells]


def _rows_from_table(measure, table: Iterable[Sequence], result: Parsed) -> Parsed:
    it = iter(table)
    header = None
    for cells in it:
        if any(_text(c) for c in cells):
            header = _header(cells)
            break
    if header is None:
        result.errors.append(RowError(None, None, "The file is empty"))
        return result
    missing = [c for c in required_columns(measure) if c not in header]
    if missing:
        names = ", ".join(f"‘{c}’" for c in missing)
        result.errors.append(RowError(
            None, None,
            f"The file is missing the column{'s' if len(missing) > 1 else ''} {names}. "
            "Download the template and keep its first row as it is",
        ))
        return result
    index = {name: header.index(name) for name in columns_for(measure) if name in header}
    for line, cells in enumerate(it, start=2):
        if not any(_text(c) for c in cells):
            continue
        if len(result.rows) >= MAX_ROWS:
            result.errors.append(RowError(
                None, None, f"The file has more than {MAX_ROWS:,} rows of data. "
                            "Split it into smaller files"))
            result.rows = []
            return result
        row = {"row": line}
        for name, col in index.items():
            row[name] = cells[col] if col < len(cells) else None
        result.rows.append(row)
    if not result.rows:
        result.errors.append(RowError(None, None, "The file has no rows of data under its "
                                                  "column names"))
    return result


def parse_upload(measure, upload) -> Parsed:
    """Read an uploaded CSV or XLSX file into raw rows (not yet validated)."""
    result = Parsed()
    name = (getattr(upload, "name", "") or "").lower()
    size = getattr(upload, "size", None)
    if not name.endswith(UPLOAD_EXTENSIONS):
        result.errors.append(RowError(None, None, "The file must be a CSV or an Excel "
                                                  "workbook (.xlsx)"))
        return result
    if size is not None and size > MAX_UPLOAD_BYTES:
        result.errors.append(RowError(None, None, "The file must be smaller than 5 MB"))
        return result
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        result.errors.append(RowError(None, None, "The file must be smaller than 5 MB"))
        return result
    if not data.strip():
        result.errors.append(RowError(None, None, "The file is empty"))
        return result
    if name.endswith(".xlsx"):
        return _parse_xlsx(measure, data, result)
    return _parse_csv(measure, data, result)


def _parse_csv(measure, data: bytes, result: Parsed) -> Parsed:
    if data[:4] == b"PK\x03\x04" or b"\x00" in data[:1024]:
        result.errors.append(RowError(None, None, "The file is not a CSV file. Save it as "
                                                  "CSV (comma separated values) or .xlsx"))
        return result
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover — cp1252 decodes nearly anything
        result.errors.append(RowError(None, None, "The file could not be read as text"))
        return result
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        result.errors.append(RowError(None, None, "The file could not be read as CSV"))
        return result
    return _rows_from_table(measure, table, result)


def _inflated_size(data: bytes) -> int | None:
    """What the workbook unpacks to, from the zip directory (None: not a zip we can read)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _parse_xlsx(measure, data: bytes, result: Parsed) -> Parsed:
    from openpyxl import load_workbook

    inflated = _inflated_size(data)
    if inflated is not None and inflated > MAX_XLSX_INFLATED_BYTES:
        result.errors.append(RowError(None, None, "The workbook unpacks to more than "
                                                  f"{MAX_XLSX_INFLATED_BYTES // 2**20} MB, far "
                                                  "more than its data needs. Save only the "
                                                  "data sheet, or upload it as CSV"))
        return result
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        result.errors.append(RowError(None, None, "The file is not an Excel workbook (.xlsx) "
                                                  "that we can read. Save it again as .xlsx "
                                                  "or CSV"))
        return result
    try:
        sheet = workbook.worksheets[0]
        table = sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 50, max_col=MAX_COLUMNS)
        _rows_from_table(measure, table, result)
        if sheet.max_row and sheet.max_row > MAX_ROWS + 50 and not result.errors:
            result.errors.append(RowError(None, None, f"The file has more than {MAX_ROWS:,} "
                                                      "rows of data. Split it into smaller "
                                                      "files"))
            result.rows = []
    finally:
        workbook.close()
    return result


# ---- templates --------------------------------------------------------------------------


def _example_rows(measure) -> list[list]:
    """Existing data, so a download doubles as an export to edit and upload again."""
    rows = []
    for p in measure.points.order_by("period"):
        middle = [_fmt(getattr(p, column)) for column in _value_columns(measure)]
        rows.append([p.period.isoformat(), *middle, p.annotation,
                     "yes" if p.rebaseline else "no"])
    return rows


def _fmt(v):
    if v is None:
        return ""
    return int(v) if float(v).is_integer() else v


def _csv_safe(cell):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell[:1] in FORMULA_STARTS:
        return "'" + cell
    return cell


def template_csv(measure) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns_for(measure))
    for row in _example_rows(measure):
        writer.writerow([_csv_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(measure) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(columns_for(measure))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in _example_rows(measure):
        ws.append(row)
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # openpyxl reads "=…" text as a formula: keep it text
                cell.data_type = "s"
    for col in ws.iter_cols(min_row=1, max_row=1):
        ws.column_dimensions[col[0].column_letter].width = 16
    ws.column_dimensions["A"].number_format = "@"
    notes = wb.create_sheet("How to fill this in")
    notes.append(["Column", "What to enter"])
    notes.append(["period", f"The start of the period as YYYY-MM-DD: {frequency_rule(measure)}"])
    if measure.uses_ratio:
        notes.append(["numerator", "The count (for example, patients who had the antibiotic)"])
        notes.append(["denominator", f"{measure.denominator_words.capitalize()} (must be "
                                     "more than 0)"])
    elif measure.chart == "g":
        notes.append(["value", "How many cases (for example admissions or operations) there "
                               "were since the previous event"])
    elif measure.needs_value:  # a T chart has no value: the days between events are its values
        notes.append(["value", f"The value for the period ({measure.unit_label or 'a number'})"])
    notes.append(["annotation", "Optional: what happened, up to 200 characters"])
    notes.append(["rebaseline", "yes to start new limits from this point, otherwise no"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
