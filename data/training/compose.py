"""Compose data/training/composed.txt: critical requests (2.2) and their look-alikes.

Run `python data/training/compose.py` after editing; the output is committed so that training
does not depend on this script. Most phrases are hand-written in the other files.
"""

from __future__ import annotations

import random
from itertools import product
from pathlib import Path

SEED = 3
OUT = Path(__file__).with_name("composed.txt")

SITES_RU = ["сайт", "наш сайт", "интернет-магазин", "магазин", "портал", "сайт компании"]
DOWN_RU = [
    "не открывается",
    "лежит",
    "упал",
    "недоступен с утра",
    "выдает 500 на всех страницах",
    "показывает белый экран",
    "не работает совсем",
    "выдает 503 на любой странице",
]
TAILS_RU = ["", " срочно", ", помогите", "!!!", ", клиенты жалуются", ", ничего не меняли"]
SITES_EN = ["the site", "our website", "our store", "the shop"]
DOWN_EN = ["is down", "returns 500 on every page", "shows a blank page everywhere", "is offline"]
DB_ERRORS = [
    "Can't connect to local MySQL server through socket '/var/lib/mysql/mysql.sock' (2)",
    "SQLSTATE[HY000] [2002] Connection refused",
    "Too many connections",
    "[Bitrix\\Main\\DB\\ConnectionException] Mysql connect error [localhost]",
]
CHECKOUT = [
    "покупатели не могут оформить заказ",
    "не проходит оплата ни у кого",
    "оформление заказа не работает у всех",
    "заказы не оформляются с утра",
    "при нажатии оформить заказ ошибка у всех покупателей",
]
HACKED = [
    "на главной чужой текст",
    "редирект на казино",
    "в поиске появились спам-страницы",
    "хостинг нашел вредоносный код",
    "поменялся пароль админа и пропали файлы",
]
# Non-critical look-alikes: (clause, template).
LOOKALIKES = [
    ("3.4.1.1", "на странице {page} ошибка 500, остальные страницы работают"),
    ("3.4.1.1", "{page}: белый экран только там, весь остальной сайт в порядке"),
    ("3.4.1.1", "не приходят письма о {mail}, в остальном всё работает"),
    ("3.5.1.1", "как сделать свою страницу для ошибки {code} в дизайне сайта"),
    ("3.6.1.3", "как защитить {target} от {threat} встроенными средствами"),
    ("3.2.2.2", "{site_ru} медленно открывается {when}, найдите причину у нас"),
    ("3.2.1.3", "{site_ru} медленно открывается {when}, как включить кеширование"),
]
PAGES = ["контактов", "акций", "новостей", "отзывов", "сравнения", "вакансий"]
MAILS = ["регистрации", "новых заказах", "сообщениях с формы", "смене статуса"]
CODES = ["404", "500", "503"]
TARGETS = ["сайт", "админку", "формы"]
THREATS = ["взлома", "подбора пароля", "спама", "ddos"]
WHEN = ["по вечерам", "в часы пик", "после обмена с 1С", "на телефонах"]


def _lines(rng: random.Random) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []
    ru = [f"{s} {d}{t}" for s, d, t in product(SITES_RU, DOWN_RU, TAILS_RU)]
    out += [("3.4.1.1", True, s) for s in rng.sample(ru, 40)]
    en = [f"{s} {d}" for s, d in product(SITES_EN, DOWN_EN)]
    out += [("3.4.1.1", True, s) for s in rng.sample(en, 10)]
    updates = [f"после обновления {s} {d}" for s, d in product(SITES_RU, DOWN_RU)]
    out += [("3.3.1.3", True, s) for s in rng.sample(updates, 12)]
    out += [("3.4.2.2", True, f"{e}, сайт не открывается") for e in DB_ERRORS]
    out += [("3.4.2.2", True, f"на всех страницах {e}") for e in DB_ERRORS]
    urgent = ["срочно", "магазин стоит"]
    out += [("3.4.1.1", True, f"{c}, {t}") for c, t in product(CHECKOUT, urgent)]
    out += [("3.4.1.1", True, f"сайт взломали, {h}") for h in HACKED]
    out += [("3.4.1.1", True, f"похоже нас взломали: {h}") for h in HACKED]
    fill = {
        "page": PAGES,
        "mail": MAILS,
        "code": CODES,
        "target": TARGETS,
        "threat": THREATS,
        "site_ru": SITES_RU,
        "when": WHEN,
    }
    for clause, template in LOOKALIKES:
        seen: set[str] = set()
        for _ in range(40):
            text = template.format(**{k: rng.choice(v) for k, v in fill.items()})
            seen.add(text)
            if len(seen) == 12:
                break
        out += [(clause, False, t) for t in sorted(seen)]
    return out


def main() -> None:
    rng = random.Random(SEED)
    lines = _lines(rng)
    body = ["# Composed by compose.py from small templates; do not edit by hand."]
    for clause in dict.fromkeys(c for c, _, _ in lines):
        body.append(f"== {clause}")
        body += [("! " if crit else "") + text for c, crit, text in lines if c == clause]
    OUT.write_text("\n".join(body) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
