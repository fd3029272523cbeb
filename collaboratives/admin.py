"""collaboratives admin."""
