"""reports admin."""
