"""`lifecycle bot`: the sales assistant on Telegram (polling or webhook), or in this terminal."""

from __future__ import annotations

import asyncio
import logging

import typer

from bot.settings import get_bot_settings
from cli.output import fail


def bot_command(
    console: bool = typer.Option(False, help="chat in this terminal instead of Telegram"),
    telegram_user_id: int | None = typer.Option(
        None, "--as", help="with --console: the Telegram user id of the staff member to act for"
    ),
    language: str | None = typer.Option(
        None, help="with --console: reply language (en, es, ru, zh)"
    ),
    webhook_url: str | None = typer.Option(
        None, help="serve a webhook at this public HTTPS URL instead of long polling"
    ),
    api_url: str | None = typer.Option(None, help="GraphQL endpoint (default: BOT_API_URL)"),
) -> None:
    """Run the Telegram sales assistant against the GraphQL API."""
    settings = get_bot_settings()
    updates: dict[str, object] = {}
    if api_url:
        updates["bot_api_url"] = api_url
    if webhook_url:
        updates["bot_webhook_url"] = webhook_url
    settings = settings.model_copy(update=updates)
    if not settings.bot_api_token.get_secret_value():
        fail("BOT_API_TOKEN is not set: create one with `lifecycle token create --role bot`")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request URL at INFO, and Bot API URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if console:
        if telegram_user_id is None:
            fail("--console needs --as TELEGRAM_USER_ID (a staff member's linked Telegram id)")
        from bot.console import run_console

        run_console(
            settings.bot_api_url,
            settings.bot_api_token.get_secret_value(),
            telegram_user_id,
            language=language,
        )
        return
    if not settings.telegram_token.get_secret_value():
        fail("TELEGRAM_TOKEN is not set: use --console to chat in this terminal")
    if settings.bot_webhook_url:
        from bot.webhook import run_webhook

        asyncio.run(run_webhook(settings))
    else:
        from bot.app import run_polling

        asyncio.run(run_polling(settings))
