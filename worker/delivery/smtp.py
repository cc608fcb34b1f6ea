"""Email through any SMTP server, with a Message-ID derived from the outbox dedupe key.

What a resend can and cannot do: SMTP has no idempotency key. If the sender dies after the
server accepted the message (250) but before the outbox row was marked sent, the message is
sent again when the lease runs out, and the recipient gets a second copy. That copy has the
same Message-ID (a hash of the dedupe key), which many mail stores and clients use to fold
duplicates together, but nothing in SMTP guarantees it.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Literal

from domain.outbox.delivery import DeliveryFailure, Outgoing, Receipt

# An enhanced status code (RFC 3463) says what went wrong without quoting the address.
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")


def message_id(dedupe_key: str, domain: str) -> str:
    """The Message-ID for a dedupe key: the same key always gives the same id."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


class SmtpAdapter:
    """Sends each message over its own SMTP connection."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        security: Literal["none", "starttls", "ssl"] = "none",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
        message_id_domain: str = "",
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.security = security
        self.username = username
        self.password = password
        self.timeout = timeout
        address = parseaddr(sender)[1]
        self.message_id_domain = message_id_domain or address.rpartition("@")[2] or "localhost"

    def build(self, message: Outgoing) -> EmailMessage:
        """The email for an outbox message, plain text."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = message_id(message.dedupe_key, self.message_id_domain)
        email.set_content(message.body)
        return email

    def send(self, message: Outgoing) -> Receipt:
        """Hand the email to the server; a refusal or a broken connection is a DeliveryFailure."""
        email = self.build(message)
        try:
            with self._connect() as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            raise DeliveryFailure(f"smtp {code}{_enhanced(reply)}: recipient refused") from None
        except smtplib.SMTPResponseException as exc:
            step = type(exc).__name__.removeprefix("SMTP")
            raise DeliveryFailure(
                f"smtp {exc.smtp_code}{_enhanced(exc.smtp_error)}: {step}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailure(f"smtp connection failed: {type(exc).__name__}") from None
        return Receipt(provider_message_id=str(email["Message-ID"]))

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _enhanced(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    found = _ENHANCED.match(text)
    return f" {found[1]}" if found else ""
