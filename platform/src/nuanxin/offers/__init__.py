"""The offers area."""
