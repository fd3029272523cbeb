"""Dashboard roll-ups will live here; measure snapshots are in measures.models."""
