"""Whether a request asks how to do something, or for work to be done, instead of reporting a
malfunction.

4.2.1 wants steps to reproduce a problem "where possible": a question such as «Подскажите, как
настроить обмен с 1С?» or a request for work such as «Нужна доработка компонента каталога» has
nothing to reproduce. A text is such a request when it asks how to do something (how + an
infinitive, "можно ли", "how do I", "is it possible to") or asks for work ("нужна доработка",
"прошу добавить", "we need to customise") and nothing in it reports a malfunction (an error,
something that does not do what it should, an HTTP error code): "Не приходят письма. Как это
исправить?" still has a problem to reproduce, and so has «Фильтр не учитывает остатки. Можно
ли это поправить?».
"""

from __future__ import annotations

import re
from functools import lru_cache

_ASKS_HOW = re.compile(
    r"(?<![\w-])(?:"
    r"(?:как|каким\s+образом)(?:\s+(?:мне|нам|можно|правильно|лучше))*\s+[а-яё]+(?:ть|ти)(?:ся)?"
    r"|можно\s+ли|есть\s+ли\s+возможность|возможно\s+ли"
    r"|how\s+(?:do|can|should|could)\s+(?:i|we|you|one)|how\s+to"
    r"|is\s+(?:it|there\s+a\s+way)\s+(?:possible\s+)?to|can\s+(?:i|we)"
    r")(?![\w-])",
    re.IGNORECASE,
)
_ASKS_FOR_WORK = re.compile(
    r"(?<![\w-])(?:"
    r"(?:нужн[аоы]?|требуется|необходим[аоы]?)\s+(?:\w+\s+)?(?:доработ|разработ|сделать|добав|"
    r"настро|подключ|внедр|интегр)\w*"
    r"|(?:прошу|просим|хотим|хотелось\s+бы)\s+(?:\w+\s+)?(?:доработ|разработ|сделать|добав|"
    r"настро|подключ|внедр|интегр|измен)\w*"
    r"|(?:доработайте|разработайте|сделайте|добавьте|настройте|подключите)"
    r"|(?:we|i)\s+(?:need|want|would\s+like)\s+(?:you\s+)?to\s+(?:develop|customi[sz]e|add|build|"
    r"integrate|set\s+up|change)"
    r")",
    re.IGNORECASE,
)
_MALFUNCTION = re.compile(
    r"(?<![\w-])(?:"
    r"ошибк\w*|ошибочн\w*|сбо[йяие]\w*|слома\w*|упал\w*|пада\w*|завис\w*|глюч\w*|"
    # a negated verb in the present or the past: something does not do what it should
    r"не\s+[а-яё]+(?:[еи]т|[ую]т|[ая]т|[еиуюя]тся|[ая]тся|[аеиоуя]л[аио]?(?:сь|ся)?)|не\s+удаётся|"
    r"ничего\s+не|перестал\w*|пропал\w*|исчез\w*|белый\s+экран|"
    r"error\w*|exception|fatal|broken|crash\w*|fail\w*|not\s+working|does\s*n[o']t\s+work|"
    r"stopped\s+working|[45]\d\d"
    r")(?![\w-])",
    re.IGNORECASE,
)


@lru_cache(maxsize=256)  # asked several times per message about the same description
def nothing_to_reproduce(text: str) -> bool:
    """Whether `text` asks how to do something or for work to be done, and reports no
    malfunction (see the module)."""
    asks = _ASKS_HOW.search(text) is not None or _ASKS_FOR_WORK.search(text) is not None
    return asks and _MALFUNCTION.search(text) is None
