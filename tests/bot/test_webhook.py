"""Webhook mode: Telegram's posts reach the Application's update queue only with the secret."""

from __future__ import annotations

import httpx
from telegram import Update

from bot.app import build_application
from bot.settings import BotSettings
from bot.webhook import SECRET_HEADER, webhook_app

UPDATE = {
    "update_id": 10,
    "message": {
        "message_id": 1,
        "date": 1_764_000_000,
        "chat": {"id": 5001, "type": "private"},
        "from": {"id": 5001, "is_bot": False, "first_name": "Ann"},
        "text": "/help",
    },
}


def webhook_settings() -> BotSettings:
    return BotSettings(
        telegram_token="7000000001:test",
        bot_webhook_url="https://bot.example.com/telegram/hook",
    )


async def test_a_posted_update_with_the_secret_is_queued() -> None:
    application = build_application(webhook_settings())
    app = webhook_app(application, "/telegram/hook", "s3cret")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot.test"
    ) as http:
        response = await http.post("/telegram/hook", json=UPDATE, headers={SECRET_HEADER: "s3cret"})

    assert response.status_code == 200
    queued = application.update_queue.get_nowait()
    assert isinstance(queued, Update) and queued.message is not None
    assert (queued.update_id, queued.message.text) == (10, "/help")


async def test_a_post_without_the_right_secret_is_refused() -> None:
    application = build_application(webhook_settings())
    app = webhook_app(application, "/telegram/hook", "s3cret")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot.test"
    ) as http:
        missing = await http.post("/telegram/hook", json=UPDATE)
        wrong = await http.post("/telegram/hook", json=UPDATE, headers={SECRET_HEADER: "guess"})

    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert application.update_queue.empty()


def test_webhook_mode_builds_the_application_without_an_updater() -> None:
    assert build_application(webhook_settings()).updater is None
