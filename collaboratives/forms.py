"""collaboratives forms."""
