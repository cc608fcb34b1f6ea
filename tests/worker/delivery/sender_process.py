"""A delivery process for the crash tests: it stops at a point and waits to be killed.

Usage: python sender_process.py DATABASE_URL SMTP_PORT STAGE DEDUPE_KEY MARKER
STAGE is `before-send` (claimed, nothing sent) or `after-send` (the server accepted the
message, the outbox row is not marked sent yet). On reaching it for the message with
DEDUPE_KEY the process writes MARKER and sleeps until the test sends SIGKILL.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from domain.db import make_engine
from domain.outbox.delivery import Outgoing, Receipt, deliver_due
from worker.delivery.smtp import SmtpAdapter


class StopAt:
    """Wraps the SMTP adapter and parks the process at the chosen stage."""

    def __init__(self, inner: SmtpAdapter, stage: str, dedupe_key: str, marker: Path) -> None:
        self.inner = inner
        self.stage = stage
        self.dedupe_key = dedupe_key
        self.marker = marker

    def send(self, message: Outgoing) -> Receipt:
        """Send through SMTP, stopping before or after it for the chosen message."""
        self._maybe_stop(message, "before-send")
        receipt = self.inner.send(message)
        self._maybe_stop(message, "after-send")
        return receipt

    def _maybe_stop(self, message: Outgoing, stage: str) -> None:
        if stage == self.stage and message.dedupe_key == self.dedupe_key:
            self.marker.write_text(stage)
            time.sleep(600)


def main(url: str, port: str, stage: str, dedupe_key: str, marker: str) -> None:
    """Run one delivery batch over SMTP on 127.0.0.1:PORT."""
    smtp = SmtpAdapter(host="127.0.0.1", port=int(port), sender="news@shop.example")
    deliver_due(
        engine=make_engine(url),
        adapters={"email": StopAt(smtp, stage, dedupe_key, Path(marker))},
        batch_size=10,
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
