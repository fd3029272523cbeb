"""Demo falls-prevention collaborative: teams from all three demo trusts, a facilitator
(facilitator@example.nhs.uk), two learning sessions, a shared measure with a year of
monthly data per team, monthly reports with the faculty's assessment, and shared learning.

Written through the services as the people who would do each step, so the usual rules hold.
Idempotent: nothing is added when the collaborative already exists. Deterministic data
(random.Random) ending at measures.demo.END.
"""

from __future__ import annotations

import datetime as dt
import random

from collaboratives import services
from collaboratives.models import Collaborative, Enrolment, SharedMeasure
from measures import services as measure_services
from measures.demo import END
from pdsa.models import Cycle
from projects import services as project_services
from projects.demo import FALLS
from projects.models import Project

NAME = "Falls prevention collaborative: older people in hospital and at home"
FACILITATOR = "facilitator@example.nhs.uk"
START = dt.date(2025, 11, 1)
FINISH = dt.date(2027, 3, 31)

# Projects registered for the collaborative at the trusts that had no falls project.
NEW_PROJECTS = [
    ("ZEB", "clinician.eastbrook@example.nhs.uk", "qilead.eastbrook@example.nhs.uk",
     "Preventing falls on Willow Ward",
     "Reduce falls on Willow Ward by 25% by March 2027."),
    ("ZWM", "clinician.westmoor@example.nhs.uk", "admin@example.nhs.uk",
     "Falls prevention on the district nursing caseload",
     "Every housebound patient over 65 has a falls risk review within a month of referral "
     "by March 2027."),
]
# Who answers for each trust: its QI lead; Westmoor has none in the demo, so the platform
# operator accepts on its behalf.
ANSWERS_FOR = {"ZNT": "qilead@example.nhs.uk", "ZEB": "qilead.eastbrook@example.nhs.uk",
               "ZWM": "admin@example.nhs.uk"}

SHARED = {
    "name": "Older patients with lying and standing blood pressure recorded",
    "kind": "process",
    "definition": "Patients aged 65 or over, admitted (or newly on the caseload) in the month, "
                  "with a lying and standing blood pressure recorded within 48 hours. From a "
                  "monthly audit of up to 20 records.",
    "numerator": "Patients with lying and standing blood pressure recorded within 48 hours",
    "denominator": "Patients aged 65 or over audited",
    "unit_label": "%",
    "chart": "p",
    "direction": "increase",
    "frequency": "monthly",
    "target": 0.9,
}

# Per team: the starting proportion, the month (index) a change lands, and the lift.
SERIES = {"ZNT": (0.45, 4, 0.35), "ZEB": (0.30, 6, 0.30), "ZWM": (0.55, 8, 0.15)}
SCORES = {"ZNT": ["1.0", "1.5", "2.0", "2.0", "2.5", "3.0", "3.0", "3.5", "3.5", "3.5", "4.0",
                  "4.0"],
          "ZEB": ["1.0", "1.0", "1.5", "2.0", "2.0", "2.5", "2.5", "3.0", "3.0", "3.0", "3.5",
                  "3.5"],
          "ZWM": ["0.5", "1.0", "1.5", "1.5", "2.0", "2.0", "2.5", "2.5", "2.5", "3.0", "3.0"]}
# Westmoor's October report is missing: the facilitator sees a late team.

POSTS = [
    ("ZEB", "Lying and standing blood pressure: put the cuff on the drug round",
     "We tried taking the readings on the morning drug round instead of at admission. The "
     "night team missed fewer: 14 of 20 audited records in May against 6 of 20 in April.",
     ["blood pressure", "drug round"]),
    ("ZWM", "Home visits: a falls review card in the visit bag",
     "A one-page card in every nurse's bag reminds us to ask about falls and check footwear. "
     "Easy to start; keeping it going needs the team leader to ask at handover.",
     ["home visits", "footwear"]),
]


def _months() -> list[dt.date]:
    months, d = [], dt.date(END.year - 1, END.month + 1, 1) if END.month < 12 else \
        dt.date(END.year, 1, 1)
    while d <= END:
        months.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return months


def _rows(ods: str) -> list[dict]:
    rng = random.Random(f"collaborative-{ods}")
    base, change, lift = SERIES[ods]
    rows = []
    for i, month in enumerate(_months()):
        p = base + (lift if i >= change else 0)
        n = 20
        rows.append({"period": month, "numerator": sum(rng.random() < p for _ in range(n)),
                     "denominator": n})
    return rows


def _project(context, ods, lead_email, approver_email, title, aim) -> Project:
    trust = context["trusts"][ods]
    users = context["users"]
    existing = Project.objects.filter(trust=trust, title=title).first()
    if existing is not None:
        return existing
    lead = users[lead_email]
    project = project_services.project_create(
        by=lead, trust=trust, title=title, aim=aim, lead=lead,
        start_date=START, target_date=FINISH, quality_dimension="safe",
        strategic_theme="Falls prevention", visibility=Project.Visibility.TRUST)
    project_services.project_transition(by=users[approver_email], project=project, to="approved")
    project_services.project_transition(by=lead, project=project, to="active")
    return project


def seed(context) -> dict:
    users = context.get("users", {})
    trusts = context.get("trusts", {})
    if FACILITATOR not in users or set(ANSWERS_FOR) - set(trusts):
        return {}
    existing = Collaborative.objects.filter(name=NAME).first()
    if existing is not None:
        return {"collaborative": existing}
    fiona = users[FACILITATOR]
    c = services.collaborative_create(
        host_trust=trusts["ZNT"], by=fiona, name=NAME, topic="Falls prevention in older people",
        aim="Reduce falls with harm among older people by 25% in every team by March 2027, "
            "and record lying and standing blood pressure for 90% of older patients.",
        description="Teams from an acute, a mental health and a community trust test the "
                    "NICE falls interventions together, following the IHI Breakthrough "
                    "Series model.",
        start_date=START, end_date=FINISH, report_due_day=10)
    services.session_create(
        collaborative=c, by=fiona, title="Learning session 1: the evidence and your baseline",
        date=dt.date(2025, 11, 12), online=False, place="Northgate education centre",
        agenda="The NICE falls guidance\nYour first month of data\nPlanning the first PDSA "
               "cycles", materials_url="https://www.nice.org.uk/guidance/ng249")
    services.session_create(
        collaborative=c, by=fiona, title="Learning session 2: what worked and spreading it",
        date=dt.date(2026, 5, 20), online=True,
        agenda="Teams present their ramps of PDSA cycles\nThe change package so far")
    sm = services.shared_measure_create(collaborative=c, by=fiona, **SHARED)

    projects = {"ZNT": (context.get("projects") or {}).get(FALLS)}
    for ods, lead, approver, title, aim in NEW_PROJECTS:
        projects[ods] = _project(context, ods, lead, approver, title, aim)
    teams = {}
    for ods, answerer in ANSWERS_FOR.items():
        project = projects.get(ods)
        if project is None:
            continue
        part = services.trust_invite(collaborative=c, trust=trusts[ods], by=fiona)
        services.invitation_accept(participation=part, by=users[answerer])
        enrolment = services.enrolment_request(collaborative=c, project=project,
                                               by=users[answerer])
        services.enrolment_approve(enrolment=enrolment, by=fiona)
        lead = project.lead
        adoption = services.shared_measure_adopt(shared_measure=sm, enrolment=enrolment, by=lead)
        measure_services.data_points_merge(measure=adoption.measure, rows=_rows(ods), by=lead)
        for month, score in zip(_months(), SCORES[ods], strict=False):
            report = services.team_report_submit(
                enrolment=enrolment, month=month, by=lead, score=score,
                tested="Lying and standing blood pressure on the drug round" if score >= "2.0"
                else "", learned="Night staff need the cuff on the ward, not in the office"
                if score >= "2.5" else "", help_needed="A template for the monthly audit"
                if score < "2.0" else "")
            if month < END:
                faculty = score if score < "3.0" else f"{float(score) - 0.5:.1f}"
                services.team_report_assess(report=report, by=fiona, faculty_score=faculty,
                                            faculty_comment="Good progress: keep the audit "
                                                            "going.")
        teams[ods] = enrolment
    # The demo is seeded today but tells a story that began at START: the shared measure
    # was published and the teams joined then, so every month's completeness counts them.
    began = dt.datetime.combine(START, dt.time(9), tzinfo=dt.UTC)
    SharedMeasure.objects.filter(pk=sm.pk).update(created_at=began)
    Enrolment.objects.filter(pk__in=[e.pk for e in teams.values()]).update(
        requested_at=began, decided_at=began)

    # Shared learning: one from a PDSA cycle's Study/Act, two free-standing, comments.
    znt = teams.get("ZNT")
    if znt is not None:
        cycle = (Cycle.objects.filter(change_idea__project=znt.project)
                 .exclude(learning="").order_by("number").first())
        if cycle is not None:
            text = services.cycle_post_text(cycle)
            post = services.post_create(collaborative=c, by=znt.project.lead, enrolment=znt,
                                        cycle=cycle, tags=["huddles", "pdsa"], **text)
            services.comment_create(post=post, by=users["clinician.eastbrook@example.nhs.uk"],
                                    body="We will try the huddle on Willow Ward nights.")
    # The change package: ideas the faculty collected, with the cycles that tested them.
    services.package_idea_create(
        collaborative=c, by=fiona, shared_measure=sm,
        title="Lying and standing blood pressure on the morning drug round",
        description="Take the readings when the nurse is already at the bedside.")
    huddle = services.package_idea_create(
        collaborative=c, by=fiona, title="A falls safety huddle at every handover",
        description="Two minutes: who is at high risk today, and what is in place.")
    if znt is not None:
        for cycle in (Cycle.objects.filter(change_idea__project=znt.project,
                                           change_idea__text__icontains="huddle")
                      .exclude(decision="").order_by("number")):
            services.package_test_link(idea=huddle, enrolment=znt, cycle=cycle,
                                       by=znt.project.lead)
    for ods, title, body, tags in POSTS:
        team = teams.get(ods)
        if team is None:
            continue
        post = services.post_create(collaborative=c, by=team.project.lead, enrolment=team,
                                    title=title, body=body, tags=tags)
        services.comment_create(post=post, by=fiona,
                                body="Bring this to the next learning session, please.")
    return {"collaborative": c}
