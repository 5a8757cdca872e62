"""credits admin."""
