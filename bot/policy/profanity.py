"""Obscene language and insults to staff (regulation 4.8.11).

A request with obscene words or insults may be delayed or declined, so the desk asks the customer
to rephrase before filing. Detection is by Russian obscene roots (with the usual disguises: Latin
look-alikes "xуй", masks "п*зд", "бл@", digits "e6", stretched letters "сууука", spaced letters
"с у к а"), Latin transliterations ("blyat", "nahuy") and English words, each anchored so that
"ребята", "небо", "хлебать", "себе", "сукно", "корабля", "рубля", "страхуй", "Scunthorpe",
"class", "assessment" stay clean.

Insults are found in every number and case ("идиоты", "идиотов", "дебилами", "уродам",
"козлы"): by the stem when no ordinary word contains it ("идиот", "дебил"), else by the insult's
own word forms, so that the ordinary words next to them stay clean: "идиома", "дебет", "урок",
"процедура", "скотч", "болванка", "козловой кран",
the surnames "Козлов" and "Баранов" (a genitive plural that is also a common surname is left out),
the idioms "валять дурака" (to fool around) and "козёл отпущения" (a scapegoat), and goods a shop
may sell ("морские гады", "строительные козлы"): they call nobody a name.

    contains_profanity("вы там все идиоты?")  # True
    find_profanity("Ребята, оскорблять не буду")  # []
"""

from __future__ import annotations

import re

# Latin and digit look-alikes inside words that already contain Cyrillic letters.
_LOOKALIKE = str.maketrans(
    {
        "a": "а",
        "b": "в",
        "c": "с",
        "e": "е",
        "h": "н",
        "i": "и",
        "k": "к",
        "m": "м",
        "n": "п",
        "o": "о",
        "p": "р",
        "r": "г",
        "t": "т",
        "u": "и",
        "x": "х",
        "y": "у",
        "0": "о",
        "3": "з",
        "4": "ч",
        "6": "б",
        "@": "а",
        "ё": "е",
    }
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"})
_CYR = re.compile(r"[а-яё]", re.IGNORECASE)
# "с у к а", "f.u.c.k", "х-у-й": three or more single characters separated by spaces/dots/dashes.
_SPACED = re.compile(
    r"(?<!\S)(?:[^\W_][ .\-_]{1,2}){2,}[^\W_](?!\S)|(?<!\S)(?:\S[.\-_]){2,}\S(?!\S)"
)
_WORD = re.compile(r"[^\s,.;:!?()\"«»]+")

_B = r"(?<![а-я])"  # start of a word (Cyrillic)
_E = r"(?![а-я])"  # end of a word (Cyrillic)
_M = r"[*#%]"  # a masked letter

_RUSSIAN = [
    # хуй, хуе, хуё, хуя, хую, хуи: not "страхуй" (застрахуйте)
    rf"(?<!стра)х(?:у|{_M})(?:й|е|я|ю|и|{_M})",
    rf"п(?:и|е|{_M})зд",
    # ебать, ёб, еба, ебл: only at the start of a word or after a prefix, so never "ребята",
    # "небо", "хлебать", "себе", "требование"
    rf"{_B}(?:за|вы|до|по|у|на|при|пере|недо|долбо|долба|про|подъ|отъ|съ|въ|взъ|объ|изъ|разъ)?"
    rf"(?:е|{_M})б(?:а|е|и|к|л|н|у|ы|{_M}|{_E})(?!рг)",
    rf"{_B}бл(?:я|{_M}|а(?=дь|ть))",  # бля, блядь, бл*ть, бл@дь (not "бляха": see below)
    rf"{_B}су(?:к|{_M})(?:а|и|е|у|ой|ам|ами|ах|ин\w*){_E}",
    rf"{_B}суч(?:ка|ки|ку|ара|ары|ье){_E}",
    r"муда[кч]|мудил|мудозвон",
    r"пид(?:о|а|\*)р|пидр",
    r"залуп",
    r"говн",
    # insults: a stem no ordinary word contains, in any form ("идиоты", "дебилов", "кретинам")
    r"идиот|дебил|кретин|имбецил|дегенерат|придур[ок]|недоум(?:ок|к)|ублюд|дармоед|сволоч",
    rf"{_B}(?:бездар|тупиц|тупорыл|шлюх|г[ао]ндон)",
    # insults whose stem is also an ordinary word: only their own forms ("урод", not "урок";
    # "дауны", not "даун" as in "down"; "скоты", not "скот", "скотина" (cattle) or "скотч")
    rf"{_B}урод(?:ы|а|у|ом|е|ов|ам|ами|ах|ина|ины|ец|цы)?{_E}",
    rf"{_B}даун(?:ы|ов|ам|ами|ах){_E}",
    rf"{_B}дур(?:ак|ач(?:ок|ки|ков|кам|ье))\w*|{_B}дур(?:а|ы|е|у|ой|ам|ами|ах){_E}",
    rf"{_B}коз(?:ел|лы|ла|лу|лом|лам|лами|лах|лина|лины){_E}",  # not "Козлов", "козловой"
    rf"{_B}(?:болван(?:ы|ов|ам|ами|а|у|ом)?|бараны|скот(?:ы|ов)|олух(?:и|ов|ам|ами)?){_E}",
    rf"{_B}(?:мраз(?:ь|и|ью|ей|ота|оты)|твар(?:ь|и|ей|ям|ями)|гад(?:ы|ов|ина|ины)?){_E}",
    rf"{_B}(?:чмо(?:ш\w*)?|лох(?:и|ов|ам|ами)?){_E}(?!-)",
]
_RUSSIAN_RE = re.compile("|".join(f"(?:{p})" for p in _RUSSIAN))
_RUSSIAN_EXCEPT = re.compile(r"бляш|блях")
# Phrases where an insult's word calls nobody a name, taken out before insults are looked for:
# idioms, "валять дурака" (to fool around) and "козёл отпущения" (a scapegoat), and goods a shop
# may sell, "морские гады" (seafood) and "строительные козлы" (trestles).
_GOODS = r"(?:строительн|малярн|монтажн|раскладн|складн|опорн|деревянн|металлическ)\w*"
_NOT_INSULTS = re.compile(
    r"валя\w*\s+дурака|дурака\s+валя\w*|коз[её]?л\w*\s+отпущения|морск\w*\s+гад\w*"
    rf"|{_GOODS}\s+козл\w*|козл\w*\s+{_GOODS}"
)
# "тупые" is an insult when it is about people, not "тупой вопрос" or "тупые ножи".
_STUPID_RU = re.compile(
    r"(?:вы|ты|ваш\w*|все|там|они|поддержк\w*|сотрудник\w*|менеджер\w*|специалист\w*|"
    r"программист\w*|разработчик\w*|админ\w*|техподдержк\w*|бот\w*|робот\w*)\s+(?:\w+\s+)?"
    r"туп(?:ые|ой|ая|ицы|орылые)"
    + _E
    + r"|туп(?:ые|ой|ая|орылые|ым|ыми|ых)\s+(?:\w+\s+)?(?:поддержк\w*|сотрудник\w*|"
    r"менеджер\w*|специалист\w*|программист\w*|разработчик\w*|работник\w*|люди|вы|ты|"
    r"бот\w*|робот\w*)"
    # the whole message is the word: said to whoever reads it
    r"|^\W*туп(?:ые|ой|ая|орылые)\W*$",
)

_ENGLISH = re.compile(
    r"\bf[u*#]+c?k+\w*|\bmotherf\w*|\bf\*{2,}(?!\w)"
    r"|\bs+h[i*!]+t+\w*|\bbul+shit\w*|\bhorseshit\b"
    r"|\bas+hole\w*|\bdumbas+\b|\bjackas+\b"
    r"|\bbitch\w*|\bcunts?\b|\bbastards?\b|\bdickheads?\b|\bwankers?\b|\bretards?\b"
    r"|\bidiots?\b|\bmorons?\b|\bimbeciles?\b|\bcretins?\b"
    r"|\byou(?:'re| are)?\s+(?:all\s+)?(?:stupid|dumb|useless|incompetent)\b"
    # Russian mat in Latin letters
    r"|\bbl[yi]a\w*|\bsuka\b|\bcyka\b|\bpi[sz]d\w*|\b(?:na|po|ni)?hu[iy]\b|\bnahu[iy]\w*|\bxuy\w*"
    r"|\bebat\w*|\byob\b|\byob[a-z]n\w*|\beban\w*",
    re.IGNORECASE,
)
_ENGLISH_EXCEPT = re.compile(r"^(?:shitake|shitim|hui)$", re.IGNORECASE)


def _unspace(text: str) -> str:
    return _SPACED.sub(lambda m: re.sub(r"[ .\-_]", "", m.group(0)), text)


def _russian_form(text: str) -> str:
    """Lower case; Latin look-alikes and digits mapped to Cyrillic inside Cyrillic words."""

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        return w.translate(_LOOKALIKE) if _CYR.search(w) else w

    return _WORD.sub(word, _unspace(text).lower().replace("ё", "е"))


def _squeeze(text: str, keep: int) -> str:
    """Runs of the same letter longer than ``keep`` cut to one ("сууука" → "сука")."""
    return re.sub(rf"(\w)\1{{{keep},}}", r"\1", text)


def find_profanity(text: str) -> list[str]:
    """Offending words (normalised) in ``text``, in order, without duplicates."""
    if not text:
        return []
    found: list[str] = []

    def take(word: str) -> None:
        if word not in found:
            found.append(word)

    russian = _NOT_INSULTS.sub(" ", _russian_form(text))
    for variant in (_squeeze(russian, 2), _squeeze(russian, 1)):
        for m in _RUSSIAN_RE.finditer(variant):
            word = _word_at(variant, m.start(), m.end())
            if not _RUSSIAN_EXCEPT.match(word):
                take(word)
        for m in _STUPID_RU.finditer(variant):
            take(m.group(0))
    english = _squeeze(_unspace(text).lower().translate(_LEET), 1)
    for m in _ENGLISH.finditer(english):
        word = _word_at(english, m.start(), m.end())
        if not _ENGLISH_EXCEPT.match(word):
            take(word)
    return found


def _word_at(text: str, start: int, end: int) -> str:
    """The whole word around ``text[start:end]`` (for reporting, not for matching)."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return text[start:end].strip('.,;:!?()"«»')


def contains_profanity(text: str) -> bool:
    return bool(find_profanity(text))


_NOTICE = {
    "ru": (
        "В сообщении есть нецензурные выражения или оскорбления. По регламенту (п. 4.8.11) "
        "решение таких обращений может быть отложено или даже невозможно. Пожалуйста, "
        "переформулируйте сообщение спокойно — так мы быстрее поможем. Если вы уверены, что "
        "текст корректен, подтвердите отправку."
    ),
    "en": (
        "Your message contains obscene language or insults. Under the regulation (4.8.11) such "
        "requests may be delayed or even declined. Please rephrase it calmly: that way we can "
        "help you faster. If you believe the text is fine, please confirm sending it."
    ),
}


def profanity_notice(lang: str) -> str:
    """What the customer is told before filing a request with profanity (``ru`` or ``en``)."""
    return _NOTICE["en" if lang.lower().startswith("en") else "ru"]
