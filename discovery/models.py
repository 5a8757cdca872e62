"""discovery models."""
