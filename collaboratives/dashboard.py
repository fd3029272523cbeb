"""The collaborative dashboard, computed once and stored (`DashboardSnapshot.data`), so the
page and the downloads only read one row whatever the number of teams.

What it holds, per shared measure: each team's SPC reading drawn as a small multiple on one
y scale (server-drawn SVG, so it works without JavaScript), a funnel plot of the latest
period with data (P charts as proportions, U charts as ratios of counts), and the raw rows
for the CSV/XLSX download. For the whole collaborative: the distribution of the teams'
progress scores by month and the reporting completeness by month.

Only the teams' data for the shared measures are read: nothing else of any project.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections import Counter, defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from collaboratives.models import (
    Adoption,
    Collaborative,
    DashboardSnapshot,
    Enrolment,
    TeamReport,
)
from measures import snapshots as measure_snapshots
from measures.models import DataPoint
from projects.models import PROGRESS_SCALE
from reports.funnel import funnel
from reports.funnel_chart import describe as funnel_describe
from reports.funnel_chart import funnel_svg
from reports.spc.icons import VARIATION_TITLES, variation_icon_svg

SCORES = [str(s) for s, _ in PROGRESS_SCALE]
POINT_COLOURS = {
    "common_cause": "#7B7D7D",
    "special_cause_improvement": "#289DE0",
    "special_cause_concern": "#FAB428",
    "special_cause_neutral_high": "#361475",
    "special_cause_neutral_low": "#361475",
}


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    out, d = [], start.replace(day=1)
    while d <= end:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _value(chart: str, p: DataPoint) -> float | None:
    if chart in ("p", "u"):
        if p.numerator is None or not p.denominator:
            return None
        v = p.numerator / p.denominator
        return v * 100 if chart == "p" else v
    return p.value


def small_multiple_svg(points: list[dict], lo: float, hi: float, *, title: str,
                       width: int = 260, height: int = 120) -> str:
    """One team's chart on the shared y scale: points coloured by SPC signal, the centre
    line and the process limits. Hidden from screen readers: the table says the same."""
    pad_l, pad_r, pad_t, pad_b = 34, 6, 6, 16
    span = (hi - lo) or 1.0
    n = len(points)
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def sx(i):
        return pad_l + (w * i / (n - 1) if n > 1 else w / 2)

    def sy(v):
        return pad_t + h - (v - lo) / span * h

    parts = [
        f'<svg class="app-small-multiple" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title, quote=True)}">',
        f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fff" '
        'stroke="#d8dde0"/>',
        f'<text x="{pad_l - 3}" y="{pad_t + 8}" font-size="9" text-anchor="end">'
        f'{_fmt(hi)}</text>',
        f'<text x="{pad_l - 3}" y="{pad_t + h}" font-size="9" text-anchor="end">'
        f'{_fmt(lo)}</text>',
    ]
    for key, colour, dash in (("centre", "#231F20", ""), ("upper", "#8A8A8A", "3,2"),
                              ("lower", "#8A8A8A", "3,2")):
        line = " ".join(f"{sx(i):.1f},{sy(p[key]):.1f}" for i, p in enumerate(points)
                        if p.get(key) is not None)
        if line:
            extra = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                         f'stroke-width="1"{extra}/>')
    line = " ".join(f"{sx(i):.1f},{sy(p['value']):.1f}" for i, p in enumerate(points)
                    if p.get("value") is not None)
    if line:
        parts.append(f'<polyline points="{line}" fill="none" stroke="#425563" '
                     'stroke-width="1.2"/>')
    for i, p in enumerate(points):
        if p.get("value") is None:
            continue
        colour = POINT_COLOURS.get(p.get("point_type") or "", "#7B7D7D")
        parts.append(f'<circle cx="{sx(i):.1f}" cy="{sy(p["value"]):.1f}" r="2.5" '
                     f'fill="{colour}"/>')
    if points:
        parts.append(f'<text x="{pad_l}" y="{height - 3}" font-size="9">'
                     f'{points[0]["period"][:7]}</text>')
        parts.append(f'<text x="{width - pad_r}" y="{height - 3}" font-size="9" '
                     f'text-anchor="end">{points[-1]["period"][:7]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _finite(v):
    return v if v is not None and math.isfinite(v) else None


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def _team(enrolment: Enrolment) -> dict:
    project = enrolment.project
    return {"enrolment": enrolment.pk, "name": project.title, "trust": project.trust.name,
            "ods": project.trust.ods_code}


def _measure_section(sm, teams: list[dict], adoptions: list[Adoption],
                     points_by_measure: dict[int, list[DataPoint]]) -> dict:
    team_by_enrolment = {t["enrolment"]: t for t in teams}
    percent = sm.chart == "p"
    series, rows = [], []
    for adoption in adoptions:
        team = team_by_enrolment.get(adoption.enrolment_id)
        if team is None:
            continue
        measure = adoption.measure
        pts = points_by_measure.get(measure.pk, [])
        for p in pts:
            rows.append([team["name"], team["ods"], sm.name, p.period.isoformat(),
                         p.numerator, p.denominator, p.value])
        entry = {"team": team, "n": len(pts), "points": [], "variation": "",
                 "variation_title": "", "latest": None, "latest_period": None}
        if pts:
            try:
                result = measure_snapshots.measure_spc_result(measure, pts)
            except ValueError:
                result = None
            drawn = measure_snapshots.plotted_points(measure, pts)
            factor = 100 if percent else 1
            if result is not None:
                for p, rp in zip(drawn, result.points, strict=True):
                    entry["points"].append({
                        "period": p.period.isoformat(),
                        "value": None if rp.value is None else rp.value * factor,
                        "centre": None if rp.centre is None else rp.centre * factor,
                        "upper": None if rp.upper is None else rp.upper * factor,
                        "lower": None if rp.lower is None else rp.lower * factor,
                        "point_type": rp.point_type,
                    })
                entry["variation"] = result.variation_icon or ""
                entry["variation_title"] = VARIATION_TITLES.get(result.variation_icon, "")
            entry["latest"] = entry["points"][-1]["value"] if entry["points"] else None
            entry["latest_period"] = pts[-1].period.isoformat()
        series.append(entry)
    values = [v for e in series for p in e["points"]
              for v in (p["value"], p["upper"], p["lower"]) if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if percent:
        lo, hi = max(lo, 0.0), min(hi, 100.0)
    for e in series:
        e["svg"] = small_multiple_svg(
            e["points"], lo, hi, title=f"{sm.name}: {e['team']['name']}") if e["points"] else ""
        try:
            e["icon"] = variation_icon_svg(e["variation"], size=36) if e["variation"] else ""
        except ValueError:
            e["icon"] = ""
    return {
        "id": sm.pk, "name": sm.name, "chart": sm.chart, "unit": "%" if percent else sm.unit_label,
        "direction": sm.direction, "y_range": [lo, hi], "teams": series, "rows": rows,
        "funnel": _funnel(sm, series, adoptions, points_by_measure, team_by_enrolment),
    }


def _funnel(sm, series, adoptions, points_by_measure, team_by_enrolment) -> dict:
    if sm.chart not in ("p", "u"):
        return {"available": False,
                "reason": "A funnel plot compares teams' rates: it needs a numerator and a "
                          "denominator for each team (a P or U chart)."}
    by_period: dict[dt.date, list[tuple[str, float, float]]] = defaultdict(list)
    for adoption in adoptions:
        team = team_by_enrolment.get(adoption.enrolment_id)
        if team is None:
            continue
        for p in points_by_measure.get(adoption.measure_id, []):
            if p.numerator is not None and p.denominator:
                by_period[p.period].append((f"{team['name']} ({team['ods']})",
                                            p.numerator, p.denominator))
    candidates = [d for d, units in by_period.items() if len(units) >= 3]
    if not candidates:
        return {"available": False,
                "reason": "A funnel plot needs at least three teams' data for the same "
                          "period."}
    period = max(candidates)
    units = by_period[period]
    names = [u[0] for u in units]
    try:
        result = funnel([u[1] for u in units], [u[2] for u in units], names,
                        data_type="PR" if sm.chart == "p" else "RC")
        improvement = sm.direction
        svg = funnel_svg(result, title=f"{sm.name}, {period:%B %Y}", noun="team",
                         improvement=improvement)
        return {"available": True, "period": period.isoformat(), "svg": svg,
                "reading": funnel_describe(result, noun="team"),
                "units": [{"team": u.group, "numerator": u.numerator,
                           "denominator": u.denominator, "ratio": _finite(u.ratio),
                           "outlier": bool(u.outlier998)} for u in result.units]}
    except ValueError as exc:
        return {"available": False, "reason": str(exc)}


def build(collaborative: Collaborative, *, today: dt.date | None = None) -> dict:
    """The dashboard's numbers for one collaborative (a constant number of queries)."""
    today = today or timezone.localdate()
    enrolments = list(
        Enrolment.objects.filter(collaborative=collaborative, status=Enrolment.Status.APPROVED)
        .select_related("project__trust").order_by("project__trust__name", "project__title")
    )
    teams = [_team(e) for e in enrolments]
    team_ids = {e.pk for e in enrolments}
    shared = list(collaborative.shared_measures.order_by("id"))
    adoptions = list(
        Adoption.objects.filter(enrolment_id__in=team_ids, shared_measure__in=shared)
        .select_related("measure")
    )
    points_by_measure: dict[int, list[DataPoint]] = defaultdict(list)
    for p in DataPoint.objects.filter(measure_id__in=[a.measure_id for a in adoptions]) \
            .order_by("measure_id", "period"):
        points_by_measure[p.measure_id].append(p)
    adoptions_by_sm = defaultdict(list)
    for a in adoptions:
        adoptions_by_sm[a.shared_measure_id].append(a)
    measures = [_measure_section(sm, teams, adoptions_by_sm[sm.pk], points_by_measure)
                for sm in shared]

    end = min(collaborative.end_date, today)
    months = _months(collaborative.start_date, end) if collaborative.start_date <= end else []
    reports = list(TeamReport.objects.filter(enrolment_id__in=team_ids)
                   .values("enrolment_id", "month", "score", "faculty_score"))
    report_by = {(r["enrolment_id"], r["month"]): r for r in reports}
    progress = []
    for m in months:
        counts = Counter(str(r["score"]) for (eid, month), r in report_by.items() if month == m)
        faculty = Counter(str(r["faculty_score"]) for (eid, month), r in report_by.items()
                          if month == m and r["faculty_score"] is not None)
        progress.append({"month": m.isoformat(), "counts": [counts.get(s, 0) for s in SCORES],
                         "faculty": [faculty.get(s, 0) for s in SCORES],
                         "reported": sum(counts.values()),
                         "median": _median([Decimal(k) for k, v in counts.items()
                                            for _ in range(v)])})
    # Completeness of a month counts only what existed and was due that month: the shared
    # measures published by its end and the teams that had joined by then. A team sent its
    # data for a month when it has a point that month for every measure then due (issue 20
    # item 4: a measure added in December does not undo November).
    def month_end(d: dt.datetime) -> dt.date:
        return timezone.localdate(d).replace(day=1)

    measure_from = {sm.pk: month_end(sm.created_at) for sm in shared}
    team_from = {e.pk: month_end(e.decided_at or e.requested_at) for e in enrolments}
    sent = defaultdict(set)  # (enrolment id, month) -> shared measure ids with data
    for a in adoptions:
        for p in points_by_measure.get(a.measure_id, []):
            sent[(a.enrolment_id, p.period.replace(day=1))].add(a.shared_measure_id)
    completeness = []
    for m in months:
        due = {sm_id for sm_id, first in measure_from.items() if first <= m}
        teams_then = [e for e in enrolments if team_from[e.pk] <= m]
        n_teams = len(teams_then)
        with_data = (sum(1 for e in teams_then if due <= sent.get((e.pk, m), set()))
                     if due else None)
        with_report = sum(1 for e in teams_then if (e.pk, m) in report_by)
        completeness.append({
            "month": m.isoformat(), "due": collaborative.due_date(m).isoformat(),
            "teams": n_teams, "measures_due": len(due), "data": with_data,
            "reports": with_report,
            "data_pct": round(100 * with_data / n_teams) if n_teams and due else None,
            "reports_pct": round(100 * with_report / n_teams) if n_teams else None,
        })
    report_rows = [[t["name"], t["ods"], r["month"].isoformat(), str(r["score"]),
                    "" if r["faculty_score"] is None else str(r["faculty_score"])]
                   for t in teams for (eid, _m), r in sorted(report_by.items(),
                                                             key=lambda kv: kv[0][1])
                   if eid == t["enrolment"]]
    return {
        "built_at": timezone.now().isoformat(),
        "teams": teams,
        "measures": measures,
        "scores": SCORES,
        "score_labels": [label for _, label in PROGRESS_SCALE],
        "progress": progress,
        "completeness": completeness,
        "report_rows": report_rows,
    }


def _median(values: list[Decimal]) -> str | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    v = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return str(v)


def data_as_of(collaborative_id: int):
    """The newest change the dashboard should reflect: the collaborative's own, or any
    enrolled team's adopted measure's data."""
    own = Collaborative.objects.filter(pk=collaborative_id).values_list("changed_at", flat=True)
    own = own.first()
    measures = Adoption.objects.filter(
        enrolment__collaborative_id=collaborative_id,
        enrolment__status=Enrolment.Status.APPROVED,
    ).aggregate(m=Max("measure__data_changed_at"))["m"]
    stamps = [s for s in (own, measures) if s is not None]
    return max(stamps) if stamps else None


def is_stale(collaborative_id: int, snapshot: DashboardSnapshot | None) -> bool:
    if snapshot is None:
        return True
    newest = data_as_of(collaborative_id)
    return newest is not None and (snapshot.data_as_of is None or snapshot.data_as_of < newest)


@transaction.atomic
def refresh(*, collaborative_id: int) -> bool:
    """Rebuild and store the dashboard. Idempotent; False when the collaborative is gone."""
    collaborative = Collaborative.objects.select_for_update().filter(pk=collaborative_id).first()
    if collaborative is None:
        return False
    as_of = data_as_of(collaborative_id)
    DashboardSnapshot.objects.update_or_create(
        collaborative=collaborative,
        defaults={"data": build(collaborative), "data_as_of": as_of},
    )
    return True


def stale_ids(limit: int = 200) -> list[int]:
    """Collaboratives whose dashboard is missing or older than their data (reconcile)."""
    out = []
    snaps = dict(DashboardSnapshot.objects.values_list("collaborative_id", "data_as_of"))
    own = dict(Collaborative.objects.values_list("pk", "changed_at"))
    data = dict(
        Adoption.objects.filter(enrolment__status=Enrolment.Status.APPROVED)
        .values("enrolment__collaborative_id")
        .annotate(m=Max("measure__data_changed_at"))
        .values_list("enrolment__collaborative_id", "m")
    )
    for cid, changed in own.items():
        newest = max([s for s in (changed, data.get(cid)) if s is not None], default=None)
        if cid not in snaps or (newest is not None and (snaps[cid] is None
                                                        or snaps[cid] < newest)):
            out.append(cid)
        if len(out) >= limit:
            break
    return out
