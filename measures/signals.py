"""Signals measures sends for the layers above it, which may not be imported from here."""

from django.dispatch import Signal

# Sent by `snapshots.measure_refresh` (the refresh after a data change, and reconcile) once
# a snapshot is stored, with `measure_ids`. Receivers that do work should do it on commit.
# (The bulk rebuild, `measures_refresh_batch`, sends nothing: its caller decides.)
snapshots_stored = Signal()
