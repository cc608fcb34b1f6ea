"""API test set-up: the ASGI app over the `engine` fixture, reached over real HTTP via httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import Engine

from api.app import create_app
from api.settings import ApiSettings
from domain.settings import Settings

TEST_SETTINGS = {"rate_limit": 0, "auth_cache_seconds": 0}


def api_settings(**overrides: object) -> ApiSettings:
    """API settings for tests: no rate limit, no auth cache, unless overridden."""
    return ApiSettings(**{**TEST_SETTINGS, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def settings() -> ApiSettings:
    """The API settings a test's app uses (override the fixture to change them)."""
    return api_settings()


@pytest.fixture
async def client(engine: Engine, settings: ApiSettings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to a fresh app on the test database, lifespan included."""
    app = create_app(settings=settings, engine=engine, domain_settings=Settings(environment="test"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
            yield http
