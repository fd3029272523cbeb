"""pdsa tasks."""
