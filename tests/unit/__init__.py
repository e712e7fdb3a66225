"""Unit tests: pure and fast. No servers, subprocesses, network or trained model;
SQLite files in tmp_path are fine."""
