"""Demo QI capability returns and NHS IMPACT self-assessments (a part of reports/demo.py).

Each demo trust gets its last 8 quarters of capability returns (staff trained growing a
little each quarter) and its board's NHS IMPACT scores for the last two years; then the
national figures are built. Deterministic (a seeded random generator) and idempotent.
"""

from __future__ import annotations

import random

from django.utils import timezone

from organisations import capability
from organisations.models import (
    IMPACT_COMPONENTS,
    CapabilityCount,
    CapabilityReturn,
    ImpactAssessment,
)
from reports import national

QUARTERS = 8
# Share of staff at each default level in the first quarter, per 1,000.
START = (60, 12, 4, 2)
EVIDENCE = {
    "purpose": "Improvement is named in the trust strategy; the board reviewed it in public.",
    "people": "QI training is offered to every new starter; coaches are given protected time.",
    "leadership": "Executives joined a leadership programme and take part in gemba walks.",
    "capability": "The QI team runs monthly practitioner courses and a coaching network.",
    "systems": "Board papers show SPC charts; divisions review measures monthly.",
}


def seed(context: dict) -> dict:
    trusts = context.get("trusts", {})
    levels = capability.levels()
    quarters = capability.recent_quarters(QUARTERS)
    this_year = timezone.localdate().year
    for n, (ods, trust) in enumerate(sorted(trusts.items())):
        rng = random.Random(f"capability-{ods}")
        headcount = trust.staff_headcount
        for i, quarter in enumerate(quarters):
            staff = headcount + rng.randint(-40, 60) * (i + 1)
            ret, _ = CapabilityReturn.objects.update_or_create(
                trust=trust, quarter=quarter,
                defaults={"headcount": staff, "leadership_completions": rng.randint(1, 6) + n})
            for level, per in zip(levels, START, strict=False):
                trained = round(staff * per / 1000 * (1 + 0.08 * i * (n + 1)))
                CapabilityCount.objects.update_or_create(capability_return=ret, level=level,
                                                         defaults={"trained": trained})
        for offset in (1, 0):
            base = 2 + (n % 2) + (1 - offset)
            ImpactAssessment.objects.update_or_create(
                trust=trust, year=this_year - offset, defaults={
                    **{f"{k}_score": min(5, base + (j % 2 if k != "systems" else 0))
                       for j, (k, _) in enumerate(IMPACT_COMPONENTS)},
                    **{f"{k}_evidence": EVIDENCE[k] for k, _ in IMPACT_COMPONENTS}})
    national.build()
    return {}
