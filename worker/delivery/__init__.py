"""Transports for the outbox: email over SMTP, Telegram to staff, and a log for the rest."""
