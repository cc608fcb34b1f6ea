"""Messages to staff through the Telegram Bot API (sendMessage), over httpx.

What a resend can and cannot do: sendMessage has no idempotency key, and the Bot API cannot
list what a bot sent. If the sender dies after Telegram answered but before the outbox row was
marked sent, the staff member gets the alert twice. The message_id Telegram returns is kept
on the row (provider_message_id), so a sent alert can be edited or deleted later; a duplicate
from a lost confirmation cannot be detected.
"""

from __future__ import annotations

from typing import Any

import httpx

from domain.outbox.delivery import DeliveryFailure, Outgoing, RateLimited, Receipt

# Telegram answers these for requests that will fail the same way every time.
PERMANENT_CODES = frozenset({400, 403})
# Longest text sendMessage accepts.
MAX_TEXT = 4096


class TelegramAdapter:
    """Sends each message to the chat whose id is the message's recipient."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        timeout: float = 20.0,
        client: httpx.Client | None = None,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}/sendMessage"
        self._client = client or httpx.Client(timeout=timeout)
        self._own_client = client is None

    def close(self) -> None:
        """Close the HTTP connections this adapter opened."""
        if self._own_client:
            self._client.close()

    def send(self, message: Outgoing) -> Receipt:
        """Call sendMessage; 429 becomes RateLimited with Telegram's retry_after."""
        try:
            chat_id = int(message.recipient)
        except ValueError:
            raise DeliveryFailure("telegram recipient is not a chat id", permanent=True) from None
        text = f"{message.subject}\n\n{message.body}" if message.subject else message.body
        if len(text) > MAX_TEXT:
            # An over-long alert would be refused for good; a shortened one still gets read.
            text = text[: MAX_TEXT - 1] + "…"
        try:
            response = self._client.post(self._url, json={"chat_id": chat_id, "text": text})
        except httpx.HTTPError as exc:
            # The exception's text would carry the URL, and the URL carries the token.
            raise DeliveryFailure(f"telegram transport error: {type(exc).__name__}") from None
        body = _json(response)
        if response.status_code == 200 and body.get("ok"):
            return Receipt(provider_message_id=str(body["result"]["message_id"]))
        code = int(body.get("error_code") or response.status_code)
        description = str(body.get("description") or response.reason_phrase)[:200]
        reason = f"telegram {code}: {description}"
        if code == 429:
            parameters = body.get("parameters") or {}
            retry_after = float(parameters.get("retry_after") or 1)
            raise RateLimited(reason, retry_after=retry_after)
        raise DeliveryFailure(reason, permanent=code in PERMANENT_CODES)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
