"""How an agent closes a ticket by e-mail: the convention agreed with support (4.3).

An answer closes the ticket when it has a line `Статус: закрыто` alone on its line (`Status:
closed` works too) or `[Закрыто]` in its subject. The customer is then told it is closed and
reminded to change the passwords and disable the temporary accounts given to support (4.3); the
marker line itself is not shown to them.
"""

from __future__ import annotations

import re

__all__ = ["closes_ticket", "without_closure_line"]

_CLOSURE_LINE = re.compile(
    r"^\s*(статус|status)\s*:\s*(закрыто|закрыт|closed)\s*\.?\s*$", re.IGNORECASE | re.MULTILINE
)
_CLOSURE_SUBJECT = re.compile(r"\[\s*(закрыто|closed)\s*\]", re.IGNORECASE)


def closes_ticket(subject: str, text: str) -> bool:
    """Whether an agent's answer with this subject and text closes the ticket."""
    return bool(_CLOSURE_SUBJECT.search(subject) or _CLOSURE_LINE.search(text))


def without_closure_line(text: str) -> str:
    """The answer as the customer is to read it: the closure line removed."""
    return _CLOSURE_LINE.sub("", text).strip()
