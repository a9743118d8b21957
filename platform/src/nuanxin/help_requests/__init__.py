"""The help_requests area."""
