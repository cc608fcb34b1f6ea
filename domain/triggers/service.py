"""Running the triggers: in bulk for the hourly job, or for one customer when something happens."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session

from domain.clock import as_utc
from domain.customers.models import Customer
from domain.stages.config import default_config
from domain.triggers import behaviour, time_based
from domain.triggers.config import TriggersConfig
from domain.triggers.context import TriggerContext
from domain.triggers.errors import TriggerError
from domain.triggers.vocabulary import TriggerType
from domain.triggers.wording import zone
from domain.triggers.writer import Written

TRIGGERS: dict[TriggerType, Callable[[TriggerContext], list[Written]]] = {
    TriggerType.BIRTHDAY: time_based.birthday,
    TriggerType.DAYS_AFTER_FIRST_ORDER: time_based.days_after_first_order,
    TriggerType.HOLIDAY: time_based.holidays,
    TriggerType.ABANDONED_CART: behaviour.abandoned_cart,
    TriggerType.CATEGORY_INTEREST: behaviour.category_interest,
    TriggerType.FIRST_ORDER: behaviour.first_order,
    TriggerType.SLEEPING_HIGH_VALUE: behaviour.sleeping_high_value,
}


@dataclass(frozen=True)
class TriggerRunResult:
    """What a run created: counts per trigger type, the new ids, and those worth an alert."""

    as_of: datetime
    created: dict[str, int]
    suggestion_ids: list[int]
    alert_ids: list[int]


def _enabled(config: TriggersConfig, trigger: TriggerType) -> bool:
    if trigger is TriggerType.HOLIDAY:
        return bool(config.holidays)
    section = getattr(config, str(trigger))
    return bool(section.enabled)


def run_triggers(
    *,
    session: Session,
    as_of: datetime,
    config: TriggersConfig | None = None,
    customer_ids: Sequence[int] | None = None,
    types: Collection[TriggerType] | None = None,
) -> TriggerRunResult:
    """Evaluate the enabled triggers as of a moment and create the suggestions they call for.

    Each trigger selects its candidates set-wise and inserts suggestions skipping dedupe keys
    already taken, so running twice creates nothing new. `customer_ids` narrows every trigger
    to those customers (the fast paths); `types` runs only some triggers.
    """
    config = config or default_config().triggers
    ctx = TriggerContext(
        session=session, as_of=as_utc(as_of), config=config, customer_ids=customer_ids
    )
    created: dict[str, int] = {}
    ids: list[int] = []
    alerts: list[int] = []
    for trigger, evaluate in TRIGGERS.items():
        if (types is not None and trigger not in types) or not _enabled(config, trigger):
            continue
        written = evaluate(ctx)
        created[str(trigger)] = len(written)
        ids.extend(w.id for w in written)
        alerts.extend(w.id for w in written if w.priority >= config.alert_min_priority)
    return TriggerRunResult(as_of=ctx.as_of, created=created, suggestion_ids=ids, alert_ids=alerts)


def on_first_order(
    *,
    session: Session,
    customer_id: int,
    at: datetime,
    config: TriggersConfig | None = None,
) -> TriggerRunResult:
    """Create the onboarding suggestion right after a customer's first order is recorded.

    Call it once the order and the customer's `first_order_at` are written.
    """
    return run_triggers(
        session=session,
        as_of=at,
        config=config,
        customer_ids=[customer_id],
        types=[TriggerType.FIRST_ORDER],
    )


def on_cart_added(
    *,
    session: Session,
    customer_id: int,
    at: datetime,
    config: TriggersConfig | None = None,
) -> datetime:
    """When a cart added at `at` counts as abandoned if no order follows: run `check_cart` then.

    That is the end of the customer's local day, or the configured number of hours later.
    """
    cfg = (config or default_config().triggers).abandoned_cart
    added = as_utc(at)
    if cfg.hours:
        return added + timedelta(hours=cfg.hours)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise TriggerError(f"customer {customer_id} does not exist")
    tz = zone(customer.timezone)
    local_day = added.astimezone(tz).date()
    return as_utc(datetime.combine(local_day + timedelta(days=1), time(), tz))


def check_cart(
    *,
    session: Session,
    customer_id: int,
    as_of: datetime,
    config: TriggersConfig | None = None,
) -> TriggerRunResult:
    """Create the abandoned-cart suggestion for one customer if their cart is due as of now."""
    return run_triggers(
        session=session,
        as_of=as_of,
        config=config,
        customer_ids=[customer_id],
        types=[TriggerType.ABANDONED_CART],
    )
