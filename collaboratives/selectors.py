"""collaboratives selectors."""
