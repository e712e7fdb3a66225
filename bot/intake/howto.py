"""Whether a request asks how to do something instead of reporting a malfunction.

4.2.1 wants steps to reproduce a problem "where possible": a question such as «Подскажите, как
настроить обмен с 1С?» has nothing to reproduce. A text is such a question when one of its
sentences asks how to do something (how + an infinitive, "можно ли", "how do I", "is it possible
to") and nothing in it reports a malfunction (an error, something that does not do what it
should, an HTTP error code): "Не приходят письма. Как это исправить?" still has a problem to
reproduce, and so has «Фильтр не учитывает остатки. Можно ли это поправить?».
"""

from __future__ import annotations

import re

_ASKS_HOW = re.compile(
    r"(?<![\w-])(?:"
    r"(?:как|каким\s+образом)(?:\s+(?:мне|нам|можно|правильно|лучше))*\s+[а-яё]+(?:ть|ти)(?:ся)?"
    r"|можно\s+ли|есть\s+ли\s+возможность|возможно\s+ли"
    r"|how\s+(?:do|can|should|could)\s+(?:i|we|you|one)|how\s+to"
    r"|is\s+(?:it|there\s+a\s+way)\s+(?:possible\s+)?to|can\s+(?:i|we)"
    r")(?![\w-])",
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


def asks_how_to(text: str) -> bool:
    """Whether `text` asks how to do something and reports no malfunction (see the module)."""
    return _ASKS_HOW.search(text) is not None and _MALFUNCTION.search(text) is None
