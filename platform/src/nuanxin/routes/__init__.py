"""A courier's day: the order of its visits, from the charity's warehouse and back."""
