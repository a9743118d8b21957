"""Heating safety: the checklist at the door, follow-up calls and visits through the winter."""
