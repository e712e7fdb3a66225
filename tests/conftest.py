"""Shared fixtures. Real local servers live in tests/servers/ (see ../shared/TESTING.md)."""

pytest_plugins = ["tests.servers.mail", "tests.servers.botapi"]
