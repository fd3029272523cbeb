"""Improvement projects (the Model for Improvement): charter, team, driver diagram, change
ideas and the IHI progress-scale history. Writes go through services.py. Measures and their
data live in the measures app, one layer up."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.screening import NO_PATIENT_DATA
from organisations.models import Trust, Unit
from projects.similarity import normalise


class QualityDimension(models.TextChoices):
    SAFE = "safe", "Safe"
    EFFECTIVE = "effective", "Effective"
    PERSON_CENTRED = "person_centred", "Person-centred"
    TIMELY = "timely", "Timely"
    EFFICIENT = "efficient", "Efficient"
    EQUITABLE = "equitable", "Equitable"


PROGRESS_SCALE = [
    (Decimal("0.5"), "Intent to participate"),
    (Decimal("1.0"), "Charter and team established"),
    (Decimal("1.5"), "Planning for the project has begun"),
    (Decimal("2.0"), "Activity, but no changes"),
    (Decimal("2.5"), "Changes tested, but no improvement"),
    (Decimal("3.0"), "Modest improvement"),
    (Decimal("3.5"), "Improvement"),
    (Decimal("4.0"), "Significant improvement"),
    (Decimal("4.5"), "Sustainable improvement"),
    (Decimal("5.0"), "Outstanding sustainable results"),
]
PROGRESS_LABELS = {score: label for score, label in PROGRESS_SCALE}


class Project(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        ACTIVE = "active", "Active"
        SUSTAINING = "sustaining", "Sustaining"
        COMPLETED = "completed", "Completed"
        STOPPED = "stopped", "Stopped"

    # The NHS.UK tag colour of each status (templates/projects/_status_tag.html and the
    # project list's rows, projects/templatetags/project_list.py).
    STATUS_TAG_MODIFIERS = {"proposed": "grey", "approved": "aqua-green", "active": "blue",
                            "sustaining": "purple", "completed": "green", "stopped": "red"}

    class Visibility(models.TextChoices):
        TEAM = "team", "Project team and the trust's QI leads"
        TRUST = "trust", "Everyone at the trust"
        EVERYONE = "everyone", "Everyone signed in to the portal"

    class Sharing(models.TextChoices):
        """What the project shares beyond its trust, in the learning repository and the
        national pages (organisations.access, "learning repository" section)."""

        NOTHING = "nothing", "Nothing"
        SUMMARY = "summary", "The summary: title, aim and change ideas"
        LEARNING = "learning", "The summary and the learning: PDSA study and act, learning posts"

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="projects")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="projects", null=True, blank=True
    )
    title = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    problem = models.TextField("problem and background", blank=True, validators=NO_PATIENT_DATA)
    aim = models.TextField(
        "aim statement",
        help_text="What, for whom, how much, by when. For example: reduce inpatient falls on "
        "Ward 7 by 30% by March 2027.", validators=NO_PATIENT_DATA,
    )
    scope = models.TextField(blank=True, validators=NO_PATIENT_DATA)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="projects_led"
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="projects_sponsored",
    )
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="projects_coached",
        verbose_name="QI coach",
    )
    start_date = models.DateField(null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    quality_dimension = models.CharField(
        max_length=20, choices=QualityDimension.choices, blank=True
    )
    strategic_theme = models.CharField(max_length=100, blank=True, validators=NO_PATIENT_DATA)
    patient_involvement = models.TextField(
        "patient and public involvement", blank=True, validators=NO_PATIENT_DATA
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.TRUST
    )
    sharing = models.CharField(
        "shared beyond the trust", max_length=10, choices=Sharing.choices,
        default=Sharing.NOTHING,
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    stopped_reason = models.TextField(blank=True, validators=NO_PATIENT_DATA)
    # Denormalised latest progress score, kept by services, so lists need no subquery.
    progress_score = models.DecimalField(max_digits=2, decimal_places=1, null=True, blank=True)
    progress_scored_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The title's and aim's words as the duplicate warning compares them
    # (projects/similarity.py), kept by save(). On PostgreSQL each has a GIN trigram index
    # (migration 0003) for pg_trgm's `%` and similarity().
    match_title = models.TextField(blank=True, editable=False, validators=NO_PATIENT_DATA)
    match_aim = models.TextField(blank=True, editable=False, validators=NO_PATIENT_DATA)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["trust", "status"]),
            # The register's default order: the list page reads 25 rows off this index
            # instead of sorting every visible project (bench/bench_project_list.py).
            models.Index(fields=["updated_at", "id"], name="project_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="stopped") | ~models.Q(stopped_reason=""),
                name="project_stopped_needs_reason",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # Derived columns, not a business rule: whatever writes the title or aim (services,
        # the admin, factories, the demo data) keeps the duplicate check's words in step.
        self.match_title = normalise(self.title)
        self.match_aim = normalise(self.aim)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"title", "aim"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "match_title", "match_aim"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("projects:detail", args=[self.pk])

    @property
    def status_tag_class(self) -> str:
        modifier = self.STATUS_TAG_MODIFIERS.get(self.status)
        return f"nhsuk-tag nhsuk-tag--{modifier}" if modifier else "nhsuk-tag"


class TeamMember(models.Model):
    """A member of a project team: a portal user, or a named patient/carer partner."""

    class Role(models.TextChoices):
        MEMBER = "member", "Team member"
        PATIENT_PARTNER = "patient_partner", "Patient, service user or carer partner"
        DATA_LEAD = "data_lead", "Data lead"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="project_teams",
    )
    name = models.CharField(
        max_length=150, blank=True, help_text="For partners who do not sign in to the portal.",
        validators=NO_PATIENT_DATA,
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"],
                condition=models.Q(user__isnull=False),
                name="team_member_unique_user",
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(name=""),
                name="team_member_user_or_name",
            ),
        ]

    def __str__(self):
        return str(self.user) if self.user_id else self.name


class Driver(models.Model):
    """A primary driver (parent empty) or a secondary driver (parent is a primary driver)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="drivers")
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="secondary"
    )
    text = models.CharField(max_length=300, validators=NO_PATIENT_DATA)
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text

    @property
    def is_primary(self):
        return self.parent_id is None


class ChangeIdea(models.Model):
    """A change to test with PDSA cycles; acts on at least one secondary driver."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="change_ideas")
    drivers = models.ManyToManyField(Driver, related_name="change_ideas", blank=True)
    text = models.CharField(max_length=300, validators=NO_PATIENT_DATA)
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text


class ProgressScore(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="progress_scores"
    )
    score = models.DecimalField(
        max_digits=2, decimal_places=1, choices=[(s, f"{s} {label}") for s, label in PROGRESS_SCALE]
    )
    scored_on = models.DateField()
    comment = models.TextField(blank=True, validators=NO_PATIENT_DATA)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["scored_on", "id"]

    def __str__(self):
        return f"{self.score} on {self.scored_on}"

    @property
    def label(self):
        return PROGRESS_LABELS.get(self.score, "")
