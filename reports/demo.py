"""Demo data for the national centre's pages (capability returns, NHS IMPACT self-assessments,
national measure definitions, case studies, sharing choices), built on the other apps' demo.

Each part is a function below, called from `seed`; idempotent like every app's demo.
"""

from __future__ import annotations

import datetime as dt
import random

from measures import services as measure_services
from measures.demo import END
from projects.models import Project
from reports import capability_demo, comparisons, learning_demo, services
from reports.models import NationalAdoption, NationalMeasure

# Each helper function takes the context built by the lower apps' demo modules.
PARTS: list = []


def seed(context: dict) -> dict:
    out: dict = {}
    for part in PARTS:
        out.update(part(context) or {})
    return out


# ---- comparing trusts: a national definition adopted by the three demo trusts ----------------
# "Falls per 1,000 occupied bed days" (caseload days in the community), a U chart. Each demo
# trust's falls project adds a measure from it with a year of data; with the collaborative's
# shared measure (a P chart, three trusts) there are two comparisons, built at the end. Only
# three demo trusts exist, so the pages say that comparisons with few trusts are limited.

FALLS_NATIONAL = {
    "name": "Falls per 1,000 occupied bed days",
    "topic": "Falls prevention",
    "definition": "Falls of patients reported on the incident system in the month, divided by "
                  "the occupied bed days in the month (caseload days for community teams), "
                  "times 1,000.",
    "numerator": "Falls reported in the month",
    "denominator": "Occupied bed days (or caseload days) in the month",
    "unit_label": "falls per 1,000 bed days",
    "chart": "u",
    "rate_per": 1000,
    "direction": "decrease",
    "frequency": "monthly",
}
# Trust: (QI lead who adopts, falls project title, bed days a month, falls per 1,000).
FALLS_ADOPTERS = {
    "ZNT": ("qilead@example.nhs.uk", "Reducing falls on Ward 7 (Elderly Care)", 820, 6.5),
    "ZEB": ("qilead.eastbrook@example.nhs.uk", "Preventing falls on Willow Ward", 610, 9.5),
    "ZWM": ("admin@example.nhs.uk", "Falls prevention on the district nursing caseload", 2900,
            2.2),
}


def _falls_rows(ods: str, bed_days: int, rate: float) -> list[dict]:
    rng = random.Random(f"national-falls-{ods}")
    rows, month = [], dt.date(END.year - 1, END.month, 1)
    for _ in range(12):
        month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        days = bed_days + rng.randint(-40, 40)
        lam = rate * days / 1000
        falls = max(0, round(rng.gauss(lam, lam ** 0.5)))
        rows.append({"period": month, "numerator": falls, "denominator": days})
    return rows


def _comparisons(context: dict) -> dict:
    users, trusts = context.get("users") or {}, context.get("trusts") or {}
    analyst = users.get("national@example.nhs.uk")
    if analyst is None:
        return {}
    nm = NationalMeasure.objects.filter(name=FALLS_NATIONAL["name"]).first()
    if nm is None:
        nm = services.national_measure_save(by=analyst, **FALLS_NATIONAL)
    for ods, (email, title, bed_days, rate) in FALLS_ADOPTERS.items():
        lead, trust = users.get(email), trusts.get(ods)
        project = Project.objects.filter(trust=trust, title=title).first() if trust else None
        if lead is None or project is None:
            continue
        if NationalAdoption.objects.filter(national_measure=nm,
                                           measure__project=project).exists():
            continue
        adoption = services.national_adopt(national_measure=nm, by=lead, project=project)
        measure_services.data_points_merge(measure=adoption.measure,
                                           rows=_falls_rows(ods, bed_days, rate), by=lead)
    for kind, object_id in comparisons.comparable_keys():
        comparisons.build(kind, object_id)
    return {"national_measures": {nm.name: nm}}


PARTS.append(_comparisons)
# QI capability returns and NHS IMPACT self-assessments (reports/capability_demo.py).
PARTS.append(capability_demo.seed)
# The learning repository: sharing choices, case studies, then the full build (keep last).
PARTS.append(learning_demo.seed)
