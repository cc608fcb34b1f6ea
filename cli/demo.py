"""`lifecycle demo`: the whole product on the embedded default, with demo data."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import typer
from rich.table import Table
from sqlalchemy import func
from sqlmodel import col, select

from cli.output import console, fail
from cli.startup import require_valid_config
from cli.stats import collect_stats, print_stats
from domain import migrate
from domain.customers.models import Customer
from domain.db import get_engine, unit_of_work
from domain.demo import DemoDataError, generate
from domain.passes import run_lifecycle_pass
from domain.staff.models import Staff, StaffRole, TokenRole
from domain.staff.service import create_token
from domain.suggestions.models import Suggestion, SuggestionStatus


def demo_command(
    customers: int = typer.Option(2000, min=10, help="demo customers to generate when empty"),
    seed: int = typer.Option(42, help="random seed of the demo data"),
    serve: bool = typer.Option(True, help="start the GraphQL API afterwards"),
    host: str = typer.Option("127.0.0.1", help="API address"),
    port: int = typer.Option(8000, help="API port"),
) -> None:
    """Migrate, load demo data if empty, run the lifecycle engine, show it, serve the API."""
    engine = get_engine()
    now = datetime.now(UTC)
    config = require_valid_config()

    console.rule("[bold]Lifecycle demo")
    console.print(f"database: {engine.url.render_as_string(hide_password=True)}", highlight=False)
    migrate.upgrade(engine)
    with unit_of_work(engine) as session:
        existing = session.exec(select(func.count(col(Customer.id)))).one()
    if existing == 0:
        console.print(f"generating a demo business of {customers:,} customers (seed {seed}) ...")
        try:
            summary = generate(engine=engine, customers=customers, seed=seed)
        except DemoDataError as exc:
            fail(str(exc), code=1)
        console.print(f"  written in {summary.seconds:.1f} s")
    else:
        console.print(f"{existing:,} customers already stored; demo data not regenerated")

    started = time.perf_counter()
    with unit_of_work(engine) as session:
        result = run_lifecycle_pass(session=session, as_of=now, config=config, full=True)
    console.print(
        f"lifecycle engine: {result.stages.changed:,} stage changes, "
        f"{sum(result.triggers.created.values()):,} new suggestions "
        f"in {time.perf_counter() - started:.1f} s"
    )

    print_stats(collect_stats())
    _print_suggestions()
    if serve:
        _serve(host, port)
    else:
        _next_steps(None, host, port)


def _print_suggestions(limit: int = 8) -> None:
    with unit_of_work() as session:
        rows = session.exec(
            select(Suggestion, Customer.name, Staff.name)
            .join(Customer, col(Customer.id) == Suggestion.customer_id)
            .join(Staff, col(Staff.id) == Suggestion.staff_id, isouter=True)
            .where(Suggestion.status == SuggestionStatus.OPEN)
            .order_by(col(Suggestion.priority).desc(), col(Suggestion.id))
            .limit(limit)
        ).all()
    table = Table("priority", "customer", "owner", "why", title="Top open suggestions")
    for suggestion, customer, owner in rows:
        table.add_row(str(suggestion.priority), customer or "-", owner or "-", suggestion.reason)
    console.print(table)


def _demo_admin_token() -> str:
    with unit_of_work() as session:
        admin = session.exec(
            select(Staff).where(Staff.role == StaffRole.ADMIN, col(Staff.active).is_(True))
        ).first()
        new = create_token(
            session=session,
            name="lifecycle demo",
            role=TokenRole.ADMIN,
            staff_id=admin.id if admin else None,
        )
    return new.value


def _serve(host: str, port: int) -> None:
    import uvicorn

    from api.logs import log_config

    token = _demo_admin_token()
    config = uvicorn.Config(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_config=log_config("WARNING"),
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        fail(f"the API could not start on {host}:{port} (is the port taken? try --port)")
    _next_steps(token, host, port)
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(5)


def _next_steps(token: str | None, host: str, port: int) -> None:
    console.rule("[bold]Next")
    if token:
        url = f"http://{host}:{port}/graphql"
        console.print(f"GraphQL API: {url}  (GraphiQL in the browser)", highlight=False)
        console.print("demo admin token (shown once):", highlight=False)
        console.print(token, highlight=False, soft_wrap=True)
        console.print(
            f"try:  curl -s {url} -H 'Authorization: Bearer {token}' "
            "-H 'Content-Type: application/json' "
            """-d '{"query":"{ stats { customers orders revenue } }"}'""",
            highlight=False,
            soft_wrap=True,
        )
        console.print("Ctrl-C stops the demo.")
    console.print(
        "lifecycle stats --json | lifecycle import online-retail FILE | lifecycle serve",
        highlight=False,
    )
