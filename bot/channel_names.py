"""The names of the channels, as the desk, the identity guard and the stores key customers.

A customer is `(channel, user id)`; the same names prefix the keys of limits, consents and
verified addresses (`email:ivan@example.ru`) and the lines of the operator's blocklist.
"""

from __future__ import annotations

EMAIL = "email"
TELEGRAM = "telegram"
CONSOLE = "console"

# Channels whose user id is the address the customer writes from: that address is their contact
# e-mail, and any other address they name must confirm a code first.
SENDER_ADDRESS_CHANNELS = frozenset({EMAIL})
WEB = "web"  # the guided web form (bot/channels/web/); the user id is a random session id
