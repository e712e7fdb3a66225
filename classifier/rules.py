"""Keyword rules for critical requests (2.2): the project or one of its services is down.

The model learns criticality from the training phrases; these rules make the obvious cases
certain (site down, 5xx on every page, site hacked, database unreachable, checkout broken)
and keep "how do I ..." look-alikes from firing.
"""

from __future__ import annotations

import re

_SITE = (
    r"(?:сайт\w*|портал\w*|магазин\w*|проект\w*|главн\w+(?: страниц\w+)?"
    r"|site|website|shop|store)"
)

CRITICAL_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        # Site down.
        _SITE + r"\s+(?:\w+\s+){0,2}?(?:не\s*(?:открыва|работа|грузит|загружа|отвеча|доступ|пашет)"
        r"|лежит|лег\b|упал|недоступ|умер|сдох|отвалил|висит|не\s*подним)",
        r"(?:лежит|упал|лег|недоступен|умер|сдох|не\s*работает)\s+(?:\w+\s+){0,2}?" + _SITE,
        r"\b(?:site|website|shop|store)\s+(?:is\s+)?(?:down|unavailable|not\s+(?:loading|opening|"
        r"working|responding|accessible))",
        r"\b(?:down|offline)\s+for\s+(?:all|everyone|every)",
        # 5xx / white screen everywhere.
        r"\b50[0234]\b[^.!?]{0,60}(?:на\s+)?(?:всех|всем|везде|каждой|любой|люб\w+\s+страниц|"
        r"весь\s+сайт|every|all\s+pages|everywhere|whole\s+site|entire\s+site)",
        r"(?:на\s+)?(?:(?:все|всех|любые|любой|каждой)\s+страниц\w*|везде|весь\s+сайт|"
        r"весь\s+магазин|whole\s+site|entire\s+site|every\s+page|"
        r"all\s+pages|everywhere)"
        r"[^.!?]{0,60}\b(?:50[0234]|белый\s+экран|white\s+screen|fatal\s+error)",
        r"(?:белый|пустой)\s+экран[^.!?]{0,40}(?:на\s+всех|везде|весь\s+сайт|вместо\s+сайта|"
        r"на\s+главной|на\s+сайте)",
        r"вместо\s+сайта",
        # Hacked.
        r"(?:взломали|взломан|хакнули|hacked|defaced|заражен\w*|вирус\w*\s+на\s+сайте|"
        r"дорвеи?\b|редирект\w*\s+на\s+(?:чуж|сторон|левы|казино)|подменили\s+главн)",
        # Database unreachable.
        r"(?:нет|потеря\w*|пропал\w*)\s+(?:соединени|подключени|связи)\w*\s+(?:с|к)\s+"
        r"(?:баз|бд|mysql|субд)",
        r"(?:баз\w*(?:\s+данных)?|бд|mysql|mariadb)\s+(?:\w+\s+){0,2}?(?:недоступ|не\s*отвеча|упал|"
        r"лежит|не\s*подключ|не\s*запуска|не\s*стартует)",
        r"(?:can'?t|cannot|unable\s+to)\s+connect\s+to\s+(?:local\s+)?(?:mysql|the\s+database|"
        r"database)",
        r"(?:error\s+connecting\s+to\s+(?:the\s+)?database|database\s+(?:is\s+)?(?:down|"
        r"unreachable|unavailable)|ошибка\s+подключения\s+к\s+базе|too\s+many\s+connections)",
        # Checkout / payment broken.
        r"(?:не\s*(?:могут|можем|может|получается|удается)\s+(?:\w+\s+)?(?:оформить|оплатить|"
        r"сделать)\s+заказ|заказ\w*\s+(?:не\s+оформля|не\s+проход|не\s+создают)|"
        r"не\s+оформля\w*\s+заказ|оформлени\w+\s+заказа?\s+(?:не\s+работает|сломал|падает)|"
        r"(?:оплата|оплаты)\s+не\s+проход|корзина\s+(?:не\s+работает|сломал))",
        r"(?:checkout|payment)s?\s+(?:is\s+|are\s+)?(?:broken|down|not\s+working|fail)",
        r"(?:customers|clients|users)\s+(?:can'?t|cannot)\s+(?:place|check\s*out|pay|order|buy)",
    )
)

# "How do I protect / what if" questions mention the same words without anything being broken.
LOOKALIKE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"\bот\s+взлом",
        r"(?:чтобы|что\s*бы)\s+(?:\w+\s+)?не\s+(?:взлом|упал|лег)",
        r"(?:прошл\w+|предыдущ\w+)\s+взлом",
        r"(?:как|чтобы|можно\s+ли)\s+(?:\w+\s+){0,3}(?:показ|выв|настро|сдела)\w*\s+(?:\w+\s+){0,3}"
        r"(?:страниц\w*\s+)?(?:ошибк|404|500|заглушк)",
        r"\bесли\s+(?:вдруг\s+)?(?:сайт|база)",
        r"\bhow\s+(?:do|can|to)\b[^.?!]{0,40}\b(?:prevent|protect|custom|page)",
    )
)


def critical_rule(normalized: str) -> bool:
    """True when a request obviously reports a critical failure."""
    if any(p.search(normalized) for p in LOOKALIKE_PATTERNS):
        return False
    return any(p.search(normalized) for p in CRITICAL_PATTERNS)
