"""Finding a customer (/find, free text) and the customer card (/customer, its buttons)."""

from __future__ import annotations

from bot.formatting import CHANNELS, SEGMENTS
from bot.replies import Button, Chat, Reply, keyboard
from bot.results import Card, History, Match

# More matches than this ask for a narrower search instead of a long list of buttons.
MAX_MATCHES = 8


def match_label(match: Match) -> str:
    """How a match reads on its button: name and the contact detail that tells it apart."""
    detail = match.email or match.phone or f"#{match.id}"
    return f"{match.name or '#' + match.id} · {detail}"[:60]


def card_text(chat: Chat, card: Card) -> str:
    """The customer card as text."""
    t = chat.t
    name = card.name or t._("(no name)")
    lines = [f"👤 {name} (#{card.id})"]
    contact = " · ".join(x for x in (card.email, card.phone) if x)
    if contact:
        lines.append(contact)
    lines.append(
        t._("Stage: {stage} since {since}").format(
            stage=t.stage(card.stage), since=t.day(card.stage_since.date())
        )
    )
    score = card.score
    if score is None:
        lines.append(t._("Not scored yet."))
    else:
        if score.rfm_segment:
            lines.append(
                t._("RFM segment: {segment}").format(segment=t.label(SEGMENTS, score.rfm_segment))
            )
        if score.p_alive is not None:
            lines.append(t._("P(alive): {value}").format(value=t.percent(score.p_alive)))
        if score.predicted_clv_minor is not None:
            lines.append(
                t._("Predicted CLV: {value}").format(value=t.money(score.predicted_clv_minor))
            )
        if score.next_order_date is not None:
            lines.append(
                t._("Next order expected: {date}").format(date=t.day(score.next_order_date))
            )
    lines.append(
        t._("Orders: {count} · net revenue {revenue}").format(
            count=card.order_count, revenue=t.money(card.net_revenue_minor)
        )
    )
    if card.orders:
        lines.append(t._("Last orders:"))
        lines.extend(
            f"  • {t.day(order.ordered_at.date())} — {t.money(order.total_minor)}"
            for order in card.orders
        )
    if card.consents:
        marks = " · ".join(
            f"{t.label(CHANNELS, c.channel)} {'✓' if c.granted else '✗'}" for c in card.consents
        )
        lines.append(t._("Consent: {channels}").format(channels=marks))
    else:
        lines.append(t._("Consent: none recorded"))
    lines.append(t._("Owner: {name}").format(name=card.owner or t._("nobody")))
    if score is not None and score.reasons:
        lines.append(t._("Why:"))
        lines.extend(f"  • {reason}" for reason in score.reasons[:3])
    return "\n".join(lines)


def card_buttons(chat: Chat, customer_id: str) -> tuple[tuple[Button, ...], ...]:
    """Cross-sell · Reactivate · Referral offer · History."""
    t = chat.t
    return keyboard(
        [
            Button(t._("Cross-sell"), f"xs:{customer_id}"),
            Button(t._("Reactivate"), f"wake:{customer_id}"),
        ],
        [
            Button(t._("Referral offer"), f"ref:{customer_id}"),
            Button(t._("History"), f"hist:{customer_id}"),
        ],
    )


async def show_card(chat: Chat, customer_id: str) -> Reply:
    """The customer card with its buttons."""
    card = await chat.api.card(chat.actor, customer_id, chat.t.language)
    return Reply(card_text(chat, card), card_buttons(chat, card.id))


async def customer_command(chat: Chat, args: list[str]) -> Reply:
    """/customer <id>: the customer card."""
    if len(args) != 1 or not args[0].isdigit():
        return Reply(
            chat.t._("Send /customer followed by the customer's number, e.g. /customer 42.")
        )
    return await show_card(chat, args[0])


async def find_command(chat: Chat, args: list[str]) -> Reply:
    """/find <name | email | phone | id>: matches as buttons."""
    if not args:
        return Reply(chat.t._("Send /find followed by a name, email, phone or customer number."))
    return await _choices(chat, " ".join(args), open_single=False)


async def free_text(chat: Chat, text: str) -> Reply:
    """A typed name, email or phone: the card if exactly one customer matches, else choices."""
    return await _choices(chat, text.strip(), open_single=True)


async def _choices(chat: Chat, text: str, *, open_single: bool) -> Reply:
    t = chat.t
    if len(text) < 2 and not text.isdigit():
        return Reply(t._("Type at least two characters of a name, email or phone."))
    matches = await chat.api.find(chat.actor, text, MAX_MATCHES + 1)
    if not matches:
        return Reply(t._("No customer matches “{text}”.").format(text=text))
    if len(matches) == 1 and open_single:
        return await show_card(chat, matches[0].id)
    shown = matches[:MAX_MATCHES]
    head = (
        t._("More than {count} customers match “{text}”; the first ones:").format(
            count=MAX_MATCHES, text=text
        )
        if len(matches) > MAX_MATCHES
        else t._("Customers matching “{text}” — pick one:").format(text=text)
    )
    lines = [head] + [f"{i}. {match_label(m)} — {t.stage(m.stage)}" for i, m in enumerate(shown, 1)]
    buttons = keyboard(
        *([Button(f"{i}. {match_label(m)}", f"card:{m.id}")] for i, m in enumerate(shown, 1))
    )
    return Reply("\n".join(lines), buttons)


async def on_card(chat: Chat, args: list[str]) -> Reply:
    """A match's button: open the card."""
    return await show_card(chat, args[0])


def history_text(chat: Chat, history: History) -> str:
    """A customer's stage moves and latest orders."""
    t = chat.t
    lines = [t._("History of {name} (#{id})").format(name=history.name or "—", id=history.id)]
    lines.append(t._("Stage changes:"))
    if not history.moves:
        lines.append("  " + t._("none yet"))
    for move in history.moves:
        origin = t.stage(move.from_stage) if move.from_stage else "—"
        when = t.day(move.changed_at.date())
        lines.append(f"  • {when}: {origin} → {t.stage(move.to_stage)} ({move.reason})")
    lines.append(t._("Orders:"))
    if not history.orders:
        lines.append("  " + t._("none yet"))
    for order in history.orders:
        kind = t._("return") if order.kind == "return" else t._("order")
        lines.append(f"  • {t.day(order.ordered_at.date())} {kind} {t.money(order.total_minor)}")
    return "\n".join(lines)


async def on_history(chat: Chat, args: list[str]) -> Reply:
    """The card's History button."""
    return Reply(history_text(chat, await chat.api.history(chat.actor, args[0])))
