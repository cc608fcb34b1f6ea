"""Webhook mode for production: Telegram posts updates to a small Starlette app under uvicorn."""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import urlparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import build_application, running
from bot.context import BotApplication
from bot.settings import BotSettings

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)


def webhook_app(application: BotApplication, path: str, secret: str) -> Starlette:
    """The ASGI app: POST `path` queues the update; GET /healthz answers while the bot runs."""

    async def telegram(request: Request) -> Response:
        """An update from Telegram, checked against the webhook secret."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except ValueError:
            return Response(status_code=400)
        await application.update_queue.put(update)
        return Response()

    async def healthz(_: Request) -> JSONResponse:
        """The bot process is up."""
        return JSONResponse({"status": "ok", "running": application.running})

    return Starlette(
        routes=[
            Route(path, telegram, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


async def run_webhook(settings: BotSettings) -> None:
    """Register the webhook with Telegram and serve it until uvicorn is told to stop."""
    application = build_application(settings)
    path = urlparse(settings.bot_webhook_url).path or "/"
    # Without a secret anyone could post updates claiming to be a staff member: make one up.
    secret = settings.bot_webhook_secret.get_secret_value() or secrets.token_urlsafe(32)
    server = uvicorn.Server(
        uvicorn.Config(
            webhook_app(application, path, secret),
            host=settings.bot_listen_host,
            port=settings.bot_listen_port,
            log_level="info",
        )
    )
    async with running(application):
        await application.bot.set_webhook(
            url=settings.bot_webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("bot webhook at %s", settings.bot_webhook_url)
        await server.serve()
