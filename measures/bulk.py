"""The bulk endpoint's input: a JSON object or a CSV body, parsed into the rows that
`services.data_points_bulk_ingest` checks and writes, and its `Idempotency-Key`.

JSON: ``{"points": [{"period": "2026-01-01", "value": 4, "note": "..."}, ...],
"base_version": 12, "on_existing": "update"}`` (``note`` is another name for
``annotation``); a row's number is its 1-based position in ``points``.
CSV (``Content-Type: text/csv``): a header row with the template's columns (period, value or
numerator and denominator, annotation or note, rebaseline), then one row per point; a row's
number is its line in the file (the header is line 1); ``base_version`` and ``on_existing``
go in the query string.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

from measures import imports
from measures.imports import RowError, RowsInvalid
from measures.services import BULK_MAX_POINTS, ON_EXISTING

BARE_LIST = ('Send an object: {"points": [{"period": "2026-01-01", "value": 4}, ...]}, '
             "not a bare list of points.")
KEY_HEADER = "Idempotency-Key"
KEY_MAX = 200


class CSVBodyParser(BaseParser):
    """A text/csv body, handed on as text (parsed by `csv_rows`)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise ParseError("The CSV body could not be read as text: send it as UTF-8.")


class BadShape(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, field: str, message: str):
        self.detail = {"detail": message, "errors": {field: [message]}}


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = ("This Idempotency-Key was used in the last 24 hours for a different "
                      "request. Send a new key with a new request; nothing was saved.")


class IdempotencyKeyBusy(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_busy"
    default_detail = ("Another request with this Idempotency-Key is being handled. Retry in "
                      "a moment to get its answer; nothing was saved by this one.")


def _too_many() -> PayloadTooLarge:
    return PayloadTooLarge(f"Send at most {BULK_MAX_POINTS:,} points in one call; split the "
                           "rest into further calls.")


def body_of(request):
    """request.data, with an over-size body answered 413 (not a bare 400)."""
    try:
        return request.data
    except RequestDataTooBig as exc:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20
        raise PayloadTooLarge(f"The body is larger than {limit:.1f} MB. Send fewer points "
                              "per call.") from exc


def _base_version(raw):
    if raw is None or raw == "":
        return None
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise BadShape("base_version", "Send the measure's data_version you read (a whole "
                                       "number).")
    return raw


def _on_existing(raw):
    if raw is None or raw == "":
        return "update"
    if not isinstance(raw, str) or raw not in ON_EXISTING:
        raise BadShape("on_existing", "on_existing must be “update” (replace saved values, "
                                      "with base_version) or “reject” (refuse periods that "
                                      "already have a point).")
    return raw


def parse_bulk_input(request) -> tuple[list[dict], int | None, str]:
    """(rows, base_version, on_existing) from the request; 400/413 on a bad shape."""
    data = body_of(request)
    params = request.query_params
    if isinstance(data, str):
        rows = csv_rows(data)
        return rows, _base_version(params.get("base_version")), _on_existing(
            params.get("on_existing"))
    if isinstance(data, list):
        raise BadShape("points", BARE_LIST)
    if not isinstance(data, dict):
        raise BadShape("points", BARE_LIST)
    points = data.get("points")
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise BadShape("points", 'Send "points": a list of objects such as {"period": '
                                 '"2026-01-01", "value": 4}.')
    if len(points) > BULK_MAX_POINTS:
        raise _too_many()
    rows = []
    for i, point in enumerate(points, start=1):
        row = {**point, "row": i}
        if "annotation" not in row and "note" in row:
            row["annotation"] = row.pop("note")
        rows.append(row)
    _refuse_nul(rows)
    base = data.get("base_version", params.get("base_version"))
    on_existing = data.get("on_existing", params.get("on_existing"))
    return rows, _base_version(base), _on_existing(on_existing)


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (\ud800) from a JSON escape
        return False
    return True


def _refuse_nul(rows: list[dict]) -> None:
    """A NUL character or a lone surrogate cannot be stored (PostgreSQL refuses both): name
    the cell, not a 500."""
    errors = [RowError(row["row"], str(name), "Remove the NUL character (\\u0000) or "
                                             "invalid character from this cell")
              for row in rows for name, value in row.items()
              if isinstance(value, str) and not _storable(value)]
    if errors:
        raise RowsInvalid(errors)


def _header(cells) -> list[str]:
    names = [str(c).strip().lower().replace(" ", "_") for c in cells]
    return ["annotation" if n == "note" else n for n in names]


def csv_rows(text: str) -> list[dict]:
    """Rows of a CSV body, each numbered by its line; RowsInvalid for a bad file."""
    try:
        table = csv.reader(io.StringIO(text))
        header = None
        rows: list[dict] = []
        for cells in table:
            if not any(str(c).strip() for c in cells):
                continue
            if header is None:
                header = _header(cells)
                continue
            if len(rows) >= BULK_MAX_POINTS:
                raise _too_many()
            row = {"row": table.line_num}
            for name, value in zip(header, cells, strict=False):
                if name in ("period", "value", "numerator", "denominator", "annotation",
                            "rebaseline"):
                    row[name] = value
            rows.append(row)
    except csv.Error as exc:
        raise RowsInvalid([RowError(None, None, "The body could not be read as CSV")]) from exc
    if header is None:
        raise RowsInvalid([RowError(None, None, "The CSV body is empty: send a header row "
                                                "(period, value, annotation, rebaseline) "
                                                "and one row per point")])
    if "period" not in header:
        raise RowsInvalid([RowError(None, None, "The CSV is missing the column ‘period’: "
                                                "keep the template's first row as it is")])
    if not rows:
        raise RowsInvalid([RowError(None, None, "The CSV has no rows of data under its "
                                                "column names")])
    return rows


def check_required_columns(measure, rows: list[dict], is_csv: bool) -> None:
    """A CSV without the measure's value columns is one clear error, not one per row."""
    if not is_csv or not rows:
        return
    missing = [c for c in imports.required_columns(measure) if c not in rows[0]]
    if missing:
        names = ", ".join(f"‘{c}’" for c in missing)
        raise RowsInvalid([RowError(None, None, f"The CSV is missing the column"
                                                f"{'s' if len(missing) > 1 else ''} {names}")])


# ---- Idempotency-Key -------------------------------------------------------------------------


def idempotency_key(request) -> str | None:
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return None
    if not key or len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
        raise BadShape("Idempotency-Key", f"The Idempotency-Key header must be 1 to {KEY_MAX} "
                                          "printable ASCII characters, for example a UUID.")
    return key


def caller_of(request) -> str:
    """Whose key it is: the API token when the request signed in with one, else the user."""
    token = getattr(request.user, "_qi_token", None)
    return f"token:{token.pk}" if token is not None else f"user:{request.user.pk}"


def request_digest(request, data) -> str:
    """SHA-256 of what the call asks for: path, query and body (JSON in a canonical form,
    so key order and spacing do not matter)."""
    body = data if isinstance(data, str) else json.dumps(data, sort_keys=True, default=str)
    canonical = json.dumps({
        "path": request.path,
        "query": sorted(request.query_params.lists()),
        "csv": isinstance(data, str),
        "body": body,
    }, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
