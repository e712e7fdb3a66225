"""What the e-mail channel itself writes around the desk's words: subjects and the privacy footer.

The words of its replies are the desk's: the guided form (bot/intake/form_texts.py), the identity
notices (bot/identity/proof.py, bot/identity/forget.py) and the core's texts.
"""

from __future__ import annotations

# The subject of a reply to a message that had none worth repeating.
DEFAULT_SUBJECT = "Обращение в техническую поддержку"


def notice_subject(ticket_id: str | None) -> str:
    """The subject of a desk notice that answers no message of the customer's."""
    return f"[{ticket_id}] Что за софт: обращение" if ticket_id else "Что за софт: обращение"


def privacy_footer(policy_url: str) -> str:
    return (
        f"Обработка персональных данных: {policy_url} — удалить свои данные: письмо с темой "
        f"«Удалить мои данные».\nPersonal data: {policy_url} — to have your data deleted, send "
        "a message with the subject “Forget me”."
    )
