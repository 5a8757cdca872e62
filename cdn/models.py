"""cdn models."""
