"""Pure referral rules: eligibility words, codes, links, recognising the same person."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.contact.policy import ContactReason
from domain.referrals.config import ReferralConfig
from domain.referrals.results import ReferralRefused, RefusalCode
from domain.referrals.rules import (
    eligibility_refusal,
    new_code,
    normalise_email,
    normalise_phone,
    same_person,
    share_url,
)
from domain.stages.vocabulary import Stage

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CONFIG = ReferralConfig()


def refusal(
    stage: str,
    *,
    last_order_at: datetime | None = None,
    last_engaged_at: datetime | None = None,
    name: str | None = "Anna",
    config: ReferralConfig = CONFIG,
) -> ReferralRefused | None:
    return eligibility_refusal(
        name=name,
        stage=stage,
        last_order_at=last_order_at,
        last_engaged_at=last_engaged_at,
        at=AT,
        config=config,
    )


def test_loyal_customers_qualify_without_recent_activity() -> None:
    assert refusal(Stage.LOYAL) is None


def test_first_time_buyer_is_refused_in_a_sales_persons_words() -> None:
    assert refusal(Stage.FIRST_TIME_BUYER) == ReferralRefused(
        RefusalCode.NOT_ELIGIBLE_STAGE,
        "Anna is a first-time buyer; referral offers go to repeat or VIP customers",
    )


@pytest.mark.parametrize(
    ("stage", "words"),
    [
        (Stage.PROSPECT, "a prospect"),
        (Stage.LEAD, "a lead"),
        (Stage.AT_RISK, "an at-risk customer"),
        (Stage.SLEEPING, "a sleeping customer"),
        (Stage.REACTIVATED, "a reactivated customer"),
        (Stage.LOST, "a lost customer"),
    ],
)
def test_other_stages_are_refused_by_name(stage: Stage, words: str) -> None:
    found = refusal(stage, name=None)
    assert found is not None
    assert (
        found.reason == f"This customer is {words}; referral offers go to repeat or VIP customers"
    )


def test_repeat_customer_qualifies_with_an_order_or_engagement_in_the_window() -> None:
    assert refusal(Stage.REPEAT, last_order_at=AT - timedelta(days=89)) is None
    assert refusal(Stage.REPEAT, last_engaged_at=AT - timedelta(days=3)) is None


def test_repeat_customer_without_recent_activity_is_refused() -> None:
    assert refusal(
        Stage.REPEAT,
        last_order_at=AT - timedelta(days=200),
        last_engaged_at=AT - timedelta(days=90),
    ) == ReferralRefused(
        RefusalCode.INACTIVE,
        "Anna has not ordered or engaged in the last 90 days (last activity 2026-08-27); "
        "repeat customers get referral offers only while active",
    )
    found = refusal(Stage.REPEAT)
    assert found is not None and "(no activity recorded)" in found.reason


def test_eligible_stages_and_window_are_configurable() -> None:
    config = ReferralConfig(
        eligible_stages=frozenset({Stage.LOYAL, Stage.REPEAT}),
        active_stages=frozenset({Stage.REACTIVATED}),
        activity_window_days=30,
    )
    assert refusal(Stage.REPEAT, config=config) is None
    assert refusal(Stage.REACTIVATED, last_order_at=AT - timedelta(days=10), config=config) is None
    found = refusal(Stage.FIRST_TIME_BUYER, config=config)
    assert found is not None
    assert found.reason.endswith("referral offers go to repeat or VIP or reactivated customers")


def test_codes_are_url_safe_and_carry_96_random_bits() -> None:
    codes = {new_code(CONFIG) for _ in range(1000)}
    assert len(codes) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", code) for code in codes)


def test_share_link_comes_from_the_template() -> None:
    config = ReferralConfig(share_url_template="https://shop.test/invite?c={code}")
    assert share_url("abc", config) == "https://shop.test/invite?c=abc"
    assert share_url("abc", CONFIG) == "https://shop.example.com/r/abc"


def test_config_refuses_templates_without_code_and_too_short_codes() -> None:
    with pytest.raises(ValidationError, match=r"must contain \{code\}"):
        ReferralConfig(share_url_template="https://shop.test/r/")
    with pytest.raises(ValidationError, match="only"):
        ReferralConfig(share_url_template="https://shop.test/{lang}/r/{code}")
    with pytest.raises(ValidationError):
        ReferralConfig(code_bytes=7)
    with pytest.raises(ValidationError, match="extra"):
        ReferralConfig(url="x")  # type: ignore[call-arg]


def test_emails_compare_by_mailbox() -> None:
    assert normalise_email("  Anna.Berg+friends@Example.COM ") == "anna.berg@example.com"
    assert normalise_email("not an address") is None
    assert normalise_email(None) is None


def test_phones_compare_by_digits() -> None:
    assert normalise_phone("+49 (30) 1234-56") == normalise_phone("0049 30 123456") == "4930123456"
    assert normalise_phone(" - ") is None


def test_same_person_names_what_is_shared() -> None:
    assert same_person("ANNA@example.com", None, "anna@example.com", "+1 555") == "email"
    assert same_person("other@example.com", "+1 (555) 000-1", "anna@x.com", "15550001") == "phone"
    assert same_person("b@example.com", "+1 555 2", "anna@example.com", "+1 555 1") is None
    assert same_person(None, None, None, None) is None


def test_every_contact_reason_is_a_referral_refusal_code() -> None:
    refusals = [reason for reason in ContactReason if reason is not ContactReason.OK]
    assert [RefusalCode(reason.value).value for reason in refusals] == [r.value for r in refusals]
