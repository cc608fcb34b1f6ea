"""Bot test set-up: the real API (in-process over ASGI, or uvicorn on loopback) and the
Telegram Bot API emulator; the bot itself is built and started as `lifecycle bot` does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from api.app import create_app
from api.settings import ApiSettings
from bot.client import ApiClient
from bot.conversation import Conversation
from bot.i18n import load_catalogs
from domain.settings import Settings
from tests.bot.factories import bot_token
from tests.e2e.telegram.harness import TelegramClient, TelegramEmulator, run_emulator


def api_app(engine: Engine) -> Starlette:
    """The GraphQL API on the test database: no rate limit, no auth cache."""
    return create_app(
        settings=ApiSettings(rate_limit=0, auth_cache_seconds=0),
        engine=engine,
        domain_settings=Settings(environment="test"),
    )


@contextmanager
def serve_api(engine: Engine) -> Iterator[str]:
    """The API under uvicorn on a free loopback port (in a thread); yields the GraphQL URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(api_app(engine), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def token(engine: Engine) -> str:
    """A bot-role API token."""
    return bot_token(engine)


@pytest.fixture
async def conversation(engine: Engine, token: str) -> AsyncIterator[Conversation]:
    """The conversation over the real API app, reached in-process through httpx's ASGI transport."""
    app = api_app(engine)
    async with app.router.lifespan_context(app):
        api = ApiClient("http://api.test/graphql", token, transport=httpx.ASGITransport(app=app))
        yield Conversation(api, load_catalogs(), page_size=3, staff_cache_seconds=0)
        await api.aclose()


@pytest.fixture(scope="session")
def telegram_emulator() -> Iterator[TelegramEmulator]:
    """One emulator process for the session; each test's bot has its own token."""
    with run_emulator() as emulator:
        yield emulator


@pytest.fixture
async def telegram(telegram_emulator: TelegramEmulator) -> AsyncIterator[TelegramClient]:
    """The Telegram side of a fresh bot."""
    async with TelegramClient(telegram_emulator) as client:
        yield client
