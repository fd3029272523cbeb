"""The national centre's figures: the activity and capability table, QI capability per 1,000
staff over time (each trust, each region, nationally) and the NHS IMPACT distribution.

`build` (Celery: `reports.tasks.build_national`, nightly and after capability data changes)
computes them from the trusts' roll-ups (reports.rollups) and capability returns and stores
`TrustActivity` rows and one `NationalSnapshot`; the pages only read those (`activity_rows`,
`snapshot`): a constant number of queries however many trusts there are.

Rates: staff trained per 1,000 = staff holding any level of QI training at the end of the
quarter × 1,000 ÷ that quarter's headcount. A region's or the nation's rate pools its trusts
that made a return for the quarter: Σ trained × 1,000 ÷ Σ headcount (not a mean of rates).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from organisations.capability import per_1000, quarter_label
from organisations.models import (
    IMPACT_COMPONENTS,
    IMPACT_SCORES,
    CapabilityLevel,
    CapabilityReturn,
    ImpactAssessment,
    Trust,
)
from reports.models import NationalSnapshot, Rollup, TrustActivity
from reports.rollups import last_months

KEY = "capability"
OPEN = ("approved", "active", "sustaining")
SORTS = {
    "name": "trust__name",
    "region": "trust__region__name",
    "type": "trust__trust_type",
    "projects": "projects",
    "active": "projects_active",
    "cycles": "cycles_last_quarter",
    "pdsa": "pdsa_quality",
    "improvement": "improvement_share",
    "trained": "trained_per_1000",
}


# ---- building ---------------------------------------------------------------------------


def _pct(part: int, whole: int) -> float | None:
    return round(part * 100 / whole, 1) if whole else None


def _rollup_figures(today: dt.date) -> dict[int, dict]:
    """Each trust's figures from its trust-level roll-ups of the last three months."""
    months = last_months(3, today)
    out: dict[int, dict] = {}
    rows = (Rollup.objects.filter(unit=None, month__gte=months[0], built_at__isnull=False)
            .order_by("trust_id", "month"))
    for r in rows:
        f = out.setdefault(r.trust_id, {"cycles": 0, "all_four": 0})
        f["cycles"] += r.cycles_logged
        f["all_four"] += r.cycles_all_four
        f["latest"] = r  # ordered by month: the last one wins
    return out


def _returns() -> tuple[list[str], dict[int, list[tuple[CapabilityReturn, dict]]]]:
    levels = list(CapabilityLevel.objects.all())
    names = {lv.pk: lv.name for lv in levels}
    by_trust: dict[int, list] = defaultdict(list)
    for ret in (CapabilityReturn.objects.order_by("trust_id", "quarter")
                .prefetch_related("counts")):
        counts = {names[c.level_id]: c.trained for c in ret.counts.all()}
        by_trust[ret.trust_id].append((ret, counts))
    return [lv.name for lv in levels], by_trust


def _pooled(entries: list[tuple[CapabilityReturn, dict]], level_names) -> dict:
    headcount = sum(r.headcount for r, _ in entries)
    trained = sum(sum(c.values()) for _, c in entries)
    leadership = sum(r.leadership_completions for r, _ in entries)
    return {
        "trusts": len(entries), "headcount": headcount, "trained": trained,
        "per_1000": per_1000(trained, headcount),
        "leadership_per_1000": per_1000(leadership, headcount),
        "levels": {n: per_1000(sum(c.get(n, 0) for _, c in entries), headcount)
                   for n in level_names},
    }


def _impact() -> dict:
    years: dict[int, dict] = {}
    for a in ImpactAssessment.objects.order_by("year"):
        y = years.setdefault(a.year, {"trusts": 0, "counts": {k: [0] * len(IMPACT_SCORES)
                                                              for k, _ in IMPACT_COMPONENTS}})
        y["trusts"] += 1
        for key, _label in IMPACT_COMPONENTS:
            y["counts"][key][getattr(a, f"{key}_score") - 1] += 1
    for y in years.values():
        y["mean"] = {k: round(sum((i + 1) * n for i, n in enumerate(c)) / y["trusts"], 2)
                     for k, c in y["counts"].items()}
    return {"years": {str(k): v for k, v in sorted(years.items())}}


def build(today: dt.date | None = None) -> int:
    """Rebuild every trust's activity row and the national snapshot. Returns trusts built."""
    today = today or timezone.localdate()
    now = timezone.now()
    figures = _rollup_figures(today)
    level_names, returns = _returns()
    trusts = list(Trust.objects.select_related("region").order_by("pk"))
    rows = []
    by_quarter_region: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for trust in trusts:
        f = figures.get(trust.pk, {})
        latest = f.get("latest")
        by_status = dict(latest.by_status) if latest else {}
        icons = latest is not None and latest.has_icons
        measured = sum(latest.by_variation.values()) if icons else 0
        improving = latest.special_cause_improvement if icons else 0
        mine = returns.get(trust.pk, [])
        for ret, counts in mine:
            by_quarter_region[ret.quarter.isoformat()][trust.region.name].append((ret, counts))
        last = mine[-1] if mine else None
        trained = sum(last[1].values()) if last else 0
        rows.append(TrustActivity(
            trust=trust, by_status=by_status, projects=sum(by_status.values()),
            projects_active=sum(by_status.get(s, 0) for s in OPEN),
            cycles_last_quarter=f.get("cycles", 0), cycles_all_four=f.get("all_four", 0),
            pdsa_quality=_pct(f.get("all_four", 0), f.get("cycles", 0)),
            measures_with_icons=measured, measures_improving=improving,
            improvement_share=_pct(improving, measured) if icons else None,
            latest_quarter=last[0].quarter if last else None, trained=trained,
            headcount=last[0].headcount if last else 0,
            trained_per_1000=per_1000(trained, last[0].headcount) if last else None,
            built_at=now))
    quarters = sorted(by_quarter_region)
    regions = sorted({t.region.name for t in trusts})
    data = {
        "levels": level_names,
        "quarters": quarters,
        "labels": [quarter_label(dt.date.fromisoformat(q)) for q in quarters],
        "national": {q: _pooled([e for es in by_quarter_region[q].values() for e in es],
                                level_names) for q in quarters},
        "regions": {name: {q: _pooled(by_quarter_region[q][name], level_names)
                           for q in quarters if by_quarter_region[q].get(name)}
                    for name in regions},
        "impact": _impact(),
    }
    with transaction.atomic():
        TrustActivity.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["trust"],
            update_fields=[f.name for f in TrustActivity._meta.concrete_fields
                           if f.name not in ("id", "trust")])
        NationalSnapshot.objects.update_or_create(
            key=KEY, defaults={"data": data, "built_at": now, "dirty_since": None})
    return len(rows)


def mark_dirty() -> None:
    """Capability data changed: say so on the snapshot (the page shows "updating")."""
    updated = NationalSnapshot.objects.filter(key=KEY, dirty_since=None).update(
        dirty_since=timezone.now())
    if not updated:
        NationalSnapshot.objects.get_or_create(key=KEY, defaults={"dirty_since": timezone.now()})


# ---- reading (the pages) ------------------------------------------------------------------


def snapshot() -> NationalSnapshot | None:
    return NationalSnapshot.objects.filter(key=KEY).first()


def activity_rows(*, region: str = "", trust_type: str = "", sort: str = "name",
                  descending: bool = False) -> list[TrustActivity]:
    """The table's rows, filtered and sorted in the database: one query. Every trust has a
    row; a trust added since the last build gets an empty one (not saved) until the next."""
    qs = Trust.objects.select_related("region", "activity")
    if region:
        qs = qs.filter(region__code=region)
    if trust_type:
        qs = qs.filter(trust_type=trust_type)
    column = SORTS.get(sort, SORTS["name"])
    column = column[len("trust__"):] if column.startswith("trust__") else f"activity__{column}"
    order = F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
    rows = []
    for trust in qs.order_by(order, "name"):
        try:
            row = trust.activity
        except TrustActivity.DoesNotExist:
            row = TrustActivity(trust=trust, built_at=None)
        row.trust = trust
        rows.append(row)
    return rows


def series_for(data: dict, scope: dict) -> dict:
    """(labels, values) of the trained-per-1,000 series of one scope of the snapshot."""
    quarters = data.get("quarters", [])
    return {
        "labels": data.get("labels", []),
        "per_1000": [scope.get(q, {}).get("per_1000") for q in quarters],
        "leadership": [scope.get(q, {}).get("leadership_per_1000") for q in quarters],
        "trusts": [scope.get(q, {}).get("trusts") for q in quarters],
    }
