"""The desk's store on PostgreSQL (``FRONTDESK_DATABASE_URL``), for several replicas.

- :mod:`.migrations`: the versioned schema; :mod:`.migrate` applies it at start, under an
  advisory lock, so replicas starting together run each migration once;
- :mod:`.store`: :class:`~.store.PgStore`, the same interface as the SQLite store
  (:mod:`bot.tickets.interface`) with ticket numbers from a sequence and outbox rows claimed with
  ``FOR UPDATE SKIP LOCKED`` under a lease;
- :mod:`.shared`: the same database for the tables other packages own (limits, identity, the
  e-mail channel's state), behind :class:`bot.tickets.shared_db.SqlDb`.

psycopg is imported only here: the SQLite default never loads it.
"""
