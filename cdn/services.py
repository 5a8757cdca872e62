"""cdn services."""
