"""Improvement collaboratives (IHI Breakthrough Series): a topic, a faculty of facilitators,
trusts that take part, their enrolled projects (the teams), learning sessions with action
periods between them, shared measure definitions each team adopts as its own measure,
monthly team reports, shared learning and a dashboard snapshot built by Celery.

Writes go through services.py; who may do what is organisations/access.py's question (its
collaborative section reads the relations named here: `facilitators`, `participations`)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.screening import NO_PATIENT_DATA
from measures.models import Measure
from organisations.models import Trust
from pdsa.models import Cycle
from projects.models import PROGRESS_SCALE, Project

SCORE_CHOICES = [(s, f"{s} {label}") for s, label in PROGRESS_SCALE]


class Collaborative(models.Model):
    name = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    topic = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    host_trust = models.ForeignKey(
        Trust, on_delete=models.PROTECT, related_name="hosted_collaboratives",
        verbose_name="host organisation",
    )
    aim = models.TextField(
        "aim", validators=NO_PATIENT_DATA,
        help_text="What, for whom, how much, by when. For example: reduce inpatient falls "
        "with harm by 25% across every team by March 2027.",
    )
    description = models.TextField(blank=True, validators=NO_PATIENT_DATA)
    start_date = models.DateField()
    end_date = models.DateField()
    report_due_day = models.PositiveSmallIntegerField(
        "data due by day", default=10,
        help_text="Data and the report for a month are due by this day of the next month.",
    )
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="facilitated_collaboratives", blank=True,
        verbose_name="faculty (facilitators)",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by services when the collaborative's own data changes (enrolments, adoptions,
    # reports); the dashboard snapshot is stale when it is older than this or than any
    # adopted measure's data_changed_at.
    changed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="collaborative_ends_after_start",
                violation_error_message="The end date must be on or after the start date.",
            ),
            models.CheckConstraint(
                condition=models.Q(report_due_day__gte=1, report_due_day__lte=28),
                name="collaborative_due_day_in_month",
                violation_error_message="Choose a day from 1 to 28.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("collaboratives:detail", args=[self.pk])

    def due_date(self, month: dt.date) -> dt.date:
        """Data for `month` are due by `report_due_day` of the month after."""
        y, m = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
        return dt.date(y, m, self.report_due_day)


class LearningSession(models.Model):
    collaborative = models.ForeignKey(
        Collaborative, on_delete=models.CASCADE, related_name="sessions"
    )
    title = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    date = models.DateField()
    online = models.BooleanField("online", default=False)
    place = models.CharField(
        max_length=200, blank=True, validators=NO_PATIENT_DATA,
        help_text="Where it is held. Leave blank for an online session.",
    )
    agenda = models.TextField(blank=True, validators=NO_PATIENT_DATA)
    materials_url = models.URLField(
        "link to materials", blank=True, validators=NO_PATIENT_DATA,
        help_text="For example the slides or the shared folder.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "id"]

    def __str__(self):
        return f"{self.title} ({self.date:%-d %b %Y})"


class Participation(models.Model):
    """A trust invited to a collaborative, and its answer."""

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        ACCEPTED = "accepted", "Taking part"
        DECLINED = "declined", "Declined"
        LEFT = "left", "Left"

    collaborative = models.ForeignKey(
        Collaborative, on_delete=models.CASCADE, related_name="participations"
    )
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="participations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["trust__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["collaborative", "trust"], name="participation_unique_trust"
            ),
        ]

    def __str__(self):
        return f"{self.trust} in {self.collaborative}"


class Enrolment(models.Model):
    """A project of a taking-part trust enrolled as a team. A project may be in several."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        APPROVED = "approved", "Enrolled"
        REFUSED = "refused", "Not approved"
        LEFT = "left", "Left"

    collaborative = models.ForeignKey(
        Collaborative, on_delete=models.CASCADE, related_name="enrolments"
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="collaborative_enrolments"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["project__trust__name", "project__title"]
        constraints = [
            models.UniqueConstraint(
                fields=["collaborative", "project"], name="enrolment_unique_project"
            ),
        ]

    def __str__(self):
        return f"{self.project} in {self.collaborative}"

    @property
    def team_name(self) -> str:
        return f"{self.project.title} ({self.project.trust.ods_code})"


class SharedMeasure(models.Model):
    """A measure definition owned by the collaborative: every team reports the same thing."""

    collaborative = models.ForeignKey(
        Collaborative, on_delete=models.CASCADE, related_name="shared_measures"
    )
    name = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    kind = models.CharField(max_length=10, choices=Measure.Kind.choices,
                            default=Measure.Kind.OUTCOME)
    definition = models.TextField("operational definition", validators=NO_PATIENT_DATA)
    numerator = models.CharField(
        "numerator", max_length=300, blank=True, validators=NO_PATIENT_DATA,
        help_text="What is counted, for P and U charts.",
    )
    denominator = models.CharField(
        "denominator", max_length=300, blank=True, validators=NO_PATIENT_DATA,
        help_text="What it is out of, for P and U charts.",
    )
    unit_label = models.CharField(
        "unit", max_length=50, blank=True, validators=NO_PATIENT_DATA,
        help_text="For example: falls per 1,000 bed days, %.",
    )
    chart = models.CharField(max_length=4, choices=Measure.Chart.choices,
                             default=Measure.Chart.XMR)
    direction = models.CharField(max_length=10, choices=Measure.Direction.choices)
    frequency = models.CharField(max_length=10, choices=Measure.Frequency.choices,
                                 default=Measure.Frequency.MONTHLY)
    target = models.FloatField(null=True, blank=True)
    # Bumped on every change of the definition; an adoption remembers the version it took.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class SharedMeasureChange(models.Model):
    """What changed in a shared definition, for the teams to see."""

    shared_measure = models.ForeignKey(
        SharedMeasure, on_delete=models.CASCADE, related_name="changes"
    )
    version = models.PositiveIntegerField()
    summary = models.TextField(validators=NO_PATIENT_DATA)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self):
        return f"{self.shared_measure} v{self.version}"


class Adoption(models.Model):
    """A team's own measure, created from a shared definition and linked to it."""

    shared_measure = models.ForeignKey(
        SharedMeasure, on_delete=models.CASCADE, related_name="adoptions"
    )
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="adoptions")
    measure = models.OneToOneField(
        Measure, on_delete=models.CASCADE, related_name="collaborative_adoption"
    )
    version = models.PositiveIntegerField(
        help_text="The version of the shared definition the team's measure follows."
    )
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    adopted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shared_measure", "enrolment"], name="adoption_unique_team"
            ),
        ]

    def __str__(self):
        return f"{self.shared_measure} at {self.enrolment}"


class TeamReport(models.Model):
    """A team's monthly report: self-assessment and narrative, the faculty's view beside."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="reports")
    month = models.DateField(help_text="The first day of the month reported on.")
    score = models.DecimalField("team's progress score", max_digits=2, decimal_places=1,
                                choices=SCORE_CHOICES)
    tested = models.TextField("what we tested", blank=True, validators=NO_PATIENT_DATA)
    learned = models.TextField("what we learned", blank=True, validators=NO_PATIENT_DATA)
    help_needed = models.TextField("what help we need", blank=True, validators=NO_PATIENT_DATA)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now=True)
    faculty_score = models.DecimalField(
        "faculty's progress score", max_digits=2, decimal_places=1, choices=SCORE_CHOICES,
        null=True, blank=True,
    )
    faculty_comment = models.TextField("faculty's comment", blank=True,
                                       validators=NO_PATIENT_DATA)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    assessed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "month"], name="team_report_unique"),
            models.CheckConstraint(condition=models.Q(month__day=1),
                                   name="team_report_first_of_month"),
        ]

    def __str__(self):
        return f"{self.enrolment} {self.month:%b %Y}"


class Tag(models.Model):
    collaborative = models.ForeignKey(Collaborative, on_delete=models.CASCADE,
                                      related_name="tags")
    name = models.CharField(max_length=50, validators=NO_PATIENT_DATA)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["collaborative", "name"], name="tag_unique_name"),
        ]

    def __str__(self):
        return self.name


class LearningPost(models.Model):
    collaborative = models.ForeignKey(Collaborative, on_delete=models.CASCADE,
                                      related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    # The team the learning came from (optional), and the PDSA cycle it was shared from.
    enrolment = models.ForeignKey(Enrolment, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="posts", verbose_name="team")
    cycle = models.ForeignKey(Cycle, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="collaborative_posts")
    title = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    body = models.TextField("what we learned", validators=NO_PATIENT_DATA)
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["collaborative", "-created_at"])]

    def __str__(self):
        return self.title


class Comment(models.Model):
    post = models.ForeignKey(LearningPost, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+")
    body = models.TextField("comment", validators=NO_PATIENT_DATA)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Comment on {self.post}"


class DashboardSnapshot(models.Model):
    """The collaborative dashboard, precomputed by `collaboratives.tasks.refresh_dashboard`:
    pages only read it."""

    collaborative = models.OneToOneField(Collaborative, on_delete=models.CASCADE,
                                         related_name="snapshot")
    data = models.JSONField(default=dict)
    # The newest change (collaborative or adopted measure) the snapshot reflects.
    data_as_of = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Dashboard of {self.collaborative_id}"


class PackageIdea(models.Model):
    """A change idea of the collaborative's change package."""

    collaborative = models.ForeignKey(Collaborative, on_delete=models.CASCADE,
                                      related_name="package_ideas")
    title = models.CharField("change idea", max_length=300, validators=NO_PATIENT_DATA)
    description = models.TextField(blank=True, validators=NO_PATIENT_DATA)
    shared_measure = models.ForeignKey(
        SharedMeasure, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="package_ideas", verbose_name="shared measure it should move",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.title


class PackageTest(models.Model):
    """A PDSA cycle of an enrolled team that tested a change idea of the package; the team
    links it, and so shares its decision and dates with the collaborative."""

    idea = models.ForeignKey(PackageIdea, on_delete=models.CASCADE, related_name="tests")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE,
                                  related_name="package_tests")
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="package_tests")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["idea", "linked_at"]
        constraints = [
            models.UniqueConstraint(fields=["idea", "cycle"], name="package_test_unique"),
        ]

    def __str__(self):
        return f"{self.cycle} tested {self.idea}"
