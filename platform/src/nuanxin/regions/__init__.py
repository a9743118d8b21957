"""The regions area."""
