"""collaboratives services."""
