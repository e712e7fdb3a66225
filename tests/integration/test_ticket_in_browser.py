"""The ticket e-mail's HTML part as an agent sees it: opened in Debian's headless `chromium`.

The HTML part is written to a file unchanged except for a probe script appended at the end of its
body. The probe records what the browser really shows (`document.body.innerText`, which leaves
out what is hidden or folded), the headings, and the computed style of the priority line; the
test reads them back from the DOM that `chromium --dump-dom` prints.
"""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.tickets.model import (
    FIELD_LABELS,
    UNKNOWN_VALUE_NOTES,
    AttachmentRef,
    Classification,
    Ticket,
)
from bot.tickets.render import PRIORITY_CRITICAL, render_ticket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
ORIGINAL_LAST_LINE = "Купон не помню, версию тоже."

# Runs in the page after everything above it is parsed; the browser lays the page out to answer.
PROBE = """<script>
(function () {
  const priority = document.querySelector(".priority");
  const style = priority ? getComputedStyle(priority) : null;
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    visible: document.body.innerText,
    h1: Array.from(document.querySelectorAll("h1"), (h) => h.textContent),
    headings: Array.from(document.querySelectorAll("h1, h2"), (h) => h.textContent),
    priority: priority ? priority.innerText : null,
    priorityBackground: style ? style.backgroundColor : null,
    priorityWeight: style ? Number(style.fontWeight) : 0,
  });
  document.body.appendChild(probe);
})();
</script>"""


@dataclass(frozen=True)
class Seen:
    """What the browser rendered."""

    visible: str  # the page's text as shown: table cells separated by tabs, folded parts left out
    h1: list[str]
    headings: list[str]
    priority: str | None
    priority_background: str | None
    priority_weight: int
    dom_text: str  # every text node of the page, shown or not


class _DomReader(HTMLParser):
    """Collects the probe's JSON and all text of the dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.probe = ""
        self.text: list[str] = []
        self._in_probe = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_probe = tag == "pre" and ("id", "probe") in attrs

    def handle_endtag(self, tag: str) -> None:
        self._in_probe = False

    def handle_data(self, data: str) -> None:
        if self._in_probe:
            self.probe += data
        else:
            self.text.append(data)


def open_in_chromium(page: str, tmp_path: Path) -> Seen:
    path = tmp_path / "ticket.html"
    path.write_text(page.replace("</body>", f"{PROBE}\n</body>", 1), encoding="utf-8")
    result = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    reader = _DomReader()
    reader.feed(result.stdout)
    assert reader.probe, f"the probe did not run; chromium said: {result.stderr[-2000:]}"
    data: dict[str, Any] = json.loads(reader.probe)
    return Seen(
        visible=data["visible"],
        h1=data["h1"],
        headings=data["headings"],
        priority=data["priority"],
        priority_background=data["priorityBackground"],
        priority_weight=data["priorityWeight"],
        dom_text="".join(reader.text),
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def ticket(workdir: Path) -> Ticket:
    """Critical, with a Cyrillic e-mail, 4.2.6 details, an unknown version and a screenshot."""
    screenshot = workdir / "экран корзины.png"
    screenshot.write_bytes(PNG)
    return Ticket(
        id="WAS-000042",
        channel="telegram",
        customer_id="42",
        lang="ru",
        description="Сайт не открывается: на всех страницах 502 Bad Gateway",
        steps="1. Открыть главную страницу\n2. Подождать минуту",
        site_url="https://пример.рф/catalog",
        product="1С-Битрикс: Управление сайтом",
        edition="Бизнес",
        version="не знаю",
        coupon="AB12-CD34-EF56",
        contact_email="ivan@xn--e1afmkfd.xn--p1ai",
        classification=Classification("error", True, "3.4.1.1", True, 0.93),
        created_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        attachments=[AttachmentRef(screenshot.name, str(screenshot), "image/png", len(PNG))],
        details={"error_text": "502 Bad Gateway", "since": "сегодня утром"},
        detail_labels={"since": "Когда началось"},
        original_text=(
            "Здравствуйте! Сайт не открывается: на всех страницах 502 Bad Gateway.\n"
            + ORIGINAL_LAST_LINE
        ),
    )


@pytest.fixture(scope="module")
def seen(ticket: Ticket, workdir: Path) -> Seen:
    """The ticket rendered once and opened once for all tests of this module (about 2 s)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install -y chromium; scripts/test does it)")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        support_address="support@whatasoft.net",
        from_address="frontdesk@desk.whatasoft.net",
        data_dir=workdir / "var",
    )
    raw = render_ticket(ticket, settings).as_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(("html",))
    assert part is not None
    return open_in_chromium(str(part.get_content()), workdir)  # type: ignore[attr-defined]


def test_every_4_2_field_is_shown_with_its_label_and_value(ticket: Ticket, seen: Seen) -> None:
    rows = {
        "description": ticket.description,
        "steps": "1. Открыть главную страницу\n2. Подождать минуту",
        "site_url": "https://пример.рф/catalog (https://xn--e1afmkfd.xn--p1ai/catalog)",
        "product": ticket.product,
        "edition": ticket.edition,
        "version": "не знаю",
        "coupon": ticket.coupon,
        "contact_email": "ivan@пример.рф (ivan@xn--e1afmkfd.xn--p1ai)",
    }
    assert set(rows) == set(FIELD_LABELS)  # a field added to the ticket is checked here too
    for name, value in rows.items():
        assert f"{FIELD_LABELS[name]['ru']}\t{value}" in seen.visible, name


def test_the_contact_is_readable_in_unicode(seen: Seen) -> None:
    assert "ivan@пример.рф" in seen.visible


def test_one_heading_names_the_ticket(seen: Seen) -> None:
    assert seen.h1 == ["[КРИТИЧНО] Обращение WAS-000042"]
    assert [h for h in seen.headings if "WAS-000042" in h] == seen.h1


def test_the_critical_priority_line_stands_out_under_the_heading(seen: Seen) -> None:
    lines = [line for line in seen.visible.splitlines() if line.strip()]
    assert lines[:2] == ["[КРИТИЧНО] Обращение WAS-000042", PRIORITY_CRITICAL]
    assert seen.priority == PRIORITY_CRITICAL
    assert seen.priority_background not in (None, "rgba(0, 0, 0, 0)", "transparent")
    assert seen.priority_weight >= 600


def test_details_notes_and_attachment_are_shown(seen: Seen) -> None:
    assert "Текст ошибки\t502 Bad Gateway" in seen.visible  # labelled from data/questions.json
    assert "Когда началось\tсегодня утром" in seen.visible  # the label the ticket carries
    assert "error_text" not in seen.visible and "since" not in seen.visible
    assert UNKNOWN_VALUE_NOTES["version"] in seen.visible
    assert "Вложения\tэкран корзины.png" in seen.visible


def test_the_original_message_is_folded_at_the_end(seen: Seen) -> None:
    assert seen.visible.rstrip().endswith("Исходное сообщение клиента")
    assert ORIGINAL_LAST_LINE not in seen.visible  # folded until the agent opens it
    assert ORIGINAL_LAST_LINE in seen.dom_text
