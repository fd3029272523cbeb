"""Reads for the pages that combine layers: the progress-score suggestion on the project
page needs the driver diagram (projects), data and signals (measures) and PDSA cycles; the
dashboards and the board pack read what changed, project counts and the measures matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Max, Q
from django.utils import timezone

from measures.models import DataPoint, MeasureSnapshot
from pdsa.models import Cycle
from projects.models import PROGRESS_LABELS, ChangeIdea, Driver, ProgressScore, Project
from reports import rollups
from reports.models import Rollup
from reports.spc.icons import ASSURANCE_TITLES

# ---- progress score suggestion -------------------------------------------------------------


@dataclass
class Suggestion:
    score: Decimal
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return PROGRESS_LABELS[self.score]


def _cycle_count(project: Project) -> int:
    """PDSA cycles logged for the project."""
    return Cycle.objects.filter(change_idea__project=project).count()


def _improving_measures(project: Project) -> int:
    return MeasureSnapshot.objects.filter(
        measure__project=project, variation_icon__startswith="improvement"
    ).count()


def suggest_progress_score(project: Project) -> Suggestion:
    """A score the evidence supports, with the reasons in plain English.

    Never above 4.0: sustained and outstanding results (4.5, 5.0) are for the team to judge.
    A constant handful of queries: team, drivers, change ideas, cycles, measures with data,
    improving measures.
    """
    score = Decimal("0.5")
    reasons = []
    cache = getattr(project, "_prefetched_objects_cache", {})
    has_team = bool(cache["team"]) if "team" in cache else project.team.exists()
    if project.aim and project.lead_id and (has_team or project.coach_id):
        score = Decimal("1.0")
        reasons.append("The charter has an aim, a lead and a team.")
    else:
        reasons.append("The charter is not complete yet: it needs an aim, a lead and a team.")
        return Suggestion(score, reasons)

    drivers = Driver.objects.filter(project=project).exists()
    ideas = ChangeIdea.objects.filter(project=project).exists()
    if drivers or ideas:
        score = Decimal("1.5")
        reasons.append("Planning has begun: the driver diagram has drivers or change ideas.")

    cycles = _cycle_count(project)
    measured = (
        DataPoint.objects.filter(measure__project=project)
        .values("measure_id")
        .distinct()
        .count()
    )
    if cycles:
        reasons.append(
            f"{cycles} PDSA cycle{'s have' if cycles != 1 else ' has'} been logged."
        )
    if measured:
        reasons.append(
            f"{measured} measure{'s have' if measured != 1 else ' has'} data."
        )
    # Data on a measure is activity (2.0); a logged PDSA cycle is a change being tested
    # (2.5). Improvement needs a signal on a measure, below.
    if measured:
        score = Decimal("2.0")
    if cycles:
        score = Decimal("2.5")

    improving = _improving_measures(project)
    if improving:
        score = Decimal("3.0")
        if improving >= 3:
            score = Decimal("4.0")
        elif improving == 2:
            score = Decimal("3.5")
        reasons.append(
            f"{improving} measure{'s show' if improving != 1 else ' shows'} special cause "
            "variation in the direction of improvement."
        )
    elif measured:
        reasons.append("No measure shows a signal of improvement yet.")
    return Suggestion(score, reasons)


# ---- dashboards: what changed, project counts, the measures matrix ----------------------

CHANGES_DAYS = 30


def changed_since(visible) -> dict:
    """What changed in the last month, for the board's landing page: three aggregates,
    whatever the size of the trust (new projects, scores recorded, cycles completed). The
    new signals are counted and listed with the measures (`_measures_matrix`)."""
    since = timezone.now() - timedelta(days=CHANGES_DAYS)
    return {
        "days": CHANGES_DAYS,
        "new_projects": visible.filter(created_at__gte=since).count(),
        "scores": ProgressScore.objects.filter(
            project__in=visible.values("pk"), recorded_at__gte=since
        ).count(),
        "cycles_completed": Cycle.objects.filter(
            change_idea__project__in=visible.values("pk"), status=Cycle.Status.COMPLETE,
            updated_at__gte=since,
        ).count(),
    }


MATRIX_SHOW = {
    "": ("All measures", Q()),
    "improvement": ("Special cause improvement", Q(variation_icon__startswith="improvement")),
    "concern": ("Special cause concern", Q(variation_icon__startswith="concern")),
    "common": ("Common cause variation", Q(variation_icon="common_cause")),
    "runs": ("A non-random run", Q(runs_signal=True)),
    "new": ("A special cause in the latest month", None),  # needs the date: see below
}
MATRIX_SORTS = {
    "project": ("Project", ["measure__project__title", "measure__position", "measure_id"]),
    "measure": ("Measure", ["measure__name", "measure_id"]),
    "variation": ("Variation", ["variation_icon", "measure__project__title", "measure_id"]),
    "latest": ("Latest data, newest first", ["-latest_period", "measure__project__title",
                                             "measure_id"]),
}


def matrix_rows(visible, show: str = "", sort: str = "project"):
    """(the filtered, sorted snapshots of the visible projects' measures, the signal
    counts, show, sort): what the measures matrix shows, what its download and the board
    pack hold. Unknown `show` and `sort` values fall back to all, by project."""
    recent_data = timezone.localdate() - timedelta(days=CHANGES_DAYS + 31)  # a monthly point
    new_signal = Q(latest_period__gte=recent_data) & (
        Q(variation_icon__startswith="improvement") | Q(variation_icon__startswith="concern"))
    show = show if show in MATRIX_SHOW else ""
    sort = sort if sort in MATRIX_SORTS else "project"
    snaps = MeasureSnapshot.objects.filter(
        measure__project__in=visible.values("pk")).exclude(variation_icon="")
    signals = snaps.aggregate(
        total=Count("pk"),
        **{key: Count("pk", filter=cond) for key, (_, cond) in MATRIX_SHOW.items()
           if key and cond is not None},
        new=Count("pk", filter=new_signal),
        latest_computed=Max("computed_at"),  # newer than the roll-up: it is updating
    )
    condition = new_signal if show == "new" else MATRIX_SHOW[show][1]
    rows = (
        snaps.filter(condition)
        .select_related("measure", "measure__project", "measure__project__unit")
        .only("latest_period", "latest_value", "variation_icon", "assurance", "runs_signal",
              "measure__name", "measure__position", "measure__chart", "measure__unit_label",
              "measure__target",
              "measure__project__title", "measure__project__unit__name")
        .order_by(*MATRIX_SORTS[sort][1])
    )
    return rows, signals, show, sort


def project_counts(qs):
    return qs.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status__in=["approved", "active", "sustaining"])),
        proposed=Count("id", filter=Q(status="proposed")),
        completed=Count("id", filter=Q(status="completed")),
    )


# ---- dashboards: roll-ups and their 12-month trends --------------------------------------

TREND_MONTHS = 12


def rollups_for(trust, unit=None) -> dict:
    """The roll-ups of the trust (or of one unit's subtree) for the last 12 months, and
    this month's trust row (whose `dirty_since` says a build is wanted): one query.
    {"months": [...], "by_month": {month: Rollup}, "trust_now": Rollup | None}."""
    months = rollups.last_months(TREND_MONTHS)
    rows = Rollup.objects.filter(trust=trust, month__gte=months[0]).filter(
        Q(unit=unit) | Q(unit=None, month=months[-1]))
    by_month, trust_now = {}, None
    for row in rows:
        if row.unit_id == (unit.pk if unit is not None else None):
            by_month[row.month] = row
        if row.unit_id is None and row.month == months[-1]:
            trust_now = row
    return {"months": months, "by_month": by_month, "trust_now": trust_now}


def assurance_text(assurance: str, measure) -> str:
    """The assurance reading in words, the same in the matrix, its exports and the board
    pack: a measure with a target but too few points for trusted limits is too early to
    read, not without a target."""
    if assurance:
        return ASSURANCE_TITLES.get(assurance, assurance)
    if measure.target is None:
        return "No target"
    if measure.chart == "run":
        return "Target set; a run chart gives no assurance"
    return "Target set; too few points yet to say whether it is met"
