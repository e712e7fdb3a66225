"""The web channel: the guided form on aiohttp, one more thin channel of the desk.

An adapter, like the others: a post becomes one `FormRequest` for the core's form mode
(`DeskPort.form_request`), and the one reply the desk makes is drawn as a page — the guided form
of exactly what is missing, the code page, or (filed) a redirect to the ticket's status page.
The rules stay the desk's: what to ask and why, consent (152-FZ), the code that verifies the
contact address, the limits, the blocklist, which files are kept (4.6), the ticket's status.

What the channel adds is what a public web page needs: a signed random session cookie as the
customer's identity (bot/channels/web/signing.py), a CSRF token on every form, a strict
Content-Security-Policy and escaping of every value (bot/channels/web/markup.py), a honeypot
field, the desk's limit per IP address on every post, and status pages reachable only through an
unguessable link e-mailed to the customer (only its hash is stored).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from bot.channel_names import WEB
from bot.channels.web.forms import Posted, answers_text, read_posted
from bot.channels.web.lang import page_lang
from bot.channels.web.markup import Markup
from bot.channels.web.pages import (
    Frame,
    code_page,
    guided_page,
    message_page,
    start_page,
    status_page,
)
from bot.channels.web.signing import Signer, new_token, token_hash
from bot.channels.web.state import WebState
from bot.channels.web.style import CSS
from bot.channels.web.texts import t
from bot.channels.web.uploads import take_upload
from bot.clock import utc_now
from bot.config import Settings
from bot.identity.consent import privacy_policy_text
from bot.identity.forget import customer_key
from bot.identity.guard import RESEND
from bot.intake.events import ChoiceEvent, CommandEvent, Reply
from bot.intake.form_reply import FormOutcome, FormReply, FormRequest
from bot.ops.metrics import Metrics
from bot.policy.auto_replies import AutoReply
from bot.ports import DeskPort
from bot.tickets.model import TICKET_ID_RE, AttachmentRef, TicketStatus
from bot.tickets.render import render_customer_reply

__all__ = ["WebChannel", "run_web_channel"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "frontdesk_session"
LANG_COOKIE = "frontdesk_lang"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a status link never leaks through a Referer header
    "Cache-Control": "no-store",
}
STATUS_REFRESH_SECONDS = 3  # while the ticket waits for the support mail server
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Visit:
    """One request as the channel sees it: whose session, which language, what was posted."""

    session: str
    lang: str
    fresh: bool  # no valid session cookie came: a new customer
    posted: Posted = field(default_factory=Posted)
    renewed: bool = False  # the session was replaced (after forgetting): send the new cookie


VISIT = web.RequestKey("visit", Visit)


def _prefix(value: str) -> str:
    value = value.strip().rstrip("/")
    return "" if not value else ("/" + value.lstrip("/"))


class WebChannel:
    """See the module docstring. `start()` before `app()`; `serve()` listens."""

    def __init__(
        self,
        desk: DeskPort,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        metrics: Metrics | None = None,
    ) -> None:
        self.desk = desk
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.prefix = _prefix(settings.web_prefix)
        self._clock = clock
        self._state: WebState | None = None
        self._signer: Signer | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = settings.web_public_url or ""

    @property
    def state(self) -> WebState:
        if self._state is None:
            raise RuntimeError("WebChannel.start() was not called")
        return self._state

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            raise RuntimeError("WebChannel.start() was not called")
        return self._signer

    async def start(self) -> None:
        self._state = await WebState.open_for(self.settings)
        configured = self.settings.web_secret
        # Every replica signs with the same key: the configured one, else the database's.
        key = configured.get_secret_value() if configured else await self._state.signing_key()
        self._signer = Signer(key.encode("utf-8"))
        self.desk.subscribe(WEB, self._notify)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        state, self._state = self._state, None
        if state is not None:
            await state.close()

    async def serve(self, host: str, port: int) -> int:
        """Listen on host:port (0: a free port); returns the port."""
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server  # the only way aiohttp tells the port it bound
        sockets = getattr(server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        if not self.base_url:
            self.base_url = f"http://{host}:{bound}{self.prefix}"
        log.info("web form listening on http://%s:%s%s/", host, bound, self.prefix)
        return bound

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard_middleware], client_max_size=1024**2)
        p = self.prefix
        routes = [
            web.get(f"{p}/", self.index),
            web.post(f"{p}/", self.post_start),
            web.post(f"{p}/more", self.post_more),
            web.post(f"{p}/code", self.post_code),
            web.post(f"{p}/forget", self.post_forget),
            web.get(f"{p}/s/{{token}}", self.status),
            web.get(f"{p}/privacy", self.privacy),
            web.get(f"{p}/static/form.css", self.css),
        ]
        if p:
            routes.append(web.get(p, self.to_index))
        app.add_routes(routes)
        return app

    # --- around every request ------------------------------------------------------------

    @web.middleware
    async def _guard_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Security headers on every answer; the session and the page language; CSRF, the
        honeypot and the per-IP limit on every post; a failure becomes a page, not a trace."""
        session = self.signer.session_id(request.cookies.get(SESSION_COOKIE))
        chosen = request.query.get("lang") or request.cookies.get(LANG_COOKIE)
        lang = page_lang(chosen, request.headers.get("Accept-Language"))
        visit = Visit(session or new_token(), lang, fresh=session is None)
        request[VISIT] = visit
        try:
            if request.method == "POST":  # a customer's update, refused ones counted too
                self.metrics.update_received(WEB)
                response = await self._checked_post(request, handler)
            else:
                response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        except Exception:
            log.exception("web: %s %s failed", request.method, request.path)
            text = t("error", lang, support=self.settings.support_address)
            response = self._page(message_page(self._frame(request), text, text), 500)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
        # Only the form's own pages start a session: a stray request (a favicon, a 404) must
        # not answer with a new cookie that replaces the customer's.
        ours = request.match_info.http_exception is None and not request.path.endswith(".css")
        if (visit.fresh and ours) or visit.renewed:
            response.set_cookie(
                SESSION_COOKIE, self.signer.session_cookie(visit.session),
                httponly=True, samesite="Lax", secure=secure, path=self.prefix or "/",
            )  # fmt: skip
        if request.query.get("lang") in ("ru", "en"):
            response.set_cookie(
                LANG_COOKIE, lang, httponly=True, samesite="Lax", secure=secure,
                path=self.prefix or "/", max_age=365 * 24 * 3600,
            )  # fmt: skip
        return response

    async def _checked_post(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        visit = request[VISIT]
        posted = visit.posted = await read_posted(request)
        lang = visit.lang
        if visit.fresh or not self.signer.csrf_ok(visit.session, posted.get("csrf")):
            log.warning("web: post without a valid CSRF token from %s", _client_ip(request))
            frame = self._frame(request)
            page = message_page(frame, t("title", lang), t("forbidden", lang))
            return self._page(page, 403)
        if self.desk.is_blocked(WEB, visit.session):
            return self._page(self._start(request, None), 200)
        if posted.get("website"):
            # Only a robot fills a field nobody sees: it gets the empty form back, nothing kept.
            log.info("web: honeypot filled from %s; post ignored", _client_ip(request))
            consent = await self.desk.consent_request(WEB, visit.session, lang)
            return self._page(self._start(request, consent), 200)
        refusal = await self.desk.admit(WEB, _client_ip(request), lang)
        if refusal is not None:
            page = message_page(self._frame(request), t("title", lang), refusal)
            return self._page(page, 429)
        return await handler(request)

    # --- pages ---------------------------------------------------------------------------

    def _frame(self, request: web.Request) -> Frame:
        path = request.path[len(self.prefix) :] or "/"
        csrf = self.signer.csrf_token(request[VISIT].session)
        return Frame(request[VISIT].lang, self.prefix, csrf, path)

    def _page(self, page: Markup, status: int = 200) -> web.Response:
        return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")

    def _start(
        self, request: web.Request, consent: str | None, description: str = "",
        errors: tuple[str, ...] = (),
    ) -> Markup:  # fmt: skip
        frame = self._frame(request)
        return start_page(frame, consent_text=consent, description=description, errors=errors)

    async def to_index(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{self.prefix}/")

    async def index(self, request: web.Request) -> web.StreamResponse:
        """The page the customer's request stands at: the form, the guided form or the code."""
        session, lang = request[VISIT].session, request[VISIT].lang
        reply = await self.desk.form_state(WEB, session)
        if reply is None or reply.guide is None:
            consent = await self.desk.consent_request(WEB, session, lang)
            return self._page(self._start(request, consent))
        return self._page(self._reply_page(request, reply))

    async def post_start(self, request: web.Request) -> web.StreamResponse:
        """Page 1 sent: consent first (nothing is kept without it), then the files, then the
        text, read at once by the core."""
        posted = request[VISIT].posted
        session, lang = request[VISIT].session, request[VISIT].lang
        description = posted.get("description")
        consent = await self.desk.consent_request(WEB, session, lang)
        if consent is not None:
            if posted.get("consent") != "yes":
                errors = (t("consent_missing", lang),)
                return self._page(self._start(request, consent, description, errors), 400)
            await self.desk.give_consent(WEB, session)
        return await self._form_request(request, description)

    async def post_more(self, request: web.Request) -> web.StreamResponse:
        """The guided form answered: what was filled in or changed, as form lines."""
        posted = request[VISIT].posted
        current = await self.desk.form_state(WEB, request[VISIT].session)
        text = answers_text(posted.values, current.guide if current else None, request[VISIT].lang)
        if not text and not posted.files and current is not None:
            return self._page(self._reply_page(request, current))
        return await self._form_request(request, text)

    async def post_code(self, request: web.Request) -> web.StreamResponse:
        posted = request[VISIT].posted
        session = request[VISIT].session
        if posted.get("resend"):
            replies = await self.desk.handle(WEB, session, ChoiceEvent(RESEND))
            current = await self.desk.form_state(WEB, session)
            said = [r.text for r in replies if r.text]
            guide = current.guide if current else None
            return self._page(code_page(self._frame(request), said, guide))
        return await self._form_request(request, posted.get("code").strip())

    async def post_forget(self, request: web.Request) -> web.StreamResponse:
        """Everything kept about this session is deleted (its filed tickets stay with support);
        the browser gets a new session."""
        session = request[VISIT].session
        replies = await self.desk.handle(WEB, session, CommandEvent("forget"))
        await self.state.forget_session(session)
        request[VISIT].session, request[VISIT].renewed = new_token(), True
        text = "\n\n".join(r.text for r in replies if r.text)
        frame = self._frame(request)
        return self._page(message_page(frame, t("forget", request[VISIT].lang), text))

    async def _form_request(self, request: web.Request, text: str) -> web.StreamResponse:
        posted = request[VISIT].posted
        session, lang = request[VISIT].session, request[VISIT].lang
        refs: list[AttachmentRef] = []
        notes: list[str] = []
        key = customer_key(WEB, session)
        for upload in posted.files:
            ref, note = await take_upload(
                self.settings.data_dir, key, upload.name, upload.data, upload.size, lang
            )
            if note:
                notes.append(note)
            if ref is not None:
                refs.append(ref)
        request_ = FormRequest(
            text=text, attachments=tuple(refs), notes=tuple(notes), lang=lang, draws_form=True
        )
        reply = await self.desk.form_request(WEB, session, request_)
        if reply.outcome is FormOutcome.FILED and reply.ticket_id:
            return await self._filed(request, reply.ticket_id, reply.text)
        return self._page(self._reply_page(request, reply))

    def _reply_page(self, request: web.Request, reply: FormReply) -> Markup:
        frame = self._frame(request)
        guide = reply.guide
        if reply.outcome is FormOutcome.CODE_SENT or guide is None:
            return code_page(frame, guide.said if guide else (reply.text,), guide)
        return guided_page(frame, guide)

    async def _filed(self, request: web.Request, ticket_id: str, said: str) -> web.StreamResponse:
        """A ticket was filed: its status page gets a random link, e-mailed to the verified
        contact address, and the browser goes there."""
        token = new_token()
        now = self._clock()
        await self.state.add_link(token_hash(token), ticket_id, request[VISIT].session, said, now)
        ticket = await self.desk.find_ticket([ticket_id])
        if ticket is not None and ticket.contact_email:
            lang = ticket.lang
            url = f"{self.base_url}/s/{token}"
            message = render_customer_reply(
                ticket.contact_email,
                t("mail_subject", lang, id=ticket_id),
                t("mail_body", lang, id=ticket_id, url=url),
                self.settings,
                now=now,
                kind="status_link",
            )
            await self.desk.send_auto_reply(
                AutoReply.CONFIRMATION, ticket.contact_email, message, ticket_id
            )
        raise web.HTTPSeeOther(f"{self.prefix}/s/{token}")

    async def status(self, request: web.Request) -> web.StreamResponse:
        """A ticket's status, for the holder of its link only."""
        link = await self.state.link(token_hash(request.match_info["token"]))
        ticket = await self.desk.find_ticket([link.ticket_id]) if link else None
        lang = request[VISIT].lang
        frame = self._frame(request)
        if link is None or ticket is None:
            page = message_page(frame, t("title", lang), t("not_found", lang))
            return self._page(page, 404)
        status_text = {
            TicketStatus.QUEUED: t("status_queued", lang),
            TicketStatus.FILED: t("status_filed", lang),
            TicketStatus.ANSWERED: t("status_answered", lang),
            TicketStatus.CLOSED: t("status_closed", lang),
            TicketStatus.FAILED: t("status_failed", lang, support=self.settings.support_address),
        }[ticket.status]
        page = status_page(
            frame,
            ticket_id=ticket.id,
            status_text=status_text,
            said=link.said,
            notices=await self.state.notices(ticket.id),
            refresh=STATUS_REFRESH_SECONDS if ticket.status is TicketStatus.QUEUED else None,
        )
        return self._page(page)

    async def privacy(self, request: web.Request) -> web.StreamResponse:
        lang = request[VISIT].lang
        text = privacy_policy_text(lang)
        return self._page(message_page(self._frame(request), t("privacy", lang), text))

    async def css(self, request: web.Request) -> web.StreamResponse:
        response = web.Response(text=CSS, content_type="text/css", charset="utf-8")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response

    # --- desk notices --------------------------------------------------------------------

    async def _notify(self, user_id: str, reply: Reply) -> None:
        """Later news about a web customer's ticket (filed officially, not delivered, support's
        answer): shown on the ticket's status page."""
        ids = TICKET_ID_RE.findall(reply.text)
        if ids and self._state is not None:
            await self._state.add_notice(ids[0], reply.text, self._clock())


def _client_ip(request: web.Request) -> str:
    """The customer's address: the peer's, or behind a reverse proxy on this machine the last
    address it added to X-Forwarded-For (what a client writes there itself comes before it)."""
    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        local = False
    if local and forwarded:
        return forwarded.split(",")[-1].strip() or peer
    return peer


async def run_web_channel(
    settings: Settings, desk: DeskPort, metrics: Metrics | None = None
) -> None:
    """The composition root's entry: serve the form on FRONTDESK_WEB_HOST/PORT until cancelled."""
    channel = WebChannel(desk, settings, metrics=metrics)
    await channel.start()
    try:
        await channel.serve(settings.web_host, settings.web_port or 0)
        await asyncio.Event().wait()
    finally:
        await channel.close()
