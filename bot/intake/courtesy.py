"""Thanks and acknowledgements ("Спасибо!", "ок, жду", "thanks 👍"), and a "Отправить" typed once
the request has gone: for the bot, not the desk.

After filing, everything the customer writes is mailed to support as an addition to the ticket
(4.4); a "спасибо" would land in the agent's mailbox as a message to answer. With no request
under way, it is not a problem description either. Only a short message made of nothing but such
words counts: anything else ("спасибо, но сайт опять лежит") is the customer's text as usual.
"""

from __future__ import annotations

import re

from bot.intake.fields import clean_text

MAX_WORDS = 6


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A courtesy message has at least one of these...
_CORE = _words(
    """
    спасибо спасибки спс благодарю благодарим ок окей ok okay хорошо ясно понял поняла поняли
    понятно принято отлично супер договорились ага угу свидания доброго
    хорошего thanks thank thx ty great noted cheers bye
    """
)
# ...and nothing but them and these.
_FILLER = _words(
    """
    огромное большое вам за помощь оперативность да все верно жду ждем будем ждать ответа ответ
    до всего дня you much a lot good fine got it will wait for help
    """
)
_WORD = re.compile(r"[^\W\d_]+")
# Emoji and punctuation may accompany the words; digits or anything else may not.
_ALLOWED_REST = re.compile(r"[\s.,!?)(:;\-—…'\"«»\u2600-\u27bf\U0001f000-\U0001faff\ufe0f\u200d]*")


def is_courtesy(text: str) -> bool:
    """True for a short message of thanks or acknowledgement and nothing else."""
    return _made_of(text, _CORE, _FILLER, MAX_WORDS)


# The summary's Send, typed as a word: after filing it means "send it", which is done already.
_SEND = _words("отправить отправь отправьте отправляй отправляйте отправка send submit")
_SEND_REST = _CORE | _FILLER | _words("it пожалуйста")


def is_send_again(text: str) -> bool:
    """True for a short "Отправить" / "send it, please" and nothing else."""
    return _made_of(text, _SEND, _SEND_REST, 3)


def _made_of(text: str, core: frozenset[str], rest: frozenset[str], max_words: int) -> bool:
    """At most `max_words` words, at least one of `core`, the others of `core` or `rest`, and
    besides them only punctuation and emoji."""
    cleaned = clean_text(text).lower().replace("ё", "е")
    words = _WORD.findall(cleaned)
    if len(words) > max_words or not any(w in core for w in words):
        return False
    if not all(w in core or w in rest for w in words):
        return False
    return _ALLOWED_REST.fullmatch(_WORD.sub("", cleaned)) is not None
