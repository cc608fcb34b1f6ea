"""Settings of the GraphQL API server, read from `API_*` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Limits and switches of the API; the database and Redis come from domain settings."""

    model_config = SettingsConfigDict(
        env_prefix="API_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    graphiql: bool | None = Field(None, description="GraphiQL page; default: on in development")
    introspection: bool | None = Field(
        None, description="schema introspection; default: not in production"
    )
    max_depth: int = Field(10, ge=2, description="deepest selection nesting a query may have")
    max_aliases: int = Field(30, ge=1, description="aliases per document")
    max_tokens: int = Field(2000, ge=50, description="lexical tokens per document")
    max_page_size: int = Field(100, ge=1, le=1000, description="largest `first` of a list")
    default_page_size: int = Field(20, ge=1, le=1000)
    max_batch_events: int = Field(5000, ge=1, description="events per recordEvents call")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="request bodies above get 413")
    rate_limit: int = Field(600, ge=0, description="requests per token and window; 0 = no limit")
    rate_window_seconds: int = Field(60, ge=1)
    db_threads: int = Field(4, ge=1, le=200, description="threads (and pooled connections) for SQL")
    db_recycle_seconds: int = Field(
        1800, ge=1, description="pooled connections older than this are replaced"
    )
    auth_cache_seconds: float = Field(
        5.0, ge=0, description="how long a verified token is trusted without a look-up"
    )


@lru_cache
def get_api_settings() -> ApiSettings:
    """The process-wide API settings, read once."""
    return ApiSettings()
