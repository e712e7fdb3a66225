"""What several replicas of the desk share through Redis (`FRONTDESK_REDIS_URL`).

- `locks.py`: a lease on one Redis key (a random token, a TTL, renewal and release that only
  the holder can do) and, built on it, per-key mutexes: one Telegram chat's updates are handled
  by one replica at a time.
- `leader.py`: leader election on a lease: exactly one replica runs a job (the IMAP watcher),
  another takes over within seconds when it dies.
- `buckets.py`: flood limits (token buckets) per customer, the same on every replica.
- `memory.py`: small per-chat values a channel keeps between updates (a chat's last keyboard),
  in Redis so that the replica handling the next update sees them.

Each has an in-process counterpart for the single process without Redis, which behaves as the
desk always did. Nothing here imports the rest of the desk.
"""
