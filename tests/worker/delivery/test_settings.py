"""Delivery settings from the environment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.outbox.delivery import DeliveryConfig
from worker.delivery.registry import open_adapters
from worker.delivery.settings import DeliverySettings
from worker.delivery.smtp import SmtpAdapter
from worker.delivery.telegram import TelegramAdapter


@pytest.fixture(autouse=True)
def _no_delivery_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets counts, not the machine's environment."""
    for name in DeliverySettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize(
    "value",
    ["https://api.telegram.org", "https://api.telegram.org/", "https://api.telegram.org/bot"],
)
def test_the_telegram_base_url_is_the_api_root_also_in_ptb_form(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BASE_URL", value)

    assert DeliverySettings(_env_file=None).telegram_base_url == "https://api.telegram.org"  # type: ignore[call-arg]


def test_retry_settings_become_the_domains_delivery_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("OUTBOX_LEASE_SECONDS", "120")
    monkeypatch.setenv("OUTBOX_BACKOFF_SECONDS", "30")
    monkeypatch.setenv("OUTBOX_BACKOFF_MAX_SECONDS", "600")

    config = DeliverySettings(_env_file=None).delivery_config()  # type: ignore[call-arg]

    assert config == DeliveryConfig(
        max_attempts=7,
        lease=timedelta(minutes=2),
        backoff_base=timedelta(seconds=30),
        backoff_max=timedelta(minutes=10),
    )


def test_smtp_needs_a_sender_address() -> None:
    with pytest.raises(ValidationError, match="SMTP_FROM must be a sender address"):
        DeliverySettings(_env_file=None, smtp_host="mail.example")  # type: ignore[call-arg]


def test_only_configured_transports_get_adapters() -> None:
    bare = DeliverySettings(_env_file=None)  # type: ignore[call-arg]
    full = DeliverySettings(
        _env_file=None,  # type: ignore[call-arg]
        smtp_host="mail.example",
        smtp_from="news@shop.example",
        telegram_token="1:abc",
    )

    with open_adapters(bare) as only_log, open_adapters(full) as every:
        assert sorted(only_log) == ["log"]
        assert sorted(every) == ["email", "log", "telegram"]
        assert isinstance(every["email"], SmtpAdapter)
        assert isinstance(every["telegram"], TelegramAdapter)
