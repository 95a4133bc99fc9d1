"""Shared fixtures. Each fixture module is owned by the part it serves."""

pytest_plugins = ["fixtures_sandbox", "fixtures_pg", "fixtures_dashboard"]
