"""`lifecycle demo-data`: write a realistic synthetic business into the configured database."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.output import console, err_console, fail
from domain import migrate
from domain.db import get_engine
from domain.demo import (
    INTENDED_STAGE,
    Archetype,
    DemoDataError,
    DemoSummary,
    classify,
    generate,
)
from domain.stages.vocabulary import Stage


def demo_data_command(
    customers: Annotated[int, typer.Option(min=1, help="number of customers to generate")] = 2000,
    seed: Annotated[
        int, typer.Option(help="random seed; the same seed, size and date give identical data")
    ] = 42,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="the day the history leads up to, ending at its midnight UTC (default: today)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a synthetic baby-and-household shop with customers in every lifecycle stage.

    Staff, products, offers, customers with consent, orders and events, in one transaction.

    Refuses a database holding customers, products, orders, events or offers: changes nothing.

    Migrations are applied first; afterwards every customer is classified into their
    lifecycle stage as of the end of the history.
    """
    engine = get_engine()
    migrate.upgrade(engine)
    progress = Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = progress.add_task("starting", total=customers)

    def report(step: str, done: int) -> None:
        progress.update(task, description=step, completed=done)

    try:
        with progress:
            summary = generate(
                engine=engine,
                customers=customers,
                seed=seed,
                as_of=as_of.date() if as_of else None,
                progress=report,
            )
    except DemoDataError as exc:
        fail(str(exc), code=1)
    with err_console.status("classifying customers into lifecycle stages"):
        stages = classify(engine=engine, as_of=summary.as_of)
    _print(summary, stages)


def _print(summary: DemoSummary, stages: dict[Stage, int]) -> None:
    console.print(
        f"Demo business written: {summary.customers:,} customers, seed {summary.seed}, "
        f"as of {summary.as_of}, in {summary.seconds:.1f} s",
        highlight=False,
    )
    rows = Table("table", "rows", title="Rows written", title_justify="left")
    for table, count in summary.rows.items():
        rows.add_row(table, f"{count:,}")
    console.print(rows)
    archetypes = Table(
        "archetype", "customers", "generated to become", title="Archetypes", title_justify="left"
    )
    for archetype, count in summary.archetypes.items():
        archetypes.add_row(archetype, f"{count:,}", INTENDED_STAGE[Archetype(archetype)].label)
    console.print(archetypes)
    classified = Table("stage", "customers", title="Stages now", title_justify="left")
    for stage in Stage:
        classified.add_row(stage.label, f"{stages.get(stage, 0):,}")
    console.print(classified)
