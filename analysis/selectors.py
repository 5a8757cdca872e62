"""analysis selectors."""
