"""What a conversation step answers, independent of the transport (Telegram or a terminal)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.client import ApiClient
from bot.formatting import Texts
from bot.results import StaffMember

# Telegram refuses longer message texts.
MAX_TEXT = 4096


@dataclass(frozen=True)
class Button:
    """An inline button; `data` comes back when it is pressed (at most 64 bytes)."""

    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """Text and buttons to show; `edit` replaces the message whose button was pressed.

    `toast` is the short notice on the pressed button; `follow_up` is awaited in the
    background and its reply sent when ready (e.g. a scoring run that finished).
    """

    text: str
    buttons: Keyboard = ()
    edit: bool = False
    toast: str | None = None
    follow_up: Callable[[], Awaitable[Reply]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Chat:
    """One message or button press from a known staff member, and what answering needs."""

    api: ApiClient
    actor: int
    chat_id: int
    staff: StaffMember
    t: Texts
    page_size: int
    # The message being answered: the bot's, whose button was pressed, or the user's own.
    message_id: int | None = None

    def key(self, *parts: object) -> str:
        """An idempotency key tied to the message answered: a double tap repeats it."""
        return ":".join(["tg", str(self.chat_id), str(self.message_id), *map(str, parts)])


def keyboard(*rows: Sequence[Button]) -> Keyboard:
    """Rows of buttons, empty rows left out."""
    return tuple(tuple(row) for row in rows if row)


def pages(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a text into messages Telegram accepts, at line breaks where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def nav_row(prefix: str, offset: int, size: int, more: bool, t: Texts) -> list[Button]:
    """« Previous / Next » buttons of a paged list; `prefix` + offset is the button data."""
    row: list[Button] = []
    if offset > 0:
        row.append(Button(t._("« Previous"), f"{prefix}{max(0, offset - size)}"))
    if more:
        row.append(Button(t._("Next »"), f"{prefix}{offset + size}"))
    return row
