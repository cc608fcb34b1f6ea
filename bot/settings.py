"""Settings of the Telegram bot, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BotSettings(BaseSettings):
    """Where the bot finds the GraphQL API and the Telegram Bot API, and how it behaves."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_api_url: str = Field(
        "http://127.0.0.1:8000/graphql", description="the GraphQL endpoint of `lifecycle serve`"
    )
    bot_api_token: SecretStr = Field(SecretStr(""), description="API token with the bot role")
    bot_api_timeout: float = Field(10.0, gt=0, description="seconds per GraphQL request")
    telegram_token: SecretStr = Field(SecretStr(""), description="token from @BotFather")
    telegram_base_url: str = Field(
        "https://api.telegram.org",
        description="Bot API root: a self-hosted Bot API server, or the emulator in tests",
    )
    bot_webhook_url: str = Field(
        "", description="public HTTPS URL Telegram posts updates to; empty means long polling"
    )
    bot_webhook_secret: SecretStr = Field(
        SecretStr(""), description="secret Telegram sends with each webhook update"
    )
    bot_listen_host: str = Field("127.0.0.1", description="address the webhook server binds")
    bot_listen_port: int = Field(8081, ge=1, le=65535, description="port of the webhook server")
    bot_staff_cache_seconds: float = Field(
        60.0, ge=0, description="how long who-is-this (staff, role, language) is remembered"
    )
    bot_page_size: int = Field(5, ge=1, le=20, description="entries per page of a list")
    currency: str = Field("USD", description="ISO 4217 code of amounts (same as the API's)")
    currency_exponent: int = Field(2, ge=0, le=4, description="minor units per major, 10^n")

    @field_validator("telegram_base_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        # The same variable as the delivery worker's: the root, with a trailing /bot accepted.
        return value.rstrip("/").removesuffix("/bot")

    @property
    def ptb_base_url(self) -> str:
        """`ApplicationBuilder.base_url`: python-telegram-bot appends the token to it."""
        return f"{self.telegram_base_url}/bot"

    @property
    def ptb_base_file_url(self) -> str:
        """`ApplicationBuilder.base_file_url`."""
        return f"{self.telegram_base_url}/file/bot"


@lru_cache
def get_bot_settings() -> BotSettings:
    """The process-wide bot settings, read once."""
    return BotSettings()
