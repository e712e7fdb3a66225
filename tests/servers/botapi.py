"""The project's own Bot API test server: a real aiohttp HTTP server the real aiogram bot polls.

It implements the part of the Telegram Bot API the bot uses, answering with the same JSON shapes
and the same errors as Telegram (400 "chat not found", "message is not modified", "file is too
big", "BUTTON_DATA_INVALID", HTML that does not parse, 409 for getUpdates while a webhook is set
or when a second poller appears...), so the bot is exercised over real HTTP with real aiogram
parsing. Methods it does not know answer 404 and are logged (`server.unknown_methods`) so a gap in
the harness is visible rather than silent.

Tests play users through Python methods (tests run in the same event loop as the server):

    msg = botapi.user_command(42, "/start")
    [reply] = await botapi.wait_bot_messages(42)
    botapi.buttons(reply)                  # [("Да", "cb:..."), ...]
    botapi.user_click(42, reply["message_id"], "cb:...")
    botapi.user_photo(42, png_bytes, caption="screen")

A method can be made to fail, as a Bot API server without it (or one that refuses it) would:
`botapi.refuse("setMyCommands")` answers it 404 "Not Found" from then on (another `ApiError` may
be given).

Long polling is real: getUpdates holds the request until a user event arrives or `timeout`
passes, and `offset` confirms updates exactly like Telegram. When the bot sets a webhook, updates
are POSTed to it instead (with the secret token header), and a method returned in the webhook
answer is executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import mimetypes
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web

log = logging.getLogger("tests.botapi")

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files (Bot API)
UPLOAD_LIMIT = 50 * 1024 * 1024

Json = dict[str, Any]


class ApiError(Exception):
    """A Bot API error answer: `{"ok": false, "error_code": ..., "description": ...}`."""

    def __init__(self, code: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------- HTML mode

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHtml(HTMLParser):
    """Telegram's HTML subset -> plain text + entities; raises on what Telegram refuses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pos = 0  # in UTF-16 code units, as Telegram counts entity offsets
        self.stack: list[tuple[str, int, Json]] = []
        self.entities: list[Json] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        extra: Json = {}
        attributes = dict(attrs)
        if tag == "a":
            if not attributes.get("href"):
                raise bad_request("can't parse entities: Can't find end of the URL")
            extra["url"] = attributes["href"]
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise bad_request('can\'t parse entities: Unsupported start tag "span"')
        self.stack.append((tag, self._pos, extra))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise bad_request(f'can\'t parse entities: Unmatched end tag "{tag}"')
        _, start, extra = self.stack.pop()
        if self._pos > start:
            self.entities.append(
                {"type": _HTML_TAGS[tag], "offset": start, "length": self._pos - start, **extra}
            )

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self._pos += _utf16_len(data)

    def parse(self, source: str) -> tuple[str, list[Json]]:
        self.feed(source)
        self.close()
        if self.stack:
            raise bad_request(
                f"can't parse entities: Can't find end tag corresponding to start tag "
                f'"{self.stack[-1][0]}"'
            )
        text = "".join(self.parts)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return text, self.entities


def render_text(text: str, parse_mode: str | None) -> tuple[str, list[Json]]:
    """What Telegram would store for `text` sent with `parse_mode`: plain text and entities."""
    if parse_mode is None or parse_mode == "":
        return text, []
    if parse_mode.upper() == "HTML":
        if _has_stray_lt(text):
            raise bad_request("can't parse entities: Unsupported start tag")
        return _TelegramHtml().parse(text)
    # Markdown modes are not used by the bot; keep the source, visibly unparsed.
    log.warning("botapi: parse_mode %s is stored unparsed", parse_mode)
    return text, []


def _has_stray_lt(text: str) -> bool:
    """A "<" followed by something that cannot start a tag (e.g. "a < b") — Telegram refuses it."""
    i = text.find("<")
    while i != -1:
        nxt = text[i + 1 : i + 2]
        if not (nxt.isalpha() or nxt == "/"):
            return True
        i = text.find("<", i + 1)
    return False


# ----------------------------------------------------------------------------------------- records


class _Signal:
    """Wakes every waiter when fired; fired from plain (sync) code, waited on with a predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        """True once `predicate()` holds, False when `timeout` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), remaining)
        return True


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str
    content_type: str


@dataclass
class BotState:
    """What the server knows about the bot (one world, every token is accepted)."""

    token: str = ""
    commands: list[Json] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""


class BotApiServer:
    """A local Bot API server on 127.0.0.1:<free port> plus a Python client API to play users."""

    def __init__(self, *, bot_id: int = 7_000_000_001, bot_username: str = "frontdesk_test_bot"):
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot = BotState()
        self.app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner: web.AppRunner | None = None
        self.port = 0

        self._update_ids = itertools.count(1)
        self.updates: list[Json] = []  # not yet confirmed by an offset
        self._updates_changed = _Signal()
        self._poll_generation = 0
        self.commands_by_scope: dict[tuple[str, str], list[Json]] = {}
        self._claimed_sizes: dict[str, int] = {}

        self.chats: dict[int, Json] = {}
        self.users: dict[int, Json] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self.messages: dict[tuple[int, int], Json] = {}  # (chat_id, message_id) -> Message
        self._bot_messages: dict[int, list[Json]] = {}
        # One signal per chat: a message to one customer wakes only that customer's waiter (a
        # single shared signal would wake every waiter on every message: quadratic under load).
        self._chat_signals: dict[int, _Signal] = {}
        self._cursor: dict[int, int] = {}
        self._sent_changed = _Signal()
        self.edits: list[Json] = []  # {"method", "chat_id", "message_id", "message"}

        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)

        self.callback_queries: dict[str, Json] = {}
        self.callback_answers: dict[str, Json] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.requests: list[tuple[str, Json]] = []  # every method call, in order
        self.unknown_methods: list[str] = []
        self.refused: dict[str, ApiError] = {}  # method (lower case) -> the error it answers
        self.request_hooks: list[Callable[[str, Json], None]] = []
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_session: aiohttp.ClientSession | None = None
        self.webhook_errors: list[str] = []

    # ------------------------------------------------------------------------------ lifecycle

    async def start(self) -> BotApiServer:
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._webhook_session is not None:
            await self._webhook_session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def make_bot(self, token: str = "123456:TEST-token") -> Any:
        """An aiogram Bot pointed at this server (the caller closes `bot.session`)."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token, session=session)

    def refuse(self, method: str, error: ApiError | None = None) -> None:
        """From now on answer `method` with `error` (default: 404, as a server without it)."""
        self.refused[method.lower()] = error or ApiError(404, "Not Found")

    # ---------------------------------------------------------------------------- users, chats

    def set_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
    ) -> Json:
        user: Json = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"User{user_id}",
        }
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        if username:
            chat["username"] = username
        self.chats[user_id] = chat
        return user

    def add_chat(
        self, chat_id: int, *, chat_type: str = "supergroup", title: str = "Agents"
    ) -> Json:
        """A group the bot is a member of (e.g. the agents' chat)."""
        chat = {"id": chat_id, "type": chat_type, "title": title}
        self.chats[chat_id] = chat
        return chat

    def _user(self, user_id: int) -> Json:
        return self.users.get(user_id) or self.set_user(user_id)

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _user_message(self, user_id: int, chat_id: int | None, **content: Any) -> Json:
        user = self._user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        chat = self.chats.get(chat_id) or self.add_chat(chat_id)
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": dict(user),
            **content,
        }
        self.messages[(chat_id, message["message_id"])] = message
        self._push_update({"message": message})
        return message

    # -------------------------------------------------------------------- client API: play users

    def user_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> Json:
        """The user sends a text message; returns the Message as the bot will receive it."""
        return self._user_message(user_id, chat_id, text=text)

    def user_command(self, user_id: int, command: str, *, chat_id: int | None = None) -> Json:
        """The user sends a command ("/start", "/lang en"), with its bot_command entity."""
        if not command.startswith("/"):
            command = "/" + command
        name = command.split(maxsplit=1)[0]
        entity = {"type": "bot_command", "offset": 0, "length": _utf16_len(name)}
        return self._user_message(user_id, chat_id, text=command, entities=[entity])

    def user_photo(
        self,
        user_id: int,
        data: bytes,
        caption: str = "",
        *,
        width: int = 1280,
        height: int = 960,
        chat_id: int | None = None,
    ) -> Json:
        """The user sends a photo: Telegram offers several sizes; the largest holds `data`."""
        sizes: list[Json] = []
        for scale in (8, 4):  # thumbnails carry different (small) content, as Telegram's do
            thumb = self._store_file(data[: max(1, len(data) // (scale * scale))], "photos", "jpg")
            sizes.append(self._photo_size(thumb, width // scale, height // scale))
        full = self._store_file(data, "photos", "jpg")
        sizes.append(self._photo_size(full, width, height))
        content: Json = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, **content)

    def user_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str = "",
        *,
        file_size: int | None = None,
        chat_id: int | None = None,
    ) -> Json:
        """The user sends a file. `file_size` may claim more than `data` (to test big files)."""
        stored = self._store_file(data, "documents", file_name.rsplit(".", 1)[-1] or "bin")
        document: Json = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "file_size": len(data) if file_size is None else file_size,
        }
        if mime_type:
            document["mime_type"] = mime_type
        if file_size is not None:
            self._claimed_sizes[stored.file_id] = file_size
        content: Json = {"document": document}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, **content)

    def user_click(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> str:
        """The user presses an inline button; returns the callback query id.

        Any `callback_data` can be sent (as a malicious client could): the bot must check it.
        """
        chat_id = user_id if chat_id is None else chat_id
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query_id = str(next(self._update_ids) * 7919 + 10_000_000)
        query: Json = {
            "id": query_id,
            "from": dict(self._user(user_id)),
            "chat_instance": f"ci{chat_id}",
            "message": dict(message),
            "data": callback_data,
        }
        self.callback_queries[query_id] = query
        self._push_update({"callback_query": query})
        return query_id

    def user_edit(self, user_id: int, message_id: int, text: str) -> Json:
        """The user edits one of their messages (an `edited_message` update)."""
        message = self.messages[(user_id, message_id)]
        message.update(text=text, edit_date=int(time.time()))
        self._push_update({"edited_message": dict(message)})
        return message

    # -------------------------------------------------------------- client API: what the bot did

    def _chat_signal(self, chat_id: int) -> _Signal:
        signal = self._chat_signals.get(chat_id)
        if signal is None:
            signal = self._chat_signals[chat_id] = _Signal()
        return signal

    def bot_messages(self, chat_id: int) -> list[Json]:
        """Every message the bot sent to `chat_id`, in order (current state, edits applied)."""
        return list(self._bot_messages.get(chat_id, []))

    async def wait_bot_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> list[Json]:
        """The next `count` messages the bot sends to `chat_id` after the previous wait."""
        start = self._cursor.get(chat_id, 0)

        def ready() -> bool:
            return len(self._bot_messages.get(chat_id, [])) - start >= count

        if not await self._chat_signal(chat_id).wait_until(ready, timeout):
            got = self._bot_messages.get(chat_id, [])[start:]
            raise TimeoutError(
                f"bot sent {len(got)} of {count} expected messages to chat {chat_id} "
                f"in {timeout}s: {[m.get('text') or m.get('caption') for m in got]}; "
                f"unknown methods called: {self.unknown_methods}"
            )
        self._cursor[chat_id] = start + count
        return self._bot_messages[chat_id][start : start + count]

    def pending_bot_messages(self, chat_id: int) -> list[Json]:
        """Messages sent to `chat_id` that no wait has returned yet (does not move the cursor)."""
        return self._bot_messages.get(chat_id, [])[self._cursor.get(chat_id, 0) :]

    async def wait_callback_answer(
        self,
        query_id: str,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> Json:
        """The bot's answerCallbackQuery for `query_id` ({"text", "show_alert", ...})."""
        if not await self._sent_changed.wait_until(
            lambda: query_id in self.callback_answers, timeout
        ):
            raise TimeoutError(f"callback query {query_id} was not answered in {timeout}s")
        return self.callback_answers[query_id]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10,  # noqa: ASYNC109
    ) -> None:
        """Wait until `predicate()` holds; it is re-checked whenever the bot calls a method."""
        if not await self._sent_changed.wait_until(predicate, timeout):
            raise TimeoutError(f"condition not met in {timeout}s")

    @staticmethod
    def keyboard(message: Json) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows as (text, callback_data) pairs ("" for URL buttons)."""
        markup = message.get("reply_markup") or {}
        return [
            [(b["text"], b.get("callback_data", "")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    @classmethod
    def buttons(cls, message: Json) -> list[tuple[str, str]]:
        """Inline keyboard buttons, flattened, as (text, callback_data) pairs."""
        return [button for row in cls.keyboard(message) for button in row]

    def file_data(self, file_id: str) -> bytes:
        """The bytes behind a file_id (a user's upload or a document the bot sent)."""
        return self.files[file_id].data

    def calls(self, method: str) -> list[Json]:
        """Parameters of every call of `method` (case-insensitive), in order."""
        return [params for name, params in self.requests if name == method.lower()]

    # ------------------------------------------------------------------------ updates queue

    def _push_update(self, body: Json) -> None:
        update = {"update_id": next(self._update_ids), **body}
        self.updates.append(update)
        self._updates_changed.fire()

    async def _changed(self) -> None:
        self._sent_changed.fire()

    # ------------------------------------------------------------------------------- files

    def _store_file(self, data: bytes, folder: str, extension: str) -> StoredFile:
        n = next(self._file_seq)
        stored = StoredFile(
            file_id=f"F{n:06d}{secrets.token_hex(8)}",
            file_unique_id=f"U{n:06d}",
            data=data,
            file_path=f"{folder}/file_{n}.{extension}",
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _photo_size(stored: StoredFile, width: int, height: int) -> Json:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": max(1, width),
            "height": max(1, height),
            "file_size": len(stored.data),
        }

    # ------------------------------------------------------------------------- HTTP handlers

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _params(self, request: web.Request) -> tuple[Json, dict[str, Upload]]:
        params: Json = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
                    params.setdefault(key, f"attach://{key}")
                else:
                    params[key] = value
        return params, uploads

    async def _handle_method(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"].lower()
        try:
            if ":" not in token:
                raise ApiError(401, "Unauthorized")
            params, uploads = await self._params(request)
            self.requests.append((method, params))
            for hook in self.request_hooks:
                hook(method, params)
            self._sent_changed.fire()  # waiters on `calls()` see the request at once
            self.bot.token = token
            refusal = self.refused.get(method)
            if refusal is not None:
                raise refusal
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                self.unknown_methods.append(method)
                log.error("botapi: method %s is not implemented by the test server", method)
                raise ApiError(404, f"Not Found: method {method} is not implemented here")
            result = await handler(params, uploads)
        except ApiError as e:
            body: Json = {"ok": False, "error_code": e.code, "description": e.description}
            if e.parameters:
                body["parameters"] = e.parameters
            if e.code != 409:
                log.info("botapi: %s -> %s %s", method, e.code, e.description)
            await self._changed()
            return web.json_response(body, status=e.code)
        await self._changed()
        return web.json_response({"ok": True, "result": result})

    # ------------------------------------------------------------------------- param helpers

    @staticmethod
    def _int(params: Json, key: str, default: int | None = None) -> int:
        value = params.get(key)
        if value is None or value == "":
            if default is None:
                raise bad_request(f"{key} is empty" if key != "chat_id" else "chat not found")
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    @staticmethod
    def _json(params: Json, key: str) -> Any:
        value = params.get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {key} JSON object") from None
        return value

    @staticmethod
    def _bool(params: Json, key: str) -> bool:
        value = params.get(key)
        if isinstance(value, str):
            return value.lower() in {"true", "1"}
        return bool(value)

    def _chat(self, params: Json) -> Json:
        chat_id = self._int(params, "chat_id")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _bot_user(self) -> Json:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Frontdesk",
            "username": self.bot_username,
        }

    def _markup(self, params: Json) -> Json | None:
        markup = self._json(params, "reply_markup")
        if not markup:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup '
                    "should be an Array of Arrays"
                )
            for row in rows:
                for button in row:
                    if not button.get("text"):
                        raise bad_request(
                            "BUTTON_TEXT_EMPTY" if "text" in button else 'can\'t find field "text"'
                        )
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                        raise bad_request("BUTTON_DATA_INVALID")
                    kinds = {
                        "callback_data",
                        "url",
                        "switch_inline_query",
                        "web_app",
                        "login_url",
                        "pay",
                        "copy_text",
                        "switch_inline_query_current_chat",
                    } & button.keys()
                    if len(kinds) != 1:
                        raise bad_request(
                            "can't parse inline keyboard button: "
                            "exactly one of the optional fields must be used"
                        )
        return markup

    def _bot_message(self, chat: Json, content: Json, params: Json) -> Json:
        message = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": dict(chat),
            "from": self._bot_user(),
            **content,
        }
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        reply_to = params.get("reply_to_message_id") or (
            (self._json(params, "reply_parameters") or {}).get("message_id")
        )
        if reply_to:
            original = self.messages.get((chat["id"], int(reply_to)))
            if original is not None:
                message["reply_to_message"] = dict(original)
        self.messages[(chat["id"], message["message_id"])] = message
        self._bot_messages.setdefault(chat["id"], []).append(message)
        self._chat_signal(chat["id"]).fire()
        return message

    def _text_content(self, params: Json, key: str, limit: int) -> Json:
        raw = params.get(key)
        if raw is None or raw == "":
            return {}
        text, entities = render_text(str(raw), params.get("parse_mode"))
        if len(text) > limit:
            raise bad_request(f"message {'' if key == 'text' else 'caption '}is too long")
        content: Json = {key: text}
        if entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    # ------------------------------------------------------------------------ Bot API methods

    async def _m_getme(self, params: Json, uploads: dict[str, Upload]) -> Json:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_logout(self, params: Json, uploads: dict[str, Upload]) -> bool:
        return True

    async def _m_close(self, params: Json, uploads: dict[str, Upload]) -> bool:
        return True

    async def _m_setmycommands(self, params: Json, uploads: dict[str, Upload]) -> bool:
        commands = self._json(params, "commands") or []
        for command in commands:
            name = command.get("command", "")
            if not (1 <= len(name) <= 32 and name.islower() and name.replace("_", "").isalnum()):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = self._json(params, "scope") or {"type": "default"}
        language = params.get("language_code") or ""
        self.bot.commands = commands
        self.commands_by_scope[(json.dumps(scope, sort_keys=True), language)] = commands
        return True

    async def _m_getmycommands(self, params: Json, uploads: dict[str, Upload]) -> list[Json]:
        scope = self._json(params, "scope") or {"type": "default"}
        language = params.get("language_code") or ""
        return self.commands_by_scope.get((json.dumps(scope, sort_keys=True), language), [])

    async def _m_deletemycommands(self, params: Json, uploads: dict[str, Upload]) -> bool:
        scope = self._json(params, "scope") or {"type": "default"}
        language = params.get("language_code") or ""
        self.commands_by_scope.pop((json.dumps(scope, sort_keys=True), language), None)
        return True

    async def _m_deletewebhook(self, params: Json, uploads: dict[str, Upload]) -> bool:
        self.bot.webhook_url = ""
        if self._bool(params, "drop_pending_updates"):
            self.updates.clear()
        self._stop_webhook()
        return True

    async def _m_setwebhook(self, params: Json, uploads: dict[str, Upload]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._m_deletewebhook(params, uploads)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.bot.webhook_url = url
        self.bot.webhook_secret = str(params.get("secret_token") or "")
        if self._bool(params, "drop_pending_updates"):
            self.updates.clear()
        self._stop_webhook()
        self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhook())
        return True

    async def _m_getwebhookinfo(self, params: Json, uploads: dict[str, Upload]) -> Json:
        info: Json = {
            "url": self.bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook_errors:
            info["last_error_message"] = self.webhook_errors[-1]
            info["last_error_date"] = int(time.time())
        return info

    async def _m_getupdates(self, params: Json, uploads: dict[str, Upload]) -> list[Json]:
        if self.bot.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = self._int(params, "offset", 0)
        limit = min(max(self._int(params, "limit", 100), 1), 100)
        timeout = max(self._int(params, "timeout", 0), 0)
        allowed = self._json(params, "allowed_updates")
        if offset:
            # Confirms every update below the offset (negative offsets: keep the last -offset).
            if offset > 0:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            else:
                self.updates = self.updates[offset:]

        def available() -> list[Json]:
            found = self.updates
            if allowed:
                found = [u for u in found if set(u) & set(allowed)]
            return found[:limit]

        # Like Telegram, a newer getUpdates request terminates one still waiting (two pollers).
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_changed.fire()
        if not available() and timeout:
            await self._updates_changed.wait_until(
                lambda: bool(available()) or generation != self._poll_generation, timeout
            )
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                )
        return available()

    async def _m_sendmessage(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._chat(params)
        content = self._text_content(params, "text", MAX_TEXT)
        if not content:
            raise bad_request("message text is empty")
        return self._bot_message(chat, content, params)

    async def _m_sendchataction(self, params: Json, uploads: dict[str, Upload]) -> bool:
        chat = self._chat(params)
        self.chat_actions.append((chat["id"], str(params.get("action"))))
        return True

    def _editable(self, params: Json) -> Json:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the test server")
        chat = self._chat(params)
        message_id = self._int(params, "message_id")
        message = self.messages.get((chat["id"], message_id))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _record_edit(self, method: str, message: Json) -> None:
        message["edit_date"] = int(time.time())
        self.edits.append(
            {
                "method": method,
                "chat_id": message["chat"]["id"],
                "message_id": message["message_id"],
                "message": dict(message),
            }
        )

    async def _m_editmessagetext(self, params: Json, uploads: dict[str, Upload]) -> Json:
        message = self._editable(params)
        content = self._text_content(params, "text", MAX_TEXT)
        if not content:
            raise bad_request("message text is empty")
        markup = self._markup(params)
        if (
            content["text"] == message.get("text")
            and content.get("entities", []) == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise bad_request(
                "message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup "
                "of the message"
            )
        message.pop("entities", None)
        message.update(content)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        self._record_edit("editMessageText", message)
        return message

    async def _m_editmessagereplymarkup(self, params: Json, uploads: dict[str, Upload]) -> Json:
        message = self._editable(params)
        markup = self._markup(params)
        if markup == message.get("reply_markup") or (not markup and "reply_markup" not in message):
            raise bad_request(
                "message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup "
                "of the message"
            )
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        self._record_edit("editMessageReplyMarkup", message)
        return message

    async def _m_deletemessage(self, params: Json, uploads: dict[str, Upload]) -> bool:
        chat = self._chat(params)
        message_id = self._int(params, "message_id")
        if self.messages.pop((chat["id"], message_id), None) is None:
            raise bad_request("message to delete not found")
        return True

    async def _m_answercallbackquery(self, params: Json, uploads: dict[str, Upload]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self.callback_queries or query_id in self.callback_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = str(params.get("text") or "")
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = {
            "text": text,
            "show_alert": self._bool(params, "show_alert"),
            "url": params.get("url"),
        }
        return True

    async def _m_getfile(self, params: Json, uploads: dict[str, Upload]) -> Json:
        file_id = str(params.get("file_id") or "")
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        size = self._claimed_sizes.get(file_id, len(stored.data))
        if size > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": size,
            "file_path": stored.file_path,
        }

    def _input_file(
        self, params: Json, uploads: dict[str, Upload], key: str, folder: str
    ) -> tuple[StoredFile, str, str]:
        """(stored file, file name, mime type) of an uploaded file or a known file_id."""
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"wrong remote file identifier specified: {key}")
            if not upload.data:
                raise bad_request("file must be non-empty")
            extension = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
            mime = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
            return self._store_file(upload.data, folder, extension), upload.filename, mime
        if isinstance(value, str) and value in self.files:
            stored = self.files[value]
            return stored, stored.file_path.rsplit("/", 1)[-1], "application/octet-stream"
        raise bad_request(f"there is no {key} in the request")

    async def _m_senddocument(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._chat(params)
        stored, name, mime = self._input_file(params, uploads, "document", "documents")
        content: Json = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": name,
                "mime_type": mime,
                "file_size": len(stored.data),
            }
        }
        content.update(self._text_content(params, "caption", MAX_CAPTION))
        return self._bot_message(chat, content, params)

    async def _m_sendphoto(self, params: Json, uploads: dict[str, Upload]) -> Json:
        chat = self._chat(params)
        stored, _, _ = self._input_file(params, uploads, "photo", "photos")
        content: Json = {"photo": [self._photo_size(stored, 1280, 960)]}
        content.update(self._text_content(params, "caption", MAX_CAPTION))
        return self._bot_message(chat, content, params)

    # ------------------------------------------------------------------------------ webhook

    def _stop_webhook(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None

    async def _deliver_webhook(self) -> None:
        """Telegram's side of webhook mode: POST each update, one at a time, until confirmed."""
        if self._webhook_session is None:
            self._webhook_session = aiohttp.ClientSession()
        session = self._webhook_session
        while True:
            await self._updates_changed.wait_until(lambda: bool(self.updates), 3600)
            if not self.updates:
                continue
            update = self.updates[0]
            headers = {}
            if self.bot.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.bot.webhook_secret
            try:
                async with session.post(
                    self.bot.webhook_url, json=update, headers=headers
                ) as response:
                    body = await response.read()
                    status = response.status
                    content_type = response.content_type
            except aiohttp.ClientError as e:
                self.webhook_errors.append(f"{type(e).__name__}: {e}")
                await asyncio.sleep(0.2)
                continue
            if status != 200:
                self.webhook_errors.append(f"Wrong response from the webhook: {status}")
                await asyncio.sleep(0.2)
                continue
            if self.updates and self.updates[0] is update:
                self.updates.pop(0)
            if body and content_type in {"application/json", "multipart/form-data"}:
                await self._webhook_reply(body, content_type)

    async def _webhook_reply(self, body: bytes, content_type: str) -> None:
        """A method the bot returned in the webhook answer (handle_in_background=False)."""
        if content_type != "application/json":
            self.webhook_errors.append("multipart webhook replies are not supported")
            return
        params = json.loads(body)
        method = str(params.pop("method", "")).lower()
        if not method:
            return
        handler = getattr(self, f"_m_{method}", None)
        self.requests.append((method, params))
        if handler is None:
            self.unknown_methods.append(method)
            return
        with contextlib.suppress(ApiError):
            await handler(params, {})
        await self._changed()


@pytest_asyncio.fixture
async def botapi() -> AsyncIterator[BotApiServer]:
    """A started Bot API test server; any token `<digits>:<anything>` is accepted."""
    server = BotApiServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
