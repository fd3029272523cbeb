"""projects tasks."""
