"""Benchmarks run by ``make bench`` and by hand; each module is also a script."""
