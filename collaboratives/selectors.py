"""Reads for collaboratives, shared by the pages and the API, already scoped by
`organisations.access` and joined so that each costs a constant number of queries."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.db.models import Count, Prefetch, QuerySet

from collaboratives import services
from collaboratives.models import (
    Adoption,
    Collaborative,
    Comment,
    Enrolment,
    LearningPost,
    PackageTest,
    Participation,
    SharedMeasure,
    SharedMeasureChange,
    TeamReport,
)
from measures import charts
from measures import snapshots as measure_snapshots
from measures.models import DataPoint
from organisations import access
from organisations.access import Permission as P
from projects.models import Project
from reports.spc.icons import VARIATION_TITLES


def collaboratives_visible_to(user) -> QuerySet[Collaborative]:
    return access.collaboratives_visible_to(
        user, Collaborative.objects.select_related("host_trust"))


def readable(user) -> QuerySet[Collaborative]:
    """Collaboratives whose shared data, reports and learning the user may read."""
    return access.collaboratives_readable_by(user, Collaborative.objects.all())


def shared_measures_for(user) -> QuerySet[SharedMeasure]:
    return SharedMeasure.objects.filter(collaborative__in=readable(user))


def participations_for(user) -> QuerySet[Participation]:
    return Participation.objects.filter(
        collaborative__in=access.collaboratives_visible_to(user, Collaborative.objects.all())
    ).select_related("trust")


def enrolments_for(user) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(collaborative__in=readable(user)) \
        .select_related("project__trust")


def team_reports_for(user) -> QuerySet[TeamReport]:
    return TeamReport.objects.filter(
        enrolment__collaborative__in=readable(user)
    ).select_related("enrolment__project__trust")


def posts_for(user) -> QuerySet[LearningPost]:
    return feed(LearningPost.objects.filter(collaborative__in=readable(user)))


def comments_for(user) -> QuerySet[Comment]:
    return Comment.objects.filter(post__collaborative__in=readable(user)) \
        .select_related("author")


def feed(posts: QuerySet[LearningPost]) -> QuerySet[LearningPost]:
    """Posts with what the feed shows: author, team, tags, and the number of comments."""
    return (posts.select_related("author", "enrolment__project__trust")
            .prefetch_related("tags").annotate(n_comments=Count("comments"))
            .order_by("-created_at", "-id"))


def projects_enrollable(user, collaborative: Collaborative) -> QuerySet[Project]:
    """Running projects of the trusts the user enrols for, not in this collaborative yet."""
    trust_ids = [
        p.trust_id for p in collaborative.participations.filter(
            status=Participation.Status.ACCEPTED)
        if access.has_permission(user, P.COLLABORATIVE_ENROL, collaborative=collaborative,
                                 trust=p.trust_id)
    ]
    taken = Enrolment.objects.filter(
        collaborative=collaborative,
        status__in=[Enrolment.Status.PENDING, Enrolment.Status.APPROVED],
    ).values("project_id")
    return (Project.objects.filter(trust_id__in=trust_ids)
            .exclude(status__in=[Project.Status.COMPLETED, Project.Status.STOPPED])
            .exclude(pk__in=taken).select_related("trust").order_by("trust__name", "title"))


def collaborative_page(collaborative: Collaborative) -> dict:
    """Sessions, trusts, teams and shared measures of the collaborative page (five queries)."""
    sessions = list(collaborative.sessions.all())
    return {
        "sessions": sessions,
        "action_periods": services.action_periods(sessions),
        "participations": list(collaborative.participations.select_related("trust")),
        "enrolments": list(collaborative.enrolments.select_related("project__trust")),
        "shared_measures": list(collaborative.shared_measures.all()),
        "facilitators": list(collaborative.facilitators.all()),
    }


def _month_end(month: dt.date) -> dt.date:
    nxt = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def late_teams(collaborative: Collaborative, today: dt.date) -> dict:
    """For the faculty: which enrolled teams have not sent the data or the report for the
    latest month that is due. Four queries, whatever the number of teams."""
    month = services.last_due_month(collaborative, today)
    if month is None:
        return {"month": None, "teams": []}
    teams = list(collaborative.enrolments.filter(status=Enrolment.Status.APPROVED)
                 .select_related("project__trust"))
    shared = list(collaborative.shared_measures.all())
    adoptions = list(Adoption.objects.filter(enrolment__in=teams).values_list(
        "enrolment_id", "shared_measure_id", "measure_id"))
    with_data = set(DataPoint.objects.filter(
        measure_id__in=[a[2] for a in adoptions], period__gte=month,
        period__lte=_month_end(month)).values_list("measure_id", flat=True))
    reported = set(TeamReport.objects.filter(enrolment__in=teams, month=month)
                   .values_list("enrolment_id", flat=True))
    by_team = defaultdict(dict)
    for eid, smid, mid in adoptions:
        by_team[eid][smid] = mid
    out = []
    for team in teams:
        owes = []
        for sm in shared:
            mid = by_team[team.pk].get(sm.pk)
            if mid is None:
                owes.append(f"has not adopted “{sm.name}”")
            elif mid not in with_data:
                owes.append(f"no data for “{sm.name}”")
        if team.pk not in reported:
            owes.append("no monthly report")
        if owes:
            out.append({"team": team, "owes": owes})
    return {"month": month, "due": collaborative.due_date(month), "teams": out}


def team_owes(collaborative: Collaborative, enrolment: Enrolment, today: dt.date) -> list[dict]:
    """What one team still owes: each due month since the collaborative started without data
    for an adopted shared measure or without a report. A constant number of queries."""
    last = services.last_due_month(collaborative, today)
    if last is None or enrolment.status != Enrolment.Status.APPROVED:
        return []
    months = []
    d = collaborative.start_date.replace(day=1)
    while d <= last:
        months.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    if not months:
        return []
    adoptions = list(enrolment.adoptions.select_related("shared_measure"))
    have = defaultdict(set)
    for mid, period in DataPoint.objects.filter(
            measure_id__in=[a.measure_id for a in adoptions], period__gte=months[0],
            period__lte=_month_end(months[-1])).values_list("measure_id", "period"):
        have[mid].add(period.replace(day=1))
    reported = set(enrolment.reports.values_list("month", flat=True))
    out = []
    for m in months:
        owes = [f"data for “{a.shared_measure.name}”" for a in adoptions
                if m not in have[a.measure_id]]
        if m not in reported:
            owes.append("the monthly report")
        if owes:
            out.append({"month": m, "due": collaborative.due_date(m), "owes": owes})
    return out


def team_page(enrolment: Enrolment) -> dict:
    """One team's shared-measure data and its reports (constant queries). Only measures
    adopted from this collaborative's definitions are read."""
    adoptions = list(enrolment.adoptions.select_related("shared_measure", "measure")
                     .prefetch_related(Prefetch("measure__points",
                                                queryset=DataPoint.objects.order_by("period"))))
    shared = list(enrolment.collaborative.shared_measures.all())
    adopted = {a.shared_measure_id for a in adoptions}
    changes = {}
    for change in (SharedMeasureChange.objects
                   .filter(shared_measure__in=[a.shared_measure_id for a in adoptions])
                   .order_by("version")):
        changes.setdefault(change.shared_measure_id, []).append(change)
    rows = []
    for a in adoptions:
        pending = [c for c in changes.get(a.shared_measure_id, []) if c.version > a.version]
        rows.append({"adoption": a, "points": list(a.measure.points.all())[-12:],
                     "changes": pending})
    return {
        "adoptions": rows,
        "not_adopted": [sm for sm in shared if sm.pk not in adopted],
        "reports": list(enrolment.reports.select_related("submitted_by", "assessed_by")),
    }


def _reading(measure, points) -> dict:
    """The variation icon of `points` (a team's shared-measure data up to some date)."""
    if len(points) < 2:
        return {"icon": "", "title": "Not enough data", "n": len(points)}
    try:
        result = measure_snapshots.measure_spc_result(measure, points)
    except ValueError:
        return {"icon": "", "title": "Not enough data", "n": len(points)}
    name = result.variation_icon or ""
    return {"icon": charts.icons(name, None, size=32)["variation"],
            "title": VARIATION_TITLES.get(name, ""), "n": len(points)}


def change_package(collaborative: Collaborative) -> list[dict]:
    """Each change idea of the package with the PDSA cycles that tested it (the team, the
    decision, the date) and the idea's shared measure at that team before the cycle and
    since. Five queries, whatever the number of ideas and cycles."""
    ideas = list(collaborative.package_ideas.select_related("shared_measure"))
    tests = list(PackageTest.objects.filter(idea__in=ideas)
                 .select_related("cycle__change_idea", "enrolment__project__trust")
                 .order_by("idea_id", "cycle__act_date", "id"))
    wanted = {(t.enrolment_id, t.idea.shared_measure_id) for t in tests
              if t.idea.shared_measure_id}
    adoptions = {(a.enrolment_id, a.shared_measure_id): a for a in Adoption.objects.filter(
        enrolment_id__in={e for e, _ in wanted},
        shared_measure_id__in={m for _, m in wanted}).select_related("measure")}
    points = defaultdict(list)
    for p in DataPoint.objects.filter(
            measure_id__in=[a.measure_id for a in adoptions.values()]).order_by("period"):
        points[p.measure_id].append(p)
    by_idea = defaultdict(list)
    for t in tests:
        row = {"test": t, "cycle": t.cycle, "team": t.enrolment, "before": None, "after": None,
               "date": t.cycle.key_date}
        adoption = adoptions.get((t.enrolment_id, t.idea.shared_measure_id))
        if adoption is not None:
            pts = points[adoption.measure_id]
            row["before"] = _reading(adoption.measure, [p for p in pts if p.period < row["date"]])
            row["after"] = _reading(adoption.measure, pts)
        by_idea[t.idea_id].append(row)
    out = []
    for idea in ideas:
        rows = by_idea[idea.pk]
        decisions = Counter(r["cycle"].decision for r in rows if r["cycle"].decision)
        out.append({"idea": idea, "tests": rows, "adopt": decisions.get("adopt", 0),
                    "adapt": decisions.get("adapt", 0), "abandon": decisions.get("abandon", 0)})
    return out


def teams_of(user, enrolments: list[Enrolment]) -> list[Enrolment]:
    """The enrolled teams the user acts for (may edit the project): one query in all."""
    ids = {e.project_id for e in enrolments}
    mine = set(access.projects_editable_by(user, Project.objects.filter(pk__in=ids))
               .values_list("pk", flat=True)) if ids else set()
    return [e for e in enrolments if e.project_id in mine]
