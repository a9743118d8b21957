"""The deliveries area."""
