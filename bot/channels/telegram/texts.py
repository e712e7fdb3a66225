"""The few texts that belong to the Telegram channel itself (Russian first, English second)."""

from __future__ import annotations

from bot.intake.texts import pick_lang

SOMETHING_WENT_WRONG = (
    "Что-то пошло не так, простите. Всё, что вы уже сообщили, сохранено — попробуйте повторить "
    "последнее сообщение через минуту.\n"
    "Something went wrong, sorry. Everything you have told me is kept — please repeat your last "
    "message in a minute."
)

FLOOD_WARNING = (
    "Слишком много сообщений подряд — я не успеваю. Подождите, пожалуйста, несколько секунд и "
    "продолжайте; лишние сообщения сейчас пропускаю.\n"
    "Too many messages in a row — please wait a few seconds; I skip the extra ones for now."
)

FOREIGN_BUTTON = {
    "ru": "Эта кнопка недействительна. Выберите вариант в последнем сообщении или напишите ответ.",
    "en": "This button is not valid. Pick an option in the latest message or type the answer.",
}

UNSUPPORTED_MESSAGE = {
    "ru": "Такие сообщения я не разбираю: напишите текстом или пришлите скриншот (JPG, PNG, GIF).",
    "en": "I cannot read this kind of message: please write text or send a screenshot "
    "(JPG, PNG, GIF).",
}

COMMANDS = {
    "ru": [
        ("start", "Начать"),
        ("new", "Новое обращение"),
        ("status", "Мои обращения"),
        ("cancel", "Отменить текущее обращение"),
        ("lang", "Язык: русский / English"),
        ("privacy", "Обработка персональных данных"),
        ("forget", "Удалить мои данные"),
        ("help", "Справка"),
    ],
    "en": [
        ("start", "Start"),
        ("new", "New request"),
        ("status", "My requests"),
        ("cancel", "Cancel the current request"),
        ("lang", "Language: English / русский"),
        ("privacy", "Personal data"),
        ("forget", "Delete my data"),
        ("help", "Help"),
    ],
}


def pick(texts: dict[str, str], lang: str | None) -> str:
    """The text in the language of a Telegram language code ("en-GB" → English)."""
    return texts[pick_lang(lang)]
