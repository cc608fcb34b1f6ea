"""The bot's Application: all wiring in `build_application`, and how it runs.

`running()` starts an Application the way `Application.run_polling` does (initialize,
post_init, start, poll — and the reverse on exit) but inside a running event loop, so that
`lifecycle bot`, the webhook server and the end-to-end tests start the bot the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.client import ApiClient
from bot.context import CONTEXT_TYPES, BotApplication
from bot.conversation import Conversation
from bot.i18n import COMMAND_LANGUAGES, load_catalogs
from bot.ordering import ChatOrderedProcessor
from bot.routes import COMMANDS
from bot.settings import BotSettings
from bot.telegram_io import on_button, on_command, on_error, on_text

log = logging.getLogger(__name__)
# A 429 (flood limit) is retried after Telegram's retry_after this many times.
FLOOD_RETRIES = 3
# Updates handled at once (of different chats; one chat's are handled in order).
CONCURRENT_UPDATES = 32


def build_application(settings: BotSettings) -> BotApplication:
    """The Application with every handler; the API client is made in post_init."""
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.ptb_base_url)
        .base_file_url(settings.ptb_base_file_url)
        .context_types(CONTEXT_TYPES)
        .rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
        .concurrent_updates(ChatOrderedProcessor(CONCURRENT_UPDATES))
        .job_queue(None)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if settings.bot_webhook_url:
        builder = builder.updater(None)
    application: BotApplication = builder.build()
    application.bot_data.settings = settings
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.COMMAND, on_command))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
    return application


async def post_init(application: BotApplication) -> None:
    """Create the API client and the conversation; register the commands per language."""
    data = application.bot_data
    settings = data.settings
    assert settings is not None
    catalogs = load_catalogs()
    api = ApiClient(
        settings.bot_api_url,
        settings.bot_api_token.get_secret_value(),
        timeout=settings.bot_api_timeout,
    )
    data.conversation = Conversation(
        api,
        catalogs,
        page_size=settings.bot_page_size,
        currency=settings.currency,
        currency_exponent=settings.currency_exponent,
        staff_cache_seconds=settings.bot_staff_cache_seconds,
    )
    for language, code in COMMAND_LANGUAGES.items():
        translations = catalogs[language]
        menu = [
            BotCommand(command.name, translations.gettext(command.description))
            for command in COMMANDS
            if not command.admin and command.name != "start"
        ]
        await application.bot.set_my_commands(menu, language_code=code)


async def post_shutdown(application: BotApplication) -> None:
    """Close the API client."""
    conversation = application.bot_data.conversation
    if conversation is not None:
        await conversation.api.aclose()
        application.bot_data.conversation = None


@contextlib.asynccontextmanager
async def running(application: BotApplication) -> AsyncIterator[BotApplication]:
    """Run the Application (long polling unless it has no Updater) until the block ends."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        if application.updater is not None:
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        try:
            yield application
        finally:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def run_polling(settings: BotSettings) -> None:
    """Poll Telegram until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(build_application(settings)):
        log.info("bot polling %s", settings.telegram_base_url)
        await stop.wait()
