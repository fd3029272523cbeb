"""Comparing trusts on shared measures: funnel plots and national deciles, precomputed.

A *comparison* is one shared measure seen across trusts:

- a national definition (`NationalMeasure`) the centre publishes, over the measures trusts
  linked to it (`NationalAdoption`); or
- a collaborative's shared measure (`collaboratives.SharedMeasure`, P or U chart) adopted by
  approved teams of at least two trusts (`collaboratives.Adoption`).

Only those explicitly shared measures are read. For each period with data, each trust's
numerator and denominator are summed across its linked measures; the trust's rate is
numerator / denominator x the multiplier (100 for P charts, so a %; the definition's
"rate per" for national U charts, 1 for collaborative U charts).

What is stored (`ComparisonSnapshot`), by `build` (Celery: nightly, and debounced after the
linked measures' snapshots are stored or a definition or adoption changes):

- a row per period: each trust's numerator, denominator and rate, and the funnel
  (``reports.funnel.funnel``: PR for P charts, RC for U charts, over-dispersion adjusted as
  FunnelPlotR's default, the multiplier above) when at least 3 trusts have data;
- a series row (no period): per period the national deciles, the 10th to 90th percentiles
  of the trusts' rates that period, by ``numpy.percentile(rates, [10, 20, ..., 90],
  method="linear")`` (Hyndman and Fan type 7, R's default: for n sorted rates the p-th
  percentile is at position 1 + (n - 1) p / 100, interpolated between its neighbours);
  and each trust's rate per period, name, ODS code and anonymous code.

Anonymous codes ("Trust A", "Trust B" ...) are stable for a comparison and are not in the
order of names or ids: trusts are sorted by an HMAC of the comparison and trust id keyed with
SECRET_KEY. Pages read the rows only (`read`); to draw a funnel with the viewer's labels,
`reports.funnel` is called again on the stored numbers (pure, no query).

Writes of national definitions, the centre's setting and adoptions are in reports/services.py
(each checks `organisations.access`, runs in one transaction, asks for a rebuild on commit).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections import defaultdict

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from collaboratives.models import Adoption, Collaborative, Enrolment, SharedMeasure
from measures.models import DataPoint, Measure
from organisations import access
from organisations.models import Trust
from projects.models import Project
from reports.funnel import funnel
from reports.models import (
    ComparisonSetting,
    ComparisonSnapshot,
    NationalAdoption,
    NationalMeasure,
)

NATIONAL = ComparisonSnapshot.Kind.NATIONAL
SHARED = ComparisonSnapshot.Kind.SHARED
DECILES = (10, 20, 30, 40, 50, 60, 70, 80, 90)
DECILE_METHOD = (
    "Deciles are the 10th to 90th percentiles of the trusts' rates in each period, computed "
    "with numpy.percentile using the linear method (type 7, as R's quantile default)."
)
FEW_TRUSTS = 10  # below this, say that the deciles and the funnel say little
MIN_FUNNEL = 3
COMPARABLE_CHARTS = (Measure.Chart.P, Measure.Chart.U)


# ---- the numbers ---------------------------------------------------------------------------


def national_deciles(rates) -> dict[str, float] | None:
    """The 10th ... 90th percentiles of `rates` (numpy, linear method), or None if empty."""
    values = np.asarray([r for r in rates if r is not None and math.isfinite(r)], dtype=float)
    if values.size == 0:
        return None
    out = np.percentile(values, DECILES, method="linear")
    return {f"p{d}": float(v) for d, v in zip(DECILES, out, strict=True)}


def _letters(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def anonymous_codes(kind: str, object_id: int, trust_ids) -> dict[int, str]:
    """{trust id: "Trust A" ...}: stable for a comparison, not in name or id order."""
    key = settings.SECRET_KEY.encode()

    def digest(tid: int) -> str:
        return hmac.new(key, f"comparison:{kind}:{object_id}:{tid}".encode(),
                        hashlib.sha256).hexdigest()

    ordered = sorted(set(trust_ids), key=digest)
    return {tid: f"Trust {_letters(i)}" for i, tid in enumerate(ordered)}


def _data_type(chart: str) -> str:
    return "PR" if chart == Measure.Chart.P else "RC"


def _sources(kind: str, object_id: int):
    """(meta, [(measure id, trust id)]) of a comparison, or None if it is not comparable."""
    if kind == NATIONAL:
        nm = NationalMeasure.objects.filter(pk=object_id).first()
        if nm is None:
            return None
        links = list(NationalAdoption.objects.filter(national_measure=nm)
                     .values_list("measure_id", "measure__project__trust_id"))
        meta = {"name": nm.name, "context": f"National definition: {nm.topic}",
                "chart": nm.chart, "direction": nm.direction, "multiplier": nm.multiplier,
                "unit": "%" if nm.chart == Measure.Chart.P else (nm.unit_label or "rate"),
                "definition": nm.definition, "numerator": nm.numerator,
                "denominator": nm.denominator, "collaborative": None}
        return meta, links
    if kind == SHARED:
        sm = (SharedMeasure.objects.select_related("collaborative")
              .filter(pk=object_id, chart__in=COMPARABLE_CHARTS).first())
        if sm is None:
            return None
        links = list(Adoption.objects.filter(shared_measure=sm,
                                             enrolment__status=Enrolment.Status.APPROVED)
                     .values_list("measure_id", "enrolment__project__trust_id"))
        if len({t for _, t in links}) < 2:
            return None
        meta = {"name": sm.name, "context": sm.collaborative.name, "chart": sm.chart,
                "direction": sm.direction,
                "multiplier": Measure.multiplier_for(sm.chart),
                "unit": "%" if sm.chart == Measure.Chart.P else (sm.unit_label or "rate"),
                "definition": sm.definition, "numerator": sm.numerator,
                "denominator": sm.denominator, "collaborative": sm.collaborative_id}
        return meta, links
    raise ValueError(f"unknown comparison kind {kind!r}")


def compute(kind: str, object_id: int) -> tuple[dict, list[tuple]] | None:
    """The series and the per-period rows of one comparison (a few queries, no writes)."""
    src = _sources(kind, object_id)
    if src is None:
        return None
    meta, links = src
    trust_of = dict(links)
    trust_ids = sorted(set(trust_of.values()))
    trusts = {t["pk"]: t for t in Trust.objects.filter(pk__in=trust_ids)
              .values("pk", "name", "ods_code")}
    sums: dict = defaultdict(lambda: [0.0, 0.0])
    points = (DataPoint.objects.filter(measure_id__in=list(trust_of), numerator__isnull=False,
                                       denominator__gt=0)
              .values_list("measure_id", "period", "numerator", "denominator"))
    for mid, period, num, den in points:
        s = sums[(period, trust_of[mid])]
        s[0] += num
        s[1] += den
    mult = float(meta["multiplier"])
    periods = sorted({p for p, _ in sums})
    codes = anonymous_codes(kind, object_id, trust_ids)
    rates = {t: [] for t in trust_ids}
    deciles, rows, funnel_periods = [], [], []
    for period in periods:
        units = []
        for t in trust_ids:
            if (period, t) in sums:
                num, den = sums[(period, t)]
                units.append({"trust": t, "numerator": num, "denominator": den,
                              "rate": num / den * mult})
                rates[t].append(num / den * mult)
            else:
                rates[t].append(None)
        dec = national_deciles([u["rate"] for u in units])
        deciles.append({"period": period.isoformat(), "n": len(units), **(dec or {})})
        result, reason = None, ""
        if len(units) < MIN_FUNNEL:
            reason = (f"A funnel plot needs at least {MIN_FUNNEL} trusts' data for the same "
                      f"period; {len(units)} reported this period.")
        else:
            try:
                result = funnel([u["numerator"] for u in units],
                                [u["denominator"] for u in units],
                                [str(u["trust"]) for u in units],
                                data_type=_data_type(meta["chart"]), multiplier=mult).to_dict()
                funnel_periods.append(period.isoformat())
            except ValueError as exc:
                reason = f"No funnel for this period: {exc}"
        rows.append((period, len(units), {"units": units, "funnel": result, "reason": reason}))
    series = {
        "meta": meta,
        "periods": [p.isoformat() for p in periods],
        "funnel_periods": funnel_periods,
        "deciles": deciles,
        "method": DECILE_METHOD,
        "trusts": [{"id": t, "name": trusts[t]["name"], "ods": trusts[t]["ods_code"],
                    "code": codes[t], "rates": rates[t]} for t in trust_ids if t in trusts],
    }
    return series, rows


@transaction.atomic
def build(kind: str, object_id: int) -> bool:
    """Rebuild and store one comparison. Idempotent; False (and its rows removed) when it
    is no longer comparable."""
    out = compute(kind, object_id)
    key = {"kind": kind, "object_id": object_id}
    if out is None:
        ComparisonSnapshot.objects.filter(**key).delete()
        return False
    series, rows = out
    now = timezone.now()
    ComparisonSnapshot.objects.filter(**key, period__isnull=False).delete()
    ComparisonSnapshot.objects.bulk_create([
        ComparisonSnapshot(**key, period=period, n_trusts=n, data=data, built_at=now,
                           title=series["meta"]["name"][:300])
        for period, n, data in rows
    ])
    ComparisonSnapshot.objects.update_or_create(
        **key, period=None,
        defaults={"title": series["meta"]["name"][:300], "n_trusts": len(series["trusts"]),
                  "data": series, "built_at": now},
    )
    return True


def comparable_keys() -> list[tuple[str, int]]:
    """Every comparison there should be: each national definition, and each P or U shared
    measure adopted by approved teams of at least two trusts."""
    keys = [(NATIONAL, pk) for pk in NationalMeasure.objects.order_by("pk")
            .values_list("pk", flat=True)]
    shared = (Adoption.objects.filter(enrolment__status=Enrolment.Status.APPROVED,
                                      shared_measure__chart__in=COMPARABLE_CHARTS)
              .values("shared_measure_id")
              .annotate(n=Count("enrolment__project__trust_id", distinct=True))
              .filter(n__gte=2).order_by("shared_measure_id")
              .values_list("shared_measure_id", flat=True))
    return keys + [(SHARED, pk) for pk in shared]


def remove_orphans() -> int:
    """Drop the rows of comparisons that no longer exist (nightly)."""
    keep = set(comparable_keys())
    stored = set(ComparisonSnapshot.objects.filter(period=None)
                 .values_list("kind", "object_id"))
    gone = stored - keep
    for kind, object_id in gone:
        ComparisonSnapshot.objects.filter(kind=kind, object_id=object_id).delete()
    return len(gone)


def keys_of_measures(measure_ids) -> list[tuple[str, int]]:
    """The comparisons that read any of these measures."""
    ids = list(measure_ids)
    national = (NationalAdoption.objects.filter(measure_id__in=ids)
                .values_list("national_measure_id", flat=True).distinct())
    shared = (Adoption.objects.filter(measure_id__in=ids,
                                      shared_measure__chart__in=COMPARABLE_CHARTS)
              .values_list("shared_measure_id", flat=True).distinct())
    return sorted({(NATIONAL, i) for i in national} | {(SHARED, i) for i in shared})


# ---- debounce: the series row's dirty_since is the mark (as reports.rollups) -----------------


def request(kind: str, object_id: int) -> bool:
    """Ask for a rebuild. True when the caller should send the build (the mark was clear)."""
    now = timezone.now()
    rows = ComparisonSnapshot.objects.filter(kind=kind, object_id=object_id, period=None)
    if rows.filter(dirty_since__isnull=True).update(dirty_since=now):
        return True
    if rows.exists():
        return False
    try:
        with transaction.atomic():
            ComparisonSnapshot.objects.create(kind=kind, object_id=object_id, period=None,
                                              dirty_since=now)
    except IntegrityError:  # another request created it first: that one sends the build
        return False
    return True


def claim(kind: str, object_id: int) -> bool:
    """Take the build mark (conditional update): only one worker gets it."""
    rows = ComparisonSnapshot.objects.filter(kind=kind, object_id=object_id, period=None)
    marked = rows.filter(dirty_since__isnull=False).values_list("dirty_since", flat=True).first()
    return marked is not None and rows.filter(dirty_since=marked).update(dirty_since=None) == 1


def mark_again(kind: str, object_id: int) -> None:
    ComparisonSnapshot.objects.filter(kind=kind, object_id=object_id, period=None,
                                      dirty_since__isnull=True).update(dirty_since=timezone.now())


# ---- reads (the pages) -----------------------------------------------------------------------


def name_trusts_setting() -> bool:
    row = ComparisonSetting.objects.filter(pk=1).values_list("name_trusts", flat=True).first()
    return bool(row)


def series_of(kind: str, object_id: int) -> ComparisonSnapshot | None:
    return ComparisonSnapshot.objects.filter(kind=kind, object_id=object_id, period=None,
                                             built_at__isnull=False).first()


def period_of(kind: str, object_id: int, period) -> ComparisonSnapshot | None:
    return ComparisonSnapshot.objects.filter(kind=kind, object_id=object_id,
                                             period=period).first()


def labeller(series: dict, *, named: bool, own_trust_ids: set[int]):
    """A function trust id -> the label this viewer sees (own trusts always by name)."""
    names = {t["id"]: t["name"] for t in series["trusts"]}
    dupes = {n for n in names.values() if list(names.values()).count(n) > 1}
    by_id = {}
    for t in series["trusts"]:
        if named or t["id"] in own_trust_ids:
            by_id[t["id"]] = f"{t['name']} ({t['ods']})" if t["name"] in dupes else t["name"]
        else:
            by_id[t["id"]] = t["code"]
    return lambda tid: by_id.get(int(tid), "Unknown trust")


def funnel_for_viewer(series: dict, row: dict, label):
    """The stored period's funnel, called again with the viewer's labels (no query)."""
    units = row["units"]
    meta = series["meta"]
    return funnel([u["numerator"] for u in units], [u["denominator"] for u in units],
                  [label(u["trust"]) for u in units], data_type=_data_type(meta["chart"]),
                  multiplier=float(meta["multiplier"]))


def plotly_json(fig) -> dict:
    return json.loads(fig.to_json())


def readable_keys(user) -> Q | None:
    """A Q on ComparisonSnapshot for the comparisons the user may read (None: every one)."""
    if access.reads_all_comparisons(user):
        return None
    nat = access.national_measures_compared_for(user, NationalMeasure.objects.all())
    collabs = access.collaboratives_readable_by(user, Collaborative.objects.all())
    shared = SharedMeasure.objects.filter(collaborative__in=collabs)
    return (Q(kind=NATIONAL, object_id__in=nat.values("pk"))
            | Q(kind=SHARED, object_id__in=shared.values("pk")))


def adoptable_measures(user, national_measure: NationalMeasure):
    """Measures the user may link to `national_measure`: same chart, not yet linked, in
    projects whose trust's QI lead they are."""
    projects = access.projects_approvable_by(user, Project.objects.all())
    return (Measure.objects.filter(project__in=projects, chart=national_measure.chart,
                                   national_adoption__isnull=True)
            .select_related("project__trust").order_by("project__title", "name"))


def adoptable_projects(user):
    """Projects the user may add a measure from a national definition to."""
    return (access.projects_approvable_by(user, Project.objects.all())
            .select_related("trust").order_by("trust__name", "title"))
