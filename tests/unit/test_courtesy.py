"""Thanks and acknowledgements are told apart from everything else (bot/intake/courtesy.py)."""

from __future__ import annotations

import pytest

from bot.intake.courtesy import is_courtesy, is_send_again


@pytest.mark.parametrize(
    "text",
    ["Спасибо!", "спасибо большое 🙏", "Спс", "ок", "Ок, жду", "Хорошо, жду ответа",
     "Спасибо за помощь!", "до свидания", "👍 спасибо", "спасибо!!! :)", "Thanks a lot!",
     "ok, thank you", "Понял, спасибо", "ОК. Ждём."],
)  # fmt: skip
def test_courtesy(text: str) -> None:
    assert is_courtesy(text)


@pytest.mark.parametrize(
    "text",
    ["", "да", "нет", "помощь", "ок 500", "не работает", "хорошо, но корзина не работает",
     "Спасибо, сайт снова лежит", "Спасибо, вот логи: Fatal error", "спасибо " * 7,
     "ok WAS-000001", "спасибо http://example.ru", "thanks, the cart is broken again"],
)  # fmt: skip
def test_not_courtesy(text: str) -> None:
    assert not is_courtesy(text)


@pytest.mark.parametrize("text", ["Отправить", "отправьте, пожалуйста", "Send", "send it"])
def test_send_typed_again(text: str) -> None:
    assert is_send_again(text)


@pytest.mark.parametrize(
    "text", ["", "спасибо", "отправить логи сейчас не могу", "send 500", "не отправляйте"]
)
def test_not_send_again(text: str) -> None:
    assert not is_send_again(text)
