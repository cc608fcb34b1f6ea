"""Which flow answers which command and which button, and /help that lists them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.handlers import (
    admin,
    crosssell,
    customers,
    funnel,
    reactivation,
    referrals,
    start,
    suggestions,
    today,
)
from bot.i18n import N_
from bot.replies import Chat, Reply

Flow = Callable[[Chat, list[str]], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    """A slash command: its flow, its /help line (a message id) and who may use it."""

    name: str
    description: str
    flow: Flow
    admin: bool = False


async def help_command(chat: Chat, args: list[str]) -> Reply:
    """/help: the commands this staff member may use."""
    t = chat.t
    lines = [t._("What I can do:")]
    lines.extend(
        f"/{command.name} — {t._(command.description)}"
        for command in COMMANDS
        if chat.staff.is_admin or not command.admin
    )
    lines.append(t._("Or just type a customer's name, email or phone."))
    return Reply("\n".join(lines))


COMMANDS: tuple[Command, ...] = (
    Command("today", N_("who to contact today"), today.today_command),
    Command("find", N_("find a customer by name, email, phone or number"), customers.find_command),
    Command("customer", N_("a customer's card, e.g. /customer 42"), customers.customer_command),
    Command("suggestions", N_("my open suggestions"), suggestions.suggestions_command),
    Command("reactivate", N_("my best customers to wake up"), reactivation.reactivate_command),
    Command("crosssell", N_("what a customer may buy next"), crosssell.crosssell_command),
    Command("refer", N_("send a referral offer"), referrals.refer_command),
    Command("funnel", N_("customers per stage and this week's moves"), funnel.funnel_command),
    Command("score", N_("start a scoring run (admin)"), admin.score_command, admin=True),
    Command("status", N_("the latest scoring runs (admin)"), admin.status_command, admin=True),
    Command("help", N_("this list"), help_command),
    Command("start", N_("start over"), start.welcome),
)
COMMANDS_BY_NAME = {command.name: command for command in COMMANDS}

# Button data is "<prefix>:<arg>:<arg>..."; each prefix names the flow that answers it.
CALLBACKS: dict[str, Flow] = {
    "card": customers.on_card,
    "hist": customers.on_history,
    "xs": crosssell.on_cross_sell,
    "wake": reactivation.on_plan,
    "react": reactivation.on_page,
    "ref": referrals.on_ask,
    "refo": referrals.on_offer,
    "refgo": referrals.on_send,
    "refx": referrals.on_cancel,
    "sug": suggestions.on_page,
    "sugok": suggestions.on_accept,
    "sugno": suggestions.on_dismiss,
    "today": today.on_page,
}
# The arguments each button carries: "n" a number, "c" a code. Anything else is stale or forged.
CALLBACK_ARGS = {
    "card": "n",
    "hist": "n",
    "xs": "n",
    "wake": "n",
    "react": "n",
    "ref": "n",
    "refo": "nn",
    "refgo": "nnc",
    "refx": "",
    "sug": "n",
    "sugok": "nn",
    "sugno": "nn",
    "today": "n",
}


def parse_button(data: str) -> tuple[Flow, list[str]] | None:
    """The flow and arguments of a button's data, or None for a button this bot does not know."""
    prefix, *args = data.split(":")
    spec = CALLBACK_ARGS.get(prefix)
    if spec is None or len(args) != len(spec):
        return None
    for kind, arg in zip(spec, args, strict=True):
        valid = arg.isascii() and (arg.isdigit() if kind == "n" else arg.replace("_", "").isalnum())
        if not valid or len(arg) > 20:
            return None
    return CALLBACKS[prefix], args
