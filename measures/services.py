"""Writes for measures and data points.

Every function is keyword-only, takes the actor as `by=`, asks `organisations.access`,
validates with `full_clean()` (data rows with `measures.imports.validate_rows`, the one
copy of the data rules), writes in one transaction, records history and marks the measure
dirty so its SPC snapshot is rebuilt on commit (`measure_mark_dirty`, below).

The database is the outbox: a data write sets `Measure.dirty_since` in its own transaction
and asks for a rebuild on commit. If the broker is down the write still succeeds; the
periodic `measures.tasks.reconcile` task finds the dirty mark later.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.models import next_position, save_validated
from measures import imports, tasks
from measures.imports import RowError, RowsInvalid
from measures.models import DataPoint, IdempotencyKey, Measure
from organisations import access
from organisations.access import Permission
from projects.models import Project

log = logging.getLogger(__name__)


def _require(by, perm: Permission, project: Project) -> None:
    if not access.has_permission(by, perm, project=project):
        raise PermissionDenied


# ---- measures ----------------------------------------------------------------------------

MEASURE_FIELDS = (
    "name", "kind", "definition", "unit_label", "frequency", "chart", "direction", "target",
    "driver", "rate_per",
)


def _check_measure(measure: Measure) -> None:
    if measure.chart != Measure.Chart.U:
        measure.rate_per = 1  # only a U chart reads "per N"; P charts are a %
    if measure.driver_id is not None and measure.driver.project_id != measure.project_id:
        raise ValidationError({"driver": "Choose a driver from this project's diagram."})
    by_event = measure.chart in (Measure.Chart.G, Measure.Chart.T)
    if by_event and measure.frequency != Measure.Frequency.EVENT:
        raise ValidationError({"frequency": "G and T charts record each event by its date: "
                                            "choose “Each event” as the frequency."})
    if not by_event and measure.frequency == Measure.Frequency.EVENT:
        raise ValidationError({"frequency": "Only G and T charts record each event by its "
                                            "date: choose how often the data is collected."})


@transaction.atomic
def measure_create(*, project: Project, by, **fields) -> Measure:
    _require(by, Permission.PROJECT_EDIT, project)
    unknown = set(fields) - set(MEASURE_FIELDS)
    if unknown:
        raise TypeError(f"unknown measure fields: {sorted(unknown)}")
    measure = Measure(project=project, **fields)
    measure.position = next_position(Measure.objects.filter(project=project))
    _check_measure(measure)
    save_validated(measure, by=by)
    measure_mark_dirty(measure_id=measure.pk)  # an empty snapshot, so lists show "no data"
    return measure


@transaction.atomic
def measure_update(*, measure: Measure, by, **fields) -> Measure:
    """Change a measure's settings. Changing how data is entered is refused once it has data.

    A measure with points cannot switch between a value chart (run, XmR, C, G), a ratio
    chart (P, U) and a chart of event dates alone (T), or change frequency: the points would
    no longer fit.
    """
    _require(by, Permission.PROJECT_EDIT, measure.project)
    unknown = set(fields) - set(MEASURE_FIELDS)
    if unknown:
        raise TypeError(f"unknown measure fields: {sorted(unknown)}")
    before_ratio, before_freq, before_chart = measure.uses_ratio, measure.frequency, measure.chart
    before_value = measure.needs_value
    before_rate = measure.rate_per
    for name, value in fields.items():
        setattr(measure, name, value)
    if (measure.rate_per != before_rate
            and Measure.objects.filter(pk=measure.pk, national_adoption__isnull=False).exists()):
        raise ValidationError({"rate_per": "This measure follows a national definition, which "
                                           "sets its rate: it cannot change here."})
    if measure.points.exists():
        if measure.uses_ratio != before_ratio:
            raise ValidationError({"chart": "This measure already has data entered as "
                                            + ("numerator and denominator" if before_ratio
                                               else "single values")
                                            + ". Choose a chart that uses the same kind of "
                                              "data, or make a new measure."})
        if measure.needs_value != before_value:
            raise ValidationError({"chart": "This measure already has data. A T chart uses only "
                                            "the event dates and a G chart needs a count for "
                                            "each event: make a new measure instead."})
        if measure.frequency != before_freq:
            raise ValidationError({"frequency": "This measure already has data. Make a new "
                                                "measure to record it at another frequency."})
        if measure.chart == "c" and before_chart != "c":
            clean, errors = imports.validate_rows(
                measure, [_row_of(p) for p in measure.points.all()],
                weekday=imports.reference_weekday(measure))
            if errors:
                raise ValidationError({"chart": "A C chart needs whole, non-negative counts; "
                                                "some of this measure's values are not."})
    _check_measure(measure)
    save_validated(measure, by=by)
    measure_mark_dirty(measure_id=measure.pk)
    return measure


@transaction.atomic
def measure_delete(*, measure: Measure, by) -> None:
    _require(by, Permission.PROJECT_EDIT, measure.project)
    measure._history_user = by
    measure.delete()


# ---- data points ---------------------------------------------------------------------------


@dataclass
class SaveSummary:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __str__(self):
        parts = []
        for n, word in ((self.created, "added"), (self.updated, "updated"),
                        (self.deleted, "removed")):
            if n:
                parts.append(f"{n} point{'s' if n != 1 else ''} {word}")
        return ", ".join(parts) or "No changes"


def _row_of(point: DataPoint) -> dict:
    return {
        "row": point.period.isoformat(),
        "period": point.period,
        "value": point.value,
        "numerator": point.numerator,
        "denominator": point.denominator,
        "annotation": point.annotation,
        "rebaseline": point.rebaseline,
    }


def _lock(measure: Measure) -> int:
    """Writers of one measure's data take turns: two uploads of the same new period would
    otherwise both insert it, and one would fail on the unique period (a 500). Answers the
    measure's data_version, read under the lock."""
    return Measure.objects.select_for_update().values_list("data_version", flat=True).get(
        pk=measure.pk)


CONFLICT = ("Someone else saved data for this measure at the same moment. Reload the page "
            "to see it, then try again.")


class DataConflict(Exception):
    """The write would change points that someone else changed after the version it was
    based on (`base_version`). Nothing was saved. `points` are those points as saved now;
    `data_version` is the version to base a retry on."""

    def __init__(self, *, points: Sequence[DataPoint], data_version: int,
                 base_version: int | None):
        self.points = sorted(points, key=lambda p: p.period)
        self.data_version = data_version
        self.base_version = base_version
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.base_version is None:
            start = ("These periods already have other values. To replace them, send the "
                     f"measure's data_version ({self.data_version}) as base_version")
        else:
            start = ("Someone else changed this measure's data after you opened it (version "
                     f"{self.base_version}; it is now {self.data_version}). Nothing was saved")
        return f"{start}. Saved now: " + "; ".join(_describe(p) for p in self.points[:10]) + (
            f"; and {len(self.points) - 10} more" if len(self.points) > 10 else "")


def _describe(point: DataPoint) -> str:
    def num(v):
        return "blank" if v is None else (f"{v:g}")

    if point.measure.uses_ratio:
        value = f"{num(point.numerator)} / {num(point.denominator)}"
    else:
        value = num(point.value)
    return f"{point.period:%-d %B %Y} is {value}"


def _changes(point: DataPoint, fields: Mapping) -> bool:
    return any(getattr(point, name) != value for name, value in fields.items())


def _check_base(measure, current_version, base_version, at_risk) -> None:
    """Refuse a write that would overwrite points changed after `base_version` (None: the
    caller did not say which version it saw, so any overwrite of a different value is one)."""
    changed_since = [
        p for p in at_risk if base_version is None or p.version > base_version
    ]
    if changed_since:
        for p in changed_since:
            p.measure = measure
        raise DataConflict(points=changed_since, data_version=current_version,
                           base_version=base_version)


def _validate(measure: Measure, rows, *, exclude_ids: Iterable[int] = ()):
    clean, errors = imports.validate_rows(
        measure, rows, weekday=imports.reference_weekday(measure, exclude_ids=exclude_ids)
    )
    if errors:
        raise RowsInvalid(errors)
    return clean


def _apply(measure: Measure, clean, existing: dict, by, summary: SaveSummary,
           version: int) -> None:
    for row in clean:
        point = existing.get(row.period)
        if point is None:
            point = DataPoint(measure=measure, period=row.period, version=version,
                              **row.fields())
            save_validated(point, by=by, exclude=["measure"])
            summary.created += 1
            continue
        if _changes(point, row.fields()):
            for name, value in row.fields().items():
                setattr(point, name, value)
            point.version = version
            save_validated(point, by=by, exclude=["measure"])
            summary.updated += 1


def _bump(measure: Measure, version: int, summary: SaveSummary) -> None:
    if summary.created or summary.updated or summary.deleted:
        Measure.objects.filter(pk=measure.pk).update(data_version=version)
        measure.data_version = version
        measure_mark_dirty(measure_id=measure.pk)


@transaction.atomic
def data_points_merge(
    *, measure: Measure, rows: Sequence[Mapping], by, base_version: int | None = None
) -> SaveSummary:
    """Add or update points from rows (upload, API bulk). All or nothing.

    A new period is added; a period already in the database is updated, if nobody changed it
    after `base_version` (the measure's data_version the writer saw). Without a base version
    a row may add periods or repeat saved values but not replace different ones. Raises
    RowsInvalid when any row breaks a rule and DataConflict when it would overwrite someone
    else's change; either way nothing is saved.
    """
    _require(by, Permission.DATA_ENTER, measure.project)
    current_version = _lock(measure)
    clean = _validate(measure, rows)
    existing = {
        p.period: p
        for p in measure.points.select_for_update().filter(period__in=[r.period for r in clean])
    }
    _check_base(measure, current_version, base_version, [
        existing[r.period] for r in clean
        if r.period in existing and _changes(existing[r.period], r.fields())
    ])
    summary = SaveSummary()
    try:
        _apply(measure, clean, existing, by, summary, current_version + 1)
    except IntegrityError as exc:  # a writer that did not take the lock (a safety net)
        raise RowsInvalid([RowError(None, None, CONFLICT)]) from exc
    _bump(measure, current_version + 1, summary)
    return summary


@transaction.atomic
def data_points_replace(
    *, measure: Measure, rows: Sequence[Mapping], delete_ids: Iterable[int] = (), by,
    base_version: int | None = None,
) -> SaveSummary:
    """Save the data-entry grid. All or nothing.

    `rows` are the grid's rows; a row with the ``id`` of an existing point edits that point
    (its date may change), a row without one adds a point. `delete_ids` are removed.
    `base_version` is the measure's data_version when the grid was opened: editing or
    removing a point that someone changed since raises DataConflict (nothing saved).
    """
    _require(by, Permission.DATA_ENTER, measure.project)
    current_version = _lock(measure)
    version = current_version + 1
    delete_ids = set(delete_ids)
    current = {p.pk: p for p in measure.points.select_for_update()}
    edited = {}  # row number -> existing point
    for i, row in enumerate(rows, start=1):
        pid = row.get("id")
        if pid in (None, ""):
            continue
        if pid not in current or pid in delete_ids:
            raise RowsInvalid([RowError(None, None, "Someone else changed this measure's "
                                                    "data. Reload the page and try again.")])
        edited[row.get("row", i)] = current[pid]
    if delete_ids - set(current):
        raise RowsInvalid([RowError(None, None, "Someone else changed this measure's data. "
                                                "Reload the page and try again.")])
    gone = delete_ids | {p.pk for p in edited.values()}
    clean = _validate(measure, rows, exclude_ids=gone)
    untouched = {p.period for pk, p in current.items() if pk not in gone}
    clashes = [
        RowError(r.row, "period", f"{r.period:%Y-%m-%d} already has a point: change that "
                                  "row instead")
        for r in clean if r.period in untouched
    ]
    if clashes:
        raise RowsInvalid(clashes)
    by_row = {r.row: r for r in clean}
    _check_base(measure, current_version, base_version, [current[pk] for pk in delete_ids] + [
        point for row_no, point in edited.items()
        if row_no in by_row and (point.period != by_row[row_no].period
                                 or _changes(point, by_row[row_no].fields()))
    ])
    summary = SaveSummary()
    # A point whose date changes is removed and added again, so that two rows may swap
    # dates without breaking the one-point-per-period constraint midway.
    moved = [r for r in clean if r.row in edited and edited[r.row].period != r.period]
    for point in [current[pk] for pk in delete_ids] + [edited[r.row] for r in moved]:
        point._history_user = by
        point.delete()
    summary.deleted += len(delete_ids)
    in_place = {r.period: edited[r.row] for r in clean if r.row in edited and r not in moved}
    _apply(measure, [r for r in clean if r not in moved], in_place, by, summary, version)
    for r in moved:
        point = DataPoint(measure=measure, period=r.period, version=version, **r.fields())
        save_validated(point, by=by, exclude=["measure"])
        summary.updated += 1
    _bump(measure, version, summary)
    return summary


@transaction.atomic
def data_point_create(*, measure: Measure, by, **fields) -> DataPoint:
    _require(by, Permission.DATA_ENTER, measure.project)
    version = _lock(measure) + 1
    clean = _validate(measure, [{"row": 1, **fields}])[0]
    if measure.points.filter(period=clean.period).exists():
        raise RowsInvalid([RowError(1, "period", f"{clean.period:%Y-%m-%d} already has a "
                                                 "point: update that one instead")])
    point = DataPoint(measure=measure, period=clean.period, version=version, **clean.fields())
    save_validated(point, by=by, exclude=["measure"])
    _bump(measure, version, SaveSummary(created=1))
    return point


@transaction.atomic
def data_point_update(
    *, point: DataPoint, by, expected_version: int | None = None, **fields
) -> DataPoint:
    """Change one point, if it is still at `expected_version` (the point's version the
    writer read; None skips the check). A mismatch raises DataConflict, nothing saved."""
    measure = point.measure
    _require(by, Permission.DATA_ENTER, measure.project)
    current_version = _lock(measure)
    point = DataPoint.objects.select_related("measure").get(pk=point.pk)
    if expected_version is not None and point.version != expected_version:
        raise DataConflict(points=[point], data_version=current_version,
                           base_version=expected_version)
    measure = point.measure
    row = {**_row_of(point), "row": 1, **fields}
    clean = _validate(measure, [row], exclude_ids=[point.pk])[0]
    if measure.points.filter(period=clean.period).exclude(pk=point.pk).exists():
        raise RowsInvalid([RowError(1, "period", f"{clean.period:%Y-%m-%d} already has a "
                                                 "point")])
    if point.period == clean.period and not _changes(point, clean.fields()):
        return point
    point.period = clean.period
    for name, value in clean.fields().items():
        setattr(point, name, value)
    point.version = current_version + 1
    save_validated(point, by=by, exclude=["measure"])
    _bump(measure, point.version, SaveSummary(updated=1))
    return point


@transaction.atomic
def data_point_delete(*, point: DataPoint, by) -> None:
    measure = point.measure
    _require(by, Permission.DATA_ENTER, measure.project)
    version = _lock(measure) + 1
    point._history_user = by
    point.delete()
    _bump(measure, version, SaveSummary(deleted=1))


# ---- SPC snapshots ------------------------------------------------------------------------


def measure_mark_dirty(*, measure_id: int) -> None:
    """Call inside the write's transaction, after changing a measure's data or settings."""
    now = timezone.now()
    Measure.objects.filter(pk=measure_id).update(data_changed_at=now)
    Measure.objects.filter(pk=measure_id, dirty_since__isnull=True).update(dirty_since=now)
    transaction.on_commit(lambda: _enqueue_refresh(measure_id))


def _enqueue_refresh(measure_id: int) -> None:
    try:
        tasks.refresh_measure.delay(measure_id)
    except Exception:  # noqa: BLE001 — broker down: the dirty mark stays, reconcile retries
        log.warning("Could not enqueue refresh of measure %s; reconcile will pick it up",
                    measure_id)


# ---- bulk ingest (the API's POST /measures/{id}/data-points/) --------------------------------
# Thousands of points in one call: validated with the same rules as every other way in, then
# written with two statements whatever their number — an upsert of the new and changed points
# from one JSON parameter, and their history rows copied from the table with INSERT … SELECT
# (simple-history's row-per-object path would cost a query per batch of ~100 on SQLite).
# data_version is bumped once, the measure marked dirty once, one refresh enqueued on commit.

BULK_MAX_POINTS = 10_000
ON_EXISTING = ("update", "reject")
IDEMPOTENCY_TTL = dt.timedelta(hours=24)
_BULK_COLUMNS = ("period", "value", "numerator", "denominator", "annotation", "rebaseline")
_PG_TYPES = {"period": "date", "value": "double precision", "numerator": "double precision",
             "denominator": "double precision", "annotation": "text", "rebaseline": "boolean"}


def _bulk_upsert(measure: Measure, clean, *, version: int, now) -> None:
    """Insert or update `clean` rows of `measure` in one statement."""
    table = DataPoint._meta.db_table
    qn = connection.ops.quote_name
    fixed = {"measure_id": measure.pk, "version": version}
    for f in DataPoint._meta.concrete_fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fixed[f.column] = connection.ops.adapt_datetimefield_value(now)
    known = {"id", *fixed, *_BULK_COLUMNS}
    unknown = [f.column for f in DataPoint._meta.concrete_fields if f.column not in known]
    if unknown:  # a new column needs a value here: fail loudly, never write a half row
        raise TypeError(f"bulk ingest does not know how to fill {unknown}")
    payload = json.dumps([
        {"period": r.period.isoformat(), **r.fields()} for r in clean
    ])
    if connection.vendor == "postgresql":
        source = ("jsonb_to_recordset(%s::jsonb) AS j(" + ", ".join(
            f"{c} {_PG_TYPES[c]}" for c in _BULK_COLUMNS) + ")")
        picks = [f"j.{c}" for c in _BULK_COLUMNS]
        where = ""
    else:  # SQLite: json_each; "WHERE true" tells its parser the upsert clause is not a join
        source = "json_each(%s) AS j"
        picks = [f"json_extract(j.value, '$.{c}')" for c in _BULK_COLUMNS]
        where = " WHERE true"
    columns = [*fixed, *_BULK_COLUMNS]
    updates = [c for c in columns if c not in ("measure_id", "period")]
    sql = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
        f"SELECT {', '.join(['%s'] * len(fixed) + picks)} FROM {source}{where} "
        f"ON CONFLICT ({qn('measure_id')}, {qn('period')}) DO UPDATE SET "
        + ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in updates)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*fixed.values(), payload])


def _bulk_history(measure: Measure, *, version: int, newest_old_id: int, by, now) -> None:
    """One history row per point written by this call, copied from the table: '+' for a
    point added now (its id is above every id the measure had), '~' for one changed."""
    history = DataPoint.history.model
    qn = connection.ops.quote_name
    copied = [f.column for f in DataPoint._meta.concrete_fields]
    sql = (
        f"INSERT INTO {qn(history._meta.db_table)} ("
        + ", ".join(qn(c) for c in copied)
        + f", {qn('history_date')}, {qn('history_change_reason')}, {qn('history_type')}, "
        f"{qn('history_user_id')}) SELECT " + ", ".join(qn(c) for c in copied)
        + f", %s, NULL, CASE WHEN {qn('id')} > %s THEN '+' ELSE '~' END, %s "
        f"FROM {qn(DataPoint._meta.db_table)} WHERE {qn('measure_id')} = %s "
        f"AND {qn('version')} = %s"
    )
    user_id = getattr(by, "pk", None)
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(now), newest_old_id,
                             user_id, measure.pk, version])


@transaction.atomic
def data_points_bulk_ingest(
    *, measure: Measure, rows: Sequence[Mapping], by, base_version: int | None = None,
    on_existing: str = "update",
) -> SaveSummary:
    """Add or update many points (the API's bulk endpoint). All or nothing.

    The same rules as `data_points_merge` — every row checked first (errors name the row
    and column), a period the measure has is updated only if nobody changed it after
    `base_version` (else DataConflict), equal values change nothing — or, with
    ``on_existing="reject"``, any period the measure already has is an error of its row.
    Written in a constant number of statements (see above)."""
    _require(by, Permission.DATA_ENTER, measure.project)
    if on_existing not in ON_EXISTING:
        raise RowsInvalid([RowError(None, "on_existing", "on_existing must be “update” "
                                                         "or “reject”")])
    if len(rows) > BULK_MAX_POINTS:
        raise RowsInvalid([RowError(None, None, f"Send at most {BULK_MAX_POINTS:,} points "
                                                "at a time")])
    current_version = _lock(measure)
    clean = _validate(measure, rows)
    if not clean:
        return SaveSummary()
    periods = [r.period for r in clean]
    existing = {
        p.period: p for p in measure.points.select_for_update().filter(
            period__gte=min(periods), period__lte=max(periods))
    }
    if on_existing == "reject":
        taken = [
            RowError(r.row, "period", f"{r.period:%Y-%m-%d} already has a point: send "
                                      "on_existing=update to replace it")
            for r in clean if r.period in existing
        ]
        if taken:
            raise RowsInvalid(taken)
    changed = [r for r in clean
               if r.period in existing and _changes(existing[r.period], r.fields())]
    _check_base(measure, current_version, base_version, [existing[r.period] for r in changed])
    new = [r for r in clean if r.period not in existing]
    summary = SaveSummary(created=len(new), updated=len(changed))
    if not (new or changed):
        return summary
    version = current_version + 1
    now = timezone.now()
    try:
        _bulk_upsert(measure, new + changed, version=version, now=now)
    except IntegrityError as exc:  # a writer that did not take the lock (a safety net)
        raise RowsInvalid([RowError(None, None, CONFLICT)]) from exc
    _bulk_history(measure, version=version, by=by, now=now,
                  newest_old_id=max((p.pk for p in existing.values()), default=0))
    _bump(measure, version, summary)
    return summary


# ---- idempotency keys (bulk writes) ----------------------------------------------------------


def idempotency_lookup(*, caller: str, key: str) -> IdempotencyKey | None:
    """The stored answer for (caller, key) if it is less than a day old."""
    return IdempotencyKey.objects.filter(
        caller=caller, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_TTL).first()


def idempotency_record(*, caller: str, key: str, request_hash: str, status_code: int,
                       body: dict) -> None:
    """Keep the answer of a write for replays; drop keys past their day (this caller's
    expired key included, so it may be used again). Call inside the write's transaction: a
    concurrent call with the same key then fails on the unique key (IntegrityError)."""
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_TTL).delete()
    IdempotencyKey.objects.create(caller=caller, key=key, request_hash=request_hash,
                                  status_code=status_code, response_body=body,
                                  created_at=timezone.now())
