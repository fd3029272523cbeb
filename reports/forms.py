"""reports forms."""
