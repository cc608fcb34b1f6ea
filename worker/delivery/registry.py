"""The adapters a delivery run uses, built from the settings; unset transports are left out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from domain.outbox.delivery import Adapter
from worker.delivery.log import LogAdapter
from worker.delivery.settings import DeliverySettings
from worker.delivery.smtp import SmtpAdapter
from worker.delivery.telegram import TelegramAdapter


@contextmanager
def open_adapters(settings: DeliverySettings) -> Iterator[dict[str, Adapter]]:
    """Adapters by outbox `adapter` name, closed at the end of the block.

    Email without SMTP_HOST and Telegram without TELEGRAM_TOKEN are left out, so their
    messages wait in the outbox instead of failing towards dead.
    """
    adapters: dict[str, Adapter] = {"log": LogAdapter()}
    telegram: TelegramAdapter | None = None
    if settings.smtp_host:
        adapters["email"] = SmtpAdapter(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            timeout=settings.smtp_timeout,
            message_id_domain=settings.message_id_domain,
        )
    if settings.telegram_token.get_secret_value():
        telegram = TelegramAdapter(
            base_url=settings.telegram_base_url,
            token=settings.telegram_token.get_secret_value(),
            timeout=settings.telegram_timeout,
        )
        adapters["telegram"] = telegram
    try:
        yield adapters
    finally:
        if telegram is not None:
            telegram.close()
