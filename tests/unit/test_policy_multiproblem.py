"""Regulation 2.6: one problem per ticket — several problems are split, steps are not."""

from __future__ import annotations

import pytest

from bot.policy.multiproblem import is_problem_statement, split_problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "1) не работает корзина 2) не приходят письма о заказах",
            ["не работает корзина", "не приходят письма о заказах"],
        ),
        (
            "На сайте две проблемы:\n1. Каталог медленно открывается\n2. В админке ошибка 500",
            ["Каталог медленно открывается", "В админке ошибка 500"],
        ),
        (
            "- не работает поиск\n- как настроить SMTP?\n- после обновления белый экран",
            ["не работает поиск", "как настроить SMTP?", "после обновления белый экран"],
        ),
        (
            "Во-первых, не открывается личный кабинет. Во-вторых, медленно грузится каталог.",
            ["не открывается личный кабинет", "медленно грузится каталог"],
        ),
        (
            "Не работает обмен с 1С, и ещё не приходят письма с сайта",
            ["Не работает обмен с 1С", "не приходят письма с сайта"],
        ),
        (
            "The checkout page fails with error 500. Also, how to enable two-factor auth?",
            ["The checkout page fails with error 500", "how to enable two-factor auth?"],
        ),
    ],
)
def test_2_6_several_problems_are_split(text: str, expected: list[str]) -> None:
    assert split_problems(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1. открыть корзину 2. нажать оформить 3. видим ошибку 500",
        "Шаги:\n1. Зайти в админку\n2. Открыть Магазин > Заказы\n3. Нажать «Сохранить»\n"
        "В результате появляется ошибка MySQL Query Error",
        "Open the cart\n- click Checkout\n- enter the address\nThen the page shows error 500",
        "После обновления не работает корзина: при оформлении заказа ошибка 500. Версия 23.300.0",
        "Сайт медленно работает, страницы грузятся по 10 секунд, особенно каталог",
        "",
    ],
)
def test_2_6_steps_to_reproduce_or_one_problem_stay_whole(text: str) -> None:
    assert split_problems(text) == ([text.strip()] if text.strip() else [])


def test_2_6_detail_items_join_their_problem() -> None:
    text = "1) не приходят письма\n2) сервер VPS, PHP 8.2\n3) медленно открывается каталог"
    assert split_problems(text) == [
        "не приходят письма сервер VPS, PHP 8.2",
        "медленно открывается каталог",
    ]


def fake_probabilities(text: str) -> dict[str, float]:
    lowered = text.lower()
    if "письма" in lowered and "медленно" in lowered:
        return {"error": 0.5, "performance": 0.45, "theory": 0.05}
    if "письма" in lowered:
        return {"error": 0.9, "performance": 0.05, "theory": 0.05}
    if "медленно" in lowered:
        return {"error": 0.1, "performance": 0.85, "theory": 0.05}
    return {"error": 0.34, "performance": 0.33, "theory": 0.33}


def test_2_6_two_confident_categories_are_two_problems() -> None:
    text = "Не приходят письма с сайта. Каталог открывается медленно, по 10 секунд."
    assert split_problems(text) == [text]  # no markers, no classifier: one problem
    assert split_problems(text, fake_probabilities) == [
        "Не приходят письма с сайта",
        "Каталог открывается медленно, по 10 секунд",
    ]


def test_2_6_one_category_is_one_problem() -> None:
    text = "Не приходят письма с сайта. Письма о заказах тоже не уходят."
    assert split_problems(text, fake_probabilities) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("не работает корзина", True),
        ("как настроить кеш?", True),
        ("открыть корзину", False),
        ("нажать «Оформить»", False),
        ("видим ошибку 500", False),
        ("click Checkout", False),
        ("the page fails", True),
    ],
)
def test_2_6_problem_statement_vs_step(text: str, expected: bool) -> None:
    assert is_problem_statement(text) is expected
