"""Demo data for the learning repository (a part of reports/demo.py's PARTS): what each
demo project shares beyond its trust, a few outside case studies with real public sources,
then the repository built in full. Idempotent: sharing is set, case studies are found by
title, and the rebuild replaces every row.

With it, "falls", "sepsis six", "discharge before noon" and "huddle" each find the
relevant items first (tests/reports/test_learning.py runs those queries on the seed).
"""

from __future__ import annotations

from projects.demo import DISCHARGE, FALLS, PRESSURE, SEPSIS, THEATRES, WILLOW
from projects.models import Project
from reports import learning
from reports.models import CaseStudy

Sharing = Project.Sharing

# Falls, sepsis and Willow share their learning; discharge and pressure ulcers their
# summary; theatres nothing (so the demo shows that unshared work stays at the trust).
SHARING = {
    FALLS: Sharing.LEARNING,
    SEPSIS: Sharing.LEARNING,
    WILLOW: Sharing.LEARNING,
    DISCHARGE: Sharing.SUMMARY,
    PRESSURE: Sharing.SUMMARY,
    THEATRES: Sharing.NOTHING,
}

CASE_STUDIES = [
    {
        "title": "Scottish Patient Safety Programme: deteriorating patients and sepsis",
        "source_name": "Healthcare Improvement Scotland (ihub)",
        "source_url": "https://ihub.scot/improvement-programmes/"
        "scottish-patient-safety-programme-spsp/",
        "country": "Scotland",
        "topic": "Patient safety",
        "year": 2019,
        "summary": "A national programme in every Scottish health board. Acute adult teams "
        "used structured response to deterioration, early warning scores and the Sepsis "
        "Six bundle, tested with PDSA cycles and measured on run charts, alongside work on "
        "falls, pressure ulcers and safety huddles.",
    },
    {
        "title": "The Sepsis Six and the severe sepsis resuscitation bundle",
        "source_name": "Emergency Medicine Journal (Daniels and others)",
        "source_url": "https://emj.bmj.com/content/28/6/507",
        "country": "England",
        "topic": "Patient safety",
        "year": 2011,
        "summary": "A prospective observational cohort study of the Sepsis Six: three "
        "diagnostic and three therapeutic steps delivered within one hour. Patients who "
        "received the Sepsis Six within the hour had lower mortality.",
    },
    {
        "title": "Safewards in Victoria: reducing conflict and containment on mental health "
        "wards",
        "source_name": "Department of Health, Victoria",
        "source_url": "https://www.health.vic.gov.au/mental-health-services/safewards-victoria",
        "country": "Australia",
        "topic": "Mental health",
        "year": 2017,
        "summary": "Safewards' ten interventions, such as calm-down methods, mutual help "
        "meetings and reassurance, were trialled and then spread across Victoria's "
        "mental health inpatient units, with fewer seclusion events.",
    },
    {
        "title": "Preventing falls and harm from falls in hospitals",
        "source_name": "Healthcare Excellence Canada",
        "source_url": "https://www.healthcareexcellence.ca/",
        "country": "Canada",
        "topic": "Patient safety",
        "year": 2020,
        "summary": "A getting-started approach to reducing inpatient falls: universal falls "
        "precautions, screening and individual care plans, intentional rounding and "
        "post-fall huddles, with falls per 1,000 patient days as the outcome measure.",
    },
]


def seed(context: dict) -> dict:
    for title, sharing in SHARING.items():
        # A bulk update: no signals, the rebuild below covers it in one go.
        Project.objects.filter(title=title).update(sharing=sharing)
    analyst = (context.get("users") or {}).get("national@example.nhs.uk")
    cases = {}
    if analyst is not None:
        for spec in CASE_STUDIES:
            case = CaseStudy.objects.filter(title=spec["title"]).first()
            if case is None:
                case = learning.case_study_create(by=analyst, **spec)
            cases[case.title] = case
    learning.rebuild_all()
    return {"case_studies": cases}
