"""pdsa services."""
