"""analysis admin."""
