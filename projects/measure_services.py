"""Writes for driver diagrams, measures and data points.

Every function is keyword-only, takes the actor as `by=`, asks `organisations.access`,
validates with `full_clean()` (data rows with `projects.imports.validate_rows`, the one
copy of the data rules), writes in one transaction, records history and marks the measure
dirty so its SPC snapshot is rebuilt on commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from organisations import access
from organisations.access import Permission
from projects import imports
from projects.imports import RowError, RowsInvalid
from projects.models import ChangeIdea, DataPoint, Driver, Measure, Project
from reports.services import measure_mark_dirty


def _require(by, perm: Permission, project: Project) -> None:
    if not access.has_permission(by, perm, project=project):
        raise PermissionDenied


def _save(instance, by, *, exclude=None):
    instance.full_clean(exclude=exclude)
    instance._history_user = by
    instance.save()
    return instance


def _next_position(qs) -> int:
    top = qs.aggregate(m=Max("position"))["m"]
    return 0 if top is None else top + 1


def _move(instance, siblings, direction: str, by) -> None:
    """Swap `instance` with its neighbour; positions are renumbered 0..n-1 first."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Choose up or down."})
    items = list(siblings.select_for_update().order_by("position", "id"))
    index = next(i for i, item in enumerate(items) if item.pk == instance.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            item._history_user = by
            item.save(update_fields=["position"])
            if item.pk == instance.pk:
                instance.position = position


# ---- drivers ----------------------------------------------------------------------------


def _check_parent(project: Project, parent: Driver | None) -> None:
    if parent is None:
        return
    if parent.project_id != project.pk:
        raise ValidationError({"parent": "Choose a primary driver of this project."})
    if parent.parent_id is not None:
        raise ValidationError(
            {"parent": "A secondary driver must sit under a primary driver, not another "
                       "secondary driver."}
        )


@transaction.atomic
def driver_create(*, project: Project, text: str, parent: Driver | None = None, by) -> Driver:
    """Add a primary driver (no parent) or a secondary driver under a primary one."""
    _require(by, Permission.PROJECT_EDIT, project)
    _check_parent(project, parent)
    siblings = Driver.objects.filter(project=project, parent=parent)
    driver = Driver(project=project, parent=parent, text=(text or "").strip(),
                    position=_next_position(siblings))
    return _save(driver, by)


@transaction.atomic
def driver_update(*, driver: Driver, text: str, by) -> Driver:
    _require(by, Permission.PROJECT_EDIT, driver.project)
    driver.text = (text or "").strip()
    return _save(driver, by)


@transaction.atomic
def driver_move(*, driver: Driver, direction: str, by) -> Driver:
    _require(by, Permission.PROJECT_EDIT, driver.project)
    siblings = Driver.objects.filter(project_id=driver.project_id, parent_id=driver.parent_id)
    _move(driver, siblings, direction, by)
    return driver


@transaction.atomic
def driver_delete(*, driver: Driver, by) -> None:
    """Remove a driver and, for a primary driver, its secondary drivers.

    Change ideas stay (they may have PDSA cycles); those left linked to no driver are shown
    as "not linked" on the diagram until someone links them again.
    """
    project = driver.project
    _require(by, Permission.PROJECT_EDIT, project)
    ids = [driver.pk, *driver.secondary.values_list("pk", flat=True)]
    measure_ids = list(Measure.objects.filter(driver_id__in=ids).values_list("pk", flat=True))
    for d in Driver.objects.filter(pk__in=ids):
        d._history_user = by
    driver._history_user = by
    driver.delete()
    for measure_id in measure_ids:
        measure_mark_dirty(measure_id=measure_id)


# ---- change ideas -------------------------------------------------------------------------


def _check_drivers(project: Project, drivers: Sequence[Driver]) -> None:
    if not drivers:
        raise ValidationError(
            {"drivers": "Choose at least one secondary driver this change idea acts on."}
        )
    for d in drivers:
        if d.project_id != project.pk or d.parent_id is None:
            raise ValidationError(
                {"drivers": "Choose secondary drivers from this project's driver diagram."}
            )


@transaction.atomic
def change_idea_create(
    *, project: Project, text: str, drivers: Sequence[Driver], by
) -> ChangeIdea:
    _require(by, Permission.PROJECT_EDIT, project)
    drivers = list(drivers)
    _check_drivers(project, drivers)
    idea = ChangeIdea(project=project, text=(text or "").strip(),
                      position=_next_position(ChangeIdea.objects.filter(project=project)))
    _save(idea, by)
    idea.drivers.set(drivers)
    return idea


@transaction.atomic
def change_idea_update(
    *, change_idea: ChangeIdea, by, text: str | None = None,
    drivers: Sequence[Driver] | None = None,
) -> ChangeIdea:
    project = change_idea.project
    _require(by, Permission.PROJECT_EDIT, project)
    if text is not None:
        change_idea.text = text.strip()
    if drivers is not None:
        drivers = list(drivers)
        _check_drivers(project, drivers)
    _save(change_idea, by)
    if drivers is not None:
        change_idea.drivers.set(drivers)
    return change_idea


@transaction.atomic
def change_idea_move(*, change_idea: ChangeIdea, direction: str, by) -> ChangeIdea:
    _require(by, Permission.PROJECT_EDIT, change_idea.project)
    _move(change_idea, ChangeIdea.objects.filter(project_id=change_idea.project_id),
          direction, by)
    return change_idea


@transaction.atomic
def change_idea_delete(*, change_idea: ChangeIdea, by) -> None:
    _require(by, Permission.PROJECT_EDIT, change_idea.project)
    change_idea._history_user = by
    change_idea.delete()


# ---- measures ----------------------------------------------------------------------------

MEASURE_FIELDS = (
    "name", "kind", "definition", "unit_label", "frequency", "chart", "direction", "target",
    "driver",
)


def _check_measure(measure: Measure) -> None:
    if measure.driver_id is not None and measure.driver.project_id != measure.project_id:
        raise ValidationError({"driver": "Choose a driver from this project's diagram."})


@transaction.atomic
def measure_create(*, project: Project, by, **fields) -> Measure:
    _require(by, Permission.PROJECT_EDIT, project)
    unknown = set(fields) - set(MEASURE_FIELDS)
    if unknown:
        raise TypeError(f"unknown measure fields: {sorted(unknown)}")
    measure = Measure(project=project, **fields)
    measure.position = _next_position(Measure.objects.filter(project=project))
    _check_measure(measure)
    _save(measure, by)
    measure_mark_dirty(measure_id=measure.pk)  # an empty snapshot, so lists show "no data"
    return measure


@transaction.atomic
def measure_update(*, measure: Measure, by, **fields) -> Measure:
    """Change a measure's settings. Changing how data is entered is refused once it has data.

    A measure with points cannot switch between a value chart (run, XmR, C) and a ratio
    chart (P, U), or change frequency: the points would no longer fit.
    """
    _require(by, Permission.PROJECT_EDIT, measure.project)
    unknown = set(fields) - set(MEASURE_FIELDS)
    if unknown:
        raise TypeError(f"unknown measure fields: {sorted(unknown)}")
    before_ratio, before_freq, before_chart = measure.uses_ratio, measure.frequency, measure.chart
    for name, value in fields.items():
        setattr(measure, name, value)
    if measure.points.exists():
        if measure.uses_ratio != before_ratio:
            raise ValidationError({"chart": "This measure already has data entered as "
                                            + ("numerator and denominator" if before_ratio
                                               else "single values")
                                            + ". Choose a chart that uses the same kind of "
                                              "data, or make a new measure."})
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
    _save(measure, by)
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


def _validate(measure: Measure, rows, *, exclude_ids: Iterable[int] = ()):
    clean, errors = imports.validate_rows(
        measure, rows, weekday=imports.reference_weekday(measure, exclude_ids=exclude_ids)
    )
    if errors:
        raise RowsInvalid(errors)
    return clean


def _apply(measure: Measure, clean, existing: dict, by, summary: SaveSummary) -> None:
    for row in clean:
        point = existing.get(row.period)
        if point is None:
            point = DataPoint(measure=measure, period=row.period, **row.fields())
            _save(point, by, exclude=["measure"])
            summary.created += 1
            continue
        changed = False
        for name, value in row.fields().items():
            if getattr(point, name) != value:
                setattr(point, name, value)
                changed = True
        if changed:
            _save(point, by, exclude=["measure"])
            summary.updated += 1


@transaction.atomic
def data_points_merge(*, measure: Measure, rows: Sequence[Mapping], by) -> SaveSummary:
    """Add or update points from rows (upload, API bulk). All or nothing.

    A period already in the database is updated; other existing points are left alone.
    Raises RowsInvalid (nothing saved) when any row breaks a rule.
    """
    _require(by, Permission.DATA_ENTER, measure.project)
    clean = _validate(measure, rows)
    existing = {
        p.period: p
        for p in measure.points.select_for_update().filter(period__in=[r.period for r in clean])
    }
    summary = SaveSummary()
    _apply(measure, clean, existing, by, summary)
    if summary.created or summary.updated:
        measure_mark_dirty(measure_id=measure.pk)
    return summary


@transaction.atomic
def data_points_replace(
    *, measure: Measure, rows: Sequence[Mapping], delete_ids: Iterable[int] = (), by
) -> SaveSummary:
    """Save the data-entry grid. All or nothing.

    `rows` are the grid's rows; a row with the ``id`` of an existing point edits that point
    (its date may change), a row without one adds a point. `delete_ids` are removed.
    """
    _require(by, Permission.DATA_ENTER, measure.project)
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
    summary = SaveSummary()
    # A point whose date changes is removed and added again, so that two rows may swap
    # dates without breaking the one-point-per-period constraint midway.
    moved = [r for r in clean if r.row in edited and edited[r.row].period != r.period]
    for point in [current[pk] for pk in delete_ids] + [edited[r.row] for r in moved]:
        point._history_user = by
        point.delete()
    summary.deleted += len(delete_ids)
    in_place = {r.period: edited[r.row] for r in clean if r.row in edited and r not in moved}
    _apply(measure, [r for r in clean if r not in moved], in_place, by, summary)
    for r in moved:
        _save(DataPoint(measure=measure, period=r.period, **r.fields()), by, exclude=["measure"])
        summary.updated += 1
    if summary.created or summary.updated or summary.deleted:
        measure_mark_dirty(measure_id=measure.pk)
    return summary


@transaction.atomic
def data_point_create(*, measure: Measure, by, **fields) -> DataPoint:
    _require(by, Permission.DATA_ENTER, measure.project)
    clean = _validate(measure, [{"row": 1, **fields}])[0]
    if measure.points.filter(period=clean.period).exists():
        raise RowsInvalid([RowError(1, "period", f"{clean.period:%Y-%m-%d} already has a "
                                                 "point: update that one instead")])
    point = DataPoint(measure=measure, period=clean.period, **clean.fields())
    _save(point, by, exclude=["measure"])
    measure_mark_dirty(measure_id=measure.pk)
    return point


@transaction.atomic
def data_point_update(*, point: DataPoint, by, **fields) -> DataPoint:
    measure = point.measure
    _require(by, Permission.DATA_ENTER, measure.project)
    row = {**_row_of(point), "row": 1, **fields}
    clean = _validate(measure, [row], exclude_ids=[point.pk])[0]
    if measure.points.filter(period=clean.period).exclude(pk=point.pk).exists():
        raise RowsInvalid([RowError(1, "period", f"{clean.period:%Y-%m-%d} already has a "
                                                 "point")])
    point.period = clean.period
    for name, value in clean.fields().items():
        setattr(point, name, value)
    _save(point, by, exclude=["measure"])
    measure_mark_dirty(measure_id=measure.pk)
    return point


@transaction.atomic
def data_point_delete(*, point: DataPoint, by) -> None:
    measure = point.measure
    _require(by, Permission.DATA_ENTER, measure.project)
    point._history_user = by
    point.delete()
    measure_mark_dirty(measure_id=measure.pk)
