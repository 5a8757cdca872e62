"""analysis services."""
