"""Clients of third parties we call (each behind a small interface with a sandbox implementation)."""
