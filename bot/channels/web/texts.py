"""What the web form's pages say around the desk's own words (Russian first, then English).

The regulation's wording (what is asked and why, the code, the statuses' meaning) comes from
the core; these are the page's headings, labels and buttons.
"""

from __future__ import annotations

__all__ = ["t"]

_TEXTS: dict[str, dict[str, str]] = {
    "title": {"ru": "Написать в техподдержку", "en": "Contact technical support"},
    "company": {"ru": "«Что за софт» — техническая поддержка", "en": "«Что за софт» support"},
    "lead": {
        "ru": (
            "Опишите проблему — можно сразу всё: сайт, редакцию и версию, купон, e-mail. "
            "Спросим только то, чего не хватит по регламенту (п. 4.2)."
        ),
        "en": (
            "Describe the problem — all at once if you like: the site, edition and version, "
            "coupon, e-mail. We ask only for what the regulation (clause 4.2) still needs."
        ),
    },
    "description": {"ru": "Описание проблемы", "en": "The problem"},
    "description_hint": {
        "ru": "Что случилось, на каком сайте, как повторить; редакция, версия, купон, e-mail.",
        "en": "What happened, on which site, how to repeat it; edition, version, coupon, e-mail.",
    },
    "files": {
        "ru": "Скриншоты (JPG, GIF, PNG; BMP упакуем в ZIP)",
        "en": "Screenshots (JPG, GIF, PNG; a BMP is zipped)",
    },
    "files_hint": {
        "ru": "До 5 файлов, каждый не больше 20 МБ (п. 4.6).",
        "en": "Up to 5 files, 20 MB each at most (clause 4.6).",
    },
    "consent_box": {
        "ru": "Согласен на обработку персональных данных (152-ФЗ)",
        "en": "I agree to the processing of my personal data (152-FZ)",
    },
    "consent_missing": {
        "ru": "Без согласия на обработку данных обращение оформить нельзя: отметьте его.",
        "en": "A request cannot be filed without consent to data processing: please tick it.",
    },
    "honeypot": {"ru": "Не заполняйте это поле", "en": "Leave this field empty"},
    "submit": {"ru": "Отправить", "en": "Send"},
    "guided_head": {"ru": "Почти готово", "en": "Almost there"},
    "understood_head": {
        "ru": "Что мы поняли (можно исправить)",
        "en": "What we understood (you may change it)",
    },
    "missing_head": {"ru": "Не хватает по регламенту (п. 4.2)", "en": "Still needed (clause 4.2)"},
    "details_head": {
        "ru": "По желанию: это ускорит ответ (п. 4.2.6)",
        "en": "Optional: this speeds up the answer (clause 4.2.6)",
    },
    "category_label": {"ru": "Категория", "en": "Category"},
    "critical_yes": {"ru": "Да, сайт сейчас не работает", "en": "Yes, the site is down now"},
    "critical_no": {"ru": "Нет, сайт работает", "en": "No, the site works"},
    "notice_head": {"ru": "Как мы поняли обращение", "en": "How we read the request"},
    "notice_category": {
        "ru": "Категория: {name} (п. {clause})",
        "en": "Category: {name} (clause {clause})",
    },
    "notice_critical": {
        "ru": "Похоже на критичную проблему: обработаем вне очереди (п. 2.2).",
        "en": "This looks critical: it is handled out of turn (clause 2.2).",
    },
    "notes_head": {"ru": "Обратите внимание", "en": "Please note"},
    "files_kept": {"ru": "Приложены файлы", "en": "Files attached"},
    "more_files": {"ru": "Добавить скриншоты", "en": "Add screenshots"},
    "code_head": {"ru": "Подтвердите e-mail", "en": "Confirm your e-mail"},
    "code_label": {"ru": "Код из письма (6 цифр)", "en": "The code from the e-mail (6 digits)"},
    "code_submit": {"ru": "Подтвердить и отправить", "en": "Confirm and send"},
    "resend": {"ru": "Отправить код ещё раз", "en": "Send the code again"},
    "summary_head": {"ru": "Что уйдёт в поддержку", "en": "What goes to support"},
    "status_head": {"ru": "Обращение {id}", "en": "Request {id}"},
    "status_label": {"ru": "Статус", "en": "Status"},
    "status_queued": {
        "ru": (
            "Принято и ждёт отправки. Официальным обращение станет, когда почтовый сервер "
            "поддержки примет письмо (п. 4.1, 4.5); страница обновится сама."
        ),
        "en": (
            "Accepted and waiting to be sent. It becomes official once the support mail server "
            "accepts the e-mail (clauses 4.1, 4.5); this page refreshes itself."
        ),
    },
    "status_filed": {
        "ru": "Официально зарегистрировано: почтовый сервер поддержки принял письмо "
        "(п. 4.1, 4.5).",
        "en": "Officially filed: the support mail server accepted the e-mail (clauses 4.1, 4.5).",
    },
    "status_answered": {
        "ru": "Поддержка ответила по e-mail.",
        "en": "Support answered by e-mail.",
    },
    "status_closed": {
        "ru": "Закрыто поддержкой (п. 4.3).",
        "en": "Closed by support (clause 4.3).",
    },
    "status_failed": {
        "ru": "Письмо не доставлено в поддержку. Напишите на {support}.",
        "en": "The e-mail did not reach support. Please write to {support}.",
    },
    "status_link": {
        "ru": "Ссылка на эту страницу отправлена вам на e-mail; она открывает только это "
        "обращение.",
        "en": "The link to this page was e-mailed to you; it opens this request only.",
    },
    "status_refresh": {"ru": "Обновить", "en": "Refresh"},
    "new_request": {"ru": "Новое обращение", "en": "New request"},
    "not_found": {"ru": "Страница не найдена.", "en": "Page not found."},
    "forbidden": {
        "ru": "Форма устарела или отправлена не с этой страницы. Откройте форму заново.",
        "en": "The form has expired or was not sent from this page. Please open it again.",
    },
    "forget": {"ru": "Удалить мои данные", "en": "Delete my data"},
    "privacy": {"ru": "Политика обработки данных", "en": "Privacy policy"},
    "error": {
        "ru": "Что-то пошло не так. Попробуйте ещё раз или напишите на {support}.",
        "en": "Something went wrong. Please try again or write to {support}.",
    },
    "mail_subject": {
        "ru": "[{id}] Ваше обращение принято",
        "en": "[{id}] Your request is accepted",
    },
    "mail_body": {
        "ru": (
            "Здравствуйте!\n\nВаше обращение {id} принято. Его статус — по ссылке (она только "
            "для вас, не пересылайте её):\n{url}\n\nОтвет поддержки придёт на этот адрес; в "
            "переписке сохраняйте тему с номером {id} (п. 4.4)."
        ),
        "en": (
            "Hello,\n\nYour request {id} is accepted. Its status is at this link (it is yours "
            "only, please do not forward it):\n{url}\n\nSupport answers to this address; keep "
            "the subject with {id} when replying (clause 4.4)."
        ),
    },
    "other_lang": {"ru": "English", "en": "Русский"},
    "skip": {"ru": "Перейти к форме", "en": "Skip to the form"},
}


def t(key: str, lang: str, **kwargs: object) -> str:
    entry = _TEXTS[key]
    text = entry.get(lang) or entry["ru"]
    return text.format(**kwargs) if kwargs else text
