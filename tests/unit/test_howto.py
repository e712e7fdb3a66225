"""Whether a request asks how to do something (nothing to reproduce, 4.2.1) or reports a
malfunction."""

from __future__ import annotations

import pytest

from bot.intake.howto import asks_how_to


@pytest.mark.parametrize(
    "text",
    [
        "Подскажите, как настроить обмен с 1С?",
        "Здравствуйте! Как нам правильно перенести сайт на другой хостинг?",
        "Можно ли подключить второй склад в редакции Старт?",
        "Каким образом ограничить доступ к разделу для группы контент-менеджеров?",
        "Как установить Битрикс на VPS с nginx?",
        "How do I set up the 1C exchange?",
        "Is it possible to run the site on PostgreSQL?",
    ],
)
def test_a_question_about_how_to_do_something(text: str) -> None:
    assert asks_how_to(text)


@pytest.mark.parametrize(
    "text",
    [
        "После обновления не работает корзина. Как исправить?",
        "Как исправить ошибку 500 на главной странице?",
        "Не приходят письма с формы. Как это починить?",
        "Умный фильтр не учитывает остатки. Можно ли это поправить?",
        "Как сделать заказ? Кнопка «Оформить» не нажималась",
        "Письма перестали приходить, как быть?",
        "Каталог грузится медленно",
        "Нужна доработка компонента каталога под наш дизайн",
        "The checkout fails with an error. How do I fix it?",
        "The site answers 502 since the morning. How can I get it back?",
    ],
)
def test_a_malfunction_is_not_a_how_to_question_even_when_it_asks_how(text: str) -> None:
    assert not asks_how_to(text)
