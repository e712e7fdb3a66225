"""Bot API test server fixtures (filled in by the Telegram work)."""
