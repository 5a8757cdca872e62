"""profiles services."""
