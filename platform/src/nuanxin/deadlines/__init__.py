"""Deadlines kept by the clock, not by whoever reads a page: the periodic duties' records."""
