"""Measures of a project, their dated data points and each measure's SPC snapshot.

Writes go through services.py; `Measure.dirty_since` is the outbox the snapshot rebuild
reads (services.py, snapshots.py, tasks.py)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from core.screening import NO_PATIENT_DATA
from projects.models import Driver, Project


class Measure(models.Model):
    class Kind(models.TextChoices):
        OUTCOME = "outcome", "Outcome"
        PROCESS = "process", "Process"
        BALANCING = "balancing", "Balancing"

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        EVENT = "event", "Each event, by its date (G and T charts)"

    class Chart(models.TextChoices):
        RUN = "run", "Run chart"
        XMR = "xmr", "XmR chart (individuals)"
        P = "p", "P chart (proportion)"
        U = "u", "U chart (rate)"
        C = "c", "C chart (count)"
        G = "g", "G chart (cases between rare events)"
        T = "t", "T chart (time between rare events)"

    class Direction(models.TextChoices):
        INCREASE = "increase", "Higher is better"
        DECREASE = "decrease", "Lower is better"
        NEUTRAL = "neutral", "Neither"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="measures")
    driver = models.ForeignKey(
        Driver, on_delete=models.SET_NULL, null=True, blank=True, related_name="measures"
    )
    name = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    definition = models.TextField("operational definition", validators=NO_PATIENT_DATA)
    unit_label = models.CharField(
        "unit", max_length=50, blank=True, help_text="For example: falls per 1,000 bed days, %.",
        validators=NO_PATIENT_DATA,
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    chart = models.CharField(max_length=4, choices=Chart.choices, default=Chart.XMR)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    target = models.FloatField(null=True, blank=True)
    # A U chart's rate is shown per this many of the denominator (1,000 for "falls per 1,000
    # bed days"): the chart, limits, target and every figure read from them are in that unit.
    rate_per = models.PositiveIntegerField(
        "rate per", default=1, validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
        help_text="U charts only: show the rate per this many of the denominator, for "
                  "example 1000 for falls per 1,000 bed days.")
    position = models.PositiveIntegerField(default=0)
    # The database is the outbox: set on every data change, cleared by the SPC rebuild.
    dirty_since = models.DateTimeField(null=True, blank=True, db_index=True)
    # When the data or settings last changed; a snapshot built from older data is stale even
    # if its dirty mark was lost (reconcile compares it with MeasureSnapshot.data_as_of).
    data_changed_at = models.DateTimeField(null=True, blank=True)
    # Counts the writes of this measure's data. Each point keeps the count of the write that
    # last changed it, so a write based on an older count can tell that it would overwrite
    # someone else's change (services.DataConflict) instead of doing so silently.
    data_version = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` and the keyset pages of the API lists
    # (core/api.py, core/pagination.py), both in the (updated_at, id) index below.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["updated_at", "id"], name="measure_updated_id")]

    def __str__(self):
        return self.name

    @property
    def uses_ratio(self):
        return self.chart in (self.Chart.P, self.Chart.U)

    @property
    def multiplier(self) -> float:
        """What numerator / denominator is multiplied by to read in the measure's unit: 100
        for a P chart (a %), `rate_per` for a U chart, otherwise 1. Every figure that turns
        raw counts into a rate uses this, so the measure page and comparisons agree."""
        return self.multiplier_for(self.chart, self.rate_per)

    @classmethod
    def multiplier_for(cls, chart: str, rate_per: int | None = 1) -> float:
        if chart == cls.Chart.P:
            return 100.0
        if chart == cls.Chart.U:
            return float(rate_per or 1)
        return 1.0

    @property
    def denominator_words(self) -> str:
        """What the denominator is, in the words the grid, the upload template and its notes
        use: a P chart's total (the count is part of it), a U chart's exposure (the count
        is of events over it, and can be larger)."""
        if self.chart == self.Chart.U:
            return ("the exposure it is counted over, for example bed days or patient "
                    "days")
        return "the total it is out of"

    @property
    def by_event(self):
        """G and T charts record each rare event by its date, not a value per period."""
        return self.chart in (self.Chart.G, self.Chart.T)

    @property
    def needs_value(self):
        """T charts need only the event dates: the time between them is the value."""
        return not self.uses_ratio and self.chart != self.Chart.T


class DataPoint(models.Model):
    """One dated observation: a value, or a numerator and denominator (P and U charts)."""

    # No index of its own: the unique (measure, period) index below leads with the measure.
    # A second index on the measure alone made PostgreSQL read a chunk's points through
    # it and sort them by period (the rebuild's point query took twice as long; issue 21).
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="points",
                                db_index=False)
    period = models.DateField(help_text="The start of the period (day, week, month, quarter).")
    value = models.FloatField(null=True, blank=True)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    annotation = models.CharField(max_length=200, blank=True, validators=NO_PATIENT_DATA)
    rebaseline = models.BooleanField(
        default=False, help_text="Start a new phase of limits from this point."
    )
    # The measure's data_version when this point was last added or changed.
    version = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    # When the row last changed: `?updated_since=` and the keyset pages of the API lists
    # (core/api.py, core/pagination.py), both in the (updated_at, id) index below.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["measure", "period"]
        indexes = [models.Index(fields=["updated_at", "id"], name="datapoint_updated_id")]
        constraints = [
            models.UniqueConstraint(fields=["measure", "period"], name="datapoint_unique_period"),
        ]

    def __str__(self):
        return f"{self.measure} {self.period:%Y-%m-%d}"


class MeasureSnapshot(models.Model):
    """The latest SPC reading of one measure, rebuilt by `measures.tasks.refresh_measure`."""

    measure = models.OneToOneField(
        "Measure", on_delete=models.CASCADE, related_name="snapshot"
    )
    n_points = models.PositiveIntegerField(default=0)
    latest_period = models.DateField(null=True, blank=True)
    # What the chart plots at its latest point (SPCResult.latest_value): the matrix shows it.
    latest_value = models.FloatField(null=True, blank=True)
    variation_icon = models.CharField(max_length=20, blank=True)
    assurance = models.CharField(max_length=20, blank=True)
    # SPCResult.summary(): the phases, the latest point and the last 24 plotted values (the
    # sparkline), not every point: the chart is computed from the data when it is read.
    result = models.JSONField(default=dict)
    # The measure's data_changed_at that this snapshot was computed from.
    data_as_of = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(auto_now=True)
    # The latest phase's runs analysis found non-random variation (a long run on one side of
    # the centre, or too few crossings): a shift the limits alone may not show. Stored, so
    # dashboards count it in SQL instead of reading every chart's JSON.
    runs_signal = models.BooleanField(default=False)

    def __str__(self):
        return f"Snapshot of {self.measure_id}"

    @staticmethod
    def runs_signal_of(result: dict) -> bool:
        phases = (result or {}).get("phases") or [{}]
        return bool(phases[-1].get("runs_signal"))


class IdempotencyKey(models.Model):
    """A bulk write's `Idempotency-Key` and the answer it got, so that a retry of the same
    call (same caller, key and body) replays that answer and changes nothing. Kept 24 hours
    (`services.IDEMPOTENCY_TTL`); expired keys are deleted on the next bulk write.

    `caller` is "token:<id>" for an API token, "user:<id>" for a signed-in person. Only the
    SHA-256 of the request is kept, never the body."""

    caller = models.CharField(max_length=40, validators=NO_PATIENT_DATA)
    key = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    request_hash = models.CharField(max_length=64, validators=NO_PATIENT_DATA)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_per_caller"),
        ]

    def __str__(self):
        return f"{self.caller} {self.key[:20]}"
