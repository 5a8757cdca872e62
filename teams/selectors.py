"""teams selectors."""
