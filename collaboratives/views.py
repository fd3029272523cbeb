"""Collaborative pages. Thin: parse, fetch-and-check in one step (outsider 404, member
without the right 403), call a service or selector, render. Forms post back to the same
URL and redirect; every page works without JavaScript.

Members of a collaborative see its shared measures and each team's data for those measures
only: nothing here links to a project, measure or PDSA page unless access says the viewer
may open it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from collaboratives import dashboard, selectors, services, tasks
from collaboratives.forms import (
    AssessForm,
    CollaborativeForm,
    CommentForm,
    EnrolForm,
    FacilitatorForm,
    InviteForm,
    PackageIdeaForm,
    PackageLinkForm,
    PostForm,
    SessionForm,
    SharedMeasureForm,
    TeamReportForm,
    month_choices,
)
from collaboratives.models import (
    Collaborative,
    DashboardSnapshot,
    Enrolment,
    LearningSession,
    Participation,
    SharedMeasure,
    Tag,
    TeamReport,
)
from core.views import add_errors, form_args
from measures.imports import FORMULA_STARTS
from organisations import access
from organisations.access import Permission as P
from organisations.models import Trust
from pdsa.models import Cycle

HOME = ("Home", "/")


def _list_crumb():
    return ("Collaboratives", reverse("collaboratives:list"))


def _crumbs(c: Collaborative | None, *rest):
    out = [HOME, _list_crumb()]
    if c is not None:
        out.append((c.name, c.get_absolute_url()))
    return out + list(rest)


def collaborative_for(request, pk, perm=P.COLLABORATIVE_VIEW) -> Collaborative:
    """The collaborative with the access check: outsider 404, member without `perm` 403."""
    c = get_object_or_404(Collaborative.objects.select_related("host_trust"), pk=pk)
    access.check(request.user, perm, collaborative=c)
    return c


def _team_for(request, c, eid) -> Enrolment:
    return get_object_or_404(
        Enrolment.objects.select_related("project__trust", "collaborative"),
        pk=eid, collaborative=c)


def _can(user, perm, c, **kw) -> bool:
    return access.has_permission(user, perm, collaborative=c, **kw)


# ---- list, create, detail, edit -------------------------------------------------------------


@login_required
def collaborative_list(request):
    user = request.user
    items = selectors.collaboratives_visible_to(user).order_by("-start_date", "name")
    host_ids = access.collaborative_host_trust_ids(user)
    return render(request, "collaboratives/list.html", {
        "collaboratives": Paginator(items, 25).get_page(request.GET.get("page")),
        "can_create": host_ids is None or bool(host_ids),
        "crumbs": [HOME, ("Collaboratives", None)],
    })


def _host_trusts(user):
    ids = access.collaborative_host_trust_ids(user)
    qs = Trust.objects.order_by("name")
    return qs if ids is None else qs.filter(pk__in=ids)


COLLAB_DATA = services.COLLABORATIVE_FIELDS


@login_required
def collaborative_create(request):
    trusts = _host_trusts(request.user)
    if not trusts.exists():
        raise PermissionDenied
    form = CollaborativeForm(*form_args(request), host_trusts=trusts)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in COLLAB_DATA}
        try:
            c = services.collaborative_create(host_trust=form.cleaned_data["host_trust"],
                                              by=request.user, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"‘{c.name}’ created. You are its first facilitator: "
                                      "add learning sessions, shared measures and invite trusts.")
            return redirect(c)
    return render(request, "collaboratives/form.html", {
        "form": form, "title": "Start a collaborative",
        "crumbs": _crumbs(None, ("Start a collaborative", None)),
    })


@login_required
def collaborative_edit(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    form = CollaborativeForm(*form_args(request), instance=Collaborative.objects.get(pk=c.pk))
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in COLLAB_DATA}
        try:
            services.collaborative_update(collaborative=c, by=request.user, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Changes saved.")
            return redirect(c)
    return render(request, "collaboratives/form.html", {
        "form": form, "title": "Change the collaborative", "collaborative": c,
        "crumbs": _crumbs(c, ("Change", None)),
    })


@login_required
def collaborative_detail(request, pk):
    c = collaborative_for(request, pk)
    user = request.user
    today = timezone.localdate()
    ctx = selectors.collaborative_page(c)
    can_manage = _can(user, P.COLLABORATIVE_MANAGE, c)
    can_read = _can(user, P.COLLABORATIVE_DATA_VIEW, c)
    answers_for = access.trust_ids_answered_by(user)
    my_invitations = [p for p in ctx["participations"]
                      if p.status == Participation.Status.INVITED
                      and _can(user, P.COLLABORATIVE_RESPOND, c, trust=p.trust_id)]
    my_parts = [p for p in ctx["participations"]
                if p.status == Participation.Status.ACCEPTED and p.trust_id in answers_for
                and _can(user, P.COLLABORATIVE_RESPOND, c, trust=p.trust_id)]
    can_enrol = any(_can(user, P.COLLABORATIVE_ENROL, c, trust=p.trust_id)
                    for p in ctx["participations"] if p.status == Participation.Status.ACCEPTED)
    teams = [e for e in ctx["enrolments"] if e.status == Enrolment.Status.APPROVED]
    pending = [e for e in ctx["enrolments"] if e.status == Enrolment.Status.PENDING]
    # The user's own teams: those whose project they may edit (asked only for enrolled ones).
    my_teams = selectors.teams_of(user, teams) if can_read else []
    return render(request, "collaboratives/detail.html", {
        "collaborative": c, **ctx,
        "teams": teams, "pending": pending, "my_teams": my_teams,
        "can_manage": can_manage, "can_read": can_read, "can_enrol": can_enrol,
        "my_invitations": my_invitations, "my_participations": my_parts,
        "late": selectors.late_teams(c, today) if can_manage else None,
        "today": today,
        "crumbs": _crumbs(None, (c.name, None)),
    })


@login_required
def facilitator_add(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    form = FacilitatorForm(*form_args(request))
    if request.method == "POST" and form.is_valid():
        user = get_user_model().objects.filter(
            email__iexact=form.cleaned_data["email"], is_active=True).first()
        if user is None:
            form.add_error("email", "No active QI Portal account has that email address.")
        else:
            services.facilitator_add(collaborative=c, user=user, by=request.user)
            messages.success(request, f"{user} is now a facilitator.")
            return redirect(c)
    return render(request, "collaboratives/simple_form.html", {
        "form": form, "collaborative": c, "title": "Add a facilitator", "button": "Add",
        "crumbs": _crumbs(c, ("Add a facilitator", None)),
    })


# ---- learning sessions ------------------------------------------------------------------------


def _session_page(request, c, form, session=None):
    title = "Change the learning session" if session else "Add a learning session"
    return render(request, "collaboratives/simple_form.html", {
        "form": form, "collaborative": c, "title": title,
        "button": "Save session", "crumbs": _crumbs(c, (title, None)),
    })


@login_required
def session_create(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    form = SessionForm(*form_args(request))
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(collaborative=c, by=request.user,
                                               **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Learning session ‘{session.title}’ added.")
            return redirect(c)
    return _session_page(request, c, form)


@login_required
def session_edit(request, pk, sid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    session = get_object_or_404(LearningSession, pk=sid, collaborative=c)
    form = SessionForm(*form_args(request), instance=LearningSession.objects.get(pk=sid))
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(session=session, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Learning session saved.")
            return redirect(c)
    return _session_page(request, c, form, session)


# ---- trusts: invite, answer, leave ---------------------------------------------------------


@login_required
def trust_invite(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    busy = c.participations.filter(status__in=[Participation.Status.INVITED,
                                               Participation.Status.ACCEPTED])
    trusts = Trust.objects.exclude(pk__in=busy.values("trust_id")).order_by("name")
    if not trusts.exists():  # an empty list to choose from would say nothing
        return render(request, "collaboratives/invite_none.html", {
            "collaborative": c, "crumbs": _crumbs(c, ("Invite a trust", None))})
    form = InviteForm(*form_args(request), trusts=trusts)
    if request.method == "POST" and form.is_valid():
        try:
            part = services.trust_invite(collaborative=c, trust=form.cleaned_data["trust"],
                                         by=request.user,
                                         base_url=request.build_absolute_uri("/"))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{part.trust.name} invited. Its QI lead or trust "
                                      "administrator can now accept.")
            return redirect(c)
    return render(request, "collaboratives/simple_form.html", {
        "form": form, "collaborative": c, "title": "Invite a trust", "button": "Invite",
        "crumbs": _crumbs(c, ("Invite a trust", None)),
    })


@login_required
@require_POST
def invitation_respond(request, pk, part_id):
    c = collaborative_for(request, pk)
    part = get_object_or_404(Participation.objects.select_related("trust"), pk=part_id,
                             collaborative=c)
    if not _can(request.user, P.COLLABORATIVE_RESPOND, c, trust=part.trust_id):
        raise PermissionDenied
    answer = request.POST.get("answer")
    actions = {"accept": services.invitation_accept, "decline": services.invitation_decline,
               "leave": services.trust_leave}
    if answer not in actions:
        messages.error(request, "Choose accept, decline or leave.")
        return redirect(c)
    try:
        actions[answer](participation=part, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, {
            "accept": f"{part.trust.name} is taking part. Enrol your projects as teams.",
            "decline": "Invitation declined.",
            "leave": f"{part.trust.name} has left. Its projects and data stay with the trust.",
        }[answer])
    return redirect(c)


# ---- teams: enrol, decide, leave ----------------------------------------------------------


@login_required
def enrol(request, pk):
    c = collaborative_for(request, pk)
    projects = selectors.projects_enrollable(request.user, c)
    if not any(_can(request.user, P.COLLABORATIVE_ENROL, c, trust=p.trust_id)
               for p in c.participations.filter(status=Participation.Status.ACCEPTED)):
        raise PermissionDenied
    form = EnrolForm(*form_args(request), projects=projects)
    if request.method == "POST" and form.is_valid():
        try:
            e = services.enrolment_request(collaborative=c, project=form.cleaned_data["project"],
                                           by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"‘{e.project.title}’ enrolled. A facilitator will "
                                      "approve it.")
            return redirect(c)
    return render(request, "collaboratives/simple_form.html", {
        "form": form, "collaborative": c, "title": "Enrol a project as a team",
        "button": "Enrol", "crumbs": _crumbs(c, ("Enrol a project", None)),
        "empty": None if projects.exists() else "None of your trust's running projects can be "
                                                 "enrolled: they are all in already.",
    })


@login_required
@require_POST
def enrolment_decide(request, pk, eid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    e = _team_for(request, c, eid)
    try:
        if request.POST.get("decision") == "approve":
            services.enrolment_approve(enrolment=e, by=request.user)
            messages.success(request, f"{e.team_name} is now a team of the collaborative.")
        else:
            services.enrolment_refuse(enrolment=e, by=request.user)
            messages.success(request, f"{e.team_name} was not approved.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(c)


def _team_url(c, e):
    return reverse("collaboratives:team", args=[c.pk, e.pk])


@login_required
def team_detail(request, pk, eid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    e = _team_for(request, c, eid)
    if e.status != Enrolment.Status.APPROVED:
        # Waiting, refused or left: the team's data are its trust's alone.
        raise Http404
    user = request.user
    is_team = services.may_act_for_team(user, e)
    ctx = selectors.team_page(e)
    cycles = []
    if is_team:
        cycles = list(Cycle.objects.filter(change_idea__project=e.project)
                      .exclude(learning="", results="").select_related("change_idea")
                      .order_by("-updated_at")[:10])
    return render(request, "collaboratives/team.html", {
        "collaborative": c, "team": e, **ctx,
        "is_team": is_team,
        "can_manage": _can(user, P.COLLABORATIVE_MANAGE, c),
        "can_open_project": access.has_permission(user, P.PROJECT_VIEW, project=e.project),
        "owes": selectors.team_owes(c, e, timezone.localdate()) if is_team or
        _can(user, P.COLLABORATIVE_MANAGE, c) else [],
        "cycles": cycles,
        "crumbs": _crumbs(c, (e.team_name, None)),
    })


@login_required
@require_POST
def team_leave(request, pk, eid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    e = _team_for(request, c, eid)
    try:
        services.enrolment_leave(enrolment=e, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{e.team_name} has left the collaborative. Its project and "
                                  "data stay with its trust.")
    return redirect(c)


@login_required
@require_POST
def team_adopt(request, pk, eid, smid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    e = _team_for(request, c, eid)
    sm = get_object_or_404(SharedMeasure, pk=smid, collaborative=c)
    try:
        services.shared_measure_adopt(shared_measure=sm, enrolment=e, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"‘{sm.name}’ added to your project’s measures. Enter its "
                                  "data there each month.")
    return redirect(_team_url(c, e))


@login_required
@require_POST
def team_follow(request, pk, eid, aid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    e = _team_for(request, c, eid)
    adoption = get_object_or_404(e.adoptions.select_related("shared_measure", "measure"),
                                 pk=aid)
    try:
        services.adoption_follow(adoption=adoption, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Your measure now follows the latest shared definition.")
    return redirect(_team_url(c, e))


# ---- monthly team reports ----------------------------------------------------------------


@login_required
def team_report(request, pk, eid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    e = _team_for(request, c, eid)
    if not services.may_act_for_team(request.user, e):
        raise PermissionDenied
    today = timezone.localdate()
    months = month_choices(c.start_date, min(c.end_date, today))
    if not months:
        messages.error(request, "The collaborative has not started yet: there is no month to "
                                "report on.")
        return redirect(_team_url(c, e))
    # The last month that has ended: this month is still going, so its report would be
    # written before its data is in. This month only when it is the first there is.
    ended = [value for value, _ in months if value < today.strftime("%Y-%m")]
    initial_month = request.GET.get("month") or (ended or [months[0][0]])[0]
    existing = None
    try:
        when = dt.datetime.strptime(initial_month, "%Y-%m").date()
        existing = e.reports.filter(month=when).first()
    except ValueError:
        initial_month = months[0][0]
    form = TeamReportForm(*form_args(request), months=months, instance=existing,
                          initial={"month": initial_month})
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.REPORT_FIELDS}
        try:
            services.team_report_submit(enrolment=e, month=form.cleaned_data["month"],
                                        by=request.user, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Monthly report sent to the faculty.")
            return redirect(_team_url(c, e))
    return render(request, "collaboratives/report_form.html", {
        "form": form, "collaborative": c, "team": e,
        "crumbs": _crumbs(c, (e.team_name, _team_url(c, e)), ("Monthly report", None)),
    })


@login_required
def report_assess(request, pk, rid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    report = get_object_or_404(TeamReport.objects.select_related("enrolment__project__trust"),
                               pk=rid, enrolment__collaborative=c)
    form = AssessForm(*form_args(request), initial={
        "faculty_score": report.faculty_score or report.score,
        "faculty_comment": report.faculty_comment})
    if request.method == "POST" and form.is_valid():
        try:
            services.team_report_assess(report=report, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Assessment saved.")
            return redirect(_team_url(c, report.enrolment))
    return render(request, "collaboratives/assess.html", {
        "form": form, "collaborative": c, "report": report,
        "crumbs": _crumbs(c, (report.enrolment.team_name, _team_url(c, report.enrolment)),
                          ("Assess", None)),
    })


# ---- shared measures --------------------------------------------------------------------


@login_required
def shared_measure_create(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    form = SharedMeasureForm(*form_args(request))
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.SHARED_FIELDS}
        try:
            sm = services.shared_measure_create(collaborative=c, by=request.user, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"Shared measure ‘{sm.name}’ added. Each team adopts it "
                                      "from its team page.")
            return redirect(c)
    return render(request, "collaboratives/shared_measure_form.html", {
        "form": form, "collaborative": c, "title": "Add a shared measure",
        "crumbs": _crumbs(c, ("Add a shared measure", None)),
    })


@login_required
def shared_measure_detail(request, pk, smid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    sm = get_object_or_404(SharedMeasure, pk=smid, collaborative=c)
    adoptions = list(sm.adoptions.filter(enrolment__status=Enrolment.Status.APPROVED)
                     .select_related("enrolment__project__trust"))
    return render(request, "collaboratives/shared_measure.html", {
        "collaborative": c, "sm": sm, "changes": list(sm.changes.select_related("changed_by")),
        "adoptions": adoptions,
        "can_manage": _can(request.user, P.COLLABORATIVE_MANAGE, c),
        "crumbs": _crumbs(c, (sm.name, None)),
    })


@login_required
def shared_measure_edit(request, pk, smid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    sm = get_object_or_404(SharedMeasure, pk=smid, collaborative=c)
    form = SharedMeasureForm(*form_args(request), instance=SharedMeasure.objects.get(pk=sm.pk))
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.SHARED_FIELDS}
        try:
            services.shared_measure_update(shared_measure=sm, by=request.user, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Shared definition saved. Teams see what changed on "
                                      "their team page.")
            return redirect("collaboratives:shared_measure", pk=c.pk, smid=sm.pk)
    return render(request, "collaboratives/shared_measure_form.html", {
        "form": form, "collaborative": c, "title": "Change the shared definition", "sm": sm,
        "crumbs": _crumbs(c, (sm.name, reverse("collaboratives:shared_measure",
                                               args=[c.pk, sm.pk])), ("Change", None)),
    })


# ---- dashboard and downloads -----------------------------------------------------------------


def _snapshot(c) -> DashboardSnapshot | None:
    """The stored dashboard. When it is older than the data, ask for a rebuild: with a
    worker it arrives on the next visit; in the embedded mode (eager tasks) it is now."""
    snap = DashboardSnapshot.objects.filter(collaborative=c).first()
    if dashboard.is_stale(c.pk, snap):
        try:
            tasks.refresh_dashboard.delay(c.pk)
        except Exception:  # noqa: BLE001 — broker down: reconcile retries; show what we have
            return snap
        snap = DashboardSnapshot.objects.filter(collaborative=c).first()
    return snap


@login_required
def dashboard_page(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    snap = _snapshot(c)
    data = snap.data if snap else {}
    measures = data.get("measures", [])
    chosen = None
    wanted = request.GET.get("measure")
    for m in measures:
        if str(m["id"]) == wanted:
            chosen = m
    if chosen is None and measures:
        chosen = measures[0]
    progress = data.get("progress", [])
    return render(request, "collaboratives/dashboard.html", {
        "collaborative": c, "snapshot": snap, "data": data, "measures": measures,
        "measure": chosen, "progress": progress, "scores": data.get("scores", []),
        "score_labels": list(zip(data.get("scores", []), data.get("score_labels", []),
                                 strict=False)),
        "completeness": data.get("completeness", []),
        "crumbs": _crumbs(c, ("Dashboard", None)),
    })


def _safe(cell):
    """Text a spreadsheet would run as a formula stays text (measures.imports' rule)."""
    if isinstance(cell, str) and cell[:1] in FORMULA_STARTS:
        return "'" + cell
    return "" if cell is None else cell


HEADER = ["team", "trust_ods", "measure", "period", "numerator", "denominator", "value"]
REPORT_HEADER = ["team", "trust_ods", "month", "team_score", "faculty_score"]


def _export_rows(data: dict):
    for m in data.get("measures", []):
        yield from m.get("rows", [])


@login_required
def dashboard_csv(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    snap = _snapshot(c)
    data = snap.data if snap else {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in _export_rows(data):
        writer.writerow([_safe(cell) for cell in row])
    response = HttpResponse(out.getvalue().encode("utf-8-sig"),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(c.name)}-data.csv"'
    return response


@login_required
def dashboard_xlsx(request, pk):
    from openpyxl import Workbook

    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    snap = _snapshot(c)
    data = snap.data if snap else {}
    wb = Workbook()
    ws = wb.active
    ws.title = "Shared measures"
    for title, header, rows in ((None, HEADER, _export_rows(data)),
                                ("Monthly reports", REPORT_HEADER, data.get("report_rows", []))):
        if title:
            ws = wb.create_sheet(title)
        ws.append(header)
        for row in rows:
            ws.append([_safe(cell) for cell in row])
            for cell in ws[ws.max_row]:
                if cell.data_type == "f":  # text that looks like a formula stays text
                    cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(
        buf.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{slugify(c.name)}-data.xlsx"'
    return response


# ---- shared learning --------------------------------------------------------------------


@login_required
def feed(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    posts = selectors.feed(c.posts.all())
    tag = request.GET.get("tag", "").strip().lower()
    if tag:
        posts = posts.filter(tags__name=tag)
    return render(request, "collaboratives/feed.html", {
        "collaborative": c,
        "posts": Paginator(posts, 20).get_page(request.GET.get("page")),
        "tags": list(Tag.objects.filter(collaborative=c).order_by("name")),
        "tag": tag,
        "can_post": _can(request.user, P.COLLABORATIVE_POST, c),
        "crumbs": _crumbs(c, ("Shared learning", None)),
    })


@login_required
def post_create(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_POST)
    user = request.user
    teams = c.enrolments.filter(status=Enrolment.Status.APPROVED).select_related("project__trust")
    my_teams = selectors.teams_of(user, list(teams))
    team_qs = Enrolment.objects.filter(pk__in=[e.pk for e in my_teams]) \
        .select_related("project__trust")
    cycle = None
    initial = {}
    cycle_id = request.GET.get("cycle") or request.POST.get("cycle")
    if cycle_id:
        cycle = Cycle.objects.select_related("change_idea__project").filter(
            pk=cycle_id if str(cycle_id).isdigit() else 0).first()
        if cycle is None or not access.has_permission(user, P.PDSA_VIEW,
                                                      project=cycle.change_idea.project):
            raise Http404
        team = next((e for e in my_teams if e.project_id == cycle.change_idea.project_id), None)
        if team is None:
            raise PermissionDenied
        initial = {**services.cycle_post_text(cycle), "enrolment": team.pk}
    form = PostForm(*form_args(request), teams=team_qs, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            post = services.post_create(
                collaborative=c, by=user, title=form.cleaned_data["title"],
                body=form.cleaned_data["body"], tags=services.parse_tags(form.cleaned_data["tags"]),
                enrolment=form.cleaned_data["enrolment"], cycle=cycle)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Learning shared with the collaborative.")
            return redirect("collaboratives:post", pk=c.pk, post_id=post.pk)
    return render(request, "collaboratives/post_form.html", {
        "form": form, "collaborative": c, "cycle": cycle,
        "crumbs": _crumbs(c, ("Shared learning", reverse("collaboratives:feed", args=[c.pk])),
                          ("Share learning", None)),
    })


@login_required
def post_detail(request, pk, post_id):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    post = get_object_or_404(selectors.feed(c.posts.all()), pk=post_id)
    can_post = _can(request.user, P.COLLABORATIVE_POST, c)
    form = CommentForm(*form_args(request))
    if request.method == "POST":
        if not can_post:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.comment_create(post=post, by=request.user, body=form.cleaned_data["body"])
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, "Comment added.")
                return redirect("collaboratives:post", pk=c.pk, post_id=post.pk)
    cycle_url = None
    if post.cycle_id and access.has_permission(
            request.user, P.PDSA_VIEW, project=post.cycle.change_idea.project):
        cycle_url = post.cycle.get_absolute_url()
    return render(request, "collaboratives/post.html", {
        "collaborative": c, "post": post, "form": form, "can_post": can_post,
        "comments": list(post.comments.select_related("author")), "cycle_url": cycle_url,
        "crumbs": _crumbs(c, ("Shared learning", reverse("collaboratives:feed", args=[c.pk])),
                          (post.title, None)),
    })



# ---- change package -------------------------------------------------------------------------


@login_required
def change_package(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    return render(request, "collaboratives/change_package.html", {
        "collaborative": c, "ideas": selectors.change_package(c),
        "can_manage": _can(request.user, P.COLLABORATIVE_MANAGE, c),
        "crumbs": _crumbs(c, ("Change package", None)),
    })


@login_required
def package_idea_create(request, pk):
    c = collaborative_for(request, pk, P.COLLABORATIVE_MANAGE)
    form = PackageIdeaForm(*form_args(request), shared_measures=c.shared_measures.all())
    if request.method == "POST" and form.is_valid():
        try:
            services.package_idea_create(collaborative=c, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Change idea added to the package.")
            return redirect("collaboratives:change_package", pk=c.pk)
    return render(request, "collaboratives/simple_form.html", {
        "form": form, "collaborative": c, "title": "Add a change idea to the package",
        "button": "Add change idea",
        "crumbs": _crumbs(c, ("Change package", reverse("collaboratives:change_package",
                                                        args=[c.pk])), ("Add", None)),
    })


@login_required
def package_link(request, pk, eid):
    c = collaborative_for(request, pk, P.COLLABORATIVE_DATA_VIEW)
    e = _team_for(request, c, eid)
    if not access.has_permission(request.user, P.PDSA_EDIT, project=e.project):
        raise PermissionDenied
    cycles = Cycle.objects.filter(change_idea__project=e.project).select_related("change_idea")
    form = PackageLinkForm(*form_args(request), ideas=c.package_ideas.all(), cycles=cycles)
    if request.method == "POST" and form.is_valid():
        try:
            services.package_test_link(idea=form.cleaned_data["idea"], enrolment=e,
                                       cycle=form.cleaned_data["cycle"], by=request.user)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Cycle linked to the change package.")
            return redirect("collaboratives:change_package", pk=c.pk)
    return render(request, "collaboratives/simple_form.html", {
        "form": form, "collaborative": c, "title": "Link a PDSA cycle to the change package",
        "button": "Link cycle",
        "empty": None if c.package_ideas.exists() else "The change package has no change ideas "
                                                       "yet: the faculty adds them.",
        "crumbs": _crumbs(c, (e.team_name, _team_url(c, e)), ("Link a cycle", None)),
    })
