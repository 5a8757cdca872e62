"""discovery admin."""
