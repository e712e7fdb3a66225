"""What the e-mail channel writes to customers (ru, en); form labels the parser reads back."""

from __future__ import annotations

from bot.intake import texts as intake_texts
from bot.intake.fields import FIELD_ORDER, Field

# Form labels: the fields' labels, with the overrides the parser needs
# (bot.tickets.model.FORM_LABEL_OVERRIDES; tests check the round trip).
FORM_LABELS: dict[str, dict[Field, str]] = {
    lang: {f: intake_texts.form_label(f, lang) for f in FIELD_ORDER} for lang in intake_texts.LANGS
}

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
    "unproven": {
        "ru": (
            "Мы получили письмо по обращению {id} с вашего адреса, но не смогли убедиться, что "
            "его отправили вы, поэтому к обращению оно не добавлено.\n\n"
            "Если письмо ваше, просто ответьте на это сообщение и повторите в ответе, что хотели "
            "сообщить: ответ на него придёт в обращение {id}. Если вы ничего не отправляли, "
            "ничего делать не нужно."
        ),
        "en": (
            "We received a message about request {id} from your address but could not make sure "
            "you sent it, so it was not added to the request.\n\n"
            "If it was yours, just reply to this message and repeat what you wanted to say: the "
            "reply will reach request {id}. If you sent nothing, there is nothing to do."
        ),
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


def form_label(field: Field, lang: str) -> str:
    return intake_texts.form_label(field, lang)


FORGET_UNVERIFIED = {
    "ru": (
        "Мы получили просьбу удалить ваши данные, но не можем подтвердить, что письмо отправлено "
        "с этого адреса (почтовый сервер не подтвердил отправителя). Удаление необратимо, "
        "поэтому ответьте, пожалуйста, на любое наше письмо по вашему обращению, указав тему "
        "«Удалить мои данные», или используйте команду /forget в Telegram."
    ),
    "en": (
        "We received a request to delete your data but cannot confirm it was sent from this "
        "address (the mail server did not authenticate the sender). Deleting cannot be undone, "
        "so please reply to any of our messages about your request with the subject "
        "“Forget me”, or use the /forget command in Telegram."
    ),
}


def privacy_footer(policy_url: str) -> str:
    return (
        f"Обработка персональных данных: {policy_url} — удалить свои данные: письмо с темой "
        f"«Удалить мои данные».\nPersonal data: {policy_url} — to have your data deleted, send "
        "a message with the subject “Forget me”."
    )
