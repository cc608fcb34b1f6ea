"""Run the Telegram Bot API emulator (node server.js) and act as Telegram users against it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from telegram import BotCommand, Message
from telegram.ext import Application

PACKAGE_DIR = Path(__file__).resolve().parent
INSTALL_HINT = "run `npm ci --prefix tests/e2e/telegram`"
_READY = re.compile(r"telegram-emulator ready (http://127\.0\.0\.1:\d+)")
_EDITS = frozenset({"editMessageText", "editMessageReplyMarkup"})

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class EmulatorError(RuntimeError):
    """The emulator could not start, or refused a user-side request."""


@dataclass
class TelegramEmulator:
    """A running emulator; each bot token has its own updates, messages and commands in it."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _bot_ids: Iterator[int] = field(default_factory=lambda: itertools.count(7_000_000_001))

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url``: PTB appends the token to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url`` (files are not emulated yet)."""
        return f"{self.url}/file/bot"

    def new_token(self) -> str:
        """Return a fresh ``<bot id>:<secret>`` token, i.e. a bot no other test has used."""
        return f"{next(self._bot_ids)}:{secrets.token_urlsafe(24)}"

    def log(self) -> str:
        """Return what node printed so far (stdout and stderr)."""
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def run_emulator(
    package_dir: Path = PACKAGE_DIR, startup_timeout: float = 20.0
) -> Iterator[TelegramEmulator]:
    """Start the emulator on a free 127.0.0.1 port, wait until it answers, stop it on exit."""
    node = shutil.which("node")
    if node is None:
        raise EmulatorError("`node` is not on PATH: the Telegram emulator needs Node.js >= 20")
    if not (package_dir / "node_modules" / "telegram-test-api").is_dir():
        raise EmulatorError(f"telegram-test-api is not installed in {package_dir}: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="telegram-emulator-") as tmp:
        log_path = Path(tmp) / "node.log"
        with log_path.open("wb") as log:
            # Port 0: node binds a free port itself and prints it, so there is no port race.
            process = subprocess.Popen(
                [node, "server.js", "0"],
                cwd=package_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            url = _wait_until_ready(process, log_path, startup_timeout)
            yield TelegramEmulator(url, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> str:
    """Return the emulator's URL once it printed its ready line and answers getMe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = log_path.read_text(errors="replace")
        if process.poll() is not None:
            raise EmulatorError(f"emulator exited with code {process.returncode}:\n{log}")
        ready = _READY.search(log)
        if ready:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.post(f"{ready[1]}/bot1:probe/getMe", timeout=2).json().get("ok"):
                    return ready[1]
        time.sleep(0.02)
    raise EmulatorError(f"emulator did not answer within {timeout}s:\n{log_path.read_text()}")


@contextlib.asynccontextmanager
async def running_bot(application: AnyApplication) -> AsyncIterator[AnyApplication]:
    """Run a built PTB Application with long polling, as ``run_polling`` would, inside a test."""
    assert application.updater is not None, "build the Application with an Updater"
    await application.initialize()
    await application.start()
    await application.updater.start_polling()
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@dataclass(frozen=True)
class Event:
    """One transcript entry: a user action or a call the bot made, with its result or error."""

    seq: int
    actor: str  # "user" or "bot"
    method: str
    chat_id: int | None
    params: dict[str, Any]
    result: Any = None
    error: str | None = None

    @property
    def message(self) -> Message:
        """The Message the bot got back from this sendMessage/edit call."""
        return Message.de_json(self.result, None)

    def __str__(self) -> str:
        outcome = f"ERROR {self.error}" if self.error else f"-> {self.result!r}"
        return f"#{self.seq} {self.actor}.{self.method} chat={self.chat_id} {self.params} {outcome}"


class TelegramClient:
    """The Telegram side of one bot (one token): its users, transcript and recorded state."""

    def __init__(self, emulator: TelegramEmulator, token: str | None = None) -> None:
        self.emulator = emulator
        self.token = token or emulator.new_token()
        self.events: list[Event] = []
        self._http = httpx.AsyncClient(base_url=emulator.url)
        # Concurrent waiters share one long poll; each re-reads `events` after getting the lock.
        self._fetch_lock = asyncio.Lock()

    @property
    def base_url(self) -> str:
        """``ApplicationBuilder.base_url`` value for this bot."""
        return self.emulator.base_url

    @property
    def base_file_url(self) -> str:
        """``ApplicationBuilder.base_file_url`` value for this bot."""
        return self.emulator.base_file_url

    async def __aenter__(self) -> TelegramClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    def user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
    ) -> TelegramUser:
        """Return a user who writes to the bot in a private chat (chat id == user id)."""
        return TelegramUser(self, user_id, first_name, language_code, username)

    async def call(self, method: str, payload: dict[str, Any], timeout: float = 10.0) -> Any:
        """POST a user-side emulator route and return its result."""
        response = await self._http.post(f"/{method}", json=payload, timeout=timeout)
        body = response.json()
        if not body.get("ok"):
            raise EmulatorError(f"{method} failed: {body.get('description', body)}")
        return body["result"]

    async def fetch(self, timeout: float = 0.0) -> None:
        """Append new transcript events, waiting up to ``timeout`` seconds for the first one."""
        async with self._fetch_lock:
            after = self.events[-1].seq if self.events else 0
            payload = {"token": self.token, "after": after, "timeout": timeout}
            raw = await self.call("transcript", payload, timeout=timeout + 10)
            self.events.extend(Event(**event) for event in raw)

    async def wait_for(
        self, match: Callable[[Event], bool], timeout: float = 5.0, skip: Collection[int] = ()
    ) -> Event:
        """Return the first event (in transcript order) that matches and is not in ``skip``."""
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for event in self.events[checked:]:
                if event.seq not in skip and match(event):
                    return event
            checked = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"nothing matched within {timeout}s\n{self.transcript_text()}")
            await self.fetch(remaining)

    async def callback_answers(self) -> list[dict[str, Any]]:
        """Return the params of every successful answerCallbackQuery, oldest first."""
        await self.fetch()
        return [e.params for e in self.events if e.method == "answerCallbackQuery" and not e.error]

    async def unanswered_callbacks(self) -> list[str]:
        """Return the ids of pressed buttons (callback queries) the bot has not answered."""
        answered = {str(params["callback_query_id"]) for params in await self.callback_answers()}
        pressed = [
            str(e.result["callback_query_id"])
            for e in self.events
            if e.actor == "user" and e.method == "sendCallback" and not e.error
        ]
        return [query_id for query_id in pressed if query_id not in answered]

    async def commands(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[BotCommand]:
        """Return the bot's registered commands for a scope and language, via getMyCommands."""
        payload: dict[str, Any] = {"scope": scope, "language_code": language_code}
        response = await self._http.post(
            f"/bot{self.token}/getMyCommands",
            json={key: value for key, value in payload.items() if value is not None},
        )
        return [BotCommand(c["command"], c["description"]) for c in response.json()["result"]]

    def transcript_text(self) -> str:
        """Return the transcript fetched so far, one event per line (for failure messages)."""
        return "transcript:\n" + "\n".join(f"  {event}" for event in self.events)


@dataclass
class TelegramUser:
    """A Telegram user chatting with the bot; reads the bot's messages like an inbox."""

    client: TelegramClient
    id: int
    first_name: str
    language_code: str | None
    username: str | None
    # Transcript entries already returned by next_reply/next_edit, so each is returned once.
    _consumed: set[int] = field(default_factory=set)

    @property
    def chat_id(self) -> int:
        """The private chat's id, which Telegram makes equal to the user's id."""
        return self.id

    def _from(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        if self.username:
            user["username"] = self.username
        return user

    async def send(self, text: str) -> int:
        """Send ``text`` (a leading /command gets its bot_command entity); return its message id."""
        chat = {"id": self.id, "type": "private", "first_name": self.first_name}
        payload: dict[str, Any] = {"botToken": self.client.token, "from": self._from()}
        payload.update(chat=chat, text=text)
        route = "sendMessage"
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            payload["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            route = "sendCommand"
        return int((await self.client.call(route, payload))["message_id"])

    async def press(
        self, message: Message, callback_data: str | None = None, *, text: str | None = None
    ) -> str:
        """Press the inline button with this callback_data (or text); return the query id."""
        buttons = message.reply_markup.inline_keyboard if message.reply_markup else ()
        found = [
            button
            for row in buttons
            for button in row
            if (callback_data is not None and button.callback_data == callback_data)
            or (text is not None and button.text == text)
        ]
        if len(found) != 1 or not isinstance(found[0].callback_data, str):
            raise LookupError(f"no single callback button {callback_data or text!r} in {buttons}")
        payload = {
            "botToken": self.client.token,
            "from": self._from(),
            "message": {"message_id": message.message_id, "chat": {"id": message.chat_id}},
            "data": found[0].callback_data,
        }
        return str((await self.client.call("sendCallback", payload))["callback_query_id"])

    async def next_reply(self, timeout: float = 5.0) -> Message:
        """Wait for the next bot message in this chat that was not returned before."""
        event = await self.client.wait_for(
            lambda e: (
                e.actor == "bot"
                and e.method == "sendMessage"
                and not e.error
                and e.chat_id == self.chat_id
            ),
            timeout,
            skip=self._consumed,
        )
        self._consumed.add(event.seq)
        return event.message

    async def next_edit(self, message_id: int, timeout: float = 5.0) -> Message:
        """Wait for the next edit of bot message ``message_id``; return the edited message."""
        event = await self.client.wait_for(
            lambda e: (
                e.method in _EDITS
                and not e.error
                and e.chat_id == self.chat_id
                and e.message.message_id == message_id
            ),
            timeout,
            skip=self._consumed,
        )
        self._consumed.add(event.seq)
        return event.message

    async def callback_answer(self, callback_query_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the bot's answerCallbackQuery to this query; return its params."""
        event = await self.client.wait_for(
            lambda e: (
                e.method == "answerCallbackQuery"
                and not e.error
                and str(e.params["callback_query_id"]) == callback_query_id
            ),
            timeout,
        )
        return event.params

    async def messages(self) -> list[Message]:
        """Return the bot's messages in this chat as they look now (edits applied)."""
        await self.client.fetch()
        current: dict[int, Message] = {}
        for event in self.client.events:
            if event.actor != "bot" or event.error or event.chat_id != self.chat_id:
                continue
            if event.method == "sendMessage" or event.method in _EDITS:
                current[event.message.message_id] = event.message
            elif event.method == "deleteMessage":
                current.pop(int(event.params["message_id"]), None)
        return list(current.values())
