"""discovery selectors."""
