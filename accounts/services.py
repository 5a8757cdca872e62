"""accounts services."""
