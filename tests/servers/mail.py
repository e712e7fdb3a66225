"""Dovecot + SMTP fixtures (filled in by the mail work)."""
