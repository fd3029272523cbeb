"""collaboratives tasks."""
