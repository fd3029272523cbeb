"""Writes for collaboratives: keyword-only, the actor as `by=`, access asked of
`organisations.access`, `full_clean()` before save, one transaction each, and a dashboard
rebuild asked for on commit (`_touch`). Team measures are created through
`measures.services`, so the measure rules (and the team's own rights) hold there too."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from collaboratives import tasks
from collaboratives.models import (
    Adoption,
    Collaborative,
    Comment,
    Enrolment,
    LearningPost,
    LearningSession,
    PackageIdea,
    PackageTest,
    Participation,
    SharedMeasure,
    SharedMeasureChange,
    Tag,
    TeamReport,
)
from core.models import save_validated
from measures import services as measure_services
from measures.models import Measure
from organisations import access
from organisations.access import Permission as P
from organisations.models import Trust
from projects.models import Project

log = logging.getLogger(__name__)


def _require(by, perm, **context) -> None:
    if not access.has_permission(by, perm, **context):
        raise PermissionDenied


def _touch(collaborative_id: int) -> None:
    """Mark the collaborative changed and rebuild its dashboard after commit. If the broker
    is down the write still stands: `tasks.reconcile` finds the stale snapshot later."""
    Collaborative.objects.filter(pk=collaborative_id).update(changed_at=timezone.now())
    transaction.on_commit(lambda: _enqueue(collaborative_id))


def _enqueue(collaborative_id: int) -> None:
    try:
        tasks.refresh_dashboard.delay(collaborative_id)
    except Exception:  # noqa: BLE001 — broker down: reconcile picks it up
        log.warning("Could not enqueue the dashboard of collaborative %s", collaborative_id)


# ---- the collaborative and its sessions ------------------------------------------------

COLLABORATIVE_FIELDS = ("name", "topic", "aim", "description", "start_date", "end_date",
                        "report_due_day")


def _check_dates(c: Collaborative) -> None:
    if c.start_date and c.end_date and c.end_date < c.start_date:
        raise ValidationError({"end_date": "The end date must be on or after the start date."})


@transaction.atomic
def collaborative_create(*, host_trust: Trust, by, **fields) -> Collaborative:
    """A QI lead or trust administrator of the host trust starts a collaborative and
    becomes its first facilitator."""
    _require(by, P.COLLABORATIVE_CREATE, trust=host_trust)
    unknown = set(fields) - set(COLLABORATIVE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    c = Collaborative(host_trust=host_trust, created_by=by, **fields)
    _check_dates(c)
    save_validated(c, by=by)
    c.facilitators.add(by)
    access.forget_standing(c)
    _touch(c.pk)
    return c


@transaction.atomic
def collaborative_update(*, collaborative: Collaborative, by, **fields) -> Collaborative:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=collaborative)
    unknown = set(fields) - set(COLLABORATIVE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(collaborative, name, value)
    _check_dates(collaborative)
    save_validated(collaborative, by=by)
    _touch(collaborative.pk)
    return collaborative


@transaction.atomic
def facilitator_add(*, collaborative: Collaborative, user, by) -> None:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=collaborative)
    if not user.is_active:
        raise ValidationError({"user": "That person's account is not active."})
    collaborative.facilitators.add(user)
    access.forget_standing(collaborative)


@transaction.atomic
def facilitator_remove(*, collaborative: Collaborative, user, by) -> None:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=collaborative)
    if collaborative.facilitators.exclude(pk=user.pk).count() == 0:
        raise ValidationError({"user": "A collaborative needs at least one facilitator."})
    collaborative.facilitators.remove(user)
    access.forget_standing(collaborative)


SESSION_FIELDS = ("title", "date", "online", "place", "agenda", "materials_url")


def _check_session(s: LearningSession) -> None:
    c = s.collaborative
    if s.date and not (c.start_date <= s.date <= c.end_date):
        raise ValidationError({"date": f"Choose a date while the collaborative runs: "
                                       f"{c.start_date:%-d %B %Y} to {c.end_date:%-d %B %Y}."})
    if not s.online and not s.place.strip():
        raise ValidationError({"place": "Say where the session is held, or tick online."})


@transaction.atomic
def session_create(*, collaborative: Collaborative, by, **fields) -> LearningSession:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=collaborative)
    session = LearningSession(collaborative=collaborative, **fields)
    _check_session(session)
    return save_validated(session, by=by)


@transaction.atomic
def session_update(*, session: LearningSession, by, **fields) -> LearningSession:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=session.collaborative)
    for name, value in fields.items():
        if name not in SESSION_FIELDS:
            raise TypeError(f"unknown field {name}")
        setattr(session, name, value)
    _check_session(session)
    return save_validated(session, by=by)


@transaction.atomic
def session_delete(*, session: LearningSession, by) -> None:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=session.collaborative)
    session._history_user = by
    session.delete()


def action_periods(sessions) -> list[dict]:
    """The action periods: the gaps between consecutive learning sessions."""
    ordered = sorted(sessions, key=lambda s: s.date)
    out = []
    for before, after in zip(ordered, ordered[1:], strict=False):
        out.append({"after": before, "before": after,
                    "start": before.date + dt.timedelta(days=1),
                    "end": after.date - dt.timedelta(days=1),
                    "weeks": max((after.date - before.date).days // 7, 0)})
    return out


# ---- membership: trusts and their teams -------------------------------------------------


@transaction.atomic
def trust_invite(*, collaborative: Collaborative, trust: Trust, by,
                 base_url: str = "") -> Participation:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=collaborative)
    part = Participation.objects.select_for_update().filter(
        collaborative=collaborative, trust=trust).first()
    if part is None:
        part = Participation(collaborative=collaborative, trust=trust, invited_by=by)
    elif part.status in (Participation.Status.INVITED, Participation.Status.ACCEPTED):
        raise ValidationError({"trust": f"{trust.name} is already invited or taking part."})
    else:  # declined or left before: invite again
        part.status = Participation.Status.INVITED
        part.invited_by = by
        part.responded_by = None
        part.responded_at = None
    save_validated(part, by=by)
    collaborative_id, trust_id = collaborative.pk, trust.pk
    transaction.on_commit(lambda: _tell_invited_trust(collaborative_id, trust_id, base_url))
    return part


def _tell_invited_trust(collaborative_id: int, trust_id: int, base_url: str) -> None:
    """Email the invited trust's QI leads and administrators (access decides who answers
    for it): the invitation otherwise waits unseen. A mail server that is down does not
    undo the invitation; the banner on their home page still says it."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

    c = Collaborative.objects.select_related("host_trust").get(pk=collaborative_id)
    trust = Trust.objects.get(pk=trust_id)
    link = base_url.rstrip("/") + reverse("collaboratives:detail", args=[c.pk])
    for person in access.people_answering_for(trust):
        if not person.email:
            continue
        context = {"person": person, "trust": trust, "collaborative": c, "link": link}
        try:
            send_mail(render_to_string("collaboratives/invite_subject.txt", context).strip(),
                      render_to_string("collaboratives/invite_email.txt", context),
                      settings.DEFAULT_FROM_EMAIL, [person.email])
        except Exception:  # noqa: BLE001 — the invitation stands; the banner shows it
            log.warning("Could not email user %s about collaborative %s", person.pk, c.pk)


def _respond(part: Participation, status: str, by) -> Participation:
    _require(by, P.COLLABORATIVE_RESPOND, collaborative=part.collaborative, trust=part.trust_id)
    part.status = status
    part.responded_by = by
    part.responded_at = timezone.now()
    save_validated(part, by=by)
    access.forget_standing(part.collaborative)
    _touch(part.collaborative_id)
    return part


@transaction.atomic
def invitation_accept(*, participation: Participation, by) -> Participation:
    if participation.status != Participation.Status.INVITED:
        raise ValidationError("This invitation has already been answered.")
    return _respond(participation, Participation.Status.ACCEPTED, by)


@transaction.atomic
def invitation_decline(*, participation: Participation, by) -> Participation:
    if participation.status != Participation.Status.INVITED:
        raise ValidationError("This invitation has already been answered.")
    return _respond(participation, Participation.Status.DECLINED, by)


@transaction.atomic
def trust_leave(*, participation: Participation, by) -> Participation:
    """The trust leaves: its teams leave too. Their data stay with the trust."""
    if participation.status != Participation.Status.ACCEPTED:
        raise ValidationError("This trust is not taking part.")
    _respond(participation, Participation.Status.LEFT, by)
    now = timezone.now()
    Enrolment.objects.filter(
        collaborative=participation.collaborative, project__trust=participation.trust,
        status__in=[Enrolment.Status.PENDING, Enrolment.Status.APPROVED],
    ).update(status=Enrolment.Status.LEFT, left_at=now)
    return participation


@transaction.atomic
def enrolment_request(*, collaborative: Collaborative, project: Project, by) -> Enrolment:
    """The trust's QI lead (or administrator) enrols one of its projects as a team."""
    _require(by, P.COLLABORATIVE_ENROL, collaborative=collaborative, trust=project.trust_id)
    if project.status in (Project.Status.COMPLETED, Project.Status.STOPPED):
        raise ValidationError({"project": "Choose a project that is still running."})
    enrolment = Enrolment.objects.select_for_update().filter(
        collaborative=collaborative, project=project).first()
    if enrolment is None:
        enrolment = Enrolment(collaborative=collaborative, project=project, requested_by=by)
    elif enrolment.status in (Enrolment.Status.PENDING, Enrolment.Status.APPROVED):
        raise ValidationError({"project": "This project is already enrolled or waiting."})
    else:
        enrolment.status = Enrolment.Status.PENDING
        enrolment.requested_by = by
        enrolment.decided_by = None
        enrolment.decided_at = None
        enrolment.left_at = None
    save_validated(enrolment, by=by)
    return enrolment


def _decide(enrolment: Enrolment, status: str, by) -> Enrolment:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=enrolment.collaborative)
    if enrolment.status != Enrolment.Status.PENDING:
        raise ValidationError("This enrolment has already been decided.")
    enrolment.status = status
    enrolment.decided_by = by
    enrolment.decided_at = timezone.now()
    save_validated(enrolment, by=by)
    _touch(enrolment.collaborative_id)
    return enrolment


@transaction.atomic
def enrolment_approve(*, enrolment: Enrolment, by) -> Enrolment:
    return _decide(enrolment, Enrolment.Status.APPROVED, by)


@transaction.atomic
def enrolment_refuse(*, enrolment: Enrolment, by) -> Enrolment:
    return _decide(enrolment, Enrolment.Status.REFUSED, by)


def may_act_for_team(user, enrolment: Enrolment) -> bool:
    """The team's own people (who may edit the project) act for it."""
    return access.has_permission(user, P.PROJECT_EDIT, project=enrolment.project)


@transaction.atomic
def enrolment_leave(*, enrolment: Enrolment, by) -> Enrolment:
    """A team leaves. Its project, measures and data stay with its trust; its adopted
    measures are no longer shown to the collaborative."""
    if not (may_act_for_team(by, enrolment)
            or access.has_permission(by, P.COLLABORATIVE_MANAGE,
                                     collaborative=enrolment.collaborative)):
        raise PermissionDenied
    if enrolment.status not in (Enrolment.Status.PENDING, Enrolment.Status.APPROVED):
        raise ValidationError("This team is not in the collaborative.")
    enrolment.status = Enrolment.Status.LEFT
    enrolment.left_at = timezone.now()
    save_validated(enrolment, by=by)
    _touch(enrolment.collaborative_id)
    return enrolment


# ---- shared measures -------------------------------------------------------------------

SHARED_FIELDS = ("name", "kind", "definition", "numerator", "denominator", "unit_label",
                 "chart", "direction", "frequency", "target")


def _check_shared(sm: SharedMeasure) -> None:
    by_event = sm.chart in (Measure.Chart.G, Measure.Chart.T)
    if by_event != (sm.frequency == Measure.Frequency.EVENT):
        raise ValidationError({"frequency": "G and T charts record each event by its date "
                                            "(choose “Each event”); other charts need a "
                                            "period."})
    if sm.chart in (Measure.Chart.P, Measure.Chart.U) and not (
            sm.numerator.strip() and sm.denominator.strip()):
        raise ValidationError({"numerator": "P and U charts need a numerator and a "
                                            "denominator: say what each counts."})


def _field_text(sm: SharedMeasure, name: str) -> str:
    value = getattr(sm, name)
    field = SharedMeasure._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return "(blank)" if value in (None, "") else str(value)


@transaction.atomic
def shared_measure_create(*, collaborative: Collaborative, by, **fields) -> SharedMeasure:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=collaborative)
    unknown = set(fields) - set(SHARED_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    sm = SharedMeasure(collaborative=collaborative, **fields)
    _check_shared(sm)
    save_validated(sm, by=by)
    _touch(collaborative.pk)
    return sm


@transaction.atomic
def shared_measure_update(*, shared_measure: SharedMeasure, by, **fields) -> SharedMeasure:
    """Change the shared definition and record, in words, what changed for the teams."""
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=shared_measure.collaborative)
    unknown = set(fields) - set(SHARED_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    before = {name: _field_text(shared_measure, name) for name in SHARED_FIELDS}
    for name, value in fields.items():
        setattr(shared_measure, name, value)
    _check_shared(shared_measure)
    changes = []
    for name in SHARED_FIELDS:
        after = _field_text(shared_measure, name)
        if after != before[name]:
            label = SharedMeasure._meta.get_field(name).verbose_name
            changes.append(f"{label.capitalize()}: “{before[name]}” → “{after}”")
    if not changes:
        return shared_measure
    shared_measure.version += 1
    save_validated(shared_measure, by=by)
    SharedMeasureChange.objects.create(
        shared_measure=shared_measure, version=shared_measure.version,
        summary="\n".join(changes), changed_by=by,
    )
    _touch(shared_measure.collaborative_id)
    return shared_measure


def _measure_fields(sm: SharedMeasure) -> dict:
    definition = sm.definition
    if sm.numerator or sm.denominator:
        definition += f"\nNumerator: {sm.numerator}\nDenominator: {sm.denominator}"
    return {"name": sm.name, "kind": sm.kind, "definition": definition,
            "unit_label": sm.unit_label, "frequency": sm.frequency, "chart": sm.chart,
            "direction": sm.direction, "target": sm.target}


@transaction.atomic
def shared_measure_adopt(*, shared_measure: SharedMeasure, enrolment: Enrolment, by) -> Adoption:
    """An enrolled team adopts a shared definition: a linked measure in its own project,
    made by measures.services as the team member (the project's own rules hold)."""
    if enrolment.collaborative_id != shared_measure.collaborative_id:
        raise ValidationError("That measure belongs to another collaborative.")
    if not may_act_for_team(by, enrolment):
        raise PermissionDenied
    if enrolment.status != Enrolment.Status.APPROVED:
        raise ValidationError("Only an enrolled team can adopt shared measures.")
    if Adoption.objects.filter(shared_measure=shared_measure, enrolment=enrolment).exists():
        raise ValidationError("Your team has adopted this measure already.")
    measure = measure_services.measure_create(
        project=enrolment.project, by=by, **_measure_fields(shared_measure))
    adoption = Adoption.objects.create(
        shared_measure=shared_measure, enrolment=enrolment, measure=measure,
        version=shared_measure.version, adopted_by=by)
    _touch(enrolment.collaborative_id)
    return adoption


@transaction.atomic
def adoption_follow(*, adoption: Adoption, by) -> Adoption:
    """The team takes the shared definition's latest version into its own measure."""
    if not may_act_for_team(by, adoption.enrolment):
        raise PermissionDenied
    sm = adoption.shared_measure
    measure_services.measure_update(measure=adoption.measure, by=by, **_measure_fields(sm))
    adoption.version = sm.version
    adoption.save(update_fields=["version"])
    _touch(adoption.enrolment.collaborative_id)
    return adoption


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    first = month_start(day)
    return month_start(first - dt.timedelta(days=1))


def last_due_month(collaborative: Collaborative, today: dt.date) -> dt.date | None:
    """The latest month whose due date has passed, within the collaborative's run."""
    month = previous_month(today)
    if collaborative.due_date(month) >= today:
        month = previous_month(month)
    if month < month_start(collaborative.start_date):
        return None
    return min(month, month_start(collaborative.end_date))


# ---- monthly team reports ----------------------------------------------------------------

REPORT_FIELDS = ("score", "tested", "learned", "help_needed")


@transaction.atomic
def team_report_submit(*, enrolment: Enrolment, month: dt.date, by, **fields) -> TeamReport:
    """The team's report for `month` (created, or changed until the faculty assesses it)."""
    if not may_act_for_team(by, enrolment):
        raise PermissionDenied
    if enrolment.status != Enrolment.Status.APPROVED:
        raise ValidationError("Only an enrolled team can report.")
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    month = month_start(month)
    if month > month_start(timezone.localdate()):
        raise ValidationError({"month": "You cannot report on a month that has not started."})
    report = TeamReport.objects.select_for_update().filter(
        enrolment=enrolment, month=month).first()
    if report is None:
        report = TeamReport(enrolment=enrolment, month=month)
    elif report.assessed_at is not None:
        raise ValidationError({"month": "The faculty has assessed this month's report: it can "
                                        "no longer be changed."})
    for name, value in fields.items():
        setattr(report, name, value)
    report.submitted_by = by
    save_validated(report, by=by)
    _touch(enrolment.collaborative_id)
    return report


@transaction.atomic
def team_report_assess(*, report: TeamReport, by, faculty_score, faculty_comment="") -> TeamReport:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=report.enrolment.collaborative)
    report.faculty_score = faculty_score
    report.faculty_comment = faculty_comment
    report.assessed_by = by
    report.assessed_at = timezone.now()
    save_validated(report, by=by)
    _touch(report.enrolment.collaborative_id)
    return report


# ---- shared learning ---------------------------------------------------------------------


def _tags(collaborative: Collaborative, names) -> list[Tag]:
    out = []
    for raw in names:
        name = raw.strip().lower()[:50]
        if not name:
            continue
        tag = Tag.objects.filter(collaborative=collaborative, name=name).first()
        if tag is None:
            tag = Tag(collaborative=collaborative, name=name)
            tag.full_clean()
            tag.save()
        out.append(tag)
    return out


def parse_tags(text: str) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


@transaction.atomic
def post_create(*, collaborative: Collaborative, by, title: str, body: str, tags=(),
                enrolment: Enrolment | None = None, cycle=None) -> LearningPost:
    _require(by, P.COLLABORATIVE_POST, collaborative=collaborative)
    if enrolment is not None:
        if enrolment.collaborative_id != collaborative.pk or \
                enrolment.status != Enrolment.Status.APPROVED:
            raise ValidationError({"enrolment": "Choose one of this collaborative's teams."})
        if not may_act_for_team(by, enrolment):
            raise ValidationError({"enrolment": "You can only post for a team you are on."})
    if cycle is not None:
        # Shared only by someone who may read the cycle, from an enrolled team's project.
        if not access.has_permission(by, P.PDSA_VIEW, project=cycle.change_idea.project):
            raise PermissionDenied
        if enrolment is None or cycle.change_idea.project_id != enrolment.project_id:
            raise ValidationError({"cycle": "Share a cycle from your team's project."})
    post = LearningPost(collaborative=collaborative, author=by, title=title, body=body,
                        enrolment=enrolment, cycle=cycle)
    save_validated(post, by=by)
    post.tags.set(_tags(collaborative, tags))
    return post


@transaction.atomic
def comment_create(*, post: LearningPost, by, body: str) -> Comment:
    _require(by, P.COLLABORATIVE_POST, collaborative=post.collaborative)
    comment = Comment(post=post, author=by, body=body)
    return save_validated(comment, by=by)


def cycle_post_text(cycle) -> dict:
    """A post prefilled from a PDSA cycle's Study and Act."""
    parts = []
    if cycle.results.strip():
        parts.append(f"Results: {cycle.results.strip()}")
    if cycle.learning.strip():
        parts.append(f"What we learned: {cycle.learning.strip()}")
    if cycle.decision:
        decision = f"Decision: {cycle.get_decision_display()}"
        if cycle.next_steps.strip():
            decision += f". Next: {cycle.next_steps.strip()}"
        parts.append(decision)
    return {"title": f"{cycle.change_idea.text} (PDSA cycle {cycle.number})"[:200],
            "body": "\n\n".join(parts)}


# ---- change package ------------------------------------------------------------------------


@transaction.atomic
def package_idea_create(*, collaborative: Collaborative, by, title: str, description: str = "",
                        shared_measure: SharedMeasure | None = None) -> PackageIdea:
    _require(by, P.COLLABORATIVE_MANAGE, collaborative=collaborative)
    if shared_measure is not None and shared_measure.collaborative_id != collaborative.pk:
        raise ValidationError({"shared_measure": "Choose one of this collaborative's shared "
                                                 "measures."})
    idea = PackageIdea(collaborative=collaborative, title=title, description=description,
                       shared_measure=shared_measure)
    return save_validated(idea, by=by)


@transaction.atomic
def package_test_link(*, idea: PackageIdea, enrolment: Enrolment, cycle, by) -> PackageTest:
    """A team links one of its PDSA cycles to a change idea of the package, sharing the
    cycle's decision and dates with the collaborative."""
    if enrolment.collaborative_id != idea.collaborative_id:
        raise ValidationError({"idea": "That change idea belongs to another collaborative."})
    if not access.has_permission(by, P.PDSA_EDIT, project=enrolment.project):
        raise PermissionDenied
    if enrolment.status != Enrolment.Status.APPROVED:
        raise ValidationError("Only an enrolled team can link its cycles.")
    if cycle.change_idea.project_id != enrolment.project_id:
        raise ValidationError({"cycle": "Choose a PDSA cycle of your team's project."})
    if PackageTest.objects.filter(idea=idea, cycle=cycle).exists():
        raise ValidationError({"cycle": "That cycle is linked to this change idea already."})
    return PackageTest.objects.create(idea=idea, enrolment=enrolment, cycle=cycle, linked_by=by)
