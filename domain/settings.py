"""One settings object for every part, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path.home() / ".lifecycle"
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev-secret"}


class Settings(BaseSettings):
    """Configuration of Lifecycle; every field can be set as an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field("development", description="development | production")
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="where the embedded SQLite file lives")
    database_url: str = Field("", description="SQLAlchemy URL; empty means the SQLite file")
    redis_url: str = Field("", description="Redis URL; empty means jobs run in-process")
    currency: str = Field("USD", description="ISO 4217 code of amounts without their own")
    currency_exponent: int = Field(2, ge=0, le=4, description="minor units per major unit, 10^n")
    default_timezone: str = Field("UTC", description="IANA zone of customers without their own")
    secret_key: SecretStr = Field(
        SecretStr("dev-secret"), description="key for hashing tokens and link codes"
    )
    import_batch_size: int = Field(5000, ge=1, le=100_000)
    lifecycle_config: str = Field(
        "consumer_retail",
        description="stage rules, triggers and policies: a preset name or a TOML file path",
    )

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value not in {"development", "production", "test"}:
            raise ValueError("must be development, production or test")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if (
            self.environment == "production"
            and self.secret_key.get_secret_value() in PLACEHOLDER_SECRETS
        ):
            raise ValueError("SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL to connect to, defaulting to the SQLite file in data_dir."""
        if self.database_url:
            url = self.database_url
            # Plain postgres URLs would pick psycopg2; we ship psycopg 3.
            for prefix in ("postgresql://", "postgres://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite:///{self.data_dir / 'lifecycle.sqlite3'}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
