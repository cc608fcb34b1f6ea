"""The contact policy's rules as pure functions over facts already loaded from the database."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.clock import as_utc
from domain.contact.config import ContactPolicyConfig
from domain.stages.vocabulary import Stage


class ContactReason(StrEnum):
    """Why a touch may or may not go out now."""

    OK = "ok"
    CHANNEL_NOT_CONTACTABLE = "channel_not_contactable"
    CUSTOMER_LOST = "customer_lost"
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    NO_ADDRESS = "no_address"
    CAPPED = "capped"
    LOWER_PRIORITY = "lower_priority"
    QUIET_HOURS = "quiet_hours"


# Reasons that pass with time; the others need a change of data (consent, stage, address).
TIMED_REASONS = frozenset(
    {ContactReason.CAPPED, ContactReason.LOWER_PRIORITY, ContactReason.QUIET_HOURS}
)


@dataclass(frozen=True)
class ContactDecision:
    """The answer to "may we contact this customer on this channel now, and if not, why"."""

    allowed: bool
    reason_code: ContactReason
    reason: str
    retry_at: datetime | None = None


@dataclass(frozen=True)
class SentTouch:
    """A marketing touch that went out (or is booked to go out) at a moment."""

    at: datetime
    kind: str
    priority: int


@dataclass(frozen=True)
class ChannelFacts:
    """What the policy needs to know about a channel."""

    id: int
    code: str
    name: str
    contactable: bool


@dataclass(frozen=True)
class ConsentFacts:
    """A customer's recorded answer for one channel."""

    granted: bool
    changed_at: datetime


@dataclass(frozen=True)
class CustomerFacts:
    """What the policy needs to know about a customer, including their recent marketing touches."""

    id: int
    name: str | None
    stage: str
    timezone: str | None
    email: str | None
    phone: str | None
    consents: Mapping[int, ConsentFacts] = field(default_factory=dict)
    touches: tuple[SentTouch, ...] = ()


# Words a sales person uses for the default channels; others fall back to the channel's name.
CHANNEL_WORDS = {"email": "email", "sms": "SMS", "messaging": "messaging app", "app": "push"}
# The customer field a channel needs to carry a message at all.
ADDRESS_FIELDS = {"email": ("email", "email address"), "sms": ("phone", "phone number")}
KIND_WORDS = {
    "transactional": "transactional message",
    "service": "service message",
    "journey": "journey message",
    "referral": "referral offer",
    "reactivation": "reactivation offer",
    "retention": "retention offer",
    "cross_sell": "cross-sell offer",
    "campaign": "campaign message",
}


def channel_word(channel: ChannelFacts) -> str:
    """How a sales person calls the channel ("email", "SMS")."""
    return CHANNEL_WORDS.get(channel.code, channel.name)


def kind_word(kind: str) -> str:
    """How a sales person calls a kind of touch ("journey message")."""
    return KIND_WORDS.get(kind, f"{kind.replace('_', ' ')} message")


def customer_word(customer: CustomerFacts) -> str:
    """The customer's name, or a neutral stand-in."""
    return customer.name or "the customer"


def customer_zone(timezone: str | None, default: str) -> ZoneInfo:
    """The customer's zone, falling back to the default when unset or unknown."""
    if timezone:
        try:
            return ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(default)


def times_word(count: int) -> str:
    """'once', 'twice', '3 times'."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _allowed() -> ContactDecision:
    return ContactDecision(True, ContactReason.OK, "may be contacted now")


def _refused(code: ContactReason, reason: str) -> ContactDecision:
    return ContactDecision(False, code, reason)


def evaluate(
    *,
    customer: CustomerFacts,
    channel: ChannelFacts,
    kind: str,
    priority: int | None,
    at: datetime,
    config: ContactPolicyConfig,
) -> ContactDecision:
    """Apply every rule in order; the first that refuses names the reason."""
    default_priority = config.priority_of(kind)
    own_priority = default_priority if priority is None else priority
    at = as_utc(at)
    marketing = kind in config.marketing_kinds
    who = customer_word(customer)
    word = channel_word(channel)

    if not channel.contactable:
        return _refused(
            ContactReason.CHANNEL_NOT_CONTACTABLE,
            f"{channel.name} cannot carry messages to customers",
        )
    if marketing and customer.stage == Stage.LOST:
        return _refused(
            ContactReason.CUSTOMER_LOST,
            f"{who} is a lost customer; marketing programs leave lost customers out",
        )
    consent = customer.consents.get(channel.id)
    if consent is None:
        return _refused(ContactReason.NO_CONSENT, f"no {word} consent")
    if not consent.granted:
        day = consent.changed_at.date().isoformat()
        return _refused(ContactReason.OPTED_OUT, f"{who} opted out of {word} on {day}")
    if channel.code in ADDRESS_FIELDS:
        attribute, label = ADDRESS_FIELDS[channel.code]
        if not getattr(customer, attribute):
            return _refused(ContactReason.NO_ADDRESS, f"no {label} on file for {who}")

    rules = _timed_rules(customer, kind, own_priority, marketing, config)
    for rule in rules:
        refusal = rule.refusal(at)
        if refusal is not None:
            retry_at = _earliest_allowed(at, rules)
            return ContactDecision(False, refusal.reason_code, refusal.reason, retry_at)
    return _allowed()


@dataclass(frozen=True)
class _TimedRule:
    """A rule that passes with time: refusal(t) says why not at t, next_ok(t) when it passes."""

    refusal: Callable[[datetime], ContactDecision | None]
    next_ok: Callable[[datetime], datetime | None]


def _timed_rules(
    customer: CustomerFacts, kind: str, priority: int, marketing: bool, config: ContactPolicyConfig
) -> list[_TimedRule]:
    rules: list[_TimedRule] = []
    if marketing:
        times = sorted(t.at for t in customer.touches)
        rules.append(_cap_rule(times, config))
        rules.append(_priority_rule(customer, priority, config))
    if kind not in config.quiet_hours_exempt_kinds:
        rules.append(_quiet_hours_rule(customer, config))
    return rules


def _earliest_allowed(start: datetime, rules: Sequence[_TimedRule]) -> datetime | None:
    """The first moment from `start` on when every rule passes, or None when none ever will.

    Each rule's next_ok is monotone and the cap and priority rules block only finitely many
    intervals, so moving to the latest next_ok until nothing moves ends.
    """
    moment = start
    while True:
        moved = False
        for rule in rules:
            ok_at = rule.next_ok(moment)
            if ok_at is None:
                return None
            if ok_at > moment:
                moment, moved = ok_at, True
        if not moved:
            return moment


def _cap_rule(times: list[datetime], config: ContactPolicyConfig) -> _TimedRule:
    window = config.cap_window

    def count_at(t: datetime) -> int:
        # The most touches in any window (end - W, end] that a touch at t would fall into.
        ends = [t, *(x for x in times if t <= x < t + window)]
        return max(sum(1 for x in times if end - window < x <= end) for end in ends)

    def refusal(t: datetime) -> ContactDecision | None:
        count = count_at(t)
        if count < config.cap_count:
            return None
        period = "this week" if config.cap_window_days == 7 else "in this period"
        if config.cap_count == 0:
            return _refused(ContactReason.CAPPED, "marketing messages are switched off (cap 0)")
        return _refused(
            ContactReason.CAPPED,
            f"already contacted {times_word(count)} {period} "
            f"(cap {config.cap_count} per {config.cap_window_days} days)",
        )

    def next_ok(t: datetime) -> datetime | None:
        if config.cap_count == 0:
            return None
        if count_at(t) < config.cap_count:
            return t
        # A touch leaves every window exactly W after it went out.
        return next(
            c for c in sorted(x + window for x in times) if c > t and count_at(c) < config.cap_count
        )

    return _TimedRule(refusal, next_ok)


def _priority_rule(
    customer: CustomerFacts, priority: int, config: ContactPolicyConfig
) -> _TimedRule:
    window = config.collision_window
    rivals = [t for t in customer.touches if t.priority >= priority]

    def blocking(t: datetime) -> list[SentTouch]:
        return [r for r in rivals if abs(r.at - t) < window]

    def refusal(t: datetime) -> ContactDecision | None:
        found = blocking(t)
        if not found:
            return None
        top = max(found, key=lambda r: r.priority)
        return _refused(
            ContactReason.LOWER_PRIORITY,
            f"{customer_word(customer)} already gets a {kind_word(top.kind)} within "
            f"{config.collision_window_hours} hours (priority {top.priority}, this one {priority})",
        )

    def next_ok(t: datetime) -> datetime | None:
        if not blocking(t):
            return t
        return next(c for c in sorted(r.at + window for r in rivals) if c > t and not blocking(c))

    return _TimedRule(refusal, next_ok)


def _quiet_hours_rule(customer: CustomerFacts, config: ContactPolicyConfig) -> _TimedRule:
    zone = customer_zone(customer.timezone, config.default_timezone)
    start, end = config.quiet_hours_start, config.quiet_hours_end

    def quiet(t: datetime) -> bool:
        local = t.astimezone(zone).time()
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end

    def refusal(t: datetime) -> ContactDecision | None:
        if not quiet(t):
            return None
        return _refused(
            ContactReason.QUIET_HOURS,
            f"it is {t.astimezone(zone):%H:%M} for {customer_word(customer)} ({zone.key}); "
            f"quiet hours are {start:%H:%M}–{end:%H:%M}",
        )

    def next_ok(t: datetime) -> datetime | None:
        if not quiet(t):
            return t
        local_day = t.astimezone(zone).date()
        candidates = (
            datetime.combine(local_day + timedelta(days=d), end, tzinfo=zone) for d in (0, 1)
        )
        return next(as_utc(c) for c in candidates if c > t)

    return _TimedRule(refusal, next_ok)
