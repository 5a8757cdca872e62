"""credits services."""
