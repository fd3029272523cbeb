"""Precomputed dashboard snapshots: pages read these, never recompute SPC on a request."""

from django.db import models


class MeasureSnapshot(models.Model):
    """The latest SPC reading of one measure, rebuilt by `reports.tasks.refresh_measure`."""

    measure = models.OneToOneField(
        "projects.Measure", on_delete=models.CASCADE, related_name="snapshot"
    )
    n_points = models.PositiveIntegerField(default=0)
    latest_period = models.DateField(null=True, blank=True)
    variation_icon = models.CharField(max_length=20, blank=True)
    assurance = models.CharField(max_length=20, blank=True)
    result = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Snapshot of {self.measure_id}"
