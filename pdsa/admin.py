"""pdsa admin."""
