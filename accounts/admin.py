"""accounts admin."""
