"""/start: a greeting for staff, or linking a Telegram account with a one-time code."""

from __future__ import annotations

from bot.client import ApiClient, Problem
from bot.formatting import Texts
from bot.replies import Chat, Reply


async def welcome(chat: Chat, args: list[str]) -> Reply:
    """/start from a linked staff member."""
    text = chat.t._("Hello, {name}! Send /help to see what I can do.").format(name=chat.staff.name)
    return Reply(text)


async def link(api: ApiClient, t: Texts, telegram_user_id: int, code: str, key: str) -> Reply:
    """/start CODE from a Telegram user not linked yet: link them to the code's staff member."""
    try:
        staff = await api.link_telegram(code, telegram_user_id, key)
    except Problem as problem:
        if problem.kind == "Conflict":
            return Reply(t._("This Telegram account is already linked to another staff member."))
        if problem.kind in {"NotFound", "ValidationError"}:
            return Reply(t._("This code is not valid or has expired. Ask an admin for a new one."))
        raise
    return Reply(
        t._("Welcome, {name}! Your Telegram account is linked. Send /help to begin.").format(
            name=staff.name
        )
    )


def refusal(t: Texts) -> Reply:
    """The one answer anybody who is not (active) staff gets."""
    return Reply(
        t._(
            "Sorry, this assistant is only for the sales team. If you are on the team, "
            "ask an admin for a link code and send /start CODE."
        )
    )
