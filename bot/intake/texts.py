"""Customer-facing texts, Russian first and English second. Clause numbers refer to "
"the regulation."""

from __future__ import annotations

from bot.intake.events import typed_key
from bot.intake.fields import FIELD_ORDER, Field
from bot.tickets.model import FIELD_LABELS as TICKET_FIELD_LABELS
from bot.tickets.model import FORM_LABEL_OVERRIDES
from classifier import load_categories

Lang = str  # "ru" | "en"
LANGS = ("ru", "en")
DEFAULT_LANG: Lang = "ru"


def pick_lang(code: str | None) -> Lang:
    """The language to talk in, from a language code (Telegram's "en-GB", a channel's hint, a
    stored conversation's): English for any "en…", Russian for anything else or nothing."""
    return "en" if code and code.strip().lower().startswith("en") else DEFAULT_LANG


# Typed answers to a yes/no question: the same as pressing its first or its second button.
YES_WORDS = frozenset(
    {"да", "д", "ага", "угу", "конечно", "yes", "y", "yep", "ok", "ок", "да, помогло"}
)
NO_WORDS = frozenset({"нет", "н", "не", "no", "n", "nope", "не помогло"})
# "Is the site down now?" (2.2) may also be answered with the site's state.
SITE_DOWN_YES = YES_WORDS | {"не работает", "down"}
SITE_DOWN_NO = NO_WORDS | {"работает", "works"}


def yes_or_no(text: str, *, site_down: bool = False) -> bool | None:
    """True for a typed yes, False for a no, None for anything else (compared as `typed_key`).
    `site_down`: the answer to "is the site down now?"."""
    key = typed_key(text)
    if key in (SITE_DOWN_YES if site_down else YES_WORDS):
        return True
    if key in (SITE_DOWN_NO if site_down else NO_WORDS):
        return False
    return None


_TEXTS: dict[str, dict[str, str]] = {
    "greeting": {
        "ru": (
            "Здравствуйте! Я помощник службы технической поддержки «Что за софт».\n"
            "English? Send /lang\n"
            "Я помогу составить официальное обращение: соберу всё, что требует "
            "регламент (п. 4.2), "
            "и отправлю его письмом на support@whatasoft.net. Переписка в мессенджере "
            "сама по себе "
            "обращением не является (п. 4.5): официальным оно становится, когда письмо принято "
            "почтовым сервером поддержки, — я сообщу номер.\n"
            "Можно написать всё одним сообщением: проблему, адрес сайта, редакцию и "
            "версию продукта, "
            "номер купона и e-mail для ответа."
        ),
        "en": (
            "Hello! I am the front desk of «Что за софт» technical support.\n"
            "По-русски? Отправьте /lang\n"
            "I will help you put together an official request: I collect what the regulation "
            "requires (clause 4.2) and e-mail it to support@whatasoft.net. A "
            "messenger chat alone is "
            "not a request (clause 4.5): it becomes official once the support mail server accepts "
            "the e-mail, and I will tell you its number.\n"
            "You may write everything in one message: the problem, the site address, the product "
            "edition and version, the coupon number and the e-mail for the answer."
        ),
    },
    "help": {
        "ru": (
            "Команды: /new — новое обращение, /status — мои обращения, /cancel — "
            "отменить текущее, "
            "/lang — сменить язык (ru/en), /help — эта справка.\n"
            "Поддержка работает по будним дням с 7 до 16 часов МСК (п. 2.1). Ответ придёт на "
            "указанный e-mail (п. 4.1); в переписке сохраняйте тему письма (п. 4.4).\n"
            "English? Send /lang"
        ),
        "en": (
            "Commands: /new — a new request, /status — my requests, /cancel — cancel the current "
            "one, /lang — switch language (ru/en), /help — this help.\n"
            "Support works on weekdays 07:00–16:00 Moscow time (clause 2.1). The answer comes to "
            "your e-mail (clause 4.1); keep the subject when you reply (clause 4.4).\n"
            "По-русски? Отправьте /lang"
        ),
    },
    "cancelled": {
        "ru": "Черновик обращения удалён. Чтобы начать заново, напишите о проблеме "
        "или нажмите /new.",
        "en": "The draft request is deleted. To start again, describe the problem or send /new.",
    },
    "nothing_to_cancel": {
        "ru": "Сейчас нечего отменять. Опишите проблему, и я помогу составить обращение.",
        "en": "There is nothing to cancel. Describe the problem and I will help with the request.",
    },
    "new_request": {
        "ru": "Начинаем новое обращение. В одном обращении решается одна проблема (п. 2.6).",
        "en": "Starting a new request. One request covers one problem (clause 2.6).",
    },
    "lang_set": {"ru": "Язык: русский.", "en": "Language: English."},
    "understood": {"ru": "Понял: {items}.", "en": "Got it: {items}."},
    "invalid": {
        "ru": "{label}: не получилось принять «{value}» — {reason}",
        "en": "{label}: could not accept “{value}” — {reason}",
    },
    "ask_description": {
        "ru": "Опишите, пожалуйста, проблему: что происходит, где и с какого момента (п. 4.2.1).",
        "en": "Please describe the problem: what happens, where, and since when (clause 4.2.1).",
    },
    "ask_steps": {
        "ru": (
            "Как воспроизвести проблему — по шагам (п. 4.2.1)? Например: «1. Открыть корзину "
            "2. Нажать Оформить». Если шагов нет, ответьте «не знаю»."
        ),
        "en": (
            "How can the problem be reproduced, step by step (clause 4.2.1)? For example: "
            "“1. Open the cart 2. Click Checkout”. If there are no steps, answer “don't know”."
        ),
    },
    "ask_site_url": {
        "ru": "Адрес сайта, на котором наблюдается проблема (п. 4.2.3)? Например: example.ru",
        "en": "The address of the site where the problem occurs (clause 4.2.3)? E.g. example.com",
    },
    "ask_edition": {
        "ru": "Редакция продукта (п. 4.2.4)? Выберите или напишите; если не знаете — «не знаю».",
        "en": "Product edition (clause 4.2.4)? Choose or type it; if unsure, “don't know”.",
    },
    "ask_version": {
        "ru": (
            "Номер версии продукта (п. 4.2.4), например 23.300.0? Его видно в административной "
            "части: Рабочий стол → Система обновлений. Если не знаете — «не знаю»."
        ),
        "en": (
            "Product version number (clause 4.2.4), e.g. 23.300.0? It is shown in the admin area: "
            "Desktop → Update system. If unsure, answer “don't know”."
        ),
    },
    "ask_coupon": {
        "ru": "Номер купона на приобретённый продукт с активным сроком поддержки (п. 4.2.5)?",
        "en": "The coupon number of the purchased product with active support (clause 4.2.5)?",
    },
    "coupon_unknown": {
        "ru": (
            "Хорошо, продолжим без купона. Поддержка помогает владельцам активной лицензии "
            "(п. 1.1, 4.2.5), поэтому сначала попросит номер: он есть в документах о покупке или "
            "продлении лицензии (обычно в письме с купоном). Найдёте — просто пришлите его сюда."
        ),
        "en": (
            "All right, let us go on without the coupon. Support helps owners of an active "
            "licence (clauses 1.1, 4.2.5), so they will ask for the number first: it is in the "
            "documents of the licence purchase or renewal (usually the e-mail with the coupon). "
            "If you find it, just send it here."
        ),
    },
    "coupon_demo": {
        "ru": (
            "Понял: у вас демоверсия, купона пока нет — продолжим без него. По установке "
            "консультируем и для демоверсии (п. 3.1.1.1); в остальном поддержка помогает "
            "владельцам активной лицензии (п. 1.1, 4.2.5) — агент это уточнит."
        ),
        "en": (
            "Understood: you run a demo version and have no coupon yet, so we go on without it. "
            "Installation advice covers demo versions too (clause 3.1.1.1); otherwise support "
            "helps owners of an active licence (clauses 1.1, 4.2.5), and the agent will check."
        ),
    },
    "sites_several": {
        "ru": (
            "Вы назвали несколько сайтов: в обращение основным записал {site}, остальные "
            "({others}) передам агенту. Одно обращение — одна проблема (п. 2.6): если на них "
            "разные проблемы, вторую опишите отдельным обращением после этого."
        ),
        "en": (
            "You named several sites: {site} goes into the request as the main one, the others "
            "({others}) are passed on to the agent. One request is one problem (clause 2.6): if "
            "they have different problems, describe the second one in a request of its own."
        ),
    },
    "ask_contact_email": {
        "ru": "На какой e-mail прислать официальный ответ поддержки (п. 4.1)?",
        "en": "Which e-mail should the official answer of support go to (clause 4.1)?",
    },
    "summary_head": {
        "ru": "Проверьте обращение перед отправкой в поддержку:",
        "en": "Please check the request before it goes to support:",
    },
    "summary_category": {
        "ru": "Категория: {category} (п. {clause}){scope}",
        "en": "Category: {category} (clause {clause}){scope}",
    },
    "summary_category_guess": {
        "ru": "Категорию я определил предположительно: если она другая, нажмите «Исправить» → "
        "«Категория».",
        "en": "The category is my best guess: if it is another one, press “Edit” → “Category”.",
    },
    "category_field": {"ru": "Категория", "en": "Category"},
    "summary_out_of_scope": {
        "ru": " — вероятно, вне рамок поддержки",
        "en": " — probably outside the support's scope",
    },
    "summary_critical": {
        "ru": "Критичность: высокая — обработаем вне очереди (п. 2.2)",
        "en": "Criticality: high — handled out of turn (clause 2.2)",
    },
    "summary_critical_guess": {
        "ru": "Критичность: похоже, сайт или его сервис сейчас не работает — отправлю как "
        "критичное, вне очереди (п. 2.2). Если сайт работает, нажмите «Сайт работает, отправить».",
        "en": "Criticality: the site or its service seems to be down — I will send it as "
        "critical, out of turn (clause 2.2). If the site works, press “The site works, send”.",
    },
    "summary_attachments": {"ru": "Вложения: {names}", "en": "Attachments: {names}"},
    "summary_question": {
        "ru": "Всё верно? Отправить или исправить поле?",
        "en": "Is everything right? Send it, or edit a field?",
    },
    "out_of_scope_early": {
        "ru": (
            "Сразу скажу: по регламенту такой вопрос, вероятно, вне рамок технической поддержки "
            "(п. {clause}). {explain} Если всё же хотите отправить обращение — продолжим, решение "
            "примут сотрудники поддержки; передумали — /cancel."
        ),
        "en": (
            "Right away: under the regulation this is probably outside the support's scope "
            "(clause {clause}). {explain} If you still want to send the request, let us go on and "
            "support staff will decide; if not — /cancel."
        ),
    },
    "out_of_scope_note": {
        "ru": (
            "По регламенту такой вопрос, вероятно, вне рамок технической поддержки (п. {clause}). "
            "{explain} Отправить всё равно можно — решение примут сотрудники поддержки."
        ),
        "en": (
            "Under the regulation this is probably outside the support's scope (clause {clause}). "
            "{explain} You may still send it — support staff will decide."
        ),
    },
    "choose_category": {
        "ru": "Уточните, к чему относится вопрос (раздел 3 регламента):",
        "en": "Please tell me what the question is about (section 3 of the regulation):",
    },
    "ask_critical": {
        "ru": (
            "Похоже, сайт или его сервис сейчас не работает. Это так? Тогда обращение будет "
            "помечено как критичное и обработано вне очереди (п. 2.2)."
        ),
        "en": (
            "It looks like the site or one of its services is down right now. Is that so? Then "
            "the request is marked critical and handled out of turn (clause 2.2)."
        ),
    },
    "choose_field": {"ru": "Какое поле исправить?", "en": "Which field do you want to edit?"},
    # An agent's answer by e-mail, closure (4.3) and reopening (5.1), told in any channel.
    "agent_reply": {
        "ru": "Ответ поддержки по обращению {id}:\n\n{text}",
        "en": "Support answered your request {id}:\n\n{text}",
    },
    "attachments_note": {
        "ru": "(к ответу приложены файлы: {names} — они в письме поддержки)",
        "en": "(files attached to the answer: {names} — see the support e-mail)",
    },
    "closed": {
        "ru": (
            "Обращение {id} закрыто службой поддержки.\n\n"
            "Важно (п. 4.3 регламента): сразу после закрытия обращения смените пароли и данные "
            "авторизации, переданные поддержке, и отключите временные учётные записи, созданные "
            "для сотрудников «Что за софт» (сайт, FTP, SSH, панель хостинга). После закрытия "
            "поддержка не отвечает за сохранность этих данных.\n\n"
            "Если вопрос не решён, просто ответьте на это письмо — обращение будет открыто "
            "повторно в той же переписке (п. 5.1)."
        ),
        "en": (
            "Your request {id} has been closed by support.\n\n"
            "Important (clause 4.3): right after closure change the passwords and credentials "
            "you gave support and disable the temporary accounts created for «Что за софт» staff "
            "(site, FTP, SSH, hosting panel). After closure support is not responsible for them."
            "\n\nIf the problem is not solved, just reply to this message: the request will be "
            "reopened in the same thread (clause 5.1)."
        ),
    },
    "reopened": {
        "ru": (
            "Обращение {id} открыто повторно (п. 5.1): ваше письмо передано в поддержку в той "
            "же переписке. Ответ придёт на этот адрес."
        ),
        "en": (
            "Request {id} is reopened (clause 5.1): your message was passed to support in the "
            "same thread. The answer will come to this address."
        ),
    },
    "reopen_note": {
        "ru": "Клиент открыл обращение повторно (п. 5.1 регламента).",
        "en": "The customer reopened the request (clause 5.1).",
    },
    "queued": {
        "ru": (
            "Обращение принято и поставлено в очередь на отправку в поддержку под номером {id}. "
            "Официальным оно станет, когда почтовый сервер поддержки примет письмо "
            "(п. 4.1, 4.5) — "
            "я сообщу."
        ),
        "en": (
            "The request is accepted and queued for support as {id}. It becomes official once the "
            "support mail server accepts the e-mail (clauses 4.1, 4.5) — I will let you know."
        ),
    },
    "filed": {
        "ru": (
            "Обращение {id} официально зарегистрировано: письмо принято почтовым сервером "
            "поддержки. Ответ придёт на {email}; в переписке сохраняйте тему «{subject}» (п. 4.4)."
        ),
        "en": (
            "Request {id} is officially filed: the support mail server accepted the e-mail. The "
            "answer comes to {email}; keep the subject “{subject}” when replying (clause 4.4)."
        ),
    },
    "filed_file": {
        "ru": (
            "Обращение {id} оформлено как письмо и сохранено в файл: отправка почтой на этом "
            "сервере не настроена, поэтому официальным оно станет, когда оператор отправит его в "
            "поддержку (п. 4.1)."
        ),
        "en": (
            "Request {id} is written as an e-mail file: sending mail is not configured on this "
            "server, so it becomes official once an operator sends it to support (clause 4.1)."
        ),
    },
    "failed": {
        "ru": (
            "Не удалось передать обращение {id} в поддержку: почтовый сервер отказал. Операторы "
            "уведомлены; обращение сохранено. Можно также написать напрямую на {support}."
        ),
        "en": (
            "Request {id} could not be passed to support: the mail server refused it. "
            "Operators are "
            "alerted and the request is kept. You may also write to {support} directly."
        ),
    },
    "closed_choice": {
        "ru": (
            "Обращение {id} закрыто. Это сообщение — о нём? Тогда откроем его повторно и "
            "передадим сообщение в ту же переписку (п. 5.1). Или это новый вопрос — тогда "
            "оформим новое обращение, данные для связи уже есть."
        ),
        "en": (
            "Request {id} is closed. Is this message about it? Then we reopen it and pass the "
            "message on in the same thread (clause 5.1). Or is it a new question? Then we file a "
            "new request; your contact details are already here."
        ),
    },
    "summary_after_closed": {
        "ru": "Обращение {id} закрыто, поэтому это оформляю как новое. Если вы пишете о нём, "
        "нажмите «Это о закрытом: открыть его» (п. 5.1).",
        "en": "Request {id} is closed, so this is a new request. If you are writing about it, "
        "press “It is the closed one: reopen” (clause 5.1).",
    },
    "reopen_done": {
        "ru": (
            "Обращение {id} открыто повторно (п. 5.1): сообщение передано в поддержку в той же "
            "переписке. Ответ придёт на e-mail, указанный в обращении."
        ),
        "en": (
            "Request {id} is reopened (clause 5.1): your message was passed to support in the "
            "same thread. The answer goes to the e-mail given in the request."
        ),
    },
    "followup_added": {
        "ru": (
            "Добавил это к обращению {id} как дополнение в ту же переписку (п. 4.4). "
            "Новая проблема — новое обращение: /new (п. 2.6)."
        ),
        "en": (
            "Added this to request {id} as a follow-up in the same thread (clause 4.4). "
            "A new problem is a new request: /new (clause 2.6)."
        ),
    },
    "already_sent": {
        "ru": (
            "Обращение {id} уже принято, отправлять его ещё раз не нужно. Ответ придёт письмом "
            "на указанный e-mail (п. 4.1). Подробности можно дописать сюда — я добавлю их "
            "к обращению (п. 4.4)."
        ),
        "en": (
            "Request {id} has already been taken; there is no need to send it again. The answer "
            "will come by e-mail (4.1). Write any details here and I will add them to it (4.4)."
        ),
    },
    "courtesy_filed": {
        "ru": (
            "Пожалуйста! Ответ по обращению {id} придёт письмом на указанный e-mail (п. 4.1). "
            "Если появятся подробности, напишите их сюда — я добавлю их к обращению (п. 4.4)."
        ),
        "en": (
            "You are welcome! The answer to request {id} will come by e-mail to the address you "
            "gave (clause 4.1). If you have more details, write them here and I will add them to "
            "the request (clause 4.4)."
        ),
    },
    "courtesy_idle": {
        "ru": "Пожалуйста! Если понадобится помощь, опишите проблему — я помогу оформить "
        "обращение.",
        "en": "You are welcome! If you need help, describe the problem and I will help you file "
        "a request.",
    },
    "attachment_added": {"ru": "Файл «{name}» приложен.", "en": "File “{name}” attached."},
    "too_long": {
        "ru": (
            "Сообщение очень длинное: в обращение вошли первые {limit} символов. Длинные логи "
            "лучше приложить файлом."
        ),
        "en": (
            "The message is very long: the first {limit} characters went into the request. Long "
            "logs are better attached as a file."
        ),
    },
    "empty_message": {
        "ru": "Сообщение пустое. Напишите, пожалуйста, текстом.",
        "en": "The message is empty. Please write some text.",
    },
    "status_none": {"ru": "У вас пока нет обращений.", "en": "You have no requests yet."},
    "status_head": {"ru": "Ваши обращения:", "en": "Your requests:"},
    "error": {
        "ru": "Что-то пошло не так на нашей стороне. Уже введённые данные сохранены — повторите, "
        "пожалуйста, последнее сообщение.",
        "en": "Something went wrong on our side. What you entered is kept — please repeat your "
        "last message.",
    },
    "prefilled": {
        "ru": "Взял из прошлого обращения: {items}. Исправить можно в сводке.",
        "en": "Taken from your previous request: {items}. You can edit them in the summary.",
    },
}

REASONS: dict[str, dict[str, str]] = {
    "empty": {"ru": "ответ пустой.", "en": "the answer is empty."},
    "description_short": {
        "ru": "слишком коротко: опишите, что именно не работает (хотя бы одно предложение).",
        "en": "too short: describe what exactly does not work (a sentence at least).",
    },
    "url_spaces": {
        "ru": "в адресе не должно быть пробелов.",
        "en": "an address cannot contain spaces.",
    },
    "url_is_email": {
        "ru": "это похоже на e-mail, а нужен адрес сайта, например example.ru.",
        "en": "this looks like an e-mail; the site address is needed, e.g. example.com.",
    },
    "url_scheme": {
        "ru": "нужен адрес сайта, открывающийся по http или https.",
        "en": "the site address must open over http or https.",
    },
    "url_invalid": {
        "ru": "не похоже на адрес сайта; пример: example.ru или https://готовый-сайт-для-бизнеса.рф",
        "en": "this does not look like a site address; e.g. example.com or https://shop.example.com",
    },
    "edition_unknown": {
        "ru": "это не похоже на название редакции (например, Бизнес); если не знаете — «не знаю».",
        "en": "this does not look like an edition name (e.g. Business); if unsure, “don't know”.",
    },
    "version_format": {
        "ru": "номер версии выглядит как 23.300.0 (три числа через точку).",
        "en": "a version number looks like 23.300.0 (three numbers separated by dots).",
    },
    "coupon_format": {
        "ru": "номер купона выглядит как XXXX-XXXX-XXXX (латинские буквы и цифры через дефис).",
        "en": "a coupon number looks like XXXX-XXXX-XXXX (Latin letters and digits with hyphens).",
    },
    "email_format": {
        "ru": "адрес e-mail выглядит как name@example.ru.",
        "en": "an e-mail address looks like name@example.com.",
    },
    "email_ours": {
        "ru": "это адрес службы поддержки, а нужен ваш — на него придёт ответ (п. 4.2).",
        "en": "this is the support desk's own address; we need yours to send the answer to.",
    },
}

# The 4.2 fields' labels are written once, with the ticket (bot.tickets.model.FIELD_LABELS).
FIELD_LABELS: dict[Field, dict[str, str]] = {f: TICKET_FIELD_LABELS[f.value] for f in FIELD_ORDER}

# The categories as customers see them: the name from the classifier's data/scope.json (the one
# place categories are written) with the section of the regulation, "Ошибка продукта (3.4)".
CATEGORY_NAMES: dict[str, dict[str, str]] = {
    c.id: {lang: f"{c.name(lang)} ({c.section})" for lang in LANGS}
    for c in load_categories().values()
}

CHOICE_LABELS: dict[str, dict[str, str]] = {
    "send": {"ru": "Отправить", "en": "Send"},
    "send_works": {"ru": "Сайт работает, отправить", "en": "The site works, send"},
    "edit": {"ru": "Исправить", "en": "Edit"},
    "cancel": {"ru": "Отменить", "en": "Cancel"},
    "unknown": {"ru": "Не знаю", "en": "Don't know"},
    "yes": {"ru": "Да, не работает", "en": "Yes, it is down"},
    "no": {"ru": "Нет, работает", "en": "No, it works"},
}


def t(key: str, lang: Lang, **kwargs: object) -> str:
    entry = _TEXTS[key]
    text = entry.get(lang) or entry["ru"]
    return text.format(**kwargs) if kwargs else text


def reason(key: str, lang: Lang) -> str:
    entry = REASONS.get(key, REASONS["empty"])
    return entry.get(lang) or entry["ru"]


def field_label(field: Field, lang: Lang) -> str:
    return FIELD_LABELS[field].get(lang) or FIELD_LABELS[field]["ru"]


def form_label(field: Field, lang: Lang) -> str:
    """The label of a 4.2 field in the guided e-mail's form: the field's label, or the one the
    parser needs instead (bot.tickets.model.FORM_LABEL_OVERRIDES)."""
    return FORM_LABEL_OVERRIDES.get(lang, {}).get(field.value) or field_label(field, lang)


def category_name(category: str, lang: Lang) -> str:
    names = CATEGORY_NAMES.get(category, {"ru": category, "en": category})
    return names.get(lang) or names["ru"]


def choice_label(key: str, lang: Lang) -> str:
    return CHOICE_LABELS[key].get(lang) or CHOICE_LABELS[key]["ru"]


_TEXTS.update(
    {
        "split_offer": {
            "ru": (
                "Похоже, в сообщении несколько проблем ({n}). По регламенту в одном обращении "
                "решается одна проблема (п. 2.6). Оформить их отдельными обращениями? Сначала — "
                "первая: «{first}», остальные — следом, без повторного ввода данных."
            ),
            "en": (
                "It looks like the message describes several problems ({n}). Under the "
                "regulation one request covers one problem (clause 2.6). File them as separate "
                "requests? The first one now: “{first}”, the others right after, with the same "
                "details."
            ),
        },
        "split_next": {
            "ru": "Следующая проблема из вашего сообщения: «{text}». Оформляем её.",
            "en": "The next problem from your message: “{text}”. Filing it now.",
        },
        "kb_helped": {
            "ru": "Рад, что получилось! Обращение не отправляю. Если проблема вернётся — "
            "просто напишите.",
            "en": "Glad it worked! I am not filing the request. If the problem comes back, just "
            "write.",
        },
        "similar_offer": {
            "ru": (
                "Похоже, это та же проблема, что и в вашем открытом обращении {id}: «{summary}». "
                "Новое обращение не ускорит решение (п. 2.5). Добавить это сообщение к {id}?"
            ),
            "en": (
                "This looks like the same problem as your open request {id}: “{summary}”. A new "
                "request will not speed things up (clause 2.5). Add this message to {id}?"
            ),
        },
        "version_old": {
            "ru": (
                "Версия {version} старше актуальной ({current}): поддержка может попросить "
                "сначала установить обновления (п. 4.8.2)."
            ),
            "en": (
                "Version {version} is older than the current one ({current}): support may ask "
                "you to install updates first (clause 4.8.2)."
            ),
        },
        "profanity_keep": {
            "ru": "Можно переформулировать описание или отправить как есть.",
            "en": "You may rephrase the description or send it as it is.",
        },
    }
)
CHOICE_LABELS.update(
    {
        "split_yes": {"ru": "Да, отдельными", "en": "Yes, separately"},
        "reopen": {"ru": "Открыть его повторно", "en": "Reopen it"},
        "reopen_closed": {
            "ru": "Это о закрытом: открыть его",
            "en": "It is the closed one: reopen",
        },
        "new_request": {"ru": "Это новый вопрос", "en": "It is a new question"},
        "split_no": {"ru": "Нет, это одна проблема", "en": "No, it is one problem"},
        "similar_yes": {"ru": "Добавить к {id}", "en": "Add to {id}"},
        "similar_no": {"ru": "Нет, это новая проблема", "en": "No, a new problem"},
        "skip": {"ru": "Пропустить", "en": "Skip"},
        "keep": {"ru": "Отправить как есть", "en": "Send as it is"},
    }
)

# A question back ("где это смотреть?", "what is a coupon?"): where the customer finds each 4.2
# value, or what to write (bot/intake/clarify.py). The question is asked again after it.
_TEXTS.update(
    {
        "where_description": {
            "ru": (
                "Опишите своими словами, что не так: что вы делали, что ожидали и что "
                "произошло вместо этого, на какой странице и с какого момента (п. 4.2.1). Текст "
                "ошибки, если он есть, вставьте целиком. Называйте разделы и настройки так, как "
                "они называются в продукте (п. 4.2.2)."
            ),
            "en": (
                "Tell in your own words what is wrong: what you did, what you expected and what "
                "happened instead, on which page and since when (clause 4.2.1). If there is an "
                "error message, paste all of it. Name sections and settings as the product does "
                "(clause 4.2.2)."
            ),
        },
        "where_steps": {
            "ru": (
                "Шаги — это что сделать, чтобы увидеть проблему своими глазами, например: "
                "«1. Войти как покупатель 2. Положить товар в корзину 3. Нажать «Оформить заказ» "
                "— ошибка 500». По ним поддержка быстрее повторит проблему (п. 4.2.1, 4.8.1). "
                "Если проблема возникает сама по себе или шагов нет, ответьте «не знаю»."
            ),
            "en": (
                "Steps are what to do to see the problem yourself, for example: “1. Log in as a "
                "customer 2. Put an item into the cart 3. Click Checkout — error 500”. With them "
                "support repeats the problem sooner (clauses 4.2.1, 4.8.1). If it happens by "
                "itself or there are no steps, answer “don't know”."
            ),
        },
        "where_site_url": {
            "ru": (
                "Адрес сайта — то, что вы набираете в браузере, чтобы его открыть, например "
                "example.ru или https://shop.example.ru. Нужен адрес того сайта, где видна "
                "проблема (п. 4.2.3); если это тестовая копия — её адрес."
            ),
            "en": (
                "The site address is what you type in the browser to open the site, e.g. "
                "example.com or https://shop.example.com. We need the address of the site where "
                "the problem shows (clause 4.2.3); for a test copy, the copy's address."
            ),
        },
        "where_edition": {
            "ru": (
                "Редакция — вид лицензии «1С-Битрикс: Управление сайтом»: {editions} "
                "(п. 4.2.4). Она видна в административной части сайта: откройте адрес сайта с "
                "/bitrix/admin/ на конце (например, example.ru/bitrix/admin/), затем Marketplace "
                "→ «Обновление платформы» (/bitrix/admin/update_system.php). Редакция указана и в "
                "документах о покупке лицензии. Не нашли — ответьте «не знаю»."
            ),
            "en": (
                "The edition is the kind of your «1С-Битрикс: Управление сайтом» licence: "
                "{editions} (clause 4.2.4). It is shown in the site's admin area: open the site "
                "address with /bitrix/admin/ at the end (e.g. example.com/bitrix/admin/), then "
                "Marketplace → «Обновление платформы», the platform update page "
                "(/bitrix/admin/update_system.php). The licence purchase documents name it too. "
                "Not found? Answer “don't know”."
            ),
        },
        "where_version": {
            "ru": (
                "Номер версии виден в административной части сайта: откройте адрес сайта с "
                "/bitrix/admin/ на конце (например, example.ru/bitrix/admin/), затем Marketplace "
                "→ «Обновление платформы» (/bitrix/admin/update_system.php) — там указаны версия, "
                "редакция и срок лицензии (п. 4.2.4). Номер выглядит так: 23.300.0. Нет доступа "
                "в административную часть — спросите того, кто ведёт сайт, или ответьте «не знаю»."
            ),
            "en": (
                "The version number is shown in the site's admin area: open the site address "
                "with /bitrix/admin/ at the end (e.g. example.com/bitrix/admin/), then "
                "Marketplace → «Обновление платформы», the platform update page "
                "(/bitrix/admin/update_system.php): it lists the version, the edition and the "
                "licence term (clause 4.2.4). A version looks like 23.300.0. No access to the "
                "admin area? Ask whoever runs the site, or answer “don't know”."
            ),
        },
        "where_coupon": {
            "ru": (
                "Купон — номер лицензии, который выдают при покупке или продлении (п. 4.2.5). Он "
                "есть в письме от партнёра, у которого покупали лицензию, и в документах о "
                "покупке. Ключ, установленный на сайте, виден в административной части: "
                "Настройки → Настройки продукта → Настройки модулей → Главный модуль "
                "(/bitrix/admin/settings.php?mid=main), поле «Лицензионный ключ». Не нашли — "
                "ответьте «не знаю»: поддержка запросит номер позже."
            ),
            "en": (
                "The coupon is the licence number issued with a purchase or renewal (clause "
                "4.2.5). It is in the e-mail from the partner who sold you the licence and in the "
                "purchase documents. The key installed on the site is in the admin area, in the "
                "main module's settings (/bitrix/admin/settings.php?mid=main), the “License key” "
                "field. Not found? Answer “don't know”: support will ask for it later."
            ),
        },
        "where_contact_email": {
            "ru": (
                "Укажите e-mail, который вы читаете: на него придёт официальный ответ "
                "поддержки, и по нему пойдёт переписка по обращению (п. 4.1, 4.4). Например: "
                "ivan@example.ru. Адрес самой поддержки не подойдёт."
            ),
            "en": (
                "Give an e-mail address you read: the official answer of support comes there, and "
                "the correspondence about the request goes through it (clauses 4.1, 4.4). E.g. "
                "ivan@example.com. The support's own address will not do."
            ),
        },
    }
)

# One-pass intake: the rest asked at once, the summary with documentation and optional details.
_TEXTS.update(
    {
        "ask_missing": {
            "ru": (
                "Чтобы оформить обращение, осталось указать (п. 4.2) — можно одним сообщением, "
                "в любом порядке:\n{items}\nЧего не знаете — напишите «не знаю»."
            ),
            "en": (
                "To file the request I still need (clause 4.2) — one message, any order is "
                "fine:\n{items}\nIf you do not know something, write “don't know”."
            ),
        },
        "missing_steps": {
            "ru": "шаги воспроизведения, если проблему можно повторить",
            "en": "steps to reproduce, if the problem can be repeated",
        },
        "summary_docs": {
            "ru": "Возможно, ответ уже есть в документации (п. 1.3):\n{items}",
            "en": "The answer may already be in the documentation (clause 1.3):\n{items}",
        },
        "summary_details": {
            "ru": (
                "Если знаете, допишите одним сообщением — это ускорит ответ (необязательно, "
                "п. 4.2.6):\n{items}"
            ),
            "en": (
                "If you know, add in one message — it speeds up the answer (optional, clause "
                "4.2.6):\n{items}"
            ),
        },
        "details_prompt": {
            "ru": "Ответьте одним сообщением на любые из вопросов (необязательно):\n{items}",
            "en": "Answer any of these in one message (optional):\n{items}",
        },
        "details_taken": {
            "ru": "Добавил подробности: {items}",
            "en": "Added the details: {items}",
        },
        "hint_description": {
            "ru": "что происходит, где и с какого момента",
            "en": "what happens, where and since when",
        },
        "hint_site_url": {"ru": "например, example.ru", "en": "e.g. example.com"},
        "hint_edition": {
            "ru": "Старт, Стандарт, Малый бизнес, Бизнес, Энтерпрайз…",
            "en": "Start, Standard, Small Business, Business, Enterprise…",
        },
        "hint_version": {
            "ru": "например, 24.0.100: Рабочий стол → Система обновлений",
            "en": "e.g. 24.0.100: Desktop → Update system",
        },
        "hint_coupon": {
            "ru": "в документах о покупке или продлении лицензии",
            "en": "in the documents of the licence purchase or renewal",
        },
        "hint_contact_email": {
            "ru": "туда придёт официальный ответ, п. 4.1",
            "en": "the official answer goes there, clause 4.1",
        },
        "more_details_label": {"ru": "Дополнительно", "en": "More details"},
        "not_given": {"ru": "не указано", "en": "not given"},
        "steps_not_needed": {
            "ru": "не нужны для неработающего сайта (п. 4.2.1: шаги — по возможности)",
            "en": "not needed for a site that is down (clause 4.2.1: steps where possible)",
        },
        "steps_nothing_to_reproduce": {
            "ru": "не нужны: это вопрос или просьба, а не сбой (п. 4.2.1: шаги — по возможности)",
            "en": "not needed: a question or a request, not a malfunction (clause 4.2.1: steps"
            " where possible)",
        },
        "critical_taken": {
            "ru": "Понял: сайт не работает — обращение будет критичным (п. 2.2).",
            "en": "Understood: the site is down, so the request is critical (clause 2.2).",
        },
        "not_critical_taken": {
            "ru": "Понял: сайт работает — отправлю обычным обращением, в порядке очереди "
            "(п. 2.2).",
            "en": "Understood: the site works, so it goes as a usual request, in turn "
            "(clause 2.2).",
        },
    }
)
CHOICE_LABELS.update(
    {
        "details": {"ru": "Добавить подробности", "en": "Add details"},
        "back": {"ru": "Назад к сводке", "en": "Back to the summary"},
        "docs_helped": {
            "ru": "Документация помогла, не отправлять",
            "en": "The documentation helped, do not send",
        },
    }
)
