"""Writes for the project register: charter, status workflow, team and progress scores.

Every function is keyword-only with an explicit actor (`by`), checks `organisations.access`
(outsiders get Http404, members without the right PermissionDenied), validates with
`full_clean()` and writes in one transaction. Validation problems raise Django's
`ValidationError` with a message per field, so forms and the API show them the same way.

Drivers and change ideas (the driver diagram) are written here too; measures and data
points by `measures.services`.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.models import move, next_position, save_validated
from core.screening import NHS_NUMBER_MESSAGE, screen_text
from organisations import access
from organisations.access import Permission
from organisations.models import Trust
from projects.models import (
    PROGRESS_LABELS,
    ChangeIdea,
    Driver,
    ProgressScore,
    Project,
    TeamMember,
)

Status = Project.Status

# The workflow. Stopping needs a reason; completed and stopped projects are closed.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.PROPOSED: (Status.APPROVED, Status.STOPPED),
    Status.APPROVED: (Status.ACTIVE, Status.STOPPED),
    Status.ACTIVE: (Status.SUSTAINING, Status.COMPLETED, Status.STOPPED),
    Status.SUSTAINING: (Status.ACTIVE, Status.COMPLETED, Status.STOPPED),
    Status.COMPLETED: (),
    Status.STOPPED: (),
}

# Fields a charter create/update may set. Status changes go through `project_transition`;
# the trust is fixed once a project exists (move it by registering it again).
CHARTER_FIELDS = frozenset(
    {
        "title", "problem", "aim", "scope", "unit", "lead", "sponsor", "coach", "start_date",
        "target_date", "quality_dimension", "strategic_theme", "patient_involvement",
        "visibility", "sharing",
    }
)


def _check_fields(fields: dict) -> None:
    unknown = set(fields) - CHARTER_FIELDS
    if unknown:
        raise TypeError(f"Not charter fields: {', '.join(sorted(unknown))}")


# Free text must not carry patient-identifiable data: every text field of the models carries
# core.screening's validator, which `full_clean()` runs (one screen for the whole portal).


def looks_like_nhs_number(text: str) -> bool:
    return NHS_NUMBER_MESSAGE in screen_text(text)


def _is_trust_member(user, trust_id: int) -> bool:
    # The same membership question access answers (and caches on the user object).
    return bool(access.roles_at(user, trust_id))


def _validate_charter(project: Project) -> None:
    """Rules that span objects; the model's own `full_clean` checks the rest."""
    errors: dict[str, str] = {}
    if project.unit_id and project.unit.trust_id != project.trust_id:
        errors["unit"] = "Choose a unit of the project's trust."
    people = {"lead": "project lead", "sponsor": "sponsor", "coach": "QI coach"}
    for field, words in people.items():
        user = getattr(project, field)
        if user is not None and not _is_trust_member(user, project.trust_id):
            errors[field] = f"The {words} must be a member of {project.trust.name}."
    if project.start_date and project.target_date and project.target_date <= project.start_date:
        errors["target_date"] = "The target date must be after the start date."
    if errors:
        raise ValidationError(errors)


def _save(instance, *, by) -> None:
    # Outside a web request (API with token auth, tasks, demo seeding) the history
    # middleware has no user: say who did it.
    instance._history_user = by
    instance.save()


@transaction.atomic
def project_create(*, by, trust: Trust, **fields) -> Project:
    """Register a project at `trust`. The creator leads it unless `lead` is given."""
    access.check(by, Permission.PROJECT_CREATE, trust=trust)
    _check_fields(fields)
    if fields.get("lead") is None:
        fields["lead"] = by
    project = Project(trust=trust, created_by=by, status=Status.PROPOSED, **fields)
    _validate_charter(project)
    project.full_clean()
    _save(project, by=by)
    return project


@transaction.atomic
def project_update(*, by, project: Project, **fields) -> Project:
    """Change the charter. Team members and QI leads may; others get 403, outsiders 404."""
    access.check(by, Permission.PROJECT_EDIT, project=project)
    _check_fields(fields)
    for name, value in fields.items():
        setattr(project, name, value)
    if project.lead_id is None:
        raise ValidationError({"lead": "Choose the project lead."})
    _validate_charter(project)
    project.full_clean()
    _save(project, by=by)
    return project


def allowed_transitions(user, project: Project) -> list[str]:
    """The statuses `user` may move `project` to now (for buttons and the API)."""
    if not access.has_permission(user, Permission.PROJECT_VIEW, project=project):
        return []
    can_edit = access.has_permission(user, Permission.PROJECT_EDIT, project=project)
    can_approve = access.has_permission(user, Permission.PROJECT_APPROVE, project=project)
    result = []
    for to in TRANSITIONS[project.status]:
        if to == Status.APPROVED:
            if can_approve:
                result.append(to)
        elif can_edit:
            result.append(to)
    return result


@transaction.atomic
def project_transition(*, by, project: Project, to: str, reason: str = "") -> Project:
    """Move a project along the workflow; only a QI lead approves a proposed project."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    to = str(to)
    if to not in Status.values:
        raise ValidationError({"status": f"“{to}” is not a project status."})
    if to == Status.APPROVED:
        access.check(by, Permission.PROJECT_APPROVE, project=project)
    else:
        access.check(by, Permission.PROJECT_EDIT, project=project)
    if to not in TRANSITIONS[project.status]:
        current = Status(project.status).label.lower()
        if TRANSITIONS[project.status]:
            options = " or ".join(Status(s).label.lower() for s in TRANSITIONS[project.status])
            hint = f"it can only become {options}"
        else:
            hint = "it is closed"
        raise ValidationError(
            {"status": f"A {current} project cannot become {Status(to).label.lower()}: {hint}."}
        )
    reason = (reason or "").strip()
    if to == Status.STOPPED:
        if not reason:
            raise ValidationError({"reason": "Say why the project is stopping."})
        project.stopped_reason = reason
    project.status = to
    project.full_clean()
    _save(project, by=by)
    return project


@transaction.atomic
def team_member_add(
    *, by, project: Project, user=None, name: str = "", role: str = TeamMember.Role.MEMBER
) -> TeamMember:
    """Add a portal user of the project's trust, or a named patient/carer partner."""
    access.check(by, Permission.PROJECT_EDIT, project=project)
    name = (name or "").strip()
    if user is None and not name:
        raise ValidationError({"user": "Choose a person, or enter the name of a partner."})
    if user is not None and name:
        raise ValidationError({"name": "Choose a person or enter a name, not both."})
    if user is not None:
        if not _is_trust_member(user, project.trust_id):
            raise ValidationError({"user": f"{user} is not a member of {project.trust.name}."})
        if project.team.filter(user=user).exists():
            raise ValidationError({"user": f"{user} is already on the team."})
    member = TeamMember(project=project, user=user, name=name, role=role)
    member.full_clean()
    _save(member, by=by)
    return member


@transaction.atomic
def team_member_remove(*, by, member: TeamMember) -> None:
    access.check(by, Permission.PROJECT_EDIT, project=member.project)
    member._history_user = by
    member.delete()


def _refresh_latest_score(project: Project, *, by) -> None:
    latest = project.progress_scores.order_by("-scored_on", "-id").first()
    project.progress_score = latest.score if latest else None
    project.progress_scored_on = latest.scored_on if latest else None
    project._history_user = by
    project.save(update_fields=["progress_score", "progress_scored_on", "updated_at"])


@transaction.atomic
def progress_score_record(
    *, by, project: Project, score, scored_on: datetime.date, comment: str = ""
) -> ProgressScore:
    """Record an IHI progress score (kept as history); the project shows the latest by date."""
    access.check(by, Permission.PROJECT_EDIT, project=project)
    try:
        score = Decimal(str(score)).quantize(Decimal("0.1"))
    except ArithmeticError:
        score = None
    if score not in PROGRESS_LABELS:
        raise ValidationError({"score": "Choose a score from 0.5 to 5.0, in steps of 0.5."})
    if scored_on is None:
        raise ValidationError({"scored_on": "Enter the date of the score."})
    if scored_on > timezone.localdate():
        raise ValidationError({"scored_on": "The date of the score must be today or earlier."})
    entry = ProgressScore(
        project=project, score=score, scored_on=scored_on, comment=comment or "", recorded_by=by
    )
    entry.full_clean()
    entry.save()
    locked = Project.objects.select_for_update().get(pk=project.pk)
    _refresh_latest_score(locked, by=by)
    project.progress_score = locked.progress_score
    project.progress_scored_on = locked.progress_scored_on
    return entry


def _require(by, perm: Permission, project: Project) -> None:
    if not access.has_permission(by, perm, project=project):
        raise PermissionDenied


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
                    position=next_position(siblings))
    return save_validated(driver, by=by)


@transaction.atomic
def driver_update(*, driver: Driver, text: str, by) -> Driver:
    _require(by, Permission.PROJECT_EDIT, driver.project)
    driver.text = (text or "").strip()
    return save_validated(driver, by=by)


@transaction.atomic
def driver_move(*, driver: Driver, direction: str, by) -> Driver:
    _require(by, Permission.PROJECT_EDIT, driver.project)
    siblings = Driver.objects.filter(project_id=driver.project_id, parent_id=driver.parent_id)
    move(driver, siblings, direction, by=by)
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
    for d in Driver.objects.filter(pk__in=ids):
        d._history_user = by
    driver._history_user = by
    driver.delete()


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
                      position=next_position(ChangeIdea.objects.filter(project=project)))
    save_validated(idea, by=by)
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
    save_validated(change_idea, by=by)
    if drivers is not None:
        change_idea.drivers.set(drivers)
    return change_idea


@transaction.atomic
def change_idea_move(*, change_idea: ChangeIdea, direction: str, by) -> ChangeIdea:
    _require(by, Permission.PROJECT_EDIT, change_idea.project)
    move(change_idea, ChangeIdea.objects.filter(project_id=change_idea.project_id),
         direction, by=by)
    return change_idea


@transaction.atomic
def change_idea_delete(*, change_idea: ChangeIdea, by) -> None:
    _require(by, Permission.PROJECT_EDIT, change_idea.project)
    change_idea._history_user = by
    change_idea.delete()
