"""Warehouses: the places a charity keeps stock and ships from."""
