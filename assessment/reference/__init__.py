"""Shipped reference data (police forces, regions)."""
