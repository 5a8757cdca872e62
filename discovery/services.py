"""discovery services."""
