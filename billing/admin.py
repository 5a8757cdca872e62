"""billing admin."""
