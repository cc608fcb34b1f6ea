"""/refer <id> and the card's Referral offer button: confirm, then send the MGM offer.

The confirm buttons carry offer and channel; the idempotency key is derived from the
message they sit on and the button, so a double tap (or Telegram redelivering the press)
creates one referral and shows the same result twice.
"""

from __future__ import annotations

from bot.formatting import CHANNELS, Texts
from bot.i18n import N_
from bot.replies import Button, Chat, Reply, keyboard
from bot.results import Consent, Match, OfferTerms, ReferralRefused, ReferralSent

REFUSALS = {
    "not_eligible_stage": N_(
        "Not eligible: {name} is {stage}, a stage that does not get referral offers."
    ),
    "inactive": N_("Not eligible: {name} has not ordered or engaged recently."),
    "offer_inactive": N_("This offer is no longer active."),
    "channel_not_contactable": N_("{channel} cannot carry offers to customers."),
    "customer_lost": N_("Not eligible: {name} is marked as lost and excluded from programs."),
    "opted_out": N_("No consent: {name} opted out of {channel}."),
    "no_consent": N_("No consent: {name} has not agreed to be contacted by {channel}."),
    "no_address": N_("{name} has no address for {channel}."),
    "capped": N_("Capped: {name} was contacted too often this week; try again after {retry}."),
    "lower_priority": N_("A more important message to {name} is planned; try again after {retry}."),
    "monthly_limit": N_("{name} already got the referral offers allowed this month."),
}


def refusal_text(t: Texts, refusal: ReferralRefused, name: str, stage: str, channel: str) -> str:
    """Why the offer was not sent, in plain words."""
    template = REFUSALS.get(refusal.code)
    if template is None:
        return t._("Not sent: {reason}").format(reason=refusal.message)
    retry = t.moment(refusal.retry_at) if refusal.retry_at else t._("a few days")
    return t._(template).format(
        name=name, stage=t.stage(stage), channel=t.label(CHANNELS, channel), retry=retry
    )


def terms_text(t: Texts, name: str, offer: OfferTerms) -> str:
    """The confirm dialog: who gets what, and the question."""
    lines = [
        t._("Send {name} the referral offer “{offer}”?").format(name=name, offer=offer.name),
    ]
    if offer.description:
        lines.append(offer.description)
    if offer.referrer_reward_minor:
        lines.append(
            t._("Reward for {name}: {reward} per friend who buys.").format(
                name=name, reward=t.money(offer.referrer_reward_minor)
            )
        )
    if offer.referee_benefit:
        lines.append(t._("Friends get: {benefit}").format(benefit=offer.referee_benefit))
    lines.append(t._("Valid for {days} days.").format(days=offer.valid_days))
    lines.append(t._("Choose the channel to send it on:"))
    return "\n".join(lines)


async def dialog(chat: Chat, customer_id: str, offer_id: str | None, edit: bool) -> Reply:
    """Pick an offer (if several), then confirm by choosing one of the customer's channels."""
    customer, consents, offers = await chat.api.referral_dialog(chat.actor, customer_id)
    return dialog_reply(chat.t, customer, consents, offers, offer_id, edit)


def dialog_reply(
    t: Texts,
    customer: Match,
    consents: tuple[Consent, ...],
    offers: list[OfferTerms],
    offer_id: str | None,
    edit: bool,
) -> Reply:
    """The offer picker, or the terms with one button per channel the customer answered about:
    agreed (✓) first, refused (✗) after — pressing a refused one gets the refusal in plain
    words, not a silent skip."""
    name = customer.name or f"#{customer.id}"
    if not offers:
        return Reply(t._("No referral offer is active."), edit=edit)
    chosen = next((o for o in offers if o.id == offer_id), None)
    if chosen is None and len(offers) > 1:
        buttons = keyboard(*([Button(o.name[:60], f"refo:{customer.id}:{o.id}")] for o in offers))
        return Reply(t._("Which referral offer for {name}?").format(name=name), buttons, edit=edit)
    offer = chosen or offers[0]
    ordered = sorted(consents, key=lambda consent: not consent.granted)
    rows = [
        [
            Button(
                f"{'✓' if consent.granted else '✗'} {t.label(CHANNELS, consent.channel)}",
                f"refgo:{customer.id}:{offer.id}:{consent.channel}",
            )
        ]
        for consent in ordered
    ]
    rows.append([Button(t._("Cancel"), "refx")])
    text = terms_text(t, name, offer)
    if not any(consent.granted for consent in consents):
        text += "\n" + t._("No channel with consent: do not contact.")
    return Reply(text, keyboard(*rows), edit=edit)


async def refer_command(chat: Chat, args: list[str]) -> Reply:
    """/refer <id>: the confirm dialog."""
    if len(args) != 1 or not args[0].isdigit():
        return Reply(chat.t._("Send /refer followed by the customer's number, e.g. /refer 42."))
    return await dialog(chat, args[0], None, edit=False)


async def on_ask(chat: Chat, args: list[str]) -> Reply:
    """The card's Referral offer button."""
    return await dialog(chat, args[0], None, edit=False)


async def on_offer(chat: Chat, args: list[str]) -> Reply:
    """An offer picked from several."""
    return await dialog(chat, args[0], args[1], edit=True)


async def on_cancel(chat: Chat, args: list[str]) -> Reply:
    """Cancel: nothing is sent."""
    return Reply(chat.t._("Cancelled: nothing was sent."), edit=True, toast=chat.t._("Cancelled"))


async def on_send(chat: Chat, args: list[str]) -> Reply:
    """A channel button of the confirm dialog: send the offer (once per button)."""
    t = chat.t
    customer_id, offer_id, channel = args
    result = await chat.api.trigger_referral(
        chat.actor,
        customer_id,
        offer_id,
        channel,
        chat.key("refer", customer_id, offer_id, channel),
    )
    if isinstance(result, ReferralSent):
        return Reply(sent_text(t, result, channel), edit=True, toast=t._("Referral offer sent"))
    customer, consents, offers = await chat.api.referral_dialog(chat.actor, customer_id)
    reason = refusal_text(t, result, customer.name or f"#{customer.id}", customer.stage, channel)
    # Keep the channel buttons: another channel may still be allowed.
    again = dialog_reply(t, customer, consents, offers, offer_id, edit=True)
    text = "⛔ " + reason + "\n\n" + again.text
    return Reply(text, again.buttons, edit=True, toast=t._("Not sent"))


def sent_text(t: Texts, sent: ReferralSent, channel: str) -> str:
    """The code, the share link and where the message stands."""
    lines = [
        t._("Referral offer sent by {channel}.").format(channel=t.label(CHANNELS, channel))
        if sent.created
        else t._("This referral offer was already sent (same button): nothing new was created."),
        t._("Code: {code}").format(code=sent.code),
        t._("Link: {url}").format(url=sent.share_url),
        t._("Valid until {date}.").format(date=t.day(sent.expires_at.date())),
    ]
    lines.append(
        t._("Delivery: queued, goes out at {time}.").format(time=t.moment(sent.deliver_at))
    )
    return "\n".join(lines)
