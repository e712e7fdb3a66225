"""What a customer who answers by form (an e-mail) reads in a guided reply (ru, en)."""

from __future__ import annotations

__all__ = ["t"]

_TEXTS: dict[str, dict[str, str]] = {
    "greeting": {"ru": "Здравствуйте!", "en": "Hello,"},
    "guided_intro": {
        "ru": (
            "Спасибо за письмо. Чтобы передать обращение в техническую поддержку, по регламенту "
            "(п. 4.2) нужно ещё немного сведений."
        ),
        "en": (
            "Thank you for your message. To pass your request to technical support, the "
            "regulation (clause 4.2) needs a little more information."
        ),
    },
    "understood_head": {"ru": "Из вашего письма понятно:", "en": "From your message we have:"},
    "received": {"ru": "получено (текст — в вашем письме)", "en": "received (see your message)"},
    "files": {"ru": "Файлы", "en": "Files"},
    "form_head": {
        "ru": (
            "Пожалуйста, ответьте на это письмо, заполнив строки ниже (тему письма не меняйте). "
            "Если чего-то не знаете, напишите «не знаю»."
        ),
        "en": (
            "Please reply to this message filling in the lines below (keep the subject). "
            "If you don't know something, write “don't know”."
        ),
    },
    "hints_head": {"ru": "Подсказки:", "en": "Hints:"},
    "category_hint": {
        "ru": "Категория — одна из: {names}.",
        "en": "Category — one of: {names}.",
    },
    "critical_hint": {
        "ru": (
            "Похоже, сайт или его сервис сейчас не работает. Если это так, напишите «да» в "
            "строке «{label}»: обращение будет помечено как критичное и обработано вне очереди "
            "(п. 2.2). Если сайт работает, напишите «нет»."
        ),
        "en": (
            "It looks as if the site or one of its services is down now. If so, write “yes” on "
            "the line “{label}”: the request will be marked critical and handled out of turn "
            "(clause 2.2). If the site works, write “no”."
        ),
    },
    "critical_steps_hint": {
        "ru": "Если сайт не работает, шаги воспроизведения можно не указывать (п. 4.2.1).",
        "en": "If the site is down, the steps to reproduce may be left out (clause 4.2.1).",
    },
    "held_hint": {
        "ru": (
            "Чтобы отправить письмо как есть, ответьте на это письмо одной строкой: «{keep}». "
            "Или пришлите обращение заново, переформулировав его: тогда прежнее письмо в "
            "поддержку не уйдёт (п. 4.8.11)."
        ),
        "en": (
            "To send your message as it is, reply to this one with a single line: “{keep}”. "
            "Or send the request again in other words: the earlier message then does not go "
            "to support (clause 4.8.11)."
        ),
    },
    "coupon_hint": {
        "ru": "Номер купона есть в документах о покупке или продлении лицензии. Если его нет под "
        "рукой, напишите в строке купона «не знаю»: обращение уйдёт без него, но поддержка "
        "сначала попросит номер (п. 1.1, 4.2.5).",
        "en": "The coupon number is in the documents of the licence purchase or renewal. If you "
        "do not have it at hand, write “don't know” on the coupon line: the request will go "
        "without it, but support will ask for the number first (clauses 1.1, 4.2.5).",
    },
    "notes_head": {"ru": "Обратите внимание:", "en": "Please note:"},
    "signature": {
        "ru": "-- \nСлужба технической поддержки «Что за софт» (автоматический ответ)",
        "en": "-- \n«Что за софт» technical support (automatic reply)",
    },
    "code_hint": {
        "ru": (
            "Когда код придёт, ответьте на это письмо, написав в первой строке только код из "
            "шести цифр."
        ),
        "en": "When the code arrives, reply to this message with just the six-digit code.",
    },
}


def t(key: str, lang: str, **kwargs: object) -> str:
    entry = _TEXTS[key]
    text = entry.get(lang) or entry["ru"]
    return text.format(**kwargs) if kwargs else text
