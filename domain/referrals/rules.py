"""Pure referral rules: who may refer, codes and links, and recognising the same person twice."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from domain.referrals.config import ReferralConfig
from domain.referrals.results import ReferralRefused, RefusalCode
from domain.stages.vocabulary import Stage

# How a sales person speaks of a customer in a stage, and of a stage's audience.
STAGE_WORDS: dict[str, str] = {
    Stage.PROSPECT: "a prospect",
    Stage.LEAD: "a lead",
    Stage.FIRST_TIME_BUYER: "a first-time buyer",
    Stage.REPEAT: "a repeat customer",
    Stage.LOYAL: "a VIP customer",
    Stage.AT_RISK: "an at-risk customer",
    Stage.SLEEPING: "a sleeping customer",
    Stage.REACTIVATED: "a reactivated customer",
    Stage.LOST: "a lost customer",
}
AUDIENCE_WORDS: dict[str, str] = {
    Stage.PROSPECT: "prospect",
    Stage.LEAD: "lead",
    Stage.FIRST_TIME_BUYER: "first-time",
    Stage.REPEAT: "repeat",
    Stage.LOYAL: "VIP",
    Stage.AT_RISK: "at-risk",
    Stage.SLEEPING: "sleeping",
    Stage.REACTIVATED: "reactivated",
    Stage.LOST: "lost",
}


def audience(config: ReferralConfig) -> str:
    """Who referral offers go to, in words ("repeat or VIP customers")."""
    stages = [s for s in Stage if s in config.eligible_stages | config.active_stages]
    return " or ".join(AUDIENCE_WORDS[s] for s in stages) + " customers"


def eligibility_refusal(
    *,
    name: str | None,
    stage: str,
    last_order_at: datetime | None,
    last_engaged_at: datetime | None,
    at: datetime,
    config: ReferralConfig,
) -> ReferralRefused | None:
    """Why this customer may not receive a referral offer, or None when their stage qualifies."""
    who = name or "This customer"
    if stage in config.eligible_stages:
        return None
    if stage not in config.active_stages:
        return ReferralRefused(
            RefusalCode.NOT_ELIGIBLE_STAGE,
            f"{who} is {STAGE_WORDS.get(stage, stage)}; referral offers go to {audience(config)}",
        )
    window = timedelta(days=config.activity_window_days)
    seen = [t for t in (last_order_at, last_engaged_at) if t is not None]
    last = max(seen) if seen else None
    if last is not None and last > at - window:
        return None
    since = f"last activity {last.date().isoformat()}" if last else "no activity recorded"
    return ReferralRefused(
        RefusalCode.INACTIVE,
        f"{who} has not ordered or engaged in the last {config.activity_window_days} days "
        f"({since}); {AUDIENCE_WORDS.get(stage, stage)} customers get referral offers only "
        "while active",
    )


def new_code(config: ReferralConfig) -> str:
    """An unguessable, URL-safe referral code from the system's secure random source."""
    return secrets.token_urlsafe(config.code_bytes)


def share_url(code: str, config: ReferralConfig) -> str:
    """The link a referrer shares."""
    return config.share_url_template.format(code=code)


def normalise_email(email: str | None) -> str | None:
    """The mailbox an address reaches: trimmed, lower-case, without a "+tag" in the local part."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def normalise_phone(phone: str | None) -> str | None:
    """A phone number as its digits without leading zeros, so "+49 30 1234" equals "0049301234"."""
    digits = re.sub(r"\D", "", phone or "").lstrip("0")
    return digits or None


def same_person(
    a_email: str | None, a_phone: str | None, b_email: str | None, b_phone: str | None
) -> str | None:
    """What two sets of contact details share ("email" or "phone"), or None."""
    email = normalise_email(a_email)
    if email is not None and email == normalise_email(b_email):
        return "email"
    phone = normalise_phone(a_phone)
    if phone is not None and phone == normalise_phone(b_phone):
        return "phone"
    return None
