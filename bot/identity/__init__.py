"""Who the customer is: verified contact addresses, personal-data consent, forgetting.

Each module keeps its own tables in the desk's SQLite file (``CREATE TABLE IF NOT EXISTS`` on open)
and takes the Store (sharing its connection and write lock), a connection, or a database path
(see :mod:`bot.tickets.shared_db`).
"""
