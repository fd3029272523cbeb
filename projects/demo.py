"""Demo projects for local use: realistic charters, teams, statuses and progress histories.

Idempotent: a project is found by title and trust and left alone if it is already there.
Runs after organisations.demo (context has "trusts" and "users"); the measures slice seeds
drivers, measures and data afterwards and finds these projects by title.
Dates are relative to today, so one project is always stale and the rest are current.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from organisations.models import Unit
from projects import services
from projects.models import Project, QualityDimension, TeamMember

FALLS = "Reducing falls on Ward 7 (Elderly Care)"
SEPSIS = "Sepsis: antibiotics within one hour in the Emergency Department"
DISCHARGE = "Discharge before noon on the Acute Medical Unit"
THEATRES = "Fewer on-the-day cancellations in Theatres"
WILLOW = "Reducing violence and restrictive practice on Willow Ward"
PRESSURE = "Preventing pressure ulcers on the district nursing caseload"

# Each spec: trust, unit, people (emails), charter, the path through the workflow (each
# step with who takes it), team, and progress scores as (months ago, score, comment).
PROJECTS = [
    {
        "trust": "ZNT",
        "unit": "Ward 7 (Elderly Care)",
        "title": FALLS,
        "lead": "clinician@example.nhs.uk",
        "coach": "qilead@example.nhs.uk",
        "sponsor": "board@example.nhs.uk",
        "problem": "Ward 7 reported 11.2 inpatient falls per 1,000 occupied bed days in "
        "2024, above the trust average of 6.5. Three falls caused hip fractures.",
        "aim": "Reduce inpatient falls on Ward 7 by 30%, from 11.2 to 7.8 per 1,000 "
        "occupied bed days, by March 2027.",
        "scope": "All adult inpatients on Ward 7. Not in scope: falls in the discharge "
        "lounge or during transfers to other wards.",
        "start_months_ago": 24,
        "target_months_ahead": 4,
        "quality_dimension": QualityDimension.SAFE,
        "strategic_theme": "Patient safety",
        "patient_involvement": "A patient partner, a former Ward 7 patient, joins the "
        "monthly project meeting and co-designed the bedside falls leaflet.",
        "visibility": Project.Visibility.EVERYONE,
        "steps": [("approved", "qilead@example.nhs.uk"), ("active", "clinician@example.nhs.uk")],
        "team": [("qilead@example.nhs.uk", "", TeamMember.Role.MEMBER),
                 (None, "Margaret Ellis", TeamMember.Role.PATIENT_PARTNER)],
        "scores": [
            (24, "0.5", "Falls data reviewed at the ward meeting; team agreed to start."),
            (22, "1.0", "Charter agreed with the Chief Nurse; team formed."),
            (20, "1.5", "Driver diagram drafted; baseline falls data collected."),
            (17, "2.0", "Intentional rounding rota started; no changes tested yet."),
            (14, "2.5", "Bay-tagging tested on two bays; no change in falls rate yet."),
            (10, "3.0", "Falls below the centre line for 7 months in a row."),
            (6, "3.5", "Shift in the falls rate; bay-tagging adopted on the whole ward."),
            (0.5, "4.0", "Falls down 35% against baseline; spreading to Ward 8."),
        ],
    },
    {
        "trust": "ZNT",
        "unit": "Emergency Department",
        "title": SEPSIS,
        "lead": "qilead@example.nhs.uk",
        "coach": None,
        "sponsor": "board@example.nhs.uk",
        "problem": "Only 58% of adults with red-flag sepsis in the Emergency Department "
        "receive antibiotics within one hour of arrival.",
        "aim": "Give antibiotics within one hour to 90% of adults with red-flag sepsis in "
        "the Emergency Department by December 2026.",
        "scope": "Adults (18 and over) arriving at the Emergency Department.",
        "start_months_ago": 14,
        "target_months_ahead": 1,
        "quality_dimension": QualityDimension.TIMELY,
        "strategic_theme": "Patient safety",
        "patient_involvement": "Feedback from the sepsis survivors' group shaped the "
        "triage prompt.",
        "visibility": Project.Visibility.TRUST,
        "steps": [("approved", "qilead@example.nhs.uk"), ("active", "qilead@example.nhs.uk")],
        "team": [("clinician@example.nhs.uk", "", TeamMember.Role.DATA_LEAD)],
        # The latest score is over 60 days old: this project shows as stale.
        "scores": [
            (13, "1.0", "Team formed with ED consultants and the sepsis nurse."),
            (10, "1.5", "Process mapped from triage to first dose."),
            (7, "2.0", "Sepsis trolley restocked daily; data collection started."),
            (4, "2.5", "Triage prompt tested for two weeks; no signal yet."),
        ],
    },
    {
        "trust": "ZNT",
        "unit": "Acute Medical Unit",
        "title": DISCHARGE,
        "lead": "clinician@example.nhs.uk",
        "coach": "qilead@example.nhs.uk",
        "sponsor": None,
        "problem": "Only 12% of discharges from the Acute Medical Unit happen before noon, "
        "so patients wait in the Emergency Department for a bed.",
        "aim": "Discharge 33% of Acute Medical Unit patients who go home before noon by "
        "September 2027.",
        "scope": "Patients discharged home from the Acute Medical Unit.",
        "start_months_ago": 0,
        "target_months_ahead": 10,
        "quality_dimension": QualityDimension.EFFICIENT,
        "strategic_theme": "Patient flow",
        "patient_involvement": "",
        "visibility": Project.Visibility.TRUST,
        "steps": [],  # proposed: waiting for a QI lead to approve it
        "team": [],
        "scores": [],
    },
    {
        "trust": "ZNT",
        "unit": "Theatres",
        "title": THEATRES,
        "lead": "qilead@example.nhs.uk",
        "coach": None,
        "sponsor": "board@example.nhs.uk",
        "problem": "One in ten elective operations is cancelled on the day.",
        "aim": "Halve on-the-day cancellations of elective operations by April 2026.",
        "scope": "Elective lists in main Theatres.",
        "start_months_ago": 20,
        "target_months_ahead": -8,
        "quality_dimension": QualityDimension.PERSON_CENTRED,
        "strategic_theme": "Patient flow",
        "patient_involvement": "",
        "visibility": Project.Visibility.TRUST,
        "steps": [("approved", "qilead@example.nhs.uk"), ("active", "qilead@example.nhs.uk"),
                  ("stopped", "qilead@example.nhs.uk")],
        "stopped_reason": "Merged into the trust-wide elective recovery programme, which "
        "took over the pre-assessment changes. What we learned is in the final report.",
        "team": [],
        "scores": [(19, "1.0", "Team formed."), (15, "2.0", "Pre-assessment calls started.")],
    },
    {
        "trust": "ZEB",
        "unit": "Willow Ward",
        "title": WILLOW,
        "lead": "clinician.eastbrook@example.nhs.uk",
        "coach": "qilead.eastbrook@example.nhs.uk",
        "sponsor": None,
        "problem": "Willow Ward had 46 incidents of violence and 31 uses of restraint in "
        "six months; staff and patients said the ward felt unsafe.",
        "aim": "Reduce incidents of violence and the use of restrictive practice on Willow "
        "Ward by 50% by June 2026, and sustain it.",
        "scope": "All inpatients and staff on Willow Ward.",
        "start_months_ago": 26,
        "target_months_ahead": -5,
        "quality_dimension": QualityDimension.SAFE,
        "strategic_theme": "Reducing restrictive practice",
        "patient_involvement": "Two peer support workers with lived experience co-lead the "
        "Safewards interventions; the weekly community meeting reviews the data.",
        "visibility": Project.Visibility.EVERYONE,
        "steps": [("approved", "qilead.eastbrook@example.nhs.uk"),
                  ("active", "clinician.eastbrook@example.nhs.uk"),
                  ("sustaining", "clinician.eastbrook@example.nhs.uk")],
        "team": [(None, "Jordan Reid", TeamMember.Role.PATIENT_PARTNER),
                 (None, "Amira Haddad", TeamMember.Role.PATIENT_PARTNER)],
        "scores": [
            (25, "1.0", "Team formed with peer support workers."),
            (22, "2.0", "Safewards training for all staff."),
            (19, "2.5", "Mutual expectations and calm-down methods tested."),
            (15, "3.0", "Incidents below the centre line for 8 weeks."),
            (11, "3.5", "Restraint down by a third."),
            (7, "4.0", "Violence down 52% against baseline."),
            (0.5, "4.5", "Improvement held for six months after the project team stepped back."),
        ],
    },
    {
        "trust": "ZWM",
        "unit": "Westmoor District Nursing Team",
        "title": PRESSURE,
        "lead": "clinician.westmoor@example.nhs.uk",
        "coach": None,
        "sponsor": None,
        "problem": "Category 2 and above pressure ulcers acquired on the district nursing "
        "caseload rose from 9 to 15 a month over the last year.",
        "aim": "Reduce new category 2+ pressure ulcers on the district nursing caseload by "
        "25% by October 2027.",
        "scope": "Housebound adults on the Westmoor district nursing caseload.",
        "start_months_ago": 1,
        "target_months_ahead": 11,
        "quality_dimension": QualityDimension.SAFE,
        "strategic_theme": "Patient safety",
        "patient_involvement": "Carers are asked what helps them reposition safely at home.",
        "visibility": Project.Visibility.TRUST,
        # Westmoor has no QI lead yet; the platform operator approved it.
        "steps": [("approved", "admin@example.nhs.uk")],
        "team": [],
        "scores": [(1, "1.0", "Charter agreed; team formed.")],
    },
]


def _months_ago(today: datetime.date, months: float) -> datetime.date:
    return today - datetime.timedelta(days=round(months * 30.44))


def seed(context) -> dict:
    trusts = context["trusts"]
    users = context["users"]
    today = timezone.localdate()
    projects = {}
    for spec in PROJECTS:
        trust = trusts[spec["trust"]]
        existing = Project.objects.filter(trust=trust, title=spec["title"]).first()
        if existing is not None:
            projects[spec["title"]] = existing
            continue
        lead = users[spec["lead"]]
        unit = Unit.objects.filter(trust=trust, name=spec["unit"]).first()
        project = services.project_create(
            by=lead,
            trust=trust,
            title=spec["title"],
            problem=spec["problem"],
            aim=spec["aim"],
            scope=spec["scope"],
            unit=unit,
            lead=lead,
            coach=users[spec["coach"]] if spec["coach"] else None,
            sponsor=users[spec["sponsor"]] if spec["sponsor"] else None,
            start_date=_months_ago(today, spec["start_months_ago"]),
            target_date=_months_ago(today, -spec["target_months_ahead"]),
            quality_dimension=spec["quality_dimension"],
            strategic_theme=spec["strategic_theme"],
            patient_involvement=spec["patient_involvement"],
            visibility=spec["visibility"],
        )
        for email, name, role in spec["team"]:
            services.team_member_add(
                by=lead, project=project, user=users[email] if email else None, name=name,
                role=role,
            )
        for months, score, comment in spec["scores"]:
            services.progress_score_record(
                by=lead, project=project, score=score,
                scored_on=_months_ago(today, months), comment=comment,
            )
        for to, email in spec["steps"]:
            services.project_transition(
                by=users[email], project=project, to=to, reason=spec.get("stopped_reason", "")
            )
        project.refresh_from_db()
        projects[spec["title"]] = project
    return {"projects": projects}
