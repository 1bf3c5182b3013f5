"""The OG Records Public API server."""
