"""/crosssell <id> and the card's Cross-sell button: next-best products with timing."""

from __future__ import annotations

from bot.replies import Button, Chat, Reply, keyboard
from bot.results import Product

# Products shown; the API ranks them best first.
SHOWN = 5


def timing(chat: Chat, product: Product) -> str:
    """When the product is due, in words."""
    t = chat.t
    if product.due_in_days is None:
        return t._("any time")
    days = round(product.due_in_days)
    if days <= 0:
        return t._("due now")
    return t._("in about {days} days").format(days=days)


async def cross_sell(chat: Chat, customer_id: str) -> Reply:
    """The products a customer is likely to buy next, with timing."""
    t = chat.t
    customer, score, products = await chat.api.cross_sell(chat.actor, customer_id)
    name = customer.name or f"#{customer.id}"
    if not products:
        text = t._(
            "No cross-sell suggestions for {name} yet (not scored, or nothing fits)."
        ).format(name=name)
        return Reply(text, keyboard([Button(t._("Open card"), f"card:{customer.id}")]))
    lines = [t._("Next best products for {name}:").format(name=name)]
    for i, product in enumerate(products[:SHOWN], 1):
        share = f" ({t.percent(product.score)})" if product.score is not None else ""
        lines.append(f"{i}. {product.name}{share} — {timing(chat, product)}")
    if score is not None and score.next_order_date is not None:
        lines.append(t._("Next order expected: {date}").format(date=t.day(score.next_order_date)))
    return Reply("\n".join(lines), keyboard([Button(t._("Open card"), f"card:{customer.id}")]))


async def crosssell_command(chat: Chat, args: list[str]) -> Reply:
    """/crosssell <id>."""
    if len(args) != 1 or not args[0].isdigit():
        return Reply(
            chat.t._("Send /crosssell followed by the customer's number, e.g. /crosssell 42.")
        )
    return await cross_sell(chat, args[0])


async def on_cross_sell(chat: Chat, args: list[str]) -> Reply:
    """The card's Cross-sell button."""
    return await cross_sell(chat, args[0])
