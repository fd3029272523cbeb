"""Dashboard snapshots (later issues)."""
