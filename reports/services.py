"""Dashboard writes (roll-ups of measure snapshots) will live here."""
