"""Every write to PDSA cycles. Keyword-only, with an explicit actor (`by`).

Each function checks `organisations.access`, validates (`full_clean`, which includes the
patient-data screen on every free-text field), writes in one transaction and records history.
Concurrent edits never overwrite each other silently: updates name the `version` they were
based on and claim the row with a conditional UPDATE; a mismatch raises ConflictError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from measures.models import Measure
from organisations import access
from organisations.access import Permission
from pdsa.models import Cycle
from projects.models import ChangeIdea

STAGES = ("plan", "do", "study", "act")
STAGE_LABELS = {"plan": "Plan", "do": "Do", "study": "Study", "act": "Act"}
STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "plan": (
        "objective",
        "questions",
        "prediction",
        "who_what_where_when",
        "data_to_collect",
        "measures",
        "planned_start",
    ),
    "do": ("carried_out_as_planned", "what_happened", "observations", "problems", "done_date"),
    "study": ("results", "learning", "studied_date"),
    "act": ("decision", "next_steps", "act_date"),
}
DATE_FIELDS = frozenset({"planned_start", "done_date", "studied_date", "act_date"})
EDITABLE_FIELDS = frozenset(f for fields in STAGE_FIELDS.values() for f in fields)
DO_FIELDS_THAT_COUNT = ("carried_out_as_planned", "what_happened")

PREDICTION_FIRST = (
    "Write a prediction in the Plan before you record what happened. Without a prediction "
    "the cycle cannot show what you learned."
)

PREDICTION_KEPT = (
    "Keep the prediction: the test has been done, and the Study compares the results with it."
)


class ConflictError(Exception):
    """Someone else saved the cycle after the version this write was based on."""

    def __init__(self, *, current: Cycle, expected_version: int):
        self.current = current
        self.expected_version = expected_version
        super().__init__(
            f"Cycle {current.pk} is at version {current.version}, not {expected_version}."
        )


# What to do first when a later stage is saved before an earlier one (IHI worksheet order).
MISSING_FIRST = {
    "plan": "Write the Plan first: the objective of the test and a prediction of what will "
            "happen.",
    "do": "Record the Do first: was the test carried out as planned, and what happened.",
    "study": "Write the Study first: the results compared with the prediction, and what was "
             "learned.",
}
STAGE_ERROR_FIELD = {"study": "results", "act": "decision"}


def derive_status(cycle: Cycle) -> str:
    """planning → doing → studying → acting → complete, from the stages filled in, in the
    worksheet's order: a stage counts only when every stage before it is done."""
    done = cycle.stages_done()
    if not done["plan"]:
        return Cycle.Status.PLANNING
    if not done["do"]:
        return Cycle.Status.DOING
    if not done["study"]:
        return Cycle.Status.STUDYING
    if not done["act"]:
        return Cycle.Status.ACTING
    return Cycle.Status.COMPLETE


def stage_values(cycle: Cycle, stage: str) -> dict[str, Any]:
    """The saved values of one stage (measures as a sorted list of ids)."""
    values = {}
    for name in STAGE_FIELDS[stage]:
        if name == "measures":
            values[name] = sorted(m.pk for m in cycle.measures.all())
        else:
            values[name] = getattr(cycle, name)
    return values


def _check_edit(by, project) -> None:
    if not access.has_permission(by, Permission.PDSA_EDIT, project=project):
        raise PermissionDenied("You cannot edit PDSA cycles on this project.")


def _apply(cycle: Cycle, fields: dict[str, Any]) -> list[Measure] | None:
    """Set plain fields on `cycle`; return the measures to link (None: leave unchanged)."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not cycle fields: {', '.join(sorted(unknown))}")
    measures = None
    for name, value in fields.items():
        if name == "measures":
            measures = list(value or [])
            continue
        if value is None and name not in DATE_FIELDS:
            value = ""
        setattr(cycle, name, value)
    return measures


PAST_DATES = {"done_date": "date done", "studied_date": "date studied",
              "act_date": "date decided"}


def _validate(cycle: Cycle, measures: list[Measure] | None, *, touched: Iterable[str]) -> None:
    errors: dict[str, list[str]] = {}
    touched = set(touched)
    done = cycle.stages_done()
    doing = done["do"]
    if doing and not cycle.prediction.strip():
        if touched & set(STAGE_FIELDS["do"]):
            errors.setdefault("prediction", []).append(PREDICTION_FIRST)
        elif "prediction" in touched:
            errors.setdefault("prediction", []).append(PREDICTION_KEPT)
    for stage in ("study", "act"):  # each stage needs every stage before it
        if not (done[stage] and touched & set(STAGE_FIELDS[stage])):
            continue
        earlier = STAGES[: STAGES.index(stage)]
        missing = next((s for s in earlier if not done[s]), None)
        if missing:
            errors.setdefault(STAGE_ERROR_FIELD[stage], []).append(MISSING_FIRST[missing])
    today = timezone.localdate()
    for name, words in PAST_DATES.items():  # what was done cannot be dated in the future
        value = getattr(cycle, name)
        if name in touched and value is not None and value > today:
            errors.setdefault(name, []).append(f"The {words} must be today or earlier.")
    if measures:
        project_id = cycle.change_idea.project_id
        if any(m.project_id != project_id for m in measures):
            errors.setdefault("measures", []).append(
                "Choose measures from this cycle's project."
            )
    if cycle.follows_id is not None and cycle.follows.change_idea_id != cycle.change_idea_id:
        errors.setdefault("follows", []).append(
            "A cycle can only follow a cycle that tests the same change idea."
        )
    if errors:
        raise ValidationError(errors)
    cycle.full_clean(exclude=["number"] if cycle.pk is None else None)


def _loaded(cycle: Cycle) -> Cycle:
    """Read, inside the write's transaction, all that a page or the API shows of the saved
    cycle: the answer comes from what was committed, so a connection lost after the commit
    cannot turn a saved write into an error (and its retry into a conflict)."""
    measures = list(cycle.measures.all())  # one query answers both questions
    cycle._prefetched_objects_cache = {"measures": measures}
    cycle.has_measures = bool(measures)
    cycle.has_followers = Cycle.objects.filter(follows_id=cycle.pk).exists()
    cycle.created_by  # noqa: B018 — load the creator now (the API shows the name)
    return cycle


def cycle_create(
    *,
    change_idea: ChangeIdea,
    by,
    follows: Cycle | None = None,
    **fields: Any,
) -> Cycle:
    """Start a cycle (often just the Plan; a quick log may fill every stage at once).
    The number is the next one within the change idea."""
    _check_edit(by, change_idea.project)
    cycle = Cycle(change_idea=change_idea, follows=follows, created_by=by)
    measures = _apply(cycle, fields)
    _validate(cycle, measures, touched=fields)
    cycle.status = derive_status(cycle)
    for attempt in range(3):
        try:
            with transaction.atomic():
                last = Cycle.objects.filter(change_idea=change_idea).aggregate(n=Max("number"))
                cycle.number = (last["n"] or 0) + 1
                cycle._history_user = by
                cycle.save()
                if measures:
                    cycle.measures.set(measures)
                _loaded(cycle)
            return cycle
        except IntegrityError:
            # Two people started a cycle on the same change idea at once: take the next number.
            cycle.pk = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def cycle_update(*, cycle: Cycle, data: dict[str, Any], expected_version: int, by) -> Cycle:
    """Change any of the worksheet fields in `data`, if nobody saved since `expected_version`.

    Raises ConflictError (with the current saved cycle) on a version mismatch, ValidationError
    on bad input, PermissionDenied without PDSA_EDIT. Nothing is written unless all pass.
    """
    project = cycle.change_idea.project
    _check_edit(by, project)
    with transaction.atomic():
        # The claim: exactly one writer moves the row from expected_version to the next.
        claimed = Cycle.objects.filter(pk=cycle.pk, version=expected_version).update(
            version=F("version") + 1, updated_at=timezone.now()
        )
        if claimed != 1:
            current = Cycle.objects.select_related("change_idea__project").get(pk=cycle.pk)
            raise ConflictError(current=current, expected_version=expected_version)
        fresh = (
            Cycle.objects.select_related("change_idea__project", "follows")
            .get(pk=cycle.pk)
        )
        measures = _apply(fresh, data)
        _validate(fresh, measures, touched=data)
        fresh.status = derive_status(fresh)
        fresh._history_user = by
        fresh.save()
        if measures is not None:
            fresh.measures.set(measures)
        _loaded(fresh)
    return fresh


def cycle_save_stage(
    *, cycle: Cycle, stage: str, data: dict[str, Any], expected_version: int, by
) -> Cycle:
    """Save one stage of the worksheet (the fields of other stages are ignored)."""
    if stage not in STAGE_FIELDS:
        raise ValueError(f"Unknown PDSA stage: {stage}")
    stage_data = {k: v for k, v in data.items() if k in STAGE_FIELDS[stage]}
    return cycle_update(cycle=cycle, data=stage_data, expected_version=expected_version, by=by)
