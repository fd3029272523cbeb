"""pdsa selectors."""
