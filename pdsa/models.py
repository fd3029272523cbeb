"""PDSA cycles: small, fast tests of one change idea, following IHI's PDSA worksheet.

Cycles are numbered within a change idea and link to the cycle they follow, forming a ramp.
Writes go through pdsa/services.py, which assigns the number, derives the status and bumps
`version` (optimistic locking) in one transaction.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.screening import NO_PATIENT_DATA
from measures.models import Measure
from projects.models import ChangeIdea


def _text(verbose_name, **kwargs):
    return models.TextField(verbose_name, blank=True, validators=NO_PATIENT_DATA, **kwargs)


class Cycle(models.Model):
    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        DOING = "doing", "Doing"
        STUDYING = "studying", "Studying"
        ACTING = "acting", "Acting"
        COMPLETE = "complete", "Complete"

    class AsPlanned(models.TextChoices):
        YES = "yes", "Yes"
        PARTLY = "partly", "Partly"
        NO = "no", "No"

    class Decision(models.TextChoices):
        ADOPT = "adopt", "Adopt"
        ADAPT = "adapt", "Adapt"
        ABANDON = "abandon", "Abandon"

    change_idea = models.ForeignKey(
        ChangeIdea, on_delete=models.CASCADE, related_name="pdsa_cycles"
    )
    number = models.PositiveIntegerField(editable=False)
    follows = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_by",
        verbose_name="follows cycle",
    )

    # Plan
    objective = models.TextField(
        "objective of this test", validators=NO_PATIENT_DATA
    )
    questions = _text("questions this test will answer")
    prediction = _text("prediction")
    who_what_where_when = _text("who, what, where and when")
    data_to_collect = _text("data to collect")
    measures = models.ManyToManyField(
        Measure, blank=True, related_name="pdsa_cycles", verbose_name="linked measures"
    )
    planned_start = models.DateField("planned start", null=True, blank=True)

    # Do
    carried_out_as_planned = models.CharField(
        "carried out as planned?", max_length=6, choices=AsPlanned.choices, blank=True
    )
    what_happened = _text("what happened")
    observations = _text("observations and surprises")
    problems = _text("problems")
    done_date = models.DateField("date done", null=True, blank=True)

    # Study
    results = _text("results compared with the prediction")
    learning = _text("what we learned")
    studied_date = models.DateField("date studied", null=True, blank=True)

    # Act
    decision = models.CharField(max_length=7, choices=Decision.choices, blank=True)
    next_steps = _text("next steps")
    act_date = models.DateField("date decided", null=True, blank=True)

    # Derived from the stages filled in, by services.derive_status; stored for filtering.
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PLANNING, editable=False
    )
    # Optimistic locking: every write must name the version it was based on.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The keyset pages of the API list (core/pagination.py) read the index below.
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["change_idea", "number"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["planned_start"]),
            models.Index(fields=["updated_at", "id"], name="cycle_updated_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["change_idea", "number"], name="pdsa_cycle_unique_number"
            ),
            models.CheckConstraint(
                condition=~models.Q(follows=models.F("pk")), name="pdsa_cycle_not_self_follow"
            ),
        ]

    def __str__(self):
        return f"Cycle {self.number}: {self.change_idea}"

    def get_absolute_url(self):
        return reverse("pdsa:detail", args=[self.pk])

    @property
    def project(self):
        return self.change_idea.project

    @property
    def key_date(self):
        """The date that places the cycle on a chart: the latest stage it reached."""
        return (
            self.act_date
            or self.studied_date
            or self.done_date
            or self.planned_start
            or self.created_at.date()
        )

    # Which stages have been filled in, in the IHI worksheet's order.
    def stages_done(self) -> dict[str, bool]:
        return {
            "plan": bool(self.objective.strip() and self.prediction.strip()),
            "do": bool(str(self.carried_out_as_planned or "").strip()
                       or self.what_happened.strip()),
            "study": bool(self.results.strip() or self.learning.strip()),
            "act": bool(self.decision),
        }

    @property
    def out_of_order(self) -> list[str]:
        """Stages skipped before a later one was filled in (saved before the rules held):
        such a cycle is shown as out of order, never as complete."""
        done = self.stages_done()
        order = ["plan", "do", "study", "act"]
        last = max((i for i, stage in enumerate(order) if done[stage]), default=-1)
        return [stage for stage in order[:last] if not done[stage]]

    def quality_features(self) -> dict[str, bool]:
        """The features that make a PDSA cycle work (DOMAIN.md). Uses the selectors'
        annotations `has_measures` / `has_followers` when present, else queries."""
        has_measures = getattr(self, "has_measures", None)
        if has_measures is None:
            has_measures = self.measures.exists()
        has_followers = getattr(self, "has_followers", None)
        if has_followers is None:
            has_followers = self.followed_by.exists()
        return {
            "prediction": bool(self.prediction.strip()),
            "data_linked": bool(has_measures),
            "study_compares": bool(self.results.strip()),
            "ramp": bool(self.follows_id or has_followers),
        }

    @property
    def quality_score(self) -> int:
        return sum(self.quality_features().values())


QUALITY_LABELS = {
    "prediction": "Prediction made",
    "data_linked": "Data linked (at least one measure)",
    "study_compares": "Study compares results with the prediction",
    "ramp": "Part of a ramp of cycles",
}
