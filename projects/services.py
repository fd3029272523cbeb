"""projects services."""
