"""QI capability returns and NHS IMPACT self-assessments: every write, and CSV/XLSX uploads.

A trust's QI lead or administrator records, per calendar quarter, its staff headcount, the
staff holding each level of QI training (`CapabilityLevel`, edited by the centre) and the
leadership-programme completions, in a form or as a CSV/XLSX file; and, yearly, the board's
NHS IMPACT self-assessment. Who may do this is decided in organisations/access.py
("QI capability"); each function here checks it.

An upload is all or nothing: every row is checked first and any error (with its row number)
saves nothing. After a change commits, `capability_changed` is sent; the national figures
(reports, a layer above) listen and rebuild.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from core.screening import NO_PATIENT_DATA
from organisations import access
from organisations.models import (
    DEFAULT_CAPABILITY_LEVELS,
    IMPACT_COMPONENTS,
    CapabilityCount,
    CapabilityLevel,
    CapabilityReturn,
    ImpactAssessment,
)

# Sent (after commit) with trust_id when a trust's capability or IMPACT data changed, and
# with trust_id=None when the level list changed.
capability_changed = Signal()

MAX_UPLOAD_BYTES = 2 * 2**20
MAX_ROWS = 400
QUARTER_RE = re.compile(r"^(\d{4})\s*[- ]?\s*Q([1-4])$", re.IGNORECASE)
FIXED_COLUMNS = ("quarter", "headcount", "leadership_completions")


def _changed(trust_id):
    transaction.on_commit(lambda: capability_changed.send(sender=CapabilityReturn,
                                                          trust_id=trust_id))


# ---- levels -----------------------------------------------------------------------------


def levels(*, include_retired: bool = False) -> list[CapabilityLevel]:
    """The centre's levels in order; the defaults are made the first time they are asked."""
    found = list(CapabilityLevel.objects.all())
    if not found:
        with transaction.atomic():
            for i, name in enumerate(DEFAULT_CAPABILITY_LEVELS):
                CapabilityLevel.objects.get_or_create(name=name, defaults={"order": i})
        found = list(CapabilityLevel.objects.all())
    return found if include_retired else [lv for lv in found if lv.active]


def level_column(level) -> str:
    return level.name.lower().replace(" / ", "_").replace("/", "_").replace(" ", "_")


def level_save(user, *, name: str, order: int, active: bool = True, level=None):
    """Add a level (level None) or rename, reorder, retire or restore one. Centre only."""
    if not access.may_edit_capability_levels(user):
        raise PermissionDenied
    level = level or CapabilityLevel()
    level.name, level.order, level.active = name.strip(), order, active
    with transaction.atomic():
        level.full_clean()
        level.save()
        _changed(None)
    return level


# ---- quarters -----------------------------------------------------------------------------


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarter_label(day: dt.date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def parse_quarter(raw) -> dt.date | None:
    """"2025 Q2", "2025-Q2" or a date inside the quarter (a cell's date, or YYYY-MM-DD)."""
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return quarter_start(raw)
    text = str(raw or "").strip()
    match = QUARTER_RE.match(text)
    if match:
        return dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return quarter_start(dt.datetime.strptime(text.split(" ")[0], fmt).date())
        except ValueError:
            continue
    return None


def recent_quarters(n: int, today: dt.date | None = None) -> list[dt.date]:
    """The last `n` quarters, oldest first, ending with the current one."""
    q = quarter_start(today or timezone.localdate())
    out = [q]
    for _ in range(n - 1):
        q = quarter_start(q - dt.timedelta(days=1))
        out.append(q)
    return out[::-1]


# ---- a return ---------------------------------------------------------------------------


def return_save(user, trust, *, quarter: dt.date, headcount: int,
                leadership_completions: int, trained: dict[int, int]) -> CapabilityReturn:
    """Record (or replace) the trust's return for `quarter`. `trained` maps level id to
    staff holding that level. One transaction: the return and all its counts, or nothing."""
    access.check_capability(user, trust, record=True)
    with transaction.atomic():
        row = _store(user, trust, quarter, headcount, leadership_completions, trained)
        _changed(trust.pk)
    return row


def _store(user, trust, quarter, headcount, leadership, trained) -> CapabilityReturn:
    row, _ = CapabilityReturn.objects.update_or_create(
        trust=trust, quarter=quarter,
        defaults={"headcount": headcount, "leadership_completions": leadership,
                  "recorded_by": user, "recorded_at": timezone.now()})
    row.full_clean()
    row.counts.exclude(level_id__in=list(trained)).delete()
    for level_id, n in trained.items():
        CapabilityCount.objects.update_or_create(capability_return=row, level_id=level_id,
                                                 defaults={"trained": n})
    return row


# ---- uploads ----------------------------------------------------------------------------


@dataclass
class RowError:
    row: int | None
    column: str | None
    message: str

    def __str__(self):
        where = f"Row {self.row}" if self.row else "The file"
        if self.column:
            where += f", column ‘{self.column}’"
        return f"{where}: {self.message}"


@dataclass
class Upload:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def upload_columns() -> list[str]:
    return [*FIXED_COLUMNS, *(level_column(lv) for lv in levels())]


COMMENT = "#"


def template_csv() -> bytes:
    """The columns, and one example line that the upload ignores (it starts with #): real
    looking rows would overwrite a trust's returns if the file were sent back unchanged."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = upload_columns()
    writer.writerow(columns)
    example = ", ".join(f"{c} {v}" for c, v in zip(
        columns, ["2025 Q1", 5200, 4, *([0] * len(levels()))], strict=True))
    writer.writerow([f"{COMMENT} Example, ignored when uploaded: one row per quarter, "
                     f"such as {example}. Delete this line."])
    return buffer.getvalue().encode("utf-8-sig")


def _table(name: str, data: bytes) -> list[list]:
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if sum(i.file_size for i in archive.infolist()) > 20 * MAX_UPLOAD_BYTES:
                    raise ValueError("too large")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
            raise ValueError("The file is not an Excel workbook (.xlsx) that we can read. "
                             "Save it again as .xlsx or CSV") from exc
        try:
            return [list(r) for r in book.worksheets[0].iter_rows(
                values_only=True, max_row=MAX_ROWS + 2, max_col=40)]
        finally:
            book.close()
    if data[:4] == b"PK\x03\x04" or b"\x00" in data[:1024]:
        raise ValueError("The file is not a CSV file. Save it as CSV or .xlsx")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValueError("The file could not be read as CSV") from exc


def _count(raw) -> tuple[int | None, str | None]:
    if raw is None or str(raw).strip() == "":
        return None, "is empty: enter a whole number (0 if none)"
    if isinstance(raw, bool):
        return None, "must be a whole number"
    text = str(raw).strip().replace(",", "")
    try:
        num = float(text)
    except ValueError:
        return None, "must be a whole number"
    if num != int(num) or num < 0:
        return None, "must be a whole number, 0 or more"
    return int(num), None


def parse_upload(upload) -> Upload:
    """Read and check every row of an uploaded file; nothing is saved here."""
    result = Upload()
    name = (getattr(upload, "name", "") or "").lower()
    if not name.endswith((".csv", ".xlsx")):
        result.errors.append(RowError(None, None, "The file must be a CSV or an Excel "
                                                  "workbook (.xlsx)"))
        return result
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        result.errors.append(RowError(None, None, "The file must be smaller than 2 MB"))
        return result
    try:
        table = _table(name, data)
    except ValueError as exc:
        result.errors.append(RowError(None, None, str(exc)))
        return result
    table = [r for r in table if any(str(c or "").strip() for c in r)
             and not str(r[0] or "").strip().startswith(COMMENT)]  # the template's example
    if not table:
        result.errors.append(RowError(None, None, "The file is empty"))
        return result
    if len(table) == 1:
        result.errors.append(RowError(None, None, "The file has no quarters in it: add one "
                                                  "row per quarter under the headings"))
        return result
    header = [str(c or "").strip().lower().replace(" ", "_") for c in table[0]]
    wanted = upload_columns()
    missing = [c for c in wanted if c not in header]
    if missing:
        result.errors.append(RowError(None, None, "The file is missing the column(s) "
                                      + ", ".join(f"‘{c}’" for c in missing)
                                      + ". Download the template and keep its first row"))
        return result
    if len(table) - 1 > MAX_ROWS:
        result.errors.append(RowError(None, None, f"The file has more than {MAX_ROWS} rows"))
        return result
    level_ids = {level_column(lv): lv.pk for lv in levels()}
    seen: dict[dt.date, int] = {}
    today = quarter_start(timezone.localdate())
    for line, cells in enumerate(table[1:], start=2):
        def cell(col, cells=cells):
            i = header.index(col)
            return cells[i] if i < len(cells) else None

        quarter = parse_quarter(cell("quarter"))
        if quarter is None:
            result.errors.append(RowError(line, "quarter", "must be a quarter such as "
                                                           "2025 Q1, or a date in it"))
        elif quarter > today:
            result.errors.append(RowError(line, "quarter", "is in the future"))
        elif quarter in seen:
            result.errors.append(RowError(line, "quarter", f"repeats row {seen[quarter]}"))
        else:
            seen[quarter] = line
        row = {"row": line, "quarter": quarter, "trained": {}}
        for col in wanted[1:]:
            n, err = _count(cell(col))
            if err:
                result.errors.append(RowError(line, col, err))
            elif col == "headcount" and n == 0:
                result.errors.append(RowError(line, col, "must be more than 0"))
            elif col in level_ids:
                row["trained"][level_ids[col]] = n
            else:
                row[col] = n
        if (row.get("headcount") and row["trained"]
                and sum(row["trained"].values()) > row["headcount"] * 2):
            result.errors.append(RowError(line, None, "the staff trained add up to more than "
                                                      "twice the headcount: check the row"))
        result.rows.append(row)
    return result


def upload_save(user, trust, upload) -> tuple[Upload, int]:
    """Check the file, then save every row in one transaction, or none if any row is wrong.
    Returns (the parsed file with its errors, rows saved)."""
    access.check_capability(user, trust, record=True)
    parsed = parse_upload(upload)
    if parsed.errors:
        return parsed, 0
    with transaction.atomic():
        for row in parsed.rows:
            _store(user, trust, row["quarter"], row["headcount"],
                   row["leadership_completions"], row["trained"])
        _changed(trust.pk)
    return parsed, len(parsed.rows)


# ---- NHS IMPACT -------------------------------------------------------------------------


def impact_save(user, trust, *, year: int, scores: dict[str, int],
                evidence: dict[str, str]) -> ImpactAssessment:
    """Record (or replace) the trust board's NHS IMPACT self-assessment for `year`. Evidence
    is screened for patient data like every free text."""
    access.check_capability(user, trust, record=True)
    values = {"recorded_by": user, "recorded_at": timezone.now()}
    errors = {}
    for key, _label in IMPACT_COMPONENTS:
        values[f"{key}_score"] = scores[key]
        text = (evidence.get(key) or "").strip()
        for validator in NO_PATIENT_DATA:
            try:
                validator(text)
            except ValidationError as exc:
                errors[f"{key}_evidence"] = exc.messages
        values[f"{key}_evidence"] = text
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, _ = ImpactAssessment.objects.update_or_create(trust=trust, year=year,
                                                           defaults=values)
        row.full_clean()
        _changed(trust.pk)
    return row


# ---- reads ------------------------------------------------------------------------------


def trust_returns(trust) -> list[CapabilityReturn]:
    """The trust's returns, oldest first, with their counts (two queries)."""
    return list(CapabilityReturn.objects.filter(trust=trust).order_by("quarter")
                .prefetch_related("counts"))


def trust_assessments(trust) -> list[ImpactAssessment]:
    return list(ImpactAssessment.objects.filter(trust=trust).order_by("year"))


def per_1000(count: int, headcount: int) -> float | None:
    """Staff per 1,000 headcount, to one decimal place (None without a headcount)."""
    if not headcount:
        return None
    return round(count * 1000 / headcount, 1)
