"""The contact policy's rules on plain facts, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from domain.contact.config import ContactPolicyConfig
from domain.contact.errors import UnknownTouchKind
from domain.contact.policy import (
    ChannelFacts,
    ConsentFacts,
    ContactDecision,
    ContactReason,
    CustomerFacts,
    SentTouch,
    evaluate,
)

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday, midday UTC
EMAIL = ChannelFacts(id=3, code="email", name="Email", contactable=True)
SMS = ChannelFacts(id=4, code="sms", name="SMS", contactable=True)
WEB = ChannelFacts(id=1, code="web", name="Website", contactable=False)
CONFIG = ContactPolicyConfig()


def anna(**overrides: object) -> CustomerFacts:
    values: dict[str, object] = {
        "id": 1,
        "name": "Anna",
        "stage": "repeat",
        "timezone": None,
        "email": "anna@example.com",
        "phone": "+15550001",
        "consents": {3: ConsentFacts(True, AT - timedelta(days=90))},
        "touches": (),
    }
    values.update(overrides)
    return CustomerFacts(**values)  # type: ignore[arg-type]


def decide(
    customer: CustomerFacts,
    *,
    kind: str = "campaign",
    at: datetime = AT,
    priority: int | None = None,
    channel: ChannelFacts = EMAIL,
    config: ContactPolicyConfig = CONFIG,
) -> ContactDecision:
    return evaluate(
        customer=customer, channel=channel, kind=kind, priority=priority, at=at, config=config
    )


def sent(days_before: float, kind: str = "campaign", priority: int = 30) -> SentTouch:
    return SentTouch(AT - timedelta(days=days_before), kind, priority)


def test_customer_with_consent_and_no_recent_touches_may_be_contacted() -> None:
    assert decide(anna()) == ContactDecision(True, ContactReason.OK, "may be contacted now")


def test_no_consent_row_refuses_in_plain_words() -> None:
    decision = decide(anna(), channel=SMS)
    assert decision == ContactDecision(False, ContactReason.NO_CONSENT, "no SMS consent", None)


def test_opt_out_refuses_and_names_the_day() -> None:
    customer = anna(consents={3: ConsentFacts(False, datetime(2026, 11, 20, 8, tzinfo=UTC))})
    decision = decide(customer, kind="transactional")
    assert decision.reason_code is ContactReason.OPTED_OUT
    assert decision.reason == "Anna opted out of email on 2026-11-20"
    assert decision.retry_at is None


def test_channel_that_cannot_carry_messages_is_refused() -> None:
    decision = decide(anna(), channel=WEB)
    assert decision.reason_code is ContactReason.CHANNEL_NOT_CONTACTABLE
    assert decision.reason == "Website cannot carry messages to customers"


def test_email_without_an_address_is_refused() -> None:
    decision = decide(anna(email=None))
    assert (decision.reason_code, decision.reason) == (
        ContactReason.NO_ADDRESS,
        "no email address on file for Anna",
    )


def test_lost_customer_is_left_out_of_marketing_but_gets_service_messages() -> None:
    lost = anna(stage="lost")
    refused = decide(lost, kind="journey")
    assert refused.reason_code is ContactReason.CUSTOMER_LOST
    assert refused.reason == "Anna is a lost customer; marketing programs leave lost customers out"
    assert decide(lost, kind="service").allowed
    assert decide(lost, kind="transactional").allowed


def test_third_marketing_touch_in_seven_days_is_capped_until_the_oldest_leaves_the_window() -> None:
    customer = anna(touches=(sent(6), sent(2)))
    decision = decide(customer)
    assert decision == ContactDecision(
        False,
        ContactReason.CAPPED,
        "already contacted twice this week (cap 2 per 7 days)",
        AT + timedelta(days=1),
    )


def test_touch_exactly_one_window_old_no_longer_counts() -> None:
    assert decide(anna(touches=(sent(7), sent(2)))).allowed


def test_service_messages_do_not_count_toward_or_obey_the_cap() -> None:
    assert decide(anna(touches=(sent(6), sent(2))), kind="service").allowed


def test_a_touch_booked_in_the_future_counts_toward_the_cap() -> None:
    booked = SentTouch(AT + timedelta(days=3), "campaign", 30)
    decision = decide(anna(touches=(sent(3), booked)))
    assert decision.reason_code is ContactReason.CAPPED
    assert decision.retry_at == AT + timedelta(days=4)


def test_cap_is_configurable() -> None:
    config = ContactPolicyConfig(cap_count=3, cap_window_days=14)
    customer = anna(touches=(sent(13), sent(6), sent(2)))
    decision = decide(customer, config=config)
    assert decision.reason == "already contacted 3 times in this period (cap 3 per 14 days)"
    assert decision.retry_at == AT + timedelta(days=1)


def test_cap_zero_switches_marketing_off_with_no_retry() -> None:
    decision = decide(anna(), config=ContactPolicyConfig(cap_count=0))
    assert decision == ContactDecision(
        False, ContactReason.CAPPED, "marketing messages are switched off (cap 0)", None
    )


def test_quiet_hours_are_read_in_the_customers_own_time_zone() -> None:
    # 12:00 UTC is 21:00 in Tokyo: quiet there, daytime for a customer in UTC.
    decision = decide(anna(timezone="Asia/Tokyo"))
    assert decision.reason_code is ContactReason.QUIET_HOURS
    assert decision.reason == "it is 21:00 for Anna (Asia/Tokyo); quiet hours are 21:00–09:00"
    assert decision.retry_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert decide(anna(timezone=None)).allowed


def test_unknown_time_zone_falls_back_to_the_configured_default() -> None:
    config = ContactPolicyConfig(default_timezone="America/New_York")
    night = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 23:00 in New York
    decision = decide(anna(timezone="Mars/Olympus"), at=night, config=config)
    assert decision.reason == (
        "it is 23:00 for Anna (America/New_York); quiet hours are 21:00–09:00"
    )
    assert decision.retry_at == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def test_quiet_hours_follow_daylight_saving_time() -> None:
    # Berlin leaves summer time on 2026-10-25: 09:00 local is 07:00 UTC before, 08:00 after.
    before = decide(anna(timezone="Europe/Berlin"), at=datetime(2026, 10, 24, 5, tzinfo=UTC))
    after = decide(anna(timezone="Europe/Berlin"), at=datetime(2026, 10, 26, 5, tzinfo=UTC))
    assert before.retry_at == datetime(2026, 10, 24, 7, tzinfo=UTC)
    assert after.retry_at == datetime(2026, 10, 26, 8, tzinfo=UTC)


def test_transactional_messages_ignore_quiet_hours() -> None:
    assert decide(anna(timezone="Asia/Tokyo"), kind="transactional").allowed


def test_daytime_quiet_hours_do_not_wrap_midnight() -> None:
    config = ContactPolicyConfig(quiet_hours_start=time(12), quiet_hours_end=time(14))
    assert decide(anna(), config=config).retry_at == AT + timedelta(hours=2)
    assert decide(anna(), at=AT - timedelta(minutes=1), config=config).allowed


def test_lower_priority_touch_yields_to_a_higher_one_in_the_collision_window() -> None:
    birthday = SentTouch(AT - timedelta(hours=3), "journey", 70)
    decision = decide(anna(touches=(birthday,)), kind="campaign")
    assert decision == ContactDecision(
        False,
        ContactReason.LOWER_PRIORITY,
        "Anna already gets a journey message within 24 hours (priority 70, this one 30)",
        AT + timedelta(hours=21),
    )


def test_higher_priority_touch_goes_even_after_a_lower_one() -> None:
    festival = SentTouch(AT - timedelta(hours=3), "campaign", 30)
    assert decide(anna(touches=(festival,)), kind="journey").allowed


def test_explicit_priority_overrides_the_kinds_default() -> None:
    birthday = SentTouch(AT - timedelta(hours=3), "journey", 70)
    assert decide(anna(touches=(birthday,)), kind="campaign", priority=80).allowed


def test_retry_at_satisfies_every_rule_at_once() -> None:
    # At 02:00 UTC (11:00 in Tokyo) two touches are in the window; the older leaves it at
    # 18:00 UTC, which is 03:00 in Tokyo, inside quiet hours, so the first moment every rule
    # passes is 09:00 in Tokyo, 00:00 UTC the next day.
    touches = (sent(6.75), sent(1, kind="cross_sell", priority=50))
    customer = anna(timezone="Asia/Tokyo", touches=touches)
    decision = decide(customer, at=AT - timedelta(hours=10))
    assert decision.reason_code is ContactReason.CAPPED
    assert decision.retry_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)


def test_unknown_kind_is_an_error_not_a_pass() -> None:
    with pytest.raises(UnknownTouchKind, match="unknown touch kind 'newsletter'"):
        decide(anna(), kind="newsletter")


def test_config_rejects_unknown_fields_and_zones() -> None:
    with pytest.raises(ValidationError, match="extra"):
        ContactPolicyConfig(cap=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="unknown time zone"):
        ContactPolicyConfig(default_timezone="Nowhere/City")
    with pytest.raises(ValidationError, match="kinds without a priority: newsletter"):
        ContactPolicyConfig(marketing_kinds=frozenset({"newsletter"}))


def test_config_reads_quiet_hours_from_text() -> None:
    config = ContactPolicyConfig.model_validate(
        {"quiet_hours_start": "22:30", "quiet_hours_end": "07:00"}
    )
    assert (config.quiet_hours_start, config.quiet_hours_end) == (time(22, 30), time(7, 0))
