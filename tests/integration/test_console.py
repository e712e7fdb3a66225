"""The console channel end to end: `frontdesk chat` as a customer would run it."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from bot.app import build_app
from bot.channels.console import ConsoleChannel
from bot.config import Settings
from classifier import Classifier
from tests.servers.mail import MailServers

EVERYTHING = (
    "После обновления на 25.1.0 сайт готовый-сайт-для-бизнеса.рф показывает белый экран на всех "
    "страницах. Редакция Бизнес, купон SM6-NS-ABCD12345, ответ на ivan+bx@mail.ru"
)
# Answers to whatever gates come (numbered choices: 1 = send / yes / skip / first option)
ANSWERS = ["не знаю"] + ["1"] * 8


def chat(data_dir: Path, model_dir: Path, lines: list[str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDESK_")}
    env.update(FRONTDESK_DATA_DIR=str(data_dir), FRONTDESK_MODEL_DIR=str(model_dir))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, timeout=120,
        cwd=data_dir.parent, check=True,
    )  # fmt: skip
    return result.stdout


def test_console_chat_files_a_ticket_as_an_eml_file(
    tmp_path: Path, model_dir: Path, trained_classifier: Classifier
) -> None:
    out = chat(tmp_path / "var", model_dir, [EVERYTHING, *ANSWERS])
    assert "WAS-000001" in out
    eml = tmp_path / "var" / "outbox" / "WAS-000001.eml"
    assert f"{eml.relative_to(tmp_path)}" in out or str(eml) in out
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Subject"].startswith("[КРИТИЧНО] [WAS-000001] ") or message[
        "Subject"
    ].startswith("[WAS-000001] ")
    assert message["To"] == "support@whatasoft.net"
    assert "ivan+bx@mail.ru" in message["Cc"]
    (attachment,) = [p for p in message.iter_attachments() if p.get_filename() == "ticket.json"]
    data = json.loads(attachment.get_content())
    assert data["id"] == "WAS-000001"
    assert data["site_url"].startswith("http://xn--")
    assert data["coupon"] == "SM6-NS-ABCD12345"
    assert data["channel"] == "console"


def test_console_restart_resumes_the_same_step(
    tmp_path: Path, model_dir: Path, trained_classifier: Classifier
) -> None:
    # Given a customer who stops after describing the problem
    first = chat(tmp_path / "var", model_dir, ["Не работает оформление заказа в корзине"])
    assert "по шагам" in first
    # When the desk is started again
    second = chat(tmp_path / "var", model_dir, ["1. Открыть корзину 2. Нажать Оформить"])
    # Then it asks the same question again and takes the answer where it left off
    assert "по шагам" in second
    assert "Адрес сайта, на котором наблюдается проблема" in second


async def test_console_with_smtp_files_into_the_support_mailbox(
    mail_servers: MailServers, mail_settings: Settings, trained_classifier: Classifier
) -> None:
    settings = mail_settings.model_copy(update={"imap_host": None})  # SMTP only
    app = await build_app(settings, classifier=trained_classifier)
    out = io.StringIO()
    try:
        stdin = io.StringIO("\n".join([EVERYTHING, *ANSWERS]) + "\n")
        await ConsoleChannel(app.desk, settings.data_dir, stdin, out).run()
        assert await app.drain_outbox(30)
    finally:
        await app.close()
    ticket = (await mail_servers.wait_for(1, "support"))[0]
    assert "[WAS-000001]" in ticket["Subject"]
    assert ticket["X-Priority"] is None or ticket["X-Priority"].startswith("1")
    text = out.getvalue()
    queued = text.index("поставлено в очередь")
    filed = text.index("официально зарегистрировано")
    assert queued < filed  # the customer is told "filed" only after the server accepted it
