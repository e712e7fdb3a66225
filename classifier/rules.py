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
        r"(?:can'?t|cannot|unable\s+to)\s+connect\s+(?:to\s+)?(?:local\s+)?(?:mysql|mariadb|"
        r"the\s+database|database|db)",
        r"connection\s+refused[^.!?\n]{0,80}(?:mysql|mariadb|database|3306)"
        r"|(?:mysql|mariadb|database|3306)[^.!?\n]{0,80}connection\s+refused",
        # The database driver itself missing: no page can reach the database (PHP 7 and the
        # old mysql_* functions).
        r"undefined\s+function\s+[\w\\]*mysql_?connect",
        # A fatal error raised while loading the kernel, which every page loads.
        r"(?:fatal\s+error|uncaught|typeerror)[^\n]{0,400}modules/main/include\.php",
        r"(?:error\s+connecting\s+to\s+(?:the\s+)?database|database\s+(?:is\s+)?(?:down|"
        r"unreachable|unavailable)|ошибка\s+подключения\s+к\s+базе|too\s+many\s+connections)",
        # Checkout / payment broken.
        r"(?:не\s*(?:могут|можем|может|получается|удается)\s+(?:\w+\s+)?(?:оформить|оплатить|"
        r"сделать)\s+заказ|заказ\w*\s+(?:не\s+оформля|не\s+проход|не\s+создают)|"
        r"не\s+оформля\w*\s+заказ|оформлени\w+\s+заказа?\s+(?:не\s+работает|сломал|падает)|"
        r"(?:оплата|оплаты)\s+не\s+проход|не\s+проход\w*\s+(?:\w+\s+)?оплат|"
        r"корзина\s+(?:не\s+работает|сломал)|заказ\w*\s+(?:\w+\s+)?висят\s+неоплачен)",
        r"(?:checkout|payment)s?\s+(?:is\s+|are\s+)?(?:broken|down|not\s+working|fail)",
        # Sales stopped: no orders at all, nobody can buy or pay.
        r"(?:продажи|магазин)\s+(?:стоят|стоит|встал[аи]?|остановил)(?!\s+\d)",
        r"(?:не\s+принима\w*|не\s+поступа\w*|не\s+ид[уе]т)\s+(?:\w+\s+)?заказ"
        r"|заказ\w*\s+(?:\w+\s+)?(?:не\s+(?:ид[уе]т|поступа\w*|принима\w*)|нет\s+(?:с|уже))",
        r"(?:никто|ни\s+один\s+(?:покупатель|клиент))\s+не\s+(?:может|могут)\s+"
        r"(?:\w+\s+)?(?:купить|оплатить|заказать|зайти|войти|оформить)",
        r"\b(?:nobody|no\s+one|no\s+customer)\s+can\s+(?:\w+\s+)?(?:pay|order|buy|check\s*out"
        r"|log\s*in|access)|\bno\s+orders\s+(?:since|today|for)|\bzero\s+orders",
        # The whole site shows a gateway error or is offline.
        r"(?:сайт\w*|магазин\w*|портал\w*)\s+(?:\w+\s+){0,3}?(?:отда\w+|выда\w+|показыва\w+)\s+"
        r"(?:\w+\s+){0,2}?(?:50[234]\b|bad\s+gateway|service\s+(?:temporarily\s+)?unavailable"
        r"|gateway\s+time)",
        r"\b(?:site|website|shop|store)\s+(?:\w+\s+){0,2}?(?:went|is|completely)\s+"
        r"(?:offline|dead|down)|\bsite\s+dead\b|\bсайт\s+(?:мертв|не\s+живой)",
        r"(?:всё|все)\s+(?:лежит|легло|упало)|(?:весь|целиком)\s+(?:сайт\s+)?(?:бел|пуст)\w*",
        r"\bhacked\s+by\b|взлом\w*\s+(?:сайт|нас)|(?:поломали|хакнули)\s+(?:нас|сайт)"
        r"|\bнас\s+(?:\w+\s+)?(?:поломали|хакнули)",
        r"(?:customers|clients|users)\s+(?:can'?t|cannot)\s+(?:place|check\s*out|pay|order|buy)",
    )
)

# "How do I protect / what if" questions mention the same words without anything being broken.
LOOKALIKE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"\bот\s+взлом",
        r"(?:чтобы|что\s*бы)\s+(?:\w+\s+)?не\s+(?:взлом|упал|лег|проход|оформля)",
        r"(?:прошл\w+|предыдущ\w+)\s+взлом",
        r"(?:как|чтобы|можно\s+ли)\s+(?:\w+\s+){0,3}(?:показ|выв|настро|сдела)\w*\s+(?:\w+\s+){0,3}"
        r"(?:страниц\w*\s+)?(?:ошибк|404|500|заглушк)",
        r"\bесли\s+(?:вдруг\s+)?(?:сайт|база)",
        r"\bhow\s+(?:do|can|to)\b[^.?!]{0,40}\b(?:prevent|protect|custom|page)",
        r"\bсколько\s+(?:\w+\s+)?стоит",
        r"(?:на|только\s+на|в)\s+(?:одной|одну|некоторых|части|отдельных)\s+страниц"
        r"|\b(?:only\s+on|on\s+one|on\s+some)\s+(?:\w+\s+)?pages?\b",
    )
)


def critical_rule(normalized: str) -> bool:
    """True when a request obviously reports a critical failure."""
    if any(p.search(normalized) for p in LOOKALIKE_PATTERNS):
        return False
    return any(p.search(normalized) for p in CRITICAL_PATTERNS)
