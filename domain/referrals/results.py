"""What the referral services answer: typed results, refusals included (the API exposes a union)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.contact.policy import ContactDecision, ContactReason
from domain.customers.models import Customer
from domain.outbox.models import OutboxMessage
from domain.referrals.models import Referral, ReferralRedemption


class RefusalCode(StrEnum):
    """Why a referral was not sent or not redeemed; contact-policy reasons keep their codes."""

    NOT_ELIGIBLE_STAGE = "not_eligible_stage"
    INACTIVE = "inactive"
    OFFER_INACTIVE = "offer_inactive"
    CHANNEL_NOT_CONTACTABLE = ContactReason.CHANNEL_NOT_CONTACTABLE.value
    CUSTOMER_LOST = ContactReason.CUSTOMER_LOST.value
    OPTED_OUT = ContactReason.OPTED_OUT.value
    NO_CONSENT = ContactReason.NO_CONSENT.value
    NO_ADDRESS = ContactReason.NO_ADDRESS.value
    CAPPED = ContactReason.CAPPED.value
    LOWER_PRIORITY = ContactReason.LOWER_PRIORITY.value
    QUIET_HOURS = ContactReason.QUIET_HOURS.value
    UNKNOWN_CODE = "unknown_code"
    EXPIRED = "expired"
    MAX_USES = "max_uses"
    SELF_REFERRAL = "self_referral"
    ALREADY_REFERRED = "already_referred"
    ALREADY_CUSTOMER = "already_customer"
    MONTHLY_LIMIT = "monthly_limit"


@dataclass(frozen=True)
class ReferralRefused:
    """A referral that was not sent or not redeemed, with words a sales person understands."""

    reason_code: RefusalCode
    reason: str
    retry_at: datetime | None = None


@dataclass(frozen=True)
class ReferralSent:
    """A referral offer on its way; `created` is False when an idempotent repeat returned it."""

    referral: Referral
    message: OutboxMessage
    created: bool
    deliver_at: datetime


@dataclass(frozen=True)
class NewReferee:
    """A person redeeming a code who may not be a customer yet."""

    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ReferralRedeemed:
    """A referee linked to their referrer; `new_customer` when the redemption created them."""

    referral: Referral
    redemption: ReferralRedemption
    referee: Customer
    new_customer: bool


@dataclass(frozen=True)
class ReferralConverted:
    """A referee's first paid order earned the referrer their reward."""

    referral: Referral
    redemption: ReferralRedemption
    reward_minor: int
    notice: OutboxMessage | None


@dataclass(frozen=True)
class ReferralStats:
    """Referral figures of one group: a referrer, a staff member, or all when key is None."""

    key: int | None
    sent: int
    redeemed: int
    converted: int
    reward_cost_minor: int
    referee_revenue_minor: int


def refusal_from(decision: ContactDecision) -> ReferralRefused:
    """The contact policy's refusal in the referral result's terms."""
    return ReferralRefused(
        RefusalCode(decision.reason_code.value), decision.reason, decision.retry_at
    )
