"""Purchase advice: what one more unit is worth, by warehouse and kind, per yuan."""
