"""The conversation, whatever carries it (Telegram or a terminal): who is asking, which flow
answers, and what to say when something fails.

Only active staff get answers. Everybody else gets one polite refusal (then silence for a
while, so the bot cannot be used to spam anyone), and each attempt is logged without the
person's id or words.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from babel.support import Translations

from bot.client import ApiClient, ApiError, ApiFailure, ApiUnavailable, NotStaff, Problem
from bot.formatting import Texts, zone
from bot.handlers import customers, start
from bot.i18n import reply_language
from bot.replies import Chat, Reply
from bot.results import StaffMember
from bot.routes import COMMANDS_BY_NAME, Flow, parse_button

log = logging.getLogger(__name__)
# After a refusal, the same unknown user's further attempts are logged but not answered.
REFUSAL_QUIET_SECONDS = 600.0


@dataclass(frozen=True)
class Sender:
    """Who sent a message or pressed a button, where, and which message is answered."""

    user_id: int
    chat_id: int
    language_code: str | None
    message_id: int | None = None


class Conversation:
    """Routes commands, button presses and typed text to flows, as the sender's staff member."""

    def __init__(
        self,
        api: ApiClient,
        catalogs: dict[str, Translations],
        *,
        page_size: int = 5,
        currency: str = "USD",
        currency_exponent: int = 2,
        staff_cache_seconds: float = 60.0,
    ) -> None:
        self.api = api
        self.catalogs = catalogs
        self.page_size = page_size
        self.currency = currency
        self.currency_exponent = currency_exponent
        self.staff_cache_seconds = staff_cache_seconds
        self._staff: dict[int, tuple[float, StaffMember]] = {}
        self._refused: dict[str, float] = {}
        # Keyed hashes let log lines of one process be correlated without the Telegram id.
        self._log_key = secrets.token_bytes(16)

    def texts(self, sender: Sender, staff: StaffMember | None) -> Texts:
        """Words and formats for this sender (Telegram language, else staff language)."""
        language = reply_language(sender.language_code, staff.language if staff else None)
        return Texts(
            language=language,
            translations=self.catalogs[language],
            timezone=zone(staff.timezone if staff else None),
            currency=self.currency,
            currency_exponent=self.currency_exponent,
        )

    async def identify(self, user_id: int) -> StaffMember:
        """The active staff member linked to this Telegram user (briefly cached), or NotStaff."""
        cached = self._staff.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            staff = await self.api.me(user_id)
        except NotStaff:
            self._staff.pop(user_id, None)
            raise
        self._staff[user_id] = (time.monotonic() + self.staff_cache_seconds, staff)
        return staff

    async def command(self, sender: Sender, name: str, args: list[str]) -> Reply:
        """Answer a /command."""
        name = name.lower()
        command = COMMANDS_BY_NAME.get(name)
        try:
            staff = await self.identify(sender.user_id)
        except NotStaff:
            if name == "start" and args:
                t = self.texts(sender, None)
                key = f"tg:link:{sender.user_id}:{sender.message_id}"
                reply = await self._guard(t, start.link(self.api, t, sender.user_id, args[0], key))
                self._staff.pop(sender.user_id, None)
                return reply
            return self._refuse(sender, "command")
        except ApiFailure as failure:
            return self._failure(self.texts(sender, None), failure)
        chat = self._chat(sender, staff)
        if command is None:
            return Reply(chat.t._("I don't know that command. Send /help for the list."))
        if command.admin and not staff.is_admin:
            return Reply(chat.t._("This command is for admins."))
        return await self._run(chat, command.flow, args)

    async def press(self, sender: Sender, data: str) -> Reply:
        """Answer a button press."""
        parsed = parse_button(data)
        try:
            staff = await self.identify(sender.user_id)
        except NotStaff:
            return self._refuse(sender, "button")
        except ApiFailure as failure:
            return self._failure(self.texts(sender, None), failure)
        chat = self._chat(sender, staff)
        if parsed is None:
            stale = chat.t._("This button is out of date.")
            return Reply("", toast=stale)
        flow, args = parsed
        return await self._run(chat, flow, args)

    async def text(self, sender: Sender, text: str) -> Reply:
        """Answer typed text: a customer's name, email or phone."""
        try:
            staff = await self.identify(sender.user_id)
        except NotStaff:
            return self._refuse(sender, "text")
        except ApiFailure as failure:
            return self._failure(self.texts(sender, None), failure)
        chat = self._chat(sender, staff)
        return await self._guard(chat.t, customers.free_text(chat, text))

    def _chat(self, sender: Sender, staff: StaffMember) -> Chat:
        return Chat(
            api=self.api,
            actor=sender.user_id,
            chat_id=sender.chat_id,
            staff=staff,
            t=self.texts(sender, staff),
            page_size=self.page_size,
            message_id=sender.message_id,
        )

    async def _run(self, chat: Chat, flow: Flow, args: list[str]) -> Reply:
        return await self._guard(chat.t, flow(chat, args))

    async def _guard(self, t: Texts, step: Awaitable[Reply]) -> Reply:
        """Await a flow; API failures become a reply in plain words."""
        try:
            return await step
        except ApiFailure as failure:
            return self._failure(t, failure)

    def _failure(self, t: Texts, failure: ApiFailure) -> Reply:
        if isinstance(failure, ApiUnavailable):
            log.warning("API unavailable: %s", failure)
            text = t._("The service is unavailable right now. Please try again in a minute.")
            return Reply(text, toast=text[:190])
        if isinstance(failure, NotStaff):
            return start.refusal(t)
        if isinstance(failure, Problem):
            if failure.kind == "NotFound":
                return Reply(t._("Nothing found with that number."), toast=t._("Not found"))
            if failure.kind == "Forbidden":
                return Reply(t._("You may not do that."), toast=t._("Not allowed"))
            return Reply(failure.message, toast=failure.message[:190])
        log.error("API error: %s", failure)
        assert isinstance(failure, ApiError)
        text = t._("Something went wrong on our side. The team has been told.")
        return Reply(text, toast=text[:190])

    def _refuse(self, sender: Sender, kind: str) -> Reply:
        digest = hmac.new(self._log_key, str(sender.user_id).encode(), hashlib.sha256).hexdigest()
        now = time.monotonic()
        answered = self._refused.get(digest, 0.0) > now
        log.warning(
            "refused a %s from a Telegram user who is not active staff (user %s, %s)",
            kind,
            digest[:12],
            "not answered again" if answered else "answered",
        )
        reply = start.refusal(self.texts(sender, None))
        if answered:
            return Reply("", toast=reply.text[:190])
        if len(self._refused) > 10_000:
            self._refused = {k: v for k, v in self._refused.items() if v > now}
        self._refused[digest] = now + REFUSAL_QUIET_SECONDS
        return reply
