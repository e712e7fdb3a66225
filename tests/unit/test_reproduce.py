"""Whether a request asks how to do something or for work (nothing to reproduce, 4.2.1), or
reports a malfunction."""

from __future__ import annotations

import pytest

from bot.intake.reproduce import nothing_to_reproduce


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
        "Нужна доработка компонента каталога под наш дизайн",
        "Прошу добавить в карточку товара поле «Артикул поставщика»",
        "Сделайте, пожалуйста, выгрузку в Яндекс.Маркет",
        "We need you to customise the order form",
    ],
)
def test_a_question_or_a_request_for_work(text: str) -> None:
    assert nothing_to_reproduce(text)


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
        "Нужна доработка: корзина не пересчитывает доставку",
        "The checkout fails with an error. How do I fix it?",
        "The site answers 502 since the morning. How can I get it back?",
    ],
)
def test_a_malfunction_has_steps_to_reproduce_even_when_it_asks_how_or_for_work(text: str) -> None:
    assert not nothing_to_reproduce(text)
