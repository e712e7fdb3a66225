"""Regulation 1.3 / 4.7: documentation first — the knowledge base and its retrieval."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.policy.kb import CATEGORIES, DEFAULT_PATH, KbError, KnowledgeBase, validate
from bot.tickets.model import DocLink


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


def test_1_3_kb_file_is_valid_and_covers_every_category() -> None:
    data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    entries = validate(data)
    assert len(entries) >= 40
    assert len({e.id for e in entries}) == len(entries)
    counts = Counter(e.category for e in entries)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 5
    for e in entries:
        assert e.url.startswith("https://")
        assert "1c-bitrix.ru" in e.url or "bitrix24" in e.url
        assert e.keywords
        for answer in (e.answer_ru, e.answer_en):
            sentences = [s for s in answer.replace("?", ".").split(". ") if s.strip()]
            assert 2 <= len(sentences) <= 4, (e.id, answer)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Мастер установки: удалите настройку PHP mbstring.func_overload", "install-mbstring"),
        ("Сайт очень медленно открывается, страницы грузятся по 10 секунд", "perf-monitor"),
        ("Ошибка соединения с сервером обновлений при обновлении", "update-connection"),
        ("После переноса на новый хостинг Error connecting to database", "error-db-connect"),
        ("Table 'b_user' is marked as crashed and should be repaired", "error-db-crashed"),
        ("Не приходят письма с сайта о новых заказах", "error-mail"),
        ("Забыл пароль администратора, не могу войти в админку", "theory-admin-password"),
        ("Как включить композитный сайт?", "perf-composite"),
        ("при обновлении Allowed memory size of 134217728 bytes exhausted", "update-memory"),
        ("Как перенести агенты на cron?", "perf-agents-cron"),
        ("Не работает обмен с 1С, товары не выгружаются на сайт", "error-1c-exchange"),
        ("белый экран после обновления модулей", "error-white-screen"),
        ("500 Internal Server Error на всех страницах", "error-500"),
        ("How do I enable two-factor authentication for admins?", "theory-2fa"),
        ("The site does not send emails, how to set up SMTP?", "error-smtp"),
        ("как скопировать шаблон компонента news.list и изменить вывод", "dev-component-template"),
        ("лицензионный ключ не активируется", "update-license-key"),
        ("Как восстановить сайт из бэкапа через restore.php", "install-restore"),
        ("Запустите bitrix_server_test — что он проверяет?", "install-server-test"),
    ],
)
def test_1_3_realistic_request_gets_its_article_in_top_3(
    kb: KnowledgeBase, text: str, expected: str
) -> None:
    hits = kb.suggest(text)
    assert expected in [h.id for h in hits], [(h.id, h.score) for h in hits]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Добрый день! Подскажите, пожалуйста, как дела?",
        "Хочу заказать пиццу с доставкой на дом",
        "weather in London tomorrow",
        "asdkjh qwe zxc",
        "Спасибо большое за помощь, всего доброго",
        "Мы хотим обсудить условия сотрудничества и договор",
    ],
)
def test_1_3_unrelated_text_gets_no_suggestion(kb: KnowledgeBase, text: str) -> None:
    assert kb.suggest(text) == []


def test_4_7_hit_carries_both_languages_and_a_doc_link(kb: KnowledgeBase) -> None:
    # Given a request about the composite cache
    hits = kb.suggest("включить композитный режим", limit=1)
    # Then the hit is ready for both the reply and Ticket.suggested_docs
    assert len(hits) == 1
    hit = hits[0]
    assert 0 < hit.score <= 1
    assert hit.title("en") == hit.title_en and hit.answer("ru") == hit.answer_ru
    assert hit.doc_link("ru") == DocLink(title=hit.title_ru, url=hit.url)


def test_1_3_category_breaks_near_ties_but_does_not_hide_others(kb: KnowledgeBase) -> None:
    text = "После переноса на новый хостинг Error connecting to database"
    assert kb.suggest(text, category="install")[0].id == "install-move-host"
    assert kb.suggest(text, category="error")[0].id == "error-db-connect"
    # a wrong category still lets the right article through
    hits = kb.suggest("Не приходят письма с сайта", category="theory")
    assert "error-mail" in [h.id for h in hits]


def test_1_3_limit_and_min_score(kb: KnowledgeBase) -> None:
    assert kb.suggest("ошибка 500", limit=0) == []
    assert len(kb.suggest("кеш", limit=1)) <= 1
    assert kb.suggest("Как включить композитный сайт?", min_score=0.99) == []


def test_1_3_broken_file_is_refused(tmp_path: Path) -> None:
    good = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))["entries"][0]
    cases = [
        [good, dict(good)],  # duplicate id
        [{**good, "url": "http://dev.1c-bitrix.ru/"}],
        [{**good, "category": "sales"}],
        [{k: v for k, v in good.items() if k != "answer_en"}],
    ]
    for entries in cases:
        path = tmp_path / "kb.json"
        path.write_text(json.dumps({"entries": entries}), encoding="utf-8")
        with pytest.raises(KbError):
            KnowledgeBase.load(path)
    with pytest.raises(KbError):
        KnowledgeBase.load(tmp_path / "missing.json")
