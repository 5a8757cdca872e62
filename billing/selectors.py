"""billing selectors."""
