"""RQ jobs `digests.send` and `alerts.send`: messages to sales staff in Telegram, via the outbox.

The texts come from the bot's gettext catalogs (bot/texts/<language>/LC_MESSAGES/bot.po),
read here from their files so the worker does not import the bot: one set of translations,
two readers. Messages are outbox rows (adapter "telegram", addressed to the staff member),
written in the job's transaction with a dedupe key, so nothing is lost when a worker dies
and nothing is queued twice:
- digest: one per staff member per local day (`digest:<staff id>:<local date>`), queued by
  the first run in the window after the staff member's local digest time (a worker that
  was down at eight still sends it at nine; one down all morning does not send it at night)
  — run the job every 15 minutes from cron;
- alert: one per suggestion (`alert:suggestion:<id>`), for the suggestions a trigger run
  flagged as worth an alert (`TriggerRunResult.alert_ids`).
Staff messages carry no customer_id (the customer's contact policy is not theirs); the
customer's id is in the payload.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from babel.support import Translations
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Session, col, select

from domain.clock import as_utc, utcnow
from domain.customers.queries import customers_by_ids
from domain.db import get_engine, unit_of_work
from domain.outbox.models import OutboxMessage
from domain.outbox.service import enqueue as enqueue_message
from domain.referrals.models import Offer
from domain.staff.models import Staff
from domain.suggestions.models import Suggestion
from domain.suggestions.queries import suggestions_by_ids
from domain.suggestions.service import list_open
from domain.triggers.reasons import render
from domain.triggers.wording import zone
from domain.wording import compile_po, language_of
from worker.jobs.delivery import deliver_pending
from worker.queue import DELIVERY
from worker.queue import enqueue as enqueue_job

CATALOGS = Path(__file__).resolve().parents[2] / "bot" / "texts"
# Suggestions a digest lists; the bot's /today has the rest, with buttons.
DIGEST_ITEMS = 10


class DigestSettings(BaseSettings):
    """When staff get their digest (in each staff member's own time zone)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    digest_time: time = Field(time(8, 0), description="local time of the daily digest, HH:MM")
    digest_window_hours: float = Field(
        4.0, gt=0, le=24, description="how long after digest_time a late digest is still sent"
    )


@dataclass
class DigestCounts:
    """What a digest run did, per staff member considered."""

    queued: int = 0
    already_queued: int = 0
    not_yet: int = 0
    too_late: int = 0
    nothing_to_say: int = 0


@lru_cache
def translations(language: str) -> Translations:
    """The bot's catalog for a staff member's language (English when it is not shipped)."""
    shipped = language_of(language)
    return compile_po(CATALOGS / shipped / "LC_MESSAGES" / "bot.po", shipped, "bot")


def render_digest(
    staff: Staff, items: list[Suggestion], names: dict[int, str], offers: dict[int, str]
) -> str:
    """The digest text: who to contact today, why, and with what offer."""
    _ = translations(staff.language).gettext
    lines = [
        _("Good morning, {name}! Your contacts for today ({count}):").format(
            name=staff.name, count=len(items)
        )
    ]
    for number, item in enumerate(items, 1):
        who = names.get(item.customer_id) or f"#{item.customer_id}"
        lines.append(f"{number}. {who} (#{item.customer_id}) — {_reason(staff, item)}")
        if item.offer_id in offers:
            lines.append("   " + _("Offer: {offer}").format(offer=offers[item.offer_id]))
    lines.append(_("Send /today to the bot for the list with buttons."))
    return "\n".join(lines)


def _reason(staff: Staff, item: Suggestion) -> str:
    """Why, in the staff member's language."""
    return render(item.reason_key, item.reason_args, item.reason, staff.language)


def render_alert(staff: Staff, item: Suggestion, name: str | None, offer: str | None) -> str:
    """A real-time alert about one of the staff member's customers."""
    _ = translations(staff.language).gettext
    lines = [
        _("🔔 {name} (#{id}): {reason}").format(
            name=name or f"#{item.customer_id}", id=item.customer_id, reason=_reason(staff, item)
        )
    ]
    if offer:
        lines.append(_("Offer: {offer}").format(offer=offer))
    lines.append(_("Send /customer {id} for the card.").format(id=item.customer_id))
    return "\n".join(lines)


def _offer_names(session: Session, items: list[Suggestion]) -> dict[int, str]:
    ids = sorted({item.offer_id for item in items if item.offer_id is not None})
    if not ids:
        return {}
    rows = session.exec(select(Offer).where(col(Offer.id).in_(ids)))
    return {row.id: row.name for row in rows if row.id is not None}


def _names(session: Session, items: list[Suggestion]) -> dict[int, str]:
    customers = customers_by_ids(session=session, ids=[item.customer_id for item in items])
    return {cid: c.name for cid, c in customers.items() if c.name}


def enqueue_digests(
    *, session: Session, now: datetime, digest_time: time, window: timedelta = timedelta(hours=4)
) -> DigestCounts:
    """Queue today's digest for each linked staff member whose local digest window is open."""
    now = as_utc(now)
    counts = DigestCounts()
    staff_rows = session.exec(
        select(Staff)
        .where(col(Staff.active).is_(True), col(Staff.telegram_user_id).is_not(None))
        .order_by(col(Staff.id))
    )
    for staff in staff_rows:
        local = now.astimezone(zone(staff.timezone))
        opens = datetime.combine(local.date(), digest_time, local.tzinfo)
        if local < opens:
            counts.not_yet += 1
            continue
        if local >= opens + window:
            counts.too_late += 1
            continue
        key = f"digest:{staff.id}:{local.date().isoformat()}"
        taken = session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
        if taken.first() is not None:
            counts.already_queued += 1
            continue
        assert staff.id is not None
        items = list_open(session=session, staff_id=staff.id, limit=DIGEST_ITEMS, as_of=now)
        if not items:
            counts.nothing_to_say += 1
            continue
        enqueue_message(
            session=session,
            adapter="telegram",
            recipient=str(staff.telegram_user_id),
            body=render_digest(staff, items, _names(session, items), _offer_names(session, items)),
            dedupe_key=key,
            staff_id=staff.id,
            payload={"kind": "digest", "suggestion_ids": [item.id for item in items]},
        )
        counts.queued += 1
    return counts


def enqueue_alerts(*, session: Session, suggestion_ids: list[int]) -> int:
    """Queue an alert to the owner of each suggestion (if linked to Telegram); return how many."""
    suggestions = suggestions_by_ids(session=session, ids=suggestion_ids)
    items = [suggestions[i] for i in sorted(suggestions) if suggestions[i].staff_id is not None]
    names = _names(session, items)
    offers = _offer_names(session, items)
    queued = 0
    for item in items:
        staff = session.get(Staff, item.staff_id)
        if staff is None or not staff.active or staff.telegram_user_id is None:
            continue
        enqueue_message(
            session=session,
            adapter="telegram",
            recipient=str(staff.telegram_user_id),
            body=render_alert(
                staff,
                item,
                names.get(item.customer_id),
                offers.get(item.offer_id) if item.offer_id is not None else None,
            ),
            dedupe_key=f"alert:suggestion:{item.id}",
            staff_id=staff.id,
            payload={"kind": "alert", "suggestion_id": item.id, "customer_id": item.customer_id},
        )
        queued += 1
    return queued


def _deliver_soon() -> None:
    """Hand the new rows to delivery (in-process without Redis) once they are committed."""
    enqueue_job(deliver_pending, queue=DELIVERY)


def send_digests(as_of: datetime | None = None) -> dict[str, int]:
    """RQ job `digests.send`: queue the digests due now, then deliver; return the counts."""
    settings = DigestSettings()
    with unit_of_work(get_engine()) as session:
        counts = enqueue_digests(
            session=session,
            now=as_of or utcnow(),
            digest_time=settings.digest_time,
            window=timedelta(hours=settings.digest_window_hours),
        )
    if counts.queued:
        _deliver_soon()
    return asdict(counts)


def send_alerts(suggestion_ids: list[int]) -> int:
    """RQ job `alerts.send`: queue alerts for these suggestions, then deliver; return how many."""
    with unit_of_work(get_engine()) as session:
        queued = enqueue_alerts(session=session, suggestion_ids=suggestion_ids)
    if queued:
        _deliver_soon()
    return queued
