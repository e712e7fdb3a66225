"""Operations: health and readiness, Prometheus metrics, log format (README "Operations").

`metrics` has no dependency on the rest of the desk, so that the desk, the outbox, the IMAP
watcher and the channels can all count through it; `server` and `probes` are used only by the
composition root (bot/app.py), and `logs` by the entry point (bot/__main__.py).
"""
