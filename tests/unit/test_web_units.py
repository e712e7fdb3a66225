"""The web form's pure parts: escaping, the signed session and CSRF tokens, uploads judged by
their content, the page language, and the guided page's answers as form lines."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.channels.web.forms import answers_text
from bot.channels.web.lang import page_lang
from bot.channels.web.markup import Markup, escape, html, join, text_block
from bot.channels.web.signing import Signer, new_token, token_hash
from bot.channels.web.state import WebState
from bot.channels.web.uploads import take_upload
from bot.config import Settings
from bot.intake.attachments import MAX_ATTACHMENT_BYTES
from bot.intake.form_reply import FormGuide, FormItem

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
BMP = b"BM" + b"\0" * 60
EXE = b"MZ\x90\x00" + b"\0" * 60
XSS = "<script>alert(1)</script>\"'&"


# --- escaping ----------------------------------------------------------------------------------


def test_every_value_put_into_a_template_is_escaped() -> None:
    page = html('<p title="{t}">{body}</p>', t=XSS, body=XSS)
    assert "<script>" not in page
    assert page.count("&lt;script&gt;") == 2
    assert "&quot;" in page and "&#x27;" in page and "&amp;" in page


def test_markup_is_kept_and_text_added_to_it_is_escaped() -> None:
    inner = html("<b>{x}</b>", x="a<b")
    assert html("<p>{i}</p>", i=inner) == "<p><b>a&lt;b</b></p>"
    assert inner + "<i>" == "<b>a&lt;b</b>&lt;i&gt;"
    assert isinstance(inner + inner, Markup)
    assert join(["<", inner]) == "&lt;<b>a&lt;b</b>"
    assert escape(Markup("<br>")) == "<br>"


def test_text_blocks_keep_lines_and_escape_each() -> None:
    assert text_block("a<b\nc\n\nd") == "<p>a&lt;b<br>c</p><p>d</p>"


# --- session and CSRF --------------------------------------------------------------------------


def test_a_signed_session_cookie_round_trips_and_a_forged_one_is_a_new_customer() -> None:
    signer = Signer(b"k" * 32)
    session = new_token()
    cookie = signer.session_cookie(session)
    assert signer.session_id(cookie) == session
    other = new_token()
    assert signer.session_id(f"{other}.{cookie.split('.')[1]}") is None  # someone else's id
    assert signer.session_id(session) is None  # unsigned
    assert signer.session_id(None) is None
    assert Signer(b"x" * 32).session_id(cookie) is None  # another key


def test_the_csrf_token_belongs_to_its_session() -> None:
    signer = Signer(b"k" * 32)
    a, b = new_token(), new_token()
    assert signer.csrf_ok(a, signer.csrf_token(a))
    assert not signer.csrf_ok(a, signer.csrf_token(b))
    assert not signer.csrf_ok(a, None)
    assert not signer.csrf_ok(None, signer.csrf_token(a))
    assert not signer.csrf_ok(a, "")


async def test_a_short_key_is_refused_and_the_generated_one_is_kept(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Signer(b"short")
    chosen = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    state = await WebState.open_for(chosen)
    first = await state.signing_key()
    assert await state.signing_key() == first and len(first) == 64
    await state.close()
    again = await WebState.open_for(chosen)  # a restart, or another process
    assert await again.signing_key() == first
    await again.close()


def test_status_tokens_are_random_and_only_their_hash_is_kept() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 24 for t in tokens)
    token = tokens.pop()
    assert token not in token_hash(token) and len(token_hash(token)) == 64


# --- uploads -------------------------------------------------------------------------------------


async def test_an_upload_is_judged_by_its_content_not_its_name(tmp_path: Path) -> None:
    ref, note = await take_upload(tmp_path, "web:s", "notes.txt", PNG, len(PNG), "ru")
    assert ref is not None and ref.name == "notes.png" and note is None
    ref, note = await take_upload(tmp_path, "web:s", "shot.png", EXE, len(EXE), "ru")
    assert ref is None and note is not None and "4.6" in note


async def test_a_bmp_upload_is_zipped(tmp_path: Path) -> None:
    ref, note = await take_upload(tmp_path, "web:s", "screen.bmp", BMP, len(BMP), "en")
    assert ref is not None and ref.name == "screen.zip" and note is not None
    assert unzipped(Path(ref.path)) == {"screen.bmp": BMP}


def unzipped(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_an_oversized_upload_is_refused_with_the_limit(tmp_path: Path) -> None:
    size = MAX_ATTACHMENT_BYTES + 1
    ref, note = await take_upload(tmp_path, "web:s", "big.png", b"", size, "ru")
    assert ref is None and note is not None and "20 МБ" in note


# --- language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chosen", "header", "lang"),
    [
        (None, "en-US,en;q=0.9", "en"),
        (None, "de-DE,de;q=0.9,en;q=0.5,ru;q=0.4", "en"),
        (None, "de, ru;q=0.1", "ru"),
        (None, "en;q=0, ru;q=0.2", "ru"),
        (None, "", "ru"),
        ("ru", "en-US", "ru"),
        ("xx", "en", "en"),
    ],
)
def test_the_page_language(chosen: str | None, header: str, lang: str) -> None:
    assert page_lang(chosen, header) == lang


# --- the guided page's answers -----------------------------------------------------------------


def _guide() -> FormGuide:
    return FormGuide(
        said=(), notices=(), understood=(), missing=(), critical=None, categories=(),
        details=(FormItem("since", "Когда началось", hint="Когда это началось?"),),
        notes=(), files=(), classification=None,
    )  # fmt: skip


def test_only_what_was_filled_in_or_changed_is_sent_prose_last() -> None:
    values = {
        "f_description": "Описание длинное\nвторая строка",
        "o_description": "Описание длинное\nвторая строка",  # unchanged: not sent again
        "f_site_url": "shop.example.ru",
        "o_site_url": "old.example.ru",
        "f_version": "",
        "f_steps": "1. открыть 2. нажать",
        "critical": "no",
        "category": "error",
        "d_since": "вчера",
    }
    text = answers_text(values, _guide(), "ru")
    lines = text.splitlines()
    assert "Адрес сайта: shop.example.ru" in lines
    assert lines[-1] == "Шаги воспроизведения: 1. открыть 2. нажать"
    assert "Сайт сейчас не работает (да/нет): нет" in lines
    assert "Категория: error" in lines and "Когда началось: вчера" in lines
    assert "Описание" not in text and "Версия" not in text
