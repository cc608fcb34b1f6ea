"""The same conversation in a terminal, for a machine without a Telegram token.

Buttons are shown as numbered choices: typing the number presses the button.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TextIO

from bot.client import ApiClient
from bot.conversation import Conversation, Sender
from bot.i18n import load_catalogs
from bot.replies import Button, Reply
from bot.settings import get_bot_settings

log = logging.getLogger(__name__)
QUIT = {"/quit", "/exit", "quit", "exit"}


class Terminal:
    """Shows replies and remembers the buttons of the latest message that had any."""

    def __init__(self, output: TextIO) -> None:
        self.output = output
        self.buttons: list[Button] = []
        self.buttons_message: int | None = None
        # Message ids go into idempotency keys: start from the clock so that a new session
        # never repeats an earlier session's keys (Telegram's ids are unique per chat anyway).
        self._ids: Iterator[int] = itertools.count(time.time_ns() // 1_000_000)

    def next_id(self) -> int:
        """A fresh message id, for the user's lines and the bot's messages alike."""
        return next(self._ids)

    def show(self, reply: Reply, edited: int | None = None) -> None:
        """Print a reply; its buttons become the numbered choices."""
        if reply.toast:
            self.output.write(f"» {reply.toast}\n")
        if not reply.text:
            self.output.flush()
            return
        message_id = edited if reply.edit and edited is not None else self.next_id()
        self.output.write(f"\n{reply.text}\n")
        flat = [button for row in reply.buttons for button in row]
        if flat:
            self.buttons, self.buttons_message = flat, message_id
            choices = "  ".join(f"[{i}] {button.label}" for i, button in enumerate(flat, 1))
            self.output.write(f"{choices}\n")
        self.output.write("\n")
        self.output.flush()


async def chat_in_terminal(
    conversation: Conversation,
    telegram_user_id: int,
    language: str | None,
    input_stream: TextIO,
    output: TextIO,
) -> None:
    """Read lines until end of input or /quit; answer each like the Telegram bot would."""
    terminal = Terminal(output)
    loop = asyncio.get_running_loop()
    follow_ups: set[asyncio.Task[None]] = set()
    output.write("Lifecycle sales assistant. /help lists commands; numbers press buttons; /quit.\n")
    output.flush()
    while True:
        line = await loop.run_in_executor(None, input_stream.readline)
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT:
            break
        try:
            reply, edited = await _answer(
                conversation, terminal, telegram_user_id, language, text, terminal.next_id()
            )
        except Exception:
            log.exception("error while answering in the terminal")
            reply, edited = Reply("Something went wrong on our side. The team has been told."), None
        terminal.show(reply, edited)
        if reply.follow_up is not None:
            task = asyncio.create_task(_show_later(terminal, reply.follow_up))
            follow_ups.add(task)
            task.add_done_callback(follow_ups.discard)
    for task in follow_ups:
        task.cancel()


async def _show_later(terminal: Terminal, follow_up: Callable[[], Awaitable[Reply]]) -> None:
    terminal.show(await follow_up())


async def _answer(
    conversation: Conversation,
    terminal: Terminal,
    telegram_user_id: int,
    language: str | None,
    text: str,
    message_id: int,
) -> tuple[Reply, int | None]:
    """The reply to one line, and the id of the message it edits (a pressed button's)."""
    sender = Sender(telegram_user_id, telegram_user_id, language, message_id)
    if text.isdigit() and terminal.buttons and 1 <= int(text) <= len(terminal.buttons):
        edited = terminal.buttons_message
        pressed = Sender(telegram_user_id, telegram_user_id, language, edited)
        return await conversation.press(pressed, terminal.buttons[int(text) - 1].data), edited
    if text.startswith("/"):
        head, *args = text.split()
        return await conversation.command(sender, head[1:], args), None
    return await conversation.text(sender, text), None


async def console_session(
    api_url: str,
    api_token: str,
    telegram_user_id: int,
    *,
    language: str | None = None,
    input_stream: TextIO,
    output: TextIO,
) -> None:
    """Open the API client, chat until the input ends, close the client."""
    settings = get_bot_settings()
    api = ApiClient(api_url, api_token, timeout=settings.bot_api_timeout)
    try:
        conversation = Conversation(
            api,
            load_catalogs(),
            page_size=settings.bot_page_size,
            currency=settings.currency,
            currency_exponent=settings.currency_exponent,
        )
        await chat_in_terminal(conversation, telegram_user_id, language, input_stream, output)
    finally:
        await api.aclose()


def run_console(
    api_url: str,
    api_token: str,
    telegram_user_id: int,
    *,
    language: str | None = None,
    input_stream: TextIO | None = None,
    output: TextIO | None = None,
) -> None:
    """Chat with the bot in this terminal as the staff member linked to `telegram_user_id`."""
    asyncio.run(
        console_session(
            api_url,
            api_token,
            telegram_user_id,
            language=language,
            input_stream=input_stream or sys.stdin,
            output=output or sys.stdout,
        )
    )
