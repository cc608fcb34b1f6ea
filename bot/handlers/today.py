"""/today (and the morning digest's content): my customers to contact today, ranked.

The ranking is the API's: open suggestions by priority (sleeping high-value customers,
abandoned carts, birthdays, cross-sell moments, check-ins after a first order), each with one
line of why and the suggested offer or action.
"""

from __future__ import annotations

from bot.formatting import SUGGESTION_TYPES, Texts
from bot.i18n import N_
from bot.replies import Button, Chat, Reply, keyboard, nav_row
from bot.results import SuggestionItem

# Suggestions a day's list considers; more are for /suggestions.
MAX_TODAY = 30
ACTIONS = {
    "birthday": N_("send birthday wishes"),
    "days_after_first_order": N_("check in and ask how it went"),
    "holiday": N_("send holiday greetings"),
    "abandoned_cart": N_("remind them of the cart"),
    "category_interest": N_("suggest products from that category"),
    "first_order": N_("thank them and welcome them"),
    "sleeping_high_value": N_("make a win-back offer"),
}


def suggested(t: Texts, item: SuggestionItem) -> str:
    """The offer to make, else the action the suggestion type calls for."""
    if item.offer:
        return item.offer
    return t.label(ACTIONS, item.type) if item.type in ACTIONS else t._("get in touch")


async def today_page(chat: Chat, offset: int) -> Reply:
    """One page of today's contacts."""
    t = chat.t
    size = chat.page_size
    items = await chat.api.suggestions(chat.actor, MAX_TODAY, 0, chat.t.language)
    if not items:
        return Reply(t._("Nobody to contact today — no open suggestions for your customers."))
    offset = max(0, min(offset, (len(items) - 1) // size * size))
    shown = items[offset : offset + size]
    lines = [t._("To contact today ({count}):").format(count=len(items))]
    rows: list[list[Button]] = []
    for number, item in enumerate(shown, offset + 1):
        who = item.customer_name or f"#{item.customer_id}"
        lines.append(f"{number}. {who} — {t.label(SUGGESTION_TYPES, item.type)}")
        lines.append("   " + t._("Why: {reason}").format(reason=item.reason))
        lines.append("   " + t._("Suggested: {action}").format(action=suggested(t, item)))
        if item.customer_id:
            rows.append([Button(f"{number}. {who}"[:60], f"card:{item.customer_id}")])
    more = len(items) > offset + size
    return Reply("\n".join(lines), keyboard(*rows, nav_row("today:", offset, size, more, t)))


async def today_command(chat: Chat, args: list[str]) -> Reply:
    """/today."""
    return await today_page(chat, 0)


async def on_page(chat: Chat, args: list[str]) -> Reply:
    """« Previous / Next »."""
    page = await today_page(chat, int(args[0]))
    return Reply(page.text, page.buttons, edit=True)
