"""A question back instead of an answer: "где это смотреть?", "что такое купон?", "what is a
coupon?". The customer does not know where to find what was asked; a format error would leave
them stuck. The caller answers with where to find it (`where_to_find`) and asks again.

A message counts as a question back only when it is short, holds no value (no digits, no address,
no e-mail), has a question word or says it is not understood ("где", "что", "какая", "не
понимаю", "what", "where", "I don't understand"), and every other word is a filler, a pronoun or
a word naming what is asked ("версия", "купон", "edition"). That keeps real answers ("версия
23.300.0?", "Бизнес?") and real questions to support ("Где найти настройки почты?", "How do I
clear the cache?") out: they name something else.

    question_back("какая у меня редакция?")  # True
    question_back("версия 23.300.0?")  # False
"""

from __future__ import annotations

import re

from bot.intake import texts
from bot.intake.fields import EDITIONS, Field, clean_text, edition_name
from bot.intake.texts import Lang

MAX_WORDS = 15  # a question about the question is short


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Question words, and words saying something is unclear.
_CUES = _words(
    """
    где как откуда куда что чего какой какая какое какую какие каким каком зачем почему смысле
    значит имеется непонятно обязательно обязателен обязательна обязательный обязательное
    what what's whats where where's wheres how which why huh eh pardon unclear confused
    required mandatory necessary
    """
)
# Words that are a cue only after a negation: "не понимаю", "I don't understand". Alone they
# are an acknowledgement ("понятно", "ясно").
_NEGATED_CUES = _words("понимаю понял поняла поняли понятно ясно understand understood get")
_NEGATIONS = _words("не not don't dont doesn't didn't")
# Words naming what is asked (the 4.2 fields) and where it lives.
_FIELD_WORDS = _words(
    """
    купон купона купону купоном купоне купоны номер номера номером версия версию версии версией
    редакция редакцию редакции редакцией лицензия лицензии лицензию лицензионный лицензионного
    ключ ключа ключом адрес адреса адресом сайт сайта сайте почта почту почты e-mail email емейл
    имейл мейл шаги шагов шаг шагами воспроизведение воспроизвести воспроизведения продукт
    продукта продукте битрикс битрикса битриксе админка админке админку админки административной
    административная панель панели описание описании проблему проблема проблемы поле поля пункт
    вопрос 1с 1c 1с-битрикс 1с-битрикса 1c-bitrix
    coupon coupons version versions edition license licence key number site website address url
    domain mail steps step reproduce product bitrix admin panel area description problem issue
    question field
    """
)
# Pronouns, particles, prepositions and the verbs of looking for something.
_FILLERS = _words(
    """
    а и ну вот же ли то мне меня у мой моя мое мои мою моей моего наш наша наше наши нашего нашей
    вы вам вас ваш за пожалуйста подскажите скажите извините простите еще тогда вообще именно точно
    нужно надо можно нужен нужна нужны его ее их это этот эта эту этого этой такое такой такая
    там тут сюда здесь туда в во на из с со по для к о об про не я мы он она оно они есть
    посмотреть смотреть глянуть искать найти взять узнать проверить увидеть понять находится
    лежит указан указано указана написано писать написать указать вводить ввести отвечать
    ответить знаю знать без пропустить сейчас был было была брать берется берут найду могу смогу
    хм эм
    i i'm me my we our us you your it it's its this that these those the a an is are was do does
    did don't dont doesn't can could should would will i'll to of in on at for from up out with
    find get see check look locate know tell need have has there here please pls sorry exactly
    then so hi just about by thing be going supposed write type enter put fill answer mean meant
    means not no any
    """
)
_KNOWN = _CUES | _NEGATED_CUES | _NEGATIONS | _FIELD_WORDS | _FILLERS
_TOKEN = re.compile(r"[^\s,;:!?()«»\"“”„—–]+")


def question_back(text: str) -> bool:
    """True when `text` asks about the question instead of answering it (see the module)."""
    cleaned = clean_text(text).lower().replace("ё", "е").replace("’", "'")
    if cleaned and set(cleaned) <= set("?!. "):
        return "?" in cleaned  # a bare "?": the customer did not understand
    tokens = [t.strip(".'-") for t in _TOKEN.findall(cleaned)]
    tokens = [t for t in tokens if t]
    if not tokens or len(tokens) > MAX_WORDS:
        return False
    if not all(t in _KNOWN for t in tokens):
        return False  # a word about something else, or a value: an answer or a real question
    return any(_is_cue(tokens, i) for i in range(len(tokens)))


def _is_cue(tokens: list[str], i: int) -> bool:
    if tokens[i] in _CUES:
        return True
    return tokens[i] in _NEGATED_CUES and any(t in _NEGATIONS for t in tokens[:i])


def where_to_find(field: Field, lang: Lang) -> str:
    """A short help text: where the customer finds `field`'s value, or what to write there.
    The caller asks the question again after it."""
    editions = ", ".join(edition_name(e, lang) for e in EDITIONS)
    return texts.t(f"where_{field.value}", lang, editions=editions)
