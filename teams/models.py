"""teams models."""
