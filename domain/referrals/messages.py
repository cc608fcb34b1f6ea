"""The texts a referrer receives: the offer with its share link, and the reward notice."""

from __future__ import annotations

from datetime import datetime

from domain.referrals.models import Offer
from domain.referrals.money import Money


def _greeting(name: str | None) -> str:
    first = (name or "").split()
    return f"Hi {first[0]}," if first else "Hi,"


def _uses(max_uses: int) -> str:
    return "once" if max_uses == 1 else f"up to {max_uses} times"


def offer_message(
    *, name: str | None, offer: Offer, link: str, expires_at: datetime, money: Money
) -> tuple[str, str]:
    """Subject and body of a referral offer."""
    benefit = offer.referee_benefit or "a welcome gift"
    reward = (
        f"You get {money.format(offer.referrer_reward_minor)} when they place their first order."
        if offer.referrer_reward_minor
        else "Thank you for spreading the word."
    )
    body = (
        f"{_greeting(name)}\n\n"
        f"thank you for being with us. Share this link with friends: {link}\n"
        f"They get {benefit}. {reward}\n"
        f"The link works {_uses(offer.max_uses)} until {expires_at:%Y-%m-%d}."
    )
    return f"{offer.name}: a gift for your friends", body


def reward_message(
    *, name: str | None, offer: Offer, reward_minor: int, money: Money
) -> tuple[str, str]:
    """Subject and body of the notice that a referral earned its reward."""
    body = (
        f"{_greeting(name)}\n\n"
        f"a friend you referred placed their first order. "
        f"Your reward from {offer.name}: {money.format(reward_minor)}. Thank you!"
    )
    return "You earned a referral reward", body
