"""`lifecycle stats`: what is stored."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from cli.output import console
from domain.db import unit_of_work
from domain.settings import get_settings
from domain.stages.vocabulary import Stage
from domain.stats import StoreStats, store_stats


def collect_stats() -> StoreStats:
    """Read the figures in one unit of work."""
    settings = get_settings()
    with unit_of_work() as session:
        return store_stats(
            session=session, currency=settings.currency, exponent=settings.currency_exponent
        )


def print_stats(stats: StoreStats) -> None:
    """Two small tables: what is stored, and customers per stage."""
    table = Table(title="Stored", show_header=False)
    for label, value in (
        ("customers", stats.customers),
        ("orders", stats.orders),
        ("  of which guest orders", stats.guest_orders),
        ("  of which returns", stats.returns),
        ("order lines", stats.order_lines),
        ("events", stats.events),
        ("products", stats.products),
        ("staff", stats.staff),
        ("net revenue", f"{stats.revenue:,} {stats.currency}"),
    ):
        table.add_row(label, str(value))
    console.print(table)
    stages = Table(title="Customers by stage")
    stages.add_column("stage")
    stages.add_column("customers", justify="right")
    for stage in Stage:
        stages.add_row(stage.label, f"{stats.stages.get(str(stage), 0):,}")
    console.print(stages)


def stats_command(
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Report what is stored: customers, orders, lines, events, net revenue, stages."""
    stats = collect_stats()
    if as_json:
        print(json.dumps(stats.as_json(), sort_keys=True))
    else:
        print_stats(stats)
