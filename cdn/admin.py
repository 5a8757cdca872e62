"""cdn admin."""
