"""Category-specific questions (4.2.6): the right questions, none asked twice, skip words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.intake.questions import (
    CATEGORIES,
    QUESTIONS_FILE,
    SKIPPED,
    Question,
    QuestionsFileError,
    answered_in,
    found_answers,
    is_skip,
    load_questions,
    pending_questions,
)

QUESTIONS = load_questions()


def ids(questions: list[Question]) -> list[str]:
    return [q.id for q in questions]


def question(qid: str) -> Question:
    for qs in QUESTIONS.values():
        for q in qs:
            if q.id == qid:
                return q
    raise KeyError(qid)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("install", ["hosting", "php_version", "mysql_version", "bitrixvm"]),
        ("performance", ["hosting", "php_version", "mysql_version", "bitrixvm"]),
        ("update", ["update_error", "since"]),
        ("error", ["error_text", "since", "changes", "browser"]),
        ("development", ["doc_page"]),
        ("theory", ["module"]),
    ],
)
def test_each_category_asks_its_questions(category: str, expected: list[str]) -> None:
    # Given a customer who said nothing specific
    pending = pending_questions(category, ["Не работает сайт, помогите"], {}, QUESTIONS)
    # Then the category's questions are asked in the file's order
    assert ids(pending) == expected
    assert all(q.category == category and q.ru and q.en for q in pending)


def test_every_category_is_present_and_texts_are_bilingual() -> None:
    assert set(QUESTIONS) == set(CATEGORIES)
    for qs in QUESTIONS.values():
        for q in qs:
            assert q.text("ru") == q.ru and q.text("en") == q.en
            assert q.label("ru") and q.label("en")
            assert any("а" <= ch <= "я" for ch in q.ru.lower())


def test_unknown_category_has_no_questions() -> None:
    assert pending_questions("smalltalk", ["hello"], {}, QUESTIONS) == []


def test_default_file_is_loaded_when_no_questions_given() -> None:
    assert ids(pending_questions("theory", ["?"], {})) == ["module"]
    assert load_questions(QUESTIONS_FILE) == QUESTIONS


def test_php_mysql_bitrixvm_in_one_sentence() -> None:
    text = "PHP 8.1, MySQL 8.0 на BitrixVM 9"
    assert ids(pending_questions("install", [text], {}, QUESTIONS)) == ["hosting"]
    assert found_answers("install", [text], QUESTIONS) == {
        "php_version": "PHP 8.1",
        "mysql_version": "MySQL 8.0",
        "bitrixvm": "BitrixVM 9",
    }


@pytest.mark.parametrize(
    ("qid", "text", "answer"),
    [
        ("php_version", "на сервере php 7.4.33", "php 7.4.33"),
        ("php_version", "PHP version 8.2", "PHP version 8.2"),
        ("php_version", "Версия PHP: 8.3", "8.3"),
        ("mysql_version", "MariaDB 10.6.12", "MariaDB 10.6.12"),
        ("mysql_version", "База данных: Percona", "Percona"),
        ("bitrixvm", "стоит BitrixVM 7.5", "BitrixVM 7.5"),
        ("bitrixvm", "не на BitrixVM, свой сервер", "не на BitrixVM"),
        ("bitrixvm", "Bitrix Env", "Bitrix Env"),
        ("hosting", "Хостинг: Beget, тариф Blog", "Beget, тариф Blog"),
        ("hosting", "крутится на nginx 1.24 + apache 2.4", "nginx 1.24 + apache 2.4"),
        ("hosting", "VPS у Timeweb", "Timeweb"),
        ("hosting", "on a dedicated server", "dedicated server"),
        (
            "update_error",
            'Система обновлений пишет: "[LICENSE_NOT_FOUND] Ключ не найден"',
            "[LICENSE_NOT_FOUND] Ключ не найден",
        ),
        (
            "error_text",
            "Ошибка: MySQL Query Error: Table b_user doesn't exist\nещё строка",
            "Ошибка: MySQL Query Error: Table b_user doesn't exist",
        ),
        (
            "error_text",
            "Fatal error: Uncaught Error in /www/index.php. Началось вчера",
            "Fatal error: Uncaught Error in /www/index.php",
        ),
        (
            "error_text",
            "выдаёт ошибку «Call to undefined method Foo::bar()»",
            "Call to undefined method Foo::bar()",
        ),
        ("error_text", "при оформлении заказа ошибка 500", "500"),
        # The status line as the browser shows it is the exact text: not asked again
        ("error_text", "Корзина выдаёт 500 Internal Server Error", "500 Internal Server Error"),
        ("error_text", "сайт отдаёт 502 Bad Gateway с утра", "502 Bad Gateway"),
        ("since", "С вчерашнего вечера не работает", "С вчерашнего вечера"),
        ("since", "началось 2 дня назад", "2 дня назад"),
        ("since", "since yesterday", "since yesterday"),
        ("since", "с 12.03 корзина пустая", "с 12.03"),
        ("since", "так с самого начала", "с самого начала"),
        ("changes", "после обновления модуля sale", "после обновления модуля sale"),
        ("changes", "ничего не меняли", "ничего не меняли"),
        ("changes", "after we migrated to another host", "after we migrated to another host"),
        ("changes", "Обновили ядро до 24.0 и всё", "Обновили ядро до 24.0 и"),
        ("browser", "в других браузерах тоже", "в других браузерах тоже"),
        ("browser", "в Firefox 128 нормально", "Firefox 128"),
        ("browser", "Яндекс Браузер 24.4", "Яндекс Браузер 24.4"),
        ("browser", "Браузер: Chrome", "Chrome"),
        (
            "doc_page",
            "см. https://dev.1c-bitrix.ru/api_help/iblock/index.php, не понял",
            "https://dev.1c-bitrix.ru/api_help/iblock/index.php",
        ),
        ("doc_page", "https://example.com/docs/page", "https://example.com/docs/page"),
        ("module", "модуль «Интернет-магазин» считает скидки неверно", "Интернет-магазин"),
        ("module", "как работает module iblock?", "iblock"),
        ("module", "настройка инфоблоков", "инфоблоков"),
    ],
)
def test_answer_found_in_free_text(qid: str, text: str, answer: str) -> None:
    assert answered_in(question(qid), text) == answer


@pytest.mark.parametrize(
    ("qid", "text"),
    [
        ("php_version", "версия продукта 23.300.0"),
        ("mysql_version", "MySQL Query Error в логах"),
        ("bitrixvm", "виртуальный хостинг"),
        ("hosting", "сайт не открывается"),
        ("update_error", "не обновляется"),
        ("since", "не работает корзина"),
        ("changes", "корзина пустая"),
        ("browser", "страница не открывается"),
        ("doc_page", "сайт https://shop.example.ru/catalog/"),
        ("module", "расскажите про лицензирование"),
        ("php_version", ""),
    ],
)
def test_no_answer_where_there_is_none(qid: str, text: str) -> None:
    assert answered_in(question(qid), text) is None


def test_error_ticket_with_everything_said_asks_nothing() -> None:
    texts = [
        "С вчерашнего вечера после обновления модуля sale выдаёт ошибку "
        "«Call to undefined method CSaleBasket::Foo()».",
        "В Chrome 120 и в других браузерах тоже",
    ]
    assert pending_questions("error", texts, {}, QUESTIONS) == []
    found = found_answers("error", texts, QUESTIONS)
    assert found["since"] == "С вчерашнего вечера"
    assert found["browser"] in {"Chrome 120", "в других браузерах тоже"}


def test_answered_and_skipped_questions_are_not_asked_again() -> None:
    answered = {"hosting": "Beget", "php_version": SKIPPED}
    assert ids(pending_questions("install", ["?"], answered, QUESTIONS)) == [
        "mysql_version",
        "bitrixvm",
    ]


def test_screenshot_answers_the_error_text_only() -> None:
    pending = pending_questions("error", ["?"], {}, QUESTIONS, has_screenshot=True)
    assert ids(pending) == ["since", "changes", "browser"]
    pending = pending_questions("update", ["?"], {}, QUESTIONS, has_screenshot=True)
    assert ids(pending) == ["since"]


@pytest.mark.parametrize(
    "text",
    [
        "Пропустить",
        "пропуск",
        "skip",
        "Skip.",
        "-",
        "—",
        "не знаю",
        "Не знаю!",
        "дальше",
        "I don't know",
        "n/a",
        "  пропустить  ",
    ],
)
def test_skip_words(text: str) -> None:
    assert is_skip(text)


@pytest.mark.parametrize("text", ["нет", "no", "PHP 8.1", "пропустил обновление", "", "Beget"])
def test_answers_are_not_skips(text: str) -> None:
    # "нет" answers "BitrixVM?" — it is an answer, not a skip
    assert not is_skip(text)


def write(tmp_path: Path, doc: object) -> Path:
    path = tmp_path / "questions.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def valid_doc() -> dict[str, object]:
    return json.loads(QUESTIONS_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format=2), "'format' must be 1"),
        (lambda d: d["categories"].pop("theory"), "categories missing: ['theory']"),
        (lambda d: d["categories"].update(misc=[]), "unknown categories ['misc']"),
        (lambda d: d["categories"].update(theory=["nope"]), "unknown question id 'nope'"),
        (lambda d: d["categories"].update(theory=["module", "module"]), "listed twice"),
        (
            lambda d: d["questions"]["module"].update(patterns=["(unclosed"]),
            "questions.module.patterns[0]: bad regular expression",
        ),
        (lambda d: d["questions"]["module"].update(patterns=["x?"]), "matches the empty string"),
        (lambda d: d["questions"]["module"].pop("en"), "'en' is required"),
        (lambda d: d["questions"]["module"].update(hint="x"), "unknown keys ['hint']"),
        (lambda d: d.update(questions=[]), "'questions' must be a non-empty object"),
    ],
)
def test_malformed_file_is_refused_with_a_clear_error(
    tmp_path: Path, mutate: object, message: str
) -> None:
    doc = valid_doc()
    mutate(doc)  # type: ignore[operator]
    path = write(tmp_path, doc)
    with pytest.raises(QuestionsFileError, match=None) as info:
        load_questions(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(QuestionsFileError, match="cannot read"):
        load_questions(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(QuestionsFileError, match="not valid JSON"):
        load_questions(bad)
