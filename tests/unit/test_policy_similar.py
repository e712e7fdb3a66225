"""Regulation 2.5: a request about a problem that is already filed goes to that ticket."""

from __future__ import annotations

import time

import pytest

from bot.policy.similar import most_similar, similarities

OPEN = [
    (
        "WAS-000101",
        "При оформлении заказа в корзине ошибка 500, заказ не создаётся. https://shop.example.ru",
    ),
    ("WAS-000102", "Не приходят письма о новых заказах на почту admin@shop.example.ru"),
    ("WAS-000103", "Каталог очень медленно открывается, страница грузится 15 секунд"),
    ("WAS-000104", "После обновления модуля main до 23.300.0 белый экран в админке"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Не могу оформить заказ: в корзине при нажатии Оформить выдаёт ошибку 500", "WAS-000101"),
        ("Письма о заказах не приходят на почту", "WAS-000102"),
        ("Медленно грузится каталог товаров, страницы открываются по 15-20 секунд", "WAS-000103"),
        ("Админка показывает белый экран после обновления", "WAS-000104"),
    ],
)
def test_2_5_rephrased_same_problem_matches_its_ticket(text: str, expected: str) -> None:
    assert most_similar(text, OPEN) == expected


@pytest.mark.parametrize(
    "text",
    [
        "На сайте https://shop.example.ru не работает поиск",
        "Не работает обмен с 1С на shop.example.ru",
        "Как подключить двухфакторную авторизацию?",
        "Ошибка 500 на главной странице после переноса на новый хостинг",
        "",
    ],
)
def test_2_5_different_problem_on_the_same_site_is_new(text: str) -> None:
    assert most_similar(text, OPEN) is None


def test_2_5_score_does_not_depend_on_other_open_tickets() -> None:
    text = "Письма о заказах не приходят на почту"
    alone = similarities(text, [OPEN[1][1]])[0]
    together = similarities(text, [d for _, d in OPEN])[1]
    assert alone == pytest.approx(together)


def test_2_5_no_open_tickets_and_threshold() -> None:
    assert most_similar("ошибка 500", []) is None
    text = "Письма о заказах не приходят на почту"
    assert most_similar(text, OPEN, threshold=0.99) is None


def test_2_5_fast_enough_for_every_message() -> None:
    tickets = [(f"WAS-{i:06d}", f"{OPEN[i % 4][1]} #{i}") for i in range(50)]
    start = time.perf_counter()
    most_similar("Не могу оформить заказ, ошибка 500 в корзине", tickets)
    assert time.perf_counter() - start < 0.5
