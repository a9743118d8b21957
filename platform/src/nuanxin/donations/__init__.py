"""The donations area."""
