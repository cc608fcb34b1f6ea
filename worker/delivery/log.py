"""The adapter for channels without a transport yet: a structured log line, counted as sent.

The line carries what an operator needs to follow a message (outbox id, channel, kind,
attempt, a hash of the dedupe key, the body's length) as `extra` fields, which the project's
JSON log formatter writes out, and nothing that identifies the person it was for. Logging
again after a lost confirmation repeats the line with the same key hash.
"""

from __future__ import annotations

import hashlib
import logging

from domain.outbox.delivery import Outgoing, Receipt

logger = logging.getLogger("lifecycle.outbox.log")


def key_hash(dedupe_key: str) -> str:
    """A short, stable stand-in for a dedupe key (which may hold customer ids)."""
    return hashlib.sha256(dedupe_key.encode()).hexdigest()[:16]


class LogAdapter:
    """Writes one log line per message instead of sending it."""

    def send(self, message: Outgoing) -> Receipt:
        """Log the message's delivery facts; never fails."""
        key = key_hash(message.dedupe_key)
        logger.info(
            "outbox message delivered to the log",
            extra={
                "event": "outbox.delivered",
                "outbox_id": message.id,
                "channel": str(message.payload.get("channel", "")),
                "kind": str(message.payload.get("kind", "")),
                "attempt": message.attempt,
                "key": key,
                "body_chars": len(message.body),
            },
        )
        return Receipt(provider_message_id=f"log:{key}")
