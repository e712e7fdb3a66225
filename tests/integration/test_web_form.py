"""The guided web form in a real browser: headless Chromium (Debian's) driven by Playwright,
against the real desk, the real classifier, an SMTP server delivering into Dovecot.

Each test is one customer; a screenshot of every page state goes to the test's temp dir. The
number of submits each persona needs is counted as the clicks on a submit button.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from bot.app import App, build_app
from bot.channels.web import WebChannel
from bot.config import Settings
from classifier import Classifier
from tests.servers.mail import MailServers

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
CUSTOMER = "ivan@customer.test"
PASTE = (
    "После обновления до 25.1.0 на сайте готовый-сайт-для-бизнеса.рф корзина выдаёт ошибку 500 "
    "при оформлении заказа. Шаги: 1. Добавить товар в корзину 2. Нажать «Оформить заказ». "
    f"Редакция Бизнес, купон AB12-CD34-EF56, почта {CUSTOMER}"
)
TERSE = "После импорта в каталоге не показываются цены у товаров"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


def bmp(width: int = 2, height: int = 2) -> bytes:
    """A real 24-bit BMP file."""
    row = b"\x00\x00\xff" * width + b"\x00" * ((4 - (width * 3) % 4) % 4)
    pixels = row * height
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 0, 0, 0, 0)
    return header + info + pixels


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the module (never downloaded: Debian's executable)."""
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@dataclass
class Site:
    url: str
    app: App
    channel: WebChannel
    mail: MailServers
    shots: Path
    submits: int = 0
    seen: list[str] = field(default_factory=list)

    async def shot(self, page: Page, name: str) -> None:
        """A screenshot of the page as it stands (under the test's temp dir)."""
        path = self.shots / f"{len(self.seen) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.seen.append(path.name)

    async def submit(self, page: Page, label: str) -> None:
        self.submits += 1
        async with page.expect_navigation():
            await page.get_by_role("button", name=label, exact=True).click()

    async def mails_to_customer(self, count: int) -> list[EmailMessage]:
        return await self.mail.wait_for(count, "customer")

    async def code(self, nth: int = 1) -> str:
        mails = await self.mails_to_customer(nth)
        codes = [m for m in mails if "verification_code" in str(m.get("X-Frontdesk-Kind", ""))]
        codes = codes or mails
        body = codes[nth - 1].get_body(("plain",))
        assert body is not None
        found = re.search(r"\b(\d{6})\b", body.get_content())
        assert found is not None
        return found.group(1)


@pytest_asyncio.fixture(loop_scope="module")
async def site(
    mail_servers: MailServers,
    mail_settings: Settings,
    trained_classifier: Classifier,
    tmp_path: Path,
) -> AsyncIterator[Site]:
    """The desk with SMTP into Dovecot, and the web form on a free port of 127.0.0.1."""
    settings = mail_settings.model_copy(update={"imap_host": None, "web_prefix": "/support"})
    app = await build_app(settings, classifier=trained_classifier)
    channel = WebChannel(app.desk, settings, metrics=app.metrics)
    await channel.start()
    port = await channel.serve("127.0.0.1", 0)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        yield Site(f"http://127.0.0.1:{port}/support/", app, channel, mail_servers, shots)
    finally:
        await channel.close()
        await app.close()


async def new_page(browser: Browser, lang: str = "ru-RU") -> Page:
    context = await browser.new_context(locale=lang, viewport={"width": 390, "height": 844})
    page = await context.new_page()

    async def no_dialogs(dialog: object) -> None:
        raise AssertionError(f"a script ran in the page: {dialog}")

    page.on("dialog", no_dialogs)
    return page


async def ticket_in_support_mailbox(site: Site) -> EmailMessage:
    [ticket] = await site.mail.wait_for(1, "support")
    return ticket


def ticket_json(ticket: EmailMessage) -> dict[str, object]:
    part = next(p for p in ticket.iter_attachments() if p.get_filename() == "ticket.json")
    data = json.loads(part.get_content())
    assert isinstance(data, dict)
    return data


async def test_a_customer_pasting_everything_files_in_two_submits(
    browser: Browser, site: Site, tmp_path: Path
) -> None:
    # Given a customer on the form, with a BMP screenshot
    page = await new_page(browser)
    await page.goto(site.url)
    assert await page.locator("h1").inner_text() == "Написать в техподдержку"
    await site.shot(page, "start")
    screenshot = tmp_path / "screen.bmp"
    screenshot.write_bytes(bmp())
    # When they paste everything, attach it, consent and send
    await page.get_by_label("Описание проблемы").fill(PASTE)
    await page.get_by_label("Скриншоты", exact=False).set_input_files(str(screenshot))
    await page.get_by_label("Согласен на обработку", exact=False).check()
    await site.shot(page, "start-filled")
    await site.submit(page, "Отправить")
    # Then only the code sent to their address is asked, and the summary shows what goes
    assert await page.locator("h1").inner_text() == "Подтвердите e-mail"
    assert "i***@customer.test" in await page.locator("main").inner_text()
    assert "screen.zip" in await page.locator("main").inner_text()
    await site.shot(page, "code")
    await page.get_by_label("Код из письма", exact=False).fill(await site.code())
    await site.submit(page, "Подтвердить и отправить")
    # Then the ticket is filed: its number, and the status that turns official once the
    # support server accepted it (the page refreshes itself)
    assert "WAS-000001" in await page.locator("h1").inner_text()
    await site.shot(page, "filed")
    await page.locator(".status", has_text="Официально зарегистрировано").wait_for(timeout=30_000)
    await site.shot(page, "filed-official")
    assert site.submits == 2
    # each post is an update of the web channel in the ops metrics
    updates = site.app.metrics.registry.get_sample_value(
        "frontdesk_updates_total", {"channel": "web"}
    )
    assert updates == site.submits
    # And the ticket is in the support mailbox with the BMP zipped (4.6)
    ticket = await ticket_in_support_mailbox(site)
    data = ticket_json(ticket)
    assert data["channel"] == "web" and data["coupon"] == "AB12-CD34-EF56"
    assert data["contact_email"] == CUSTOMER
    zipped = next(p for p in ticket.iter_attachments() if p.get_filename() == "screen.zip")
    with zipfile.ZipFile(io.BytesIO(zipped.get_content())) as archive:
        assert archive.namelist() == ["screen.bmp"]
        assert archive.read("screen.bmp") == bmp()
    # And the e-mailed status link opens the status page in another browser, without a session
    link = await status_link(site)
    other = await new_page(browser)
    await other.goto(link)
    assert "WAS-000001" in await other.locator("h1").inner_text()
    # And a guessed link opens nothing
    response = await other.goto(re.sub(r"/s/.*", "/s/WAS-000001", link))
    assert response is not None and response.status == 404


async def status_link(site: Site) -> str:
    for _ in range(3):
        for mail in await site.mails_to_customer(2):
            body = mail.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            found = re.search(r"(http://\S+/support/s/\S+)", text)
            if found:
                return found.group(1)
    raise AssertionError("no status link was e-mailed")


async def test_a_terse_customer_fills_only_what_is_missing(browser: Browser, site: Site) -> None:
    # Given a customer who writes one line
    page = await new_page(browser)
    await page.goto(site.url)
    await page.get_by_label("Описание проблемы").fill(TERSE)
    await page.get_by_label("Согласен на обработку", exact=False).check()
    await site.submit(page, "Отправить")
    # Then the guided form asks exactly the missing 4.2 fields, the description understood
    assert await page.locator("h1").inner_text() == "Почти готово"
    await site.shot(page, "guided")
    assert await page.locator("#f_description").input_value() == TERSE
    asked = await page.locator("#missing label").all_inner_texts()
    assert "Описание проблемы" not in asked
    for label in ("Шаги воспроизведения", "Адрес сайта", "Версия", "E-mail для ответа"):
        assert any(a.startswith(label) for a in asked), asked
    # When they fill them in
    await page.locator("#f_steps").fill("1. Добавить товар в корзину 2. Оформить заказ")
    await page.locator("#f_site_url").fill("shop.example.ru")
    await page.locator("#f_edition").fill("Бизнес")
    await page.locator("#f_version").fill("25.1.0")
    await page.locator("#f_coupon").fill("не знаю")
    await page.locator("#f_contact_email").fill(CUSTOMER)
    if await page.locator("#critical-no").count():
        await page.locator("#critical-no").check()
    if await page.locator("#category").count():
        await page.locator("#category").select_option("error")
    await site.submit(page, "Отправить")
    # Then only the code is left, and the ticket is filed after it
    assert await page.locator("h1").inner_text() == "Подтвердите e-mail"
    await page.get_by_label("Код из письма", exact=False).fill(await site.code())
    await site.submit(page, "Подтвердить и отправить")
    assert "WAS-000001" in await page.locator("h1").inner_text()
    assert site.submits == 3
    data = ticket_json(await ticket_in_support_mailbox(site))
    assert str(data["site_url"]).startswith("http://shop.example.ru")
    assert data["version"] == "25.1.0"


async def test_an_invalid_email_and_a_wrong_code_are_asked_again_with_the_reason(
    browser: Browser, site: Site
) -> None:
    page = await new_page(browser, "en-US")
    await page.goto(site.url)
    # The browser's language picks English; the switch on the page goes back to Russian
    assert await page.locator("h1").inner_text() == "Contact technical support"
    await page.get_by_role("link", name="Русский").click()
    assert await page.locator("h1").inner_text() == "Написать в техподдержку"
    invalid = PASTE.replace(f", почта {CUSTOMER}", "\nE-mail: ivan@@customer")
    await page.get_by_label("Описание проблемы").fill(invalid)
    await page.get_by_label("Согласен на обработку", exact=False).check()
    await site.submit(page, "Отправить")
    # Then the address is asked again, with what was wrong with it
    field = page.locator("#f_contact_email")
    assert await field.input_value() == "ivan@@customer"
    problem = await page.locator("#f_contact_email-problem").inner_text()
    assert problem
    await site.shot(page, "invalid-email")
    await field.fill(CUSTOMER)
    await site.submit(page, "Отправить")
    assert await page.locator("h1").inner_text() == "Подтвердите e-mail"
    # When a wrong code is typed, the code page says so
    right = await site.code()
    wrong = "000000" if right != "000000" else "111111"
    await page.get_by_label("Код из письма", exact=False).fill(wrong)
    await site.submit(page, "Подтвердить и отправить")
    assert await page.locator("h1").inner_text() == "Подтвердите e-mail"
    assert "Код не подходит" in await page.locator(".notes").inner_text()
    await site.shot(page, "wrong-code")
    await page.get_by_label("Код из письма", exact=False).fill(right)
    await site.submit(page, "Подтвердить и отправить")
    assert "WAS-000001" in await page.locator("h1").inner_text()


async def test_markup_in_every_field_is_shown_as_text(browser: Browser, site: Site) -> None:
    page = await new_page(browser)
    await page.goto(site.url)
    await page.get_by_label("Описание проблемы").fill(f"{TERSE} {XSS}")
    await page.get_by_label("Согласен на обработку", exact=False).check()
    await site.submit(page, "Отправить")
    for name in ("steps", "site_url", "edition", "version", "coupon", "contact_email"):
        await page.locator(f"#f_{name}").fill(XSS)  # the terse request reads as not critical
    await site.submit(page, "Отправить")
    await site.shot(page, "xss")
    # Nothing the customer typed became an element: the values come back as they were typed
    assert await page.locator("main script, main img").count() == 0
    assert XSS in await page.locator("#f_description").input_value()
    html = await page.content()
    assert "<script>alert" not in html and "<img src=x" not in html
    for name in ("site_url", "contact_email"):
        assert await page.locator(f"#f_{name}").input_value() == XSS


async def test_a_post_without_the_csrf_token_is_refused(browser: Browser, site: Site) -> None:
    page = await new_page(browser)
    await page.goto(site.url)  # the session cookie is set
    form = {"description": PASTE, "consent": "yes"}
    refused = await page.request.post(site.url, multipart=form)
    assert refused.status == 403
    forged = await page.request.post(site.url, multipart={**form, "csrf": "x" * 43})
    assert forged.status == 403
    assert await site.app.store.tickets_of("web", "anyone") == []
    # The page's own form (with its token) is taken
    token = await page.locator("input[name=csrf]").first.input_value()
    taken = await page.request.post(site.url, multipart={**form, "csrf": token})
    assert taken.status == 200
    headers = taken.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "httponly" in (await page.context.cookies())[0].__repr__().lower()


async def test_a_filled_honeypot_keeps_nothing(browser: Browser, site: Site) -> None:
    page = await new_page(browser)
    await page.goto(site.url)
    token = await page.locator("input[name=csrf]").first.input_value()
    form = {"description": PASTE, "consent": "yes", "csrf": token, "website": "http://spam"}
    answered = await page.request.post(site.url, multipart=form)
    # The robot gets the empty form back; no consent, draft or code was made
    assert answered.status == 200 and "Согласен на обработку" in await answered.text()
    assert await site.mail.fetch_all("customer") == []
    [cookie] = [c for c in await page.context.cookies() if c["name"] == "frontdesk_session"]
    session = cookie["value"].split(".")[0]
    assert await site.app.desk.consent_request("web", session, "ru") is not None
    assert await site.app.desk.conversation("web", session) is None
