"""/reactivate (my best candidates) and the card's Reactivate button (one customer's plan)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.formatting import CHANNELS
from bot.replies import Button, Chat, Reply, keyboard, nav_row


async def reactivate_command(chat: Chat, args: list[str]) -> Reply:
    """/reactivate: my sleeping customers most worth waking, best first."""
    return await candidates_page(chat, 0)


async def on_page(chat: Chat, args: list[str]) -> Reply:
    """« Previous / Next » of the candidate list."""
    page = await candidates_page(chat, int(args[0]))
    return Reply(page.text, page.buttons, edit=True)


async def candidates_page(chat: Chat, offset: int) -> Reply:
    """One page of reactivation candidates, each with why and the suggested offer."""
    t = chat.t
    size = chat.page_size
    offset = max(0, offset)
    # One more than the page shows, to know whether a next page exists.
    ranked = await chat.api.reactivation_candidates(chat.actor, size + 1, offset, chat.t.language)
    if not ranked and offset > 0:  # a stale « Next »: the list has shrunk since
        offset = 0
        ranked = await chat.api.reactivation_candidates(
            chat.actor, size + 1, offset, chat.t.language
        )
    shown = ranked[:size]
    if not shown:
        return Reply(t._("None of your customers is asleep and worth waking right now."))
    lines = [t._("Your best reactivation candidates:")]
    buttons: list[list[Button]] = []
    for number, candidate in enumerate(shown, offset + 1):
        name = candidate.name or f"#{candidate.customer_id}"
        lines.append(
            t._("{rank}. {name} — expected value {value}").format(
                rank=number, name=name, value=t.money(candidate.expected_value_minor)
            )
        )
        if candidate.reasons:
            lines.append(f"   {candidate.reasons[0]}")
        if candidate.offer:
            lines.append("   " + t._("Offer: {offer}").format(offer=candidate.offer))
        buttons.append([Button(f"{number}. {name}"[:60], f"card:{candidate.customer_id}")])
    more = len(ranked) > size
    return Reply("\n".join(lines), keyboard(*buttons, nav_row("react:", offset, size, more, t)))


async def on_plan(chat: Chat, args: list[str]) -> Reply:
    """The card's Reactivate button: why this customer is worth waking, and with what."""
    t = chat.t
    facts, offers = await chat.api.reactivation_plan(chat.actor, args[0], chat.t.language)
    name = facts.name or f"#{facts.id}"
    lines = [t._("Reactivation plan for {name}").format(name=name)]
    lines.append(t._("Stage: {stage}").format(stage=t.stage(facts.stage)))
    if facts.last_order_at is not None:
        days = (datetime.now(UTC) - facts.last_order_at).days
        lines.append(
            t._("Last order: {date} ({days} days ago)").format(
                date=t.day(facts.last_order_at.date()), days=days
            )
        )
    else:
        lines.append(t._("No orders yet."))
    score = facts.score
    if score is not None:
        if score.p_alive is not None:
            lines.append(t._("P(alive): {value}").format(value=t.percent(score.p_alive)))
        if score.churn_risk is not None:
            lines.append(t._("Churn risk: {value}").format(value=t.percent(score.churn_risk)))
        if score.predicted_clv_minor is not None:
            lines.append(
                t._("Predicted CLV: {value}").format(value=t.money(score.predicted_clv_minor))
            )
    if facts.stage not in {"AT_RISK", "SLEEPING"}:
        lines.append(t._("This customer is not asleep: no reactivation needed now."))
    if offers:
        offer = offers[0]
        lines.append(
            t._("Suggested offer: {name} — {terms}").format(
                name=offer.name, terms=offer.description or offer.referee_benefit
            )
        )
    else:
        lines.append(t._("No reactivation offer is active."))
    reachable = [t.label(CHANNELS, c.channel) for c in facts.consents if c.granted]
    lines.append(
        t._("Reachable on: {channels}").format(channels=", ".join(reachable))
        if reachable
        else t._("No channel with consent: do not contact.")
    )
    return Reply("\n".join(lines), keyboard([Button(t._("Open card"), f"card:{facts.id}")]))
