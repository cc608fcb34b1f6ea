"""Settings of the delivery worker: SMTP, the Telegram Bot API, retries and leases."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.outbox.delivery import DeliveryConfig


class DeliverySettings(BaseSettings):
    """How outbox messages leave the building; every field is an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_base_url: str = Field(
        "https://api.telegram.org", description="Bot API root (a Bot API emulator in tests)"
    )
    telegram_token: SecretStr = Field(
        SecretStr(""), description="bot token; empty leaves Telegram messages in the outbox"
    )
    telegram_timeout: float = Field(20.0, gt=0, description="seconds per Bot API request")
    smtp_host: str = Field("", description="SMTP server; empty leaves email in the outbox")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        "none", description="none, starttls (usually port 587) or ssl (usually port 465)"
    )
    smtp_username: str = Field("", description="login, if the server wants one")
    smtp_password: SecretStr = Field(SecretStr(""))
    smtp_from: str = Field("", description="sender address, e.g. Shop <news@shop.example>")
    smtp_timeout: float = Field(30.0, gt=0, description="seconds per SMTP connection")
    message_id_domain: str = Field(
        "", description="right-hand side of Message-IDs; default: the sender's domain"
    )
    outbox_max_attempts: int = Field(5, ge=1, description="attempts before a message is dead")
    outbox_lease_seconds: int = Field(
        300, ge=1, description="how long a claimed message is a sender's before others retry it"
    )
    outbox_backoff_seconds: int = Field(60, ge=1, description="wait after the first failure")
    outbox_backoff_max_seconds: int = Field(6 * 3600, ge=1, description="longest wait")
    outbox_batch_size: int = Field(100, ge=1, le=10_000, description="messages per claim")

    @field_validator("telegram_base_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        # python-telegram-bot's base_url ends in /bot; accept it so the bot and the
        # delivery worker can share one variable.
        root = value.rstrip("/")
        return root.removesuffix("/bot")

    @model_validator(mode="after")
    def _sender_with_smtp(self) -> DeliverySettings:
        if self.smtp_host and "@" not in self.smtp_from:
            raise ValueError("SMTP_FROM must be a sender address when SMTP_HOST is set")
        return self

    def delivery_config(self) -> DeliveryConfig:
        """The retry and lease settings as the domain's DeliveryConfig."""
        return DeliveryConfig(
            max_attempts=self.outbox_max_attempts,
            lease=timedelta(seconds=self.outbox_lease_seconds),
            backoff_base=timedelta(seconds=self.outbox_backoff_seconds),
            backoff_max=timedelta(
                seconds=max(self.outbox_backoff_max_seconds, self.outbox_backoff_seconds)
            ),
        )


@lru_cache
def get_delivery_settings() -> DeliverySettings:
    """The process-wide delivery settings, read once."""
    return DeliverySettings()
