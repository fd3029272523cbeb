"""projects forms."""
