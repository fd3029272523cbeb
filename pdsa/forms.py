"""pdsa forms."""
