"""Which language a customer writes in (Russian or English), and asks for the other language.

The desk starts in Russian unless the channel knows better (Telegram's language code). A customer
who writes in English should be answered in English from the first message, and a "Sorry, I
don't speak Russian" is a request to switch, never an answer to store in the ticket.

No model: word lists and a little counting are enough to tell the desk's two languages apart.
What makes it hard is pasted text. Russian customers paste English constantly (PHP errors, MySQL
messages, server pages); English customers sometimes paste Russian (the names of admin pages,
a Bitrix error). So before counting, the detector drops what the customer did not write in their
own words: URLs, addresses, paths, code, identifiers, words with digits, Latin acronyms (PHP,
SQL), product and edition names, text in quotes or backticks, an English error message from its
marker ("Fatal error:", "Warning:", "SQLSTATE[…]") to the end of its line, and the rest of a line
after a colon when it is in the other alphabet ("Ошибка: Table doesn't exist").

Then, with Cyrillic words on one side and Latin ones on the other:
- only one alphabet: Cyrillic is Russian; Latin is English when it has English function words,
  Russian when it is transliterated ("sait ne rabotaet", the customer reads Russian), else unsure;
- both: the side with conversational words ("я", "у нас", "пожалуйста" / "I", "my", "hello")
  wins; when both or neither have them, the language the message starts in (a pasted error
  rarely comes first once the error lines are dropped).

Fewer than two words of the customer's own (only a URL, a number, a coupon, "ок") is unsure.

    detect_lang("После обновления ошибка: Call to undefined function")  # "ru"
    detect_lang("Hi, the checkout shows «Ошибка при выполнении запроса»")  # "en"
    detect_lang("SM6-NS-ABCD12345")  # None
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.intake.texts import Lang
from bot.tickets.values import EDITIONS

MIN_WORDS = 2  # fewer words of the customer's own: unsure
MAX_REQUEST_WORDS = 12  # a request to switch language is short

_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_QUOTED = re.compile(r"«[^»]*»|“[^”]*”|„[^“”]*[“”]|\"[^\"\n]*\"")
# An English error message runs from its marker to the end of the line.
_ERROR_TAIL = re.compile(
    r"\b(?:php\s+)?(?:fatal error|parse error|warning|notice|deprecated|error|exception"
    r"|uncaught\s+\w+|stack trace|mysql query error)\s*:.*|sqlstate\[.*",
    re.IGNORECASE,
)
# A chunk (between spaces) that is technical, not prose: digits, paths, addresses, code.
_TECHNICAL_CHUNK = re.compile(r"[\d_/\\@=<>{}\[\]$#|~^]|::|->|\w\.\w|\(\)")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# A chunk's leading punctuation (quotes, brackets), its core, and its trailing punctuation.
_CHUNK_PARTS = re.compile(r"([\"'«“„(\[]*)(.*?)([\"'»”“)\].,;:!?]*)", re.DOTALL)
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
_CAMEL_CASE = re.compile(r"[a-z][A-Z]")
_ACRONYM_MAX = 5  # "PHP", "MySQL" aside, an all-capital Latin word this short is an acronym


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Product names and the editions' Russian names: the same in either language's message.
_PRODUCT_WORDS = _words(
    """
    битрикс битрикса битриксе битриксом bitrix whatasoft php mysql mariadb nginx apache composer
    jquery ajax json cron ssl https http ftp ssh redis memcached docker git iblock
    """
) | frozenset(word.lower() for edition in EDITIONS for word in _WORD.findall(edition))

# Words a Russian speaker writes in their own sentences, rarely in a system message.
_RU_CONVERSATIONAL = _words(
    """
    я мы меня мне нас нам мой моя мое мои наш наша наше наши вы вас вам ваш ваша ваше ваши
    пожалуйста здравствуйте добрый привет помогите подскажите спасибо можно хочу нужно надо
    после когда почему где как что уже опять снова сегодня вчера вообще тоже также но и или
    вот это этот эта у ли бы же не
    """
)
# The same for English. "please" and "you" are left out: server pages say them too.
_EN_CONVERSATIONAL = _words(
    """
    i i'm im i've i'd i'll my me mine we we're we've our ours us hi hello hey dear thanks thank
    sorry anyone guys help since because also still today yesterday
    """
)
# English function words: an English sentence has some, transliterated Russian has none.
_EN_FUNCTION = _EN_CONVERSATIONAL | _words(
    """
    the a an is are was were be been am to of in on at for with from by and or but not no it its
    it's this that these there here what when where which who why how do does did don't doesn't
    didn't can can't cannot could would will won't should have has had after before please if
    then so any all some you your he she they get gets got shows show works work working
    """
)
# Transliterated Russian: common words, and endings English words do not have.
_TRANSLIT_WORDS = _words(
    """
    ne na chto kak eto mne menya vy vas nas pri posle ili uzhe tozhe esli kogda gde pochemu
    pomogite pozhaluysta pozhalujsta spasibo zdravstvuyte zdravstvujte privet dobryy dobryj den
    sayt sait saita sayta rabotaet oshibka oshibku oshibki vydaet obnovleniya obnovlenie nichego
    vse vsyo seichas sejchas ochen nado nuzhno mozhno
    """
)
_TRANSLIT_ENDING = re.compile(
    r"\w{2,}(?:aet|yaet|uet|ayut|nyy|nyj|nyi|skiy|skij|stvo|enie|anie|eniya|aniya|ovat|iya|iye)$"
)


@dataclass(frozen=True)
class _Counts:
    """What the customer's own words say, after the pasted text is dropped."""

    cyrillic: int = 0  # Cyrillic words
    latin: int = 0  # Latin words
    ru_conversational: int = 0
    en_conversational: int = 0
    en_function: int = 0
    translit: int = 0
    first: Lang | None = None  # the alphabet of the first word: "ru" or "en"

    @property
    def total(self) -> int:
        return self.cyrillic + self.latin


def detect_lang(text: str) -> Lang | None:
    """The language `text` is written in, "ru" or "en"; None when unsure (see the module)."""
    own = _counts(_without_citations(_without_technical(text)))
    if own.total >= MIN_WORDS:
        return _verdict(own)
    # Little is left once quotes and error lines are dropped: read them too, but believe only
    # plain evidence, so a lone pasted English error is no reason to switch.
    every = _counts(_without_technical(text))
    if every.total < MIN_WORDS:
        return None
    if every.en_conversational and not every.ru_conversational:
        return "en"
    if every.cyrillic >= MIN_WORDS and (every.ru_conversational or every.cyrillic >= every.latin):
        return "ru"
    return None


def _verdict(c: _Counts) -> Lang | None:
    if not c.latin:
        return "ru"
    if not c.cyrillic:
        return _latin_verdict(c)
    if c.cyrillic >= 2 * c.latin:  # "Hello, ставим коробку…": a greeting does not outvote
        return "ru"
    if c.ru_conversational and not c.en_conversational:
        return "ru"
    if c.en_conversational and not c.ru_conversational:
        return "en"
    if c.ru_conversational and c.en_conversational and c.cyrillic != c.latin:
        return "ru" if c.cyrillic > c.latin else "en"
    if c.first == "en" and c.translit >= MIN_WORDS:
        return "ru"
    return c.first


def _latin_verdict(c: _Counts) -> Lang | None:
    """Latin letters only: English, transliterated Russian, or another language (unsure)."""
    if c.translit >= MIN_WORDS and c.translit > c.en_function:
        return "ru"
    return "en" if c.en_function else None


def _without_technical(text: str) -> str:
    """Code blocks and inline code dropped, and every chunk between spaces that is not prose
    (a URL, a path, an identifier, a number): the quotes around it stay, so that quoted text is
    still recognised afterwards."""
    text = _INLINE_CODE.sub(" ", _CODE_BLOCK.sub(" ", text))
    return "\n".join(
        " ".join(_prose_or_quotes(c) for c in line.split()) for line in text.split("\n")
    )


def _prose_or_quotes(chunk: str) -> str:
    parts = _CHUNK_PARTS.fullmatch(chunk)
    if parts is None or not _TECHNICAL_CHUNK.search(parts.group(2)):
        return chunk
    return parts.group(1) + parts.group(3)


def _without_citations(text: str) -> str:
    """Quoted text, English error messages, and a line's rest after a colon in the other
    alphabet: what the customer quotes rather than says."""
    text = _QUOTED.sub(" ", text)
    return "\n".join(
        _line_without_citation(_ERROR_TAIL.sub(" ", line)) for line in text.split("\n")
    )


def _line_without_citation(line: str) -> str:
    head, colon, tail = line.partition(":")
    if not colon:
        return line
    head_alphabet, tail_alphabet = _alphabet(head), _alphabet(tail)
    if head_alphabet and tail_alphabet and head_alphabet != tail_alphabet:
        return head
    return head + " " + _line_without_citation(tail)


def _alphabet(text: str) -> Lang | None:
    """ "ru" when Cyrillic letters are the majority, "en" for Latin, None without letters."""
    cyrillic, latin = len(_CYRILLIC.findall(text)), len(_LATIN.findall(text))
    if not cyrillic and not latin:
        return None
    return "ru" if cyrillic >= latin else "en"


def _counts(text: str) -> _Counts:
    cyrillic = latin = ru_conv = en_conv = en_function = translit = 0
    first: Lang | None = None
    for raw in _WORD.findall(text):
        word = raw.lower().replace("ё", "е").replace("’", "'")
        if word in _PRODUCT_WORDS or _is_identifier(raw):
            continue
        if _CYRILLIC.search(word):
            cyrillic += 1
            ru_conv += word in _RU_CONVERSATIONAL
            first = first or "ru"
        elif _LATIN.search(word):
            latin += 1
            en_conv += word in _EN_CONVERSATIONAL
            en_function += word in _EN_FUNCTION
            translit += word in _TRANSLIT_WORDS or bool(_TRANSLIT_ENDING.match(word))
            first = first or "en"
    return _Counts(cyrillic, latin, ru_conv, en_conv, en_function, translit, first)


def _is_identifier(word: str) -> bool:
    """A Latin acronym ("CMS", "API") or a camel-case name ("getList"): not prose."""
    if not _LATIN.search(word):
        return False
    if _CAMEL_CASE.search(word):
        return True
    lower = word.lower()
    return word.isupper() and len(word) <= _ACRONYM_MAX and lower not in _EN_FUNCTION


# --- asking for the other language --------------------------------------------------------------

_ASKS_EN = re.compile(r"^(?:english|eng|en|англ\w*|по-английски|поанглийски)$")
_ASKS_RU = re.compile(r"^(?:russian|rus|ru|русск\w*|по-русски|порусски)$")
_NEGATION = _words("not no don't dont cannot can't cant не нет")
# The other words a request to switch may have ("Sorry, I don't speak Russian", "можно
# по-английски?"). Anything else and it is a message about something else ("the English
# version of the site is broken").
_REQUEST_WORDS = _words(
    """
    sorry i i'm im me my we you your please pls plz do does can could would will is are there
    anyone who here speak speaks speaking talk write read understand answer reply respond use
    continue switch change to in the a language lang only just no not don't dont cannot can't
    cant hi hello hey thanks ok okay let's lets us it this maybe possible fine better
    можно пожалуйста давайте давай на по язык языке переключить переключите переключись
    перейти перейдите сменить поменять говорить говорите говорю писать пишите пишу отвечать
    отвечайте ответьте общаться понимаю знаю читаю я мы вы не нет а лучше хочу нужно только
    извините простите здравствуйте привет если ли бы
    """
)
_REQUEST_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_CLAUSE_END = re.compile(r"[,.;:!?()\n—]+")


def requested_lang(text: str) -> Lang | None:
    """The language a short request to switch asks for: "en" for "English please", "Sorry, I
    don't speak Russian" or "можно по-английски?"; "ru" for "по-русски, пожалуйста" or "No,
    Russian please"; None for anything else, including messages that merely mention a language
    ("the English version of the site is down")."""
    clauses = [_request_words(clause) for clause in _CLAUSE_END.split(text)]
    if sum(len(words) for words in clauses) > MAX_REQUEST_WORDS:
        return None
    asked: set[Lang] = set()
    for words in clauses:
        for i, word in enumerate(words):
            named = _named_lang(word)
            if named is None and word not in _REQUEST_WORDS:
                return None  # a word about something else
            if named is not None:
                # "I don't speak Russian": a negation before the name, in the same clause.
                negated = any(w in _NEGATION for w in words[:i])
                asked.add(_other(named) if negated else named)
    return asked.pop() if len(asked) == 1 else None


def _request_words(clause: str) -> list[str]:
    return [w.lower().replace("’", "'").replace("ё", "е") for w in _REQUEST_TOKEN.findall(clause)]


def _named_lang(word: str) -> Lang | None:
    if _ASKS_EN.match(word):
        return "en"
    if _ASKS_RU.match(word):
        return "ru"
    return None


def _other(lang: Lang) -> Lang:
    return "ru" if lang == "en" else "en"


def is_language_complaint(text: str) -> bool:
    """True for a short message asking to talk in the other language ("Sorry, I don't speak
    Russian", "English please", "in English?", "можно по-английски"): the caller switches
    language (to `requested_lang(text)`) and does not take the message as an answer."""
    return requested_lang(text) is not None
