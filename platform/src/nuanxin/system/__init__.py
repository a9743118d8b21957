"""Health and other system endpoints."""
