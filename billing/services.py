"""billing services."""
