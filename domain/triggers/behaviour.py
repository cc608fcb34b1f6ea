"""Behaviour-based triggers: abandoned carts, category interest, first orders, sleeping VIPs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import RowMapping, and_, exists, func, or_, select
from sqlmodel import col

from domain.catalog.models import Product
from domain.customers.models import Customer
from domain.events.models import Event, EventType
from domain.orders.models import Order, OrderKind, OrderLine, OrderStatus
from domain.reactivation.offers import DEFAULT_OFFER_CODE
from domain.referrals.models import Offer
from domain.scoring.models import Score
from domain.stages.vocabulary import Stage
from domain.suggestions.models import Suggestion
from domain.triggers.audience import customer_value, latest_score_on
from domain.triggers.context import TriggerContext
from domain.triggers.vocabulary import TriggerType
from domain.triggers.wording import count_of, day_month_year, listing, money, relative_day, zone
from domain.triggers.writer import Written, insert_rows


def _completed_sale() -> Any:
    return and_(col(Order.kind) == OrderKind.SALE, col(Order.status) == OrderStatus.COMPLETED)


@dataclass
class _Cart:
    """The cart adds of one customer on one local day that no order followed."""

    candidate: RowMapping
    day: date
    last_added_at: datetime
    items: int = 0
    categories: list[str] = field(default_factory=list)


def _quantity(properties: dict[str, Any]) -> int:
    value = properties.get("quantity", 1)
    return value if isinstance(value, int) and value > 0 else 1


def _product_id(properties: dict[str, Any]) -> int | None:
    value = properties.get("product_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sku(properties: dict[str, Any]) -> str | None:
    value = properties.get("sku")
    return value if isinstance(value, str) and value else None


def _categories_of(ctx: TriggerContext, events: Sequence[RowMapping]) -> dict[int, str]:
    """Category per event: its own `category` property, else its product's (by id or SKU)."""
    ids = {i for e in events if (i := _product_id(e["properties"])) is not None}
    skus = {s for e in events if (s := _sku(e["properties"])) is not None}
    by_id: dict[int, str] = {}
    by_sku: dict[str, str] = {}
    if ids or skus:
        products = ctx.session.execute(
            select(col(Product.id), col(Product.sku), col(Product.category)).where(
                col(Product.category).is_not(None),
                or_(col(Product.id).in_(sorted(ids)), col(Product.sku).in_(sorted(skus))),
            )
        )
        for product_id, sku, category in products:
            by_id[product_id] = category
            by_sku[sku] = category
    found: dict[int, str] = {}
    for event in events:
        props = event["properties"]
        own = props.get("category")
        category = own if isinstance(own, str) and own else None
        product_id, sku = _product_id(props), _sku(props)
        if category is None and product_id is not None:
            category = by_id.get(product_id)
        if category is None and sku is not None:
            category = by_sku.get(sku)
        if category:
            found[event["event_id"]] = category
    return found


def abandoned_cart(ctx: TriggerContext) -> list[Written]:
    """Follow up cart adds that no order followed by their deadline.

    The deadline is the end of the customer's local day of the add, or `hours` after the last
    add of that day when configured; carts whose deadline is older than the lookback are stale.
    """
    cfg = ctx.config.abandoned_cart
    # A local day ends at most 25 hours (a DST change) after an add made on it.
    grace = timedelta(hours=cfg.hours or 25)
    oldest_deadline = ctx.as_of - timedelta(hours=cfg.lookback_hours)
    ordered_since = exists(
        select(col(Order.id)).where(
            col(Order.customer_id) == col(Event.customer_id),
            _completed_sale(),
            col(Order.ordered_at) >= col(Event.occurred_at),
            col(Order.ordered_at) <= ctx.as_of,
        )
    )
    query = (
        ctx.candidates(
            col(Customer.timezone).label("timezone"),
            col(Event.id).label("event_id"),
            col(Event.occurred_at).label("occurred_at"),
            col(Event.properties).label("properties"),
        )
        .join(Event, col(Event.customer_id) == col(Customer.id))
        .where(
            col(Event.type) == EventType.CART_ADD,
            col(Event.occurred_at) > oldest_deadline - grace,
            col(Event.occurred_at) <= ctx.as_of,
            ~ordered_since,
        )
    )
    events = ctx.rows(query)
    categories = _categories_of(ctx, events)
    carts: dict[tuple[int, date], _Cart] = {}
    for event in sorted(events, key=lambda e: (e["customer_id"], e["occurred_at"])):
        local = event["occurred_at"].astimezone(zone(event["timezone"]))
        cart = carts.setdefault(
            (event["customer_id"], local.date()),
            _Cart(candidate=event, day=local.date(), last_added_at=event["occurred_at"]),
        )
        cart.last_added_at = event["occurred_at"]
        cart.items += _quantity(event["properties"])
        category = categories.get(event["event_id"])
        if category and category not in cart.categories:
            cart.categories.append(category)
    offer_id = ctx.offer_id(cfg.offer_code)
    rows = []
    for (customer_id, day), cart in carts.items():
        tz = zone(cart.candidate["timezone"])
        if cfg.hours:
            deadline = cart.last_added_at + timedelta(hours=cfg.hours)
        else:
            deadline = datetime.combine(day + timedelta(days=1), time(), tz)
        if not oldest_deadline < deadline <= ctx.as_of:
            continue
        what = count_of(cart.items, "item")
        if cart.categories:
            what += f" ({listing(cart.categories)})"
        when = relative_day(day, ctx.as_of.astimezone(tz).date())
        rows.append(
            ctx.row(
                cart.candidate,
                type=TriggerType.ABANDONED_CART,
                reason=f"Added {what} to the cart {when} and didn't order",
                reason_args={
                    "items": cart.items,
                    "categories": list(cart.categories),
                    "day": day.isoformat(),
                    "zone": cart.candidate["timezone"],
                },
                dedupe_key=f"cart:{customer_id}:{day.isoformat()}",
                base_priority=cfg.priority,
                offer_id=offer_id,
                expires_at=ctx.as_of + timedelta(hours=cfg.expires_after_hours),
            )
        )
    return insert_rows(session=ctx.session, rows=rows)


def category_interest(ctx: TriggerContext) -> list[Written]:
    """Suggest a pick from a category the customer keeps viewing but never buys from.

    At most one such suggestion per customer per window: the most viewed category wins.
    """
    cfg = ctx.config.category_interest
    since = ctx.as_of - timedelta(days=cfg.within_days)
    viewed = (
        select(
            col(Event.customer_id).label("customer_id"),
            col(Event.properties)["category"].as_string().label("category"),
        )
        .where(
            col(Event.type) == EventType.CATEGORY_VIEW,
            col(Event.occurred_at) > since,
            col(Event.occurred_at) <= ctx.as_of,
        )
        .subquery()
    )
    views = (
        select(viewed.c.customer_id, viewed.c.category, func.count().label("views"))
        .where(viewed.c.category.is_not(None))
        .group_by(viewed.c.customer_id, viewed.c.category)
        .having(func.count() >= cfg.min_views)
        .subquery()
    )
    bought = exists(
        select(col(Order.id))
        .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
        .join(Product, col(Product.id) == col(OrderLine.product_id))
        .where(
            col(Order.customer_id) == views.c.customer_id,
            col(Product.category) == views.c.category,
            _completed_sale(),
            col(Order.ordered_at) > since,
            col(Order.ordered_at) <= ctx.as_of,
        )
    )
    suggested_lately = exists(
        select(col(Suggestion.id)).where(
            col(Suggestion.customer_id) == col(Customer.id),
            col(Suggestion.type) == TriggerType.CATEGORY_INTEREST,
            col(Suggestion.created_at) > since,
        )
    )
    query = (
        ctx.candidates(views.c.category, views.c.views)
        .join(views, views.c.customer_id == col(Customer.id))
        .where(~bought, ~suggested_lately)
    )
    best: dict[int, RowMapping] = {}
    for candidate in ctx.rows(query):
        current = best.get(candidate["customer_id"])
        # Most views wins; ties go to the first category by name, so runs are repeatable.
        if current is None or (-candidate["views"], candidate["category"]) < (
            -current["views"],
            current["category"],
        ):
            best[candidate["customer_id"]] = candidate
    offer_id = ctx.offer_id(cfg.offer_code)
    rows = [
        ctx.row(
            candidate,
            type=TriggerType.CATEGORY_INTEREST,
            reason=(
                f"Viewed {candidate['category']} {count_of(candidate['views'], 'time')} in the "
                f"last {count_of(cfg.within_days, 'day')} without buying from it"
                " — suggest a product from it"
            ),
            reason_args={
                "category": candidate["category"],
                "views": candidate["views"],
                "within_days": cfg.within_days,
            },
            dedupe_key=(f"category:{customer_id}:{candidate['category'][:100]}:{ctx.as_of.date()}"),
            base_priority=cfg.priority,
            offer_id=offer_id,
            expires_at=ctx.as_of + timedelta(days=cfg.expires_after_days),
        )
        for customer_id, candidate in sorted(best.items())
    ]
    return insert_rows(session=ctx.session, rows=rows)


def first_order(ctx: TriggerContext) -> list[Written]:
    """Onboard customers who placed their first order lately."""
    cfg = ctx.config.first_order
    query = ctx.candidates(
        col(Customer.first_order_at).label("first_order_at"),
        col(Customer.timezone).label("timezone"),
    ).where(
        col(Customer.first_order_at) > ctx.as_of - timedelta(days=cfg.lookback_days),
        col(Customer.first_order_at) <= ctx.as_of,
    )
    offer_id = ctx.offer_id(cfg.offer_code)
    rows = []
    for candidate in ctx.rows(query):
        tz = zone(candidate["timezone"])
        when = relative_day(
            candidate["first_order_at"].astimezone(tz).date(), ctx.as_of.astimezone(tz).date()
        )
        rows.append(
            ctx.row(
                candidate,
                type=TriggerType.FIRST_ORDER,
                reason=f"First order {when} — welcome them and help them get started",
                reason_args={
                    "day": candidate["first_order_at"].astimezone(tz).date().isoformat(),
                    "zone": candidate["timezone"],
                },
                dedupe_key=f"first_order:{candidate['customer_id']}",
                base_priority=cfg.priority,
                offer_id=offer_id,
                expires_at=ctx.as_of + timedelta(days=cfg.expires_after_days),
            )
        )
    return insert_rows(session=ctx.session, rows=rows)


def _top_value_cutoff(ctx: TriggerContext, top_percent: float) -> int | None:
    """The smallest value still inside the top `top_percent` of customers who ever ordered."""
    buyers = col(Customer.order_count) > 0
    total = ctx.session.scalar(select(func.count()).select_from(Customer).where(buyers)) or 0
    if total == 0:
        return None
    rank = max(math.ceil(total * top_percent / 100), 1) - 1
    value = customer_value()
    return ctx.session.scalar(
        select(value)
        .select_from(Customer)
        .outerjoin(Score, latest_score_on())
        .where(buyers)
        .order_by(value.desc())
        .offset(rank)
        .limit(1)
    )


def _reactivation_offer_id(ctx: TriggerContext, code: str | None) -> int | None:
    if code is not None:
        return ctx.offer_id(code)
    return ctx.session.scalar(
        select(col(Offer.id)).where(
            col(Offer.code) == DEFAULT_OFFER_CODE, col(Offer.active).is_(True)
        )
    )


def sleeping_high_value(ctx: TriggerContext) -> list[Written]:
    """Flag sleeping customers worth a personal call: top value share or above a threshold."""
    cfg = ctx.config.sleeping_high_value
    value = customer_value()
    thresholds = []
    if cfg.top_percent is not None:
        cutoff = _top_value_cutoff(ctx, cfg.top_percent)
        if cutoff is not None:
            thresholds.append(value >= cutoff)
    if cfg.min_value_minor is not None:
        thresholds.append(value >= cfg.min_value_minor)
    if not thresholds:
        return []
    query = (
        ctx.candidates(
            col(Customer.stage_since).label("stage_since"),
            col(Customer.net_revenue_minor).label("net_revenue_minor"),
            col(Score.predicted_clv_minor).label("clv"),
        )
        .outerjoin(Score, latest_score_on())
        .where(col(Customer.stage) == Stage.SLEEPING, value > 0, or_(*thresholds))
    )
    offer_id = _reactivation_offer_id(ctx, cfg.offer_code)
    rows = []
    for candidate in ctx.rows(query):
        since = candidate["stage_since"].date()
        worth = (
            f"; predicted to be worth {money(candidate['clv'])}"
            if candidate["clv"] is not None
            else f" after spending {money(candidate['net_revenue_minor'])}"
        )
        rows.append(
            ctx.row(
                candidate,
                type=TriggerType.SLEEPING_HIGH_VALUE,
                reason=(
                    f"Asleep since {day_month_year(since)}{worth}"
                    " — worth a personal call to win them back"
                ),
                reason_args={
                    "since": since.isoformat(),
                    "clv_minor": candidate["clv"],
                    "spent_minor": candidate["net_revenue_minor"],
                },
                dedupe_key=f"sleeping_high_value:{candidate['customer_id']}:{since.isoformat()}",
                base_priority=cfg.priority,
                offer_id=offer_id,
                expires_at=ctx.as_of + timedelta(days=cfg.expires_after_days),
            )
        )
    return insert_rows(session=ctx.session, rows=rows)
