"""Fixtures for a real PostgreSQL server."""
