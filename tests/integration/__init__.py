"""Integration tests: real local servers (tests/servers/), subprocesses, the trained classifier."""
