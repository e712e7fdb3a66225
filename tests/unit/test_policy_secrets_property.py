"""Regulation 4.2.7, by property: a generated secret in any known shape never survives redaction.

Passwords are random mixes of letters, digits and punctuation (with spaces where the shape quotes
them), embedded in config lines, environment lines, JSON, login/password pairs, credential URLs
and Russian or English phrases, between random support prose.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.policy.secrets import REDACTED, redact

FAST = settings(max_examples=200, deadline=None)

QUOTES = "\"'`«»“”"
# Punctuation without quotes; each shape adds back what it can carry.
SYMBOLS = "".join(c for c in string.punctuation if c not in QUOTES)
# A password shaped like an e-mail address, a domain, a file name or a URL is indistinguishable
# from one (the ticket needs those), so generated passwords never take that shape.
ADDRESS_LIKE = re.compile(r".*\.[A-Za-z]{2,}|.*://.*")

TEXT_RU = (
    "сайт не открывается после обновления, версия 23.300.0, купон SM6-NS-ABCD12345, "
    "ошибка 500 в 10:30 на странице https://shop.example.ru/catalog/ пишите на ivan@mail.ru "
    "помогите пожалуйста корзина заказ оплата каталог обращение WAS-000123"
)
TEXT_EN = (
    "the site is down after the update, version 23.300.0, coupon SM6-NS-ABCD12345, "
    "error 500 at 10:30 on https://shop.example.ru/catalog/ reply to ivan@mail.ru "
    "please help cart order payment catalog request WAS-000123"
)
PROSE_RU, PROSE_EN = TEXT_RU.split(), TEXT_EN.split()


@st.composite
def passwords(draw: st.DrawFn, extra: str = "", *, exclude: str = "") -> str:
    """A strong password: at least one upper, one lower letter and one digit, 8-24 characters."""
    alphabet = "".join(
        c for c in string.ascii_letters + string.digits + SYMBOLS + extra if c not in exclude
    )
    rest = draw(st.text(alphabet=alphabet, min_size=5, max_size=21))
    required = [
        draw(st.sampled_from(string.ascii_uppercase)),
        draw(st.sampled_from(string.ascii_lowercase)),
        draw(st.sampled_from(string.digits)),
    ]
    chars = list(rest)
    for c in required:
        chars.insert(draw(st.integers(0, len(chars))), c)
    password = "".join(chars)
    if ADDRESS_LIKE.fullmatch(password):
        password = "Q" + password.replace("@", "#").replace(".", "_").replace(":", "%")
    return password


def prose(draw: st.DrawFn, words: list[str]) -> str:
    return " ".join(draw(st.lists(st.sampled_from(words), max_size=8)))


def php_single(pw: str) -> str:
    return pw.replace("\\", "\\\\").replace("'", "\\'")


def double_quoted(pw: str) -> str:
    return pw.replace("\\", "\\\\").replace('"', '\\"')


# (shape, how the password is written into it): "{}" is where the written password goes.
Shape = tuple[str, Callable[[str], str]]
QUOTED_SHAPES: list[Shape] = [
    ("'login' => 'bitrix0',\n'password' => '{}',\n'options' => 2,", php_single),
    ('"password" => "{}",', double_quoted),
    ("$DBLogin = 'bitrix0';\n$DBPassword = \"{}\";", double_quoted),
    ("$DBPassword='{}';", php_single),
    ("define('DB_PASSWORD', '{}');", php_single),
    ('export DB_PASS="{}"', double_quoted),
    ("MYSQL_PASSWORD: '{}'", php_single),
]
JSON_KEYS = ["password", "pass", "passwd", "secret", "api_key", "token", "db_password"]
# Unquoted values: one run of non-space characters.
BARE_SHAPES = [
    "DB_PASSWORD={}",
    "MYSQL_ROOT_PASSWORD={}",
    "логин admin пароль {}",
    "пароль от админки {}",
    "пароль для входа в админку {}",
    "пароль от ftp: {}",
    "пароль - {}",
    "пароль: {}",
    "Пароль:\n{}",
    "пароль администратора: {}",
    "pass: {}",
    "pwd={}",
    "password for ftp user bitrix is {}",
    "my password is {}",
    "the admin password: {}",
    "ssh root@10.0.0.5 pass {}",
]
PAIR_SHAPES = ["root / {}", "admin / {}", "вход: admin / {}", "manager@shop.ru / {}"]
COLON_SHAPES = ["admin:{}", "root:{}", "доступ root:{}"]
URL_SHAPES = ["ftp://user:{}@files.example.ru/www", "mysql://bitrix:{}@localhost:3306/db"]
QUOTED_PHRASES = ['пароль "{}"', "пароль: «{}»", "my password is '{}'", "пароль от ftp: `{}`"]

NO_QUOTES_START = "\"'`«“"


@st.composite
def embedded_secrets(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A message with one secret in one of the shapes; the forms that must not survive."""
    kind = draw(st.sampled_from(["quoted", "json", "bare", "pair", "colon", "url", "phrase"]))
    written: str
    if kind == "quoted":
        shape, write = draw(st.sampled_from(QUOTED_SHAPES))
        pw = draw(passwords(extra=" \"'"))
        written = write(pw)
        body = shape.replace("{}", written)
    elif kind == "json":
        pw = draw(passwords(extra=" \"'"))
        key = draw(st.sampled_from(JSON_KEYS))
        written = json.dumps(pw)[1:-1]
        body = json.dumps({"login": "manager", key: pw}, ensure_ascii=False)
    elif kind == "phrase":
        shape = draw(st.sampled_from(QUOTED_PHRASES))
        quote = shape[shape.index("{}") - 1]
        closing = {"«": "»"}.get(quote, quote)
        pw = draw(passwords(extra=" ", exclude=quote + closing))
        written = pw
        body = shape.replace("{}", pw)
    else:
        # A separator char inside a bare value would end it: "/" for pairs, ":" "/" "@" for
        # login:password, "/" for URLs (real URLs percent-encode it).
        exclude = {"bare": "", "pair": "/", "colon": ":/@", "url": "/?#"}[kind]
        shapes = {"bare": BARE_SHAPES, "pair": PAIR_SHAPES, "colon": COLON_SHAPES}
        shape = draw(st.sampled_from(shapes.get(kind, URL_SHAPES)))
        pw = draw(passwords(exclude=exclude))
        if pw[0] in NO_QUOTES_START or pw[0] in ":=":
            pw = "x" + pw  # an opening quote would make it a quoted value; "=" a separator
        written = pw
        body = shape.replace("{}", pw)
    words = PROSE_RU if draw(st.booleans()) else PROSE_EN
    text = f"{prose(draw, words)}\n{body}\n{prose(draw, words)}".strip()
    return text, [pw, written]


@FAST
@given(embedded_secrets())
def test_4_2_7_a_generated_secret_never_survives(case: tuple[str, list[str]]) -> None:
    text, forms = case
    redacted, count = redact(text)
    for form in forms:
        assert form not in redacted
    assert count >= 1 and REDACTED in redacted


@FAST
@given(
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16),
    st.text(alphabet=string.ascii_letters + string.digits + "+/", min_size=40, max_size=40),
    st.sampled_from([" ", "\n", "\nsecret: ", " / ", "\nSecret access key: "]),
)
def test_4_2_7_an_aws_key_id_and_its_secret_are_both_hidden(
    key_id: str, secret: str, between: str
) -> None:
    text = f"ключи доступа AKIA{key_id}{between}{secret}\nрегион eu-central-1"
    redacted, _ = redact(text)
    assert f"AKIA{key_id}" not in redacted
    assert secret not in redacted
    assert "регион eu-central-1" in redacted


@FAST
@given(
    st.lists(
        st.text(alphabet=string.ascii_letters + string.digits + "+/=", min_size=8, max_size=64),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from(["RSA ", "OPENSSH ", "EC ", ""]),
)
def test_4_2_7_a_private_key_block_is_hidden_whole(lines: list[str], algo: str) -> None:
    body = "\n".join(lines)
    text = f"вот ключ:\n-----BEGIN {algo}PRIVATE KEY-----\n{body}\n-----END {algo}PRIVATE KEY-----"
    redacted, _ = redact(text)
    assert body not in redacted
    assert redacted.startswith("вот ключ:")


@FAST
@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + "._~+/=-", min_size=12, max_size=60
    ).map(lambda t: "a1" + t),
)
def test_4_2_7_a_bearer_token_is_hidden(token: str) -> None:
    redacted, _ = redact(f"Authorization: Bearer {token}\nответ 401")
    assert token not in redacted


# Pieces of the shapes, glued at random: labels, separators, quotes and values next to each other
# and to markers from an earlier pass, which plain random text almost never produces.
FRAGMENTS = [
    "пароль", "password", "pass", "логин", "admin", "root", "от", "админки", "for", "is", "это",
    ":", "=", "=>", " / ", "/", "-", " ", " ", "\n", "@", "://", "ftp", "'", '"', "«", "»", "$",
    "DB_PASSWORD", "'password'", '"token"', "Qw3rty!", "Hunter22", "x9", "10:30", "23.300.0",
    "ivan@mail.ru", "Bearer", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    REDACTED, ",", ".", "!", "не", "доступы", "credentials",
]  # fmt: skip
SHAPE_SOUP = st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join)


@FAST
@given(st.one_of(st.text(), SHAPE_SOUP))
def test_4_2_7_redaction_never_raises_and_is_idempotent(text: str) -> None:
    once, _ = redact(text)
    assert redact(once) == (once, 0)


@FAST
@given(embedded_secrets())
def test_4_2_7_redacting_a_redacted_message_changes_nothing(case: tuple[str, list[str]]) -> None:
    once, _ = redact(case[0])
    assert redact(once) == (once, 0)
