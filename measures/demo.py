"""Demo driver diagrams, measures and two to three years of monthly data.

`seed(context)` needs context["projects"] = {title: Project} (from projects.demo); titles that
are missing are skipped. Data are generated deterministically (random.Random(seed)) and show
the signals people look for on SPC charts: a shift after a change (with a re-baseline and an
annotation), a trend and an outlier. Written through the services as the project lead, so the
usual rules hold. Idempotent: diagrams are only built for projects with no drivers, measures
that already exist (by name) are skipped.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from measures import services
from measures.models import Measure
from projects import services as project_services
from projects.models import ChangeIdea

END = dt.date(2026, 10, 1)  # the last month of demo data (fixed: the data never drift)


def _months(n: int) -> list[dt.date]:
    out = []
    y, m = END.year, END.month
    for _ in range(n):
        out.append(dt.date(y, m, 1))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


def _binomial(rng: random.Random, n: int, p: float) -> int:
    p = min(max(p, 0.0), 1.0)
    return sum(1 for _ in range(n) if rng.random() < p)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


# Each series function returns rows for data_points_merge.


def _falls_rate(rng):
    months = _months(30)
    rows = []
    for i, d in enumerate(months):
        mean = 8.0 if i < 16 else 5.5
        value = round(rng.gauss(mean, 0.7), 1)
        row = {"period": d, "value": value}
        if i == 7:
            row.update(value=12.6, annotation="Norovirus outbreak; many agency staff")
        if i == 16:
            row.update(annotation="Falls huddle introduced", rebaseline=True)
        rows.append(row)
    return rows


def _falls_with_harm(rng):
    """Event dates (a T chart): a fall with harm every few weeks, then rarer after the huddle."""
    rows, day = [], END - dt.timedelta(days=900)
    while True:
        day += dt.timedelta(days=max(1, round(rng.expovariate(1 / (21 if day < dt.date(
            2025, 6, 1) else 55)))))
        if day > END:
            return rows
        row = {"period": day}
        if not rows:
            row["annotation"] = "Falls with harm recorded from Datix (moderate harm or worse)"
        rows.append(row)


def _risk_assessment(rng):
    rows = []
    for i, d in enumerate(_months(30)):
        p = 0.55 + min(i, 24) * 0.016 if i >= 10 else 0.55
        den = rng.randint(70, 95)
        row = {"period": d, "numerator": _binomial(rng, den, p), "denominator": den}
        if i == 10:
            row["annotation"] = "Risk assessment within 6 hours added to admission checklist"
        rows.append(row)
    return rows


def _length_of_stay(rng):
    return [{"period": d, "value": round(rng.gauss(9.2, 0.6), 1)} for d in _months(30)]


def _sepsis_antibiotics(rng):
    rows = []
    for i, d in enumerate(_months(24)):
        p = 0.62 if i < 12 else 0.86
        den = rng.randint(40, 70)
        row = {"period": d, "numerator": _binomial(rng, den, p), "denominator": den}
        if i == 12:
            row.update(annotation="Nurse-initiated antibiotics (patient group direction)",
                       rebaseline=True)
        rows.append(row)
    return rows


def _minutes_to_antibiotics(rng):
    rows = []
    for i, d in enumerate(_months(24)):
        mean = 86 - max(0, i - 6) * 2.2
        rows.append({"period": d, "value": round(rng.gauss(mean, 3.0))})
    rows[6]["annotation"] = "Sepsis trolley in resus"
    return rows


def _antibiotics_no_infection(rng):
    rows = [{"period": d, "value": _poisson(rng, 6.0)} for d in _months(24)]
    rows[18]["value"] = 17
    rows[18]["annotation"] = "Winter surge; screening tool over-triggered"
    return rows


def _discharge_before_noon(rng):
    rows = []
    for i, d in enumerate(_months(20)):
        p = 0.18 + max(0, i - 5) * 0.011
        den = rng.randint(160, 210)
        row = {"period": d, "numerator": _binomial(rng, den, p), "denominator": den}
        if i == 5:
            row["annotation"] = "Expected date of discharge set within 24 hours"
        rows.append(row)
    return rows


def _ttos_ready(rng):
    rows = []
    for i, d in enumerate(_months(20)):
        p = 0.30 if i < 9 else 0.58
        den = rng.randint(150, 200)
        row = {"period": d, "numerator": _binomial(rng, den, p), "denominator": den}
        if i == 9:
            row.update(annotation="TTOs written the day before discharge", rebaseline=True)
        rows.append(row)
    return rows


def _readmissions(rng):
    return [{"period": d, "value": round(rng.gauss(6.5, 0.8), 1)} for d in _months(20)]


def _restraint(rng):
    rows = []
    for i, d in enumerate(_months(36)):
        lam = 14 if i < 20 else 8
        row = {"period": d, "value": _poisson(rng, lam)}
        if i == 20:
            row.update(annotation="Safewards interventions in place", rebaseline=True)
        rows.append(row)
    rows[11]["value"] = 31
    rows[11]["annotation"] = "One patient, several incidents over a week"
    return rows


def _mutual_help(rng):
    rows = []
    for i, d in enumerate(_months(36)):
        p = 0.35 + max(0, i - 16) * 0.02
        den = rng.randint(15, 20) * 20  # patient-days offered a meeting
        rows.append({"period": d, "numerator": _binomial(rng, den, p), "denominator": den})
    rows[16]["annotation"] = "Mutual help meeting every morning"
    return rows


def _sickness(rng):
    return [{"period": d, "value": round(rng.gauss(5.8, 0.5), 1)} for d in _months(36)]


# title → (primary drivers {primary: [secondaries]}, change ideas {text: [secondaries]},
#          measures [(name, fields, series)])
DEMO = {
    "Reducing falls on Ward 7 (Elderly Care)": (
        {
            "A safe ward environment": [
                "Call bells and walking aids within reach",
                "Low beds and bed rails used appropriately",
            ],
            "Knowing each patient's risk": [
                "Falls risk assessed on admission",
                "Lying and standing blood pressure checked",
            ],
            "A team that talks about falls": [
                "Falls discussed at every safety huddle",
                "Learning shared after each fall",
            ],
        },
        {
            "Falls safety huddle at handover": ["Falls discussed at every safety huddle",
                                        "Learning shared after each fall"],
            "Bay tagging: one staff member always in high-risk bays": [
                "Call bells and walking aids within reach"],
            "Falls risk assessment within 6 hours of admission": [
                "Falls risk assessed on admission"],
            "Lying and standing blood pressure on the admission checklist": [
                "Lying and standing blood pressure checked"],
            "Low-rise beds for patients at high risk": [
                "Low beds and bed rails used appropriately"],
        },
        [
            ("Inpatient falls per 1,000 occupied bed days", dict(
                kind="outcome", chart="xmr", direction="decrease", target=5.0,
                unit_label="falls per 1,000 bed days",
                definition="Falls reported on Datix for Ward 7 in the month, divided by the "
                           "occupied bed days in the month, times 1,000."), _falls_rate),
            ("Patients with a falls risk assessment within 6 hours", dict(
                kind="process", chart="p", direction="increase", target=0.9,
                unit_label="%", driver="Falls risk assessed on admission",
                definition="Admissions to Ward 7 with a completed falls risk assessment "
                           "within 6 hours, out of all admissions, from the e-record audit."),
             _risk_assessment),
            ("Average length of stay", dict(
                kind="balancing", chart="run", direction="decrease", unit_label="days",
                definition="Mean length of stay in days of patients discharged from Ward 7 "
                           "in the month, from the patient administration system."),
             _length_of_stay),
            ("Days between falls with harm", dict(
                kind="outcome", chart="t", frequency="event", direction="increase",
                unit_label="days",
                definition="Each fall on Ward 7 with moderate harm or worse, by the date it "
                           "happened (Datix); the chart shows the days between them."),
             _falls_with_harm),
        ],
    ),
    "Sepsis: antibiotics within one hour in the Emergency Department": (
        {
            "Early recognition": [
                "NEWS2 calculated at triage",
                "Sepsis screening for every patient with NEWS2 of 5 or more",
            ],
            "Rapid treatment": [
                "Antibiotics available in resus",
                "Senior review within 30 minutes",
            ],
            "Reliable systems and feedback": [
                "Real-time feedback to the team",
            ],
        },
        {
            "Sepsis trolley in resus, checked daily": ["Antibiotics available in resus"],
            "Nurse-initiated antibiotics (patient group direction)": [
                "Antibiotics available in resus", "Senior review within 30 minutes"],
            "Sepsis screening prompt in the electronic record": [
                "NEWS2 calculated at triage",
                "Sepsis screening for every patient with NEWS2 of 5 or more"],
            "Weekly run chart shared at the huddle": ["Real-time feedback to the team"],
        },
        [
            ("Patients with sepsis given antibiotics within one hour", dict(
                kind="outcome", chart="p", direction="increase", target=0.9, unit_label="%",
                definition="Adults with suspected sepsis (red flag) given IV antibiotics "
                           "within 60 minutes of arrival, out of all such adults."),
             _sepsis_antibiotics),
            ("Median minutes from arrival to antibiotics", dict(
                kind="process", chart="xmr", direction="decrease", target=60,
                unit_label="minutes", driver="Antibiotics available in resus",
                definition="Median time in minutes from arrival to first IV antibiotic dose "
                           "for adults with suspected sepsis, per month."),
             _minutes_to_antibiotics),
            ("Antibiotics started with no infection found", dict(
                kind="balancing", chart="c", direction="decrease", unit_label="patients",
                definition="Patients given IV antibiotics for suspected sepsis in ED in whom "
                           "no infection was found at 48-hour review, per month."),
             _antibiotics_no_infection),
        ],
    ),
    "Discharge before noon on the Acute Medical Unit": (
        {
            "Planning for discharge from admission": [
                "Expected date of discharge set early",
                "Patients and families know the plan",
            ],
            "Medicines to take home ready in time": [
                "Prescriptions written the day before",
                "Pharmacy screening before 10am",
            ],
        },
        {
            "Expected date of discharge set within 24 hours": [
                "Expected date of discharge set early"],
            "TTOs written the day before discharge": ["Prescriptions written the day before"],
            "Discharge lounge opens at 8am": ["Patients and families know the plan"],
            "Criteria-led discharge by nurses": ["Expected date of discharge set early",
                                                 "Pharmacy screening before 10am"],
        },
        [
            ("Discharges before noon", dict(
                kind="outcome", chart="p", direction="increase", target=0.33, unit_label="%",
                definition="Patients discharged home from AMU before 12:00, out of all "
                           "discharges home from AMU in the month."),
             _discharge_before_noon),
            ("Medicines to take home ready the day before", dict(
                kind="process", chart="p", direction="increase", unit_label="%",
                driver="Prescriptions written the day before",
                definition="Discharges whose TTO was clinically screened by 17:00 the day "
                           "before, out of all discharges home."), _ttos_ready),
            ("Readmissions within 7 days", dict(
                kind="balancing", chart="run", direction="decrease", unit_label="%",
                definition="Patients discharged from AMU readmitted as an emergency within 7 "
                           "days, as a percentage of discharges."), _readmissions),
        ],
    ),
    "Reducing violence and restrictive practice on Willow Ward": (
        {
            "Therapeutic relationships": [
                "Staff and patients know each other",
                "Patients help and support each other",
            ],
            "A calm ward": [
                "Triggers spotted and calmed early",
                "Spaces to calm down",
            ],
            "Least restrictive practice": [
                "Learning from every restraint",
            ],
        },
        {
            "Safewards ‘Know each other’ boards": ["Staff and patients know each other"],
            "Mutual help meeting every morning": ["Patients help and support each other"],
            "Soft words: de-escalation training for all staff": [
                "Triggers spotted and calmed early"],
            "Sensory room open 24 hours": ["Spaces to calm down"],
            "Debrief with the patient after every restraint": [
                "Learning from every restraint"],
        },
        [
            ("Incidents of restraint", dict(
                kind="outcome", chart="c", direction="decrease", unit_label="incidents",
                definition="Incidents of physical restraint on Willow Ward recorded on Datix "
                           "in the month."), _restraint),
            ("Patient-days with the mutual help meeting attended", dict(
                kind="process", chart="p", direction="increase", unit_label="%",
                driver="Patients help and support each other",
                definition="Patient-days on which the patient attended the morning mutual "
                           "help meeting, out of patient-days it was offered."),
             _mutual_help),
            ("Staff sickness absence", dict(
                kind="balancing", chart="xmr", direction="decrease", unit_label="%",
                definition="Sickness absence of Willow Ward staff as a percentage of "
                           "contracted hours, from the rostering system."), _sickness),
        ],
    ),
}


def _diagram(project, primaries, ideas, by):
    """Build the diagram once; return ({secondary text: Driver}, {idea text: ChangeIdea})."""
    if not project.drivers.exists():
        for ptext, secondaries in primaries.items():
            primary = project_services.driver_create(project=project, text=ptext, by=by)
            for stext in secondaries:
                project_services.driver_create(project=project, text=stext, parent=primary, by=by)
        secondary = {d.text: d for d in project.drivers.filter(parent__isnull=False)}
        for itext, links in ideas.items():
            project_services.change_idea_create(project=project, text=itext,
                                        drivers=[secondary[s] for s in links], by=by)
    secondary = {d.text: d for d in project.drivers.filter(parent__isnull=False)}
    existing = {i.text: i for i in ChangeIdea.objects.filter(project=project)}
    return secondary, {t: existing[t] for t in ideas if t in existing}


def seed(context) -> dict:
    projects = context.get("projects") or {}
    change_ideas: dict[str, ChangeIdea] = {}
    measures: dict[str, Measure] = {}
    for n, (title, (primaries, ideas, measure_specs)) in enumerate(DEMO.items()):
        project = projects.get(title)
        if project is None:
            continue
        by = project.lead
        secondary, made = _diagram(project, primaries, ideas, by)
        change_ideas.update(made)
        for k, (name, fields, series) in enumerate(measure_specs):
            measure = Measure.objects.filter(project=project, name=name).first()
            if measure is None:
                fields = {"frequency": "monthly", **fields}
                driver_text = fields.pop("driver", None)
                fields["driver"] = secondary.get(driver_text) if driver_text else None
                measure = services.measure_create(project=project, name=name, by=by, **fields)
                rows = series(random.Random(1000 + n * 10 + k))
                services.data_points_merge(measure=measure, rows=rows, by=by)
            measures[name] = measure
    return {"change_ideas": change_ideas, "measures": measures}
