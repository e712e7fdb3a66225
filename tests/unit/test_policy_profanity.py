"""Regulation 4.8.11: obscene language or insults to staff are detected before filing."""

from __future__ import annotations

import pytest

from bot.policy.profanity import contains_profanity, find_profanity, profanity_notice

POSITIVES = [
    # Russian obscene roots
    "какого хуя не работает корзина",
    "нихуя не работает",
    "охуели совсем",
    "похуй уже",
    "пиздец, сайт лежит",
    "ебать, опять упало",
    "заебали уже",
    "ёб твою мать",
    "долбоёб писал этот модуль",
    "отъебись",
    "бля, снова 500",
    "блядь",
    "сука",
    "сучка",
    "мудак",
    "пидор",
    "залупа",
    "говно а не сайт",
    # insults to staff
    "вы там все идиоты?",
    "дебилы",
    "кретины, сколько можно",
    "вы тупые",
    "тупая поддержка",
    # insults in every number and case
    "идиоты",
    "ИДИОТЫ!!!",
    "работают одни идиоты",
    "сколько можно терпеть идиотов",
    "ваша менеджер — идиотка",
    "объясняю как идиотам",
    "дебил",
    "опять дебилов наняли",
    "вы кретин",
    "кретинов развелось",
    "какие же вы тупые",
    "тупые вы все",
    "ты тупой бот",
    "тупые",
    "уроды",
    "урод",
    "не отвечают уже неделю, уроды",
    "придурки",
    "придурок",
    "дураки",
    "дурак",
    "сидят одни дураки",
    "козлы",
    "вы козлы, верните деньги",
    "козёл",
    "сволочи",
    "мрази",
    "твари",
    "ублюдки",
    "скоты",
    "дармоеды",
    "недоумки",
    "болваны",
    "бездари",
    "дауны",
    "лохи",
    "уёбки",
    # disguises
    "xуй знает",  # Latin x
    "п*здец какой-то",
    "бл@дь",
    "бл*ть",
    "e6aть",  # Latin e, digit 6
    "с у к а",
    "сууука",
    "п-и-з-д-е-ц",
    # English
    "fuck",
    "what the fuck is this",
    "f**k",
    "fuuuuck",
    "shit",
    "s h i t",
    "this is bullshit",
    "asshole",
    "you idiots",
    "morons",
    "you are stupid",
    # transliterated mat
    "blyat",
    "nahuy",
]

NEGATIVES = [
    "ребята, помогите",
    "небо",
    "хлебать",
    "себе",
    "Хлебников",
    "требование",
    "сукно",
    "корабля",
    "стоимость 1000 рублей, оплатил 500 рубля",
    "застрахуйте",
    "бляха-муха",
    "тупой вопрос, но как очистить кеш?",
    "хулиган",
    "благодарю",
    "блатной",
    "Ебург",
    "убедительная просьба",
    "Scunthorpe",
    "class",
    "assessment",
    "shiitake",
    "Huygens",
    "cocktail",
    "Dickens",
    "passion",
    "Не работает оформление заказа, ошибка 500 на странице /personal/order/make/",
    "Версия 23.300.0, купон SM6-NS-ABCD12345",
    "я и ты",
    # ordinary words that share letters with an insult
    "идиома",
    "в тексте английская идиома",
    "дебет",
    "дебетовая карта не проходит",
    "урок",
    "урожай",
    "процедура оплаты",
    "скотч",
    "скот",
    "болванка",
    "лохматый",
    "гадать",
    "Дуров",
    "тупик",
    "тупиковая ветка меню",
    "тупые ножи в каталоге",
    "извините за тупые вопросы",
    "уродливый шрифт в шапке",
    "дурацкая ошибка в корзине",
    "чмокнуть",
    # surnames that are also a genitive plural of an insult
    "Козлов Иван",
    "менеджер Козлова",
    "Баранов",
    # idioms that call nobody a name, and goods a shop sells
    "козловой кран",
    "хватит валять дурака",
    "дурака валять не будем",
    "сделали меня козлом отпущения",
    "товар «Морские гады» не показывается",
    "Козлы строительные не видны в каталоге",
]


@pytest.mark.parametrize("text", POSITIVES)
def test_4_8_11_obscene_words_and_insults_are_found(text: str) -> None:
    assert contains_profanity(text), text
    assert find_profanity(text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_4_8_11_innocent_words_are_not_flagged(text: str) -> None:
    assert find_profanity(text) == []
    assert not contains_profanity(text)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("вы там все идиоты?", "идиоты"),
        ("опять дебилов наняли", "дебилов"),
        ("сидят одни дураки", "дураки"),
        ("вы козлы, верните деньги", "козлы"),
    ],
)
def test_4_8_11_the_insult_itself_is_reported(text: str, word: str) -> None:
    assert find_profanity(text) == [word]


def test_4_8_11_an_idiom_does_not_hide_an_insult_next_to_it() -> None:
    assert find_profanity("хватит валять дурака, идиоты") == ["идиоты"]


def test_4_8_11_findings_are_listed_once_each() -> None:
    found = find_profanity("бля, бля, ну бля! shit")
    assert found == ["бля", "shit"]


def test_4_8_11_empty_text() -> None:
    assert find_profanity("") == []


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_4_8_11_notice_is_polite_and_cites_the_clause(lang: str) -> None:
    text = profanity_notice(lang)
    assert "4.8.11" in text
    if lang == "ru":
        assert "отложено" in text and "переформулируйте" in text and "подтвердите" in text
    else:
        assert "delayed" in text and "rephrase" in text and "confirm" in text
