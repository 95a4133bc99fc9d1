"""Fixtures for the AWS sandbox (moto server + shim)."""
