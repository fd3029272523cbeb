"""Reads for the pages that combine layers: the progress-score suggestion on the project
page needs the driver diagram (projects), data and signals (measures) and PDSA cycles."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from measures.models import DataPoint, MeasureSnapshot
from pdsa.models import Cycle
from projects.models import PROGRESS_LABELS, ChangeIdea, Driver, Project

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
