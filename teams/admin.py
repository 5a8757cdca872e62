"""teams admin."""
