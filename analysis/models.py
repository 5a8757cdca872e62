"""analysis models."""
