"""cdn selectors."""
