"""Fixtures for end-to-end tests against the Telegram Bot API emulator (thin harness wrappers)."""

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.e2e.telegram.harness import TelegramClient, TelegramEmulator, run_emulator


@pytest.fixture(scope="session")
def telegram_emulator() -> Iterator[TelegramEmulator]:
    """One emulator process for the session; tests stay isolated by using their own token."""
    with run_emulator() as emulator:
        yield emulator


@pytest.fixture
async def telegram(telegram_emulator: TelegramEmulator) -> AsyncIterator[TelegramClient]:
    """The Telegram side of a fresh bot: hand ``telegram.token``/``base_url`` to PTB."""
    async with TelegramClient(telegram_emulator) as client:
        yield client
