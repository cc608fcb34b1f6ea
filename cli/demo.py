"""`lifecycle demo`: the whole product on the embedded default, with demo data."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime

import typer
from pydantic import SecretStr
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
from domain.scoring.models import RunStatus, Score, ScoringRun
from domain.scoring.queries import latest_succeeded_run
from domain.scoring.reasons import render_all
from domain.settings import get_settings
from domain.staff.models import Staff, StaffRole, TokenRole
from domain.staff.service import create_token, issue_link_code, link_telegram
from domain.suggestions.models import Suggestion, SuggestionStatus

# Telegram ids of demo sales staff chatting in the console; real ids are far below 10^12.
DEMO_TELEGRAM_ID_BASE = 10**12


def demo_command(
    customers: int = typer.Option(2000, min=10, help="demo customers to generate when empty"),
    seed: int = typer.Option(42, help="random seed of the demo data"),
    serve: bool = typer.Option(True, help="start the GraphQL API afterwards"),
    host: str = typer.Option("127.0.0.1", help="API address"),
    port: int = typer.Option(8000, help="API port"),
    chat: bool = typer.Option(
        True, help="chat with the sales assistant in this terminal (or on Telegram)"
    ),
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

    _score(now)
    with unit_of_work(engine) as session:
        # Scores bring P(alive) into the stage rules and CLV into the triggers.
        run_lifecycle_pass(session=session, as_of=now, config=config)

    print_stats(collect_stats())
    _print_top_scores()
    _print_suggestions()
    if serve:
        _serve(host, port, chat=chat)
    else:
        _next_steps(None, host, port)


def _score(now: datetime) -> None:
    from worker import runs

    started = time.perf_counter()
    run_id = runs.new_run(as_of=now.date())
    runs.launch(runs.full_plan(run_id))
    with unit_of_work() as session:
        run = session.get(ScoringRun, run_id)
    if run is None or run.status != RunStatus.SUCCEEDED:
        fail(f"scoring run {run_id} did not succeed; `lifecycle runs` shows why", code=1)
    auc = run.metrics.get("churn", {}).get("auc")
    console.print(
        f"scoring run {run_id}: RFM, BG/NBD P(alive), CLV, churn, next order and cross-sell "
        f"in {time.perf_counter() - started:.1f} s" + (f" (churn AUC {auc:.3f})" if auc else "")
    )


def _print_top_scores(limit: int = 6) -> None:
    with unit_of_work() as session:
        run = latest_succeeded_run(session=session)
        if run is None:
            return
        rows = session.exec(
            select(Score, Customer.name, Customer.stage)
            .join(Customer, col(Customer.id) == Score.customer_id)
            .where(Score.run_id == run.id, col(Score.predicted_clv_minor).is_not(None))
            .order_by(col(Score.predicted_clv_minor).desc())
            .limit(limit)
        ).all()
    exponent = get_settings().currency_exponent
    table = Table(
        "customer",
        "stage",
        "RFM segment",
        "P(alive)",
        "CLV",
        "next order",
        "why",
        title="Most valuable customers (latest scoring run)",
    )
    for score, name, stage in rows:
        table.add_row(
            name or "-",
            stage,
            score.rfm_segment or "-",
            f"{score.p_alive:.2f}" if score.p_alive is not None else "-",
            f"{(score.predicted_clv_minor or 0) / 10**exponent:,.0f}",
            str(score.next_order_date or "-"),
            render_all(score.reasons[:1])[0] if score.reasons else "-",
        )
    console.print(table)


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


def _demo_sales_chat() -> tuple[str, int, str]:
    """A bot token, and the Telegram id of a sales person (linked now if needed) to chat as."""
    with unit_of_work() as session:
        staff = session.exec(
            select(Staff)
            .where(Staff.role == StaffRole.SALES, col(Staff.active).is_(True))
            .order_by(col(Staff.id))
        ).first()
        if staff is None:
            fail("the demo data has no active sales staff to chat as", code=1)
        if staff.telegram_user_id is None:
            code = issue_link_code(session=session, staff=staff)
            staff = link_telegram(
                session=session, code=code, telegram_user_id=DEMO_TELEGRAM_ID_BASE + (staff.id or 0)
            )
        token = create_token(session=session, name="lifecycle demo bot", role=TokenRole.BOT)
        assert staff.telegram_user_id is not None
        return token.value, staff.telegram_user_id, staff.name


def _serve(host: str, port: int, *, chat: bool) -> None:
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
        if chat:
            _chat(f"http://{host}:{port}/graphql")
        else:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        thread.join(5)


def _chat(api_url: str) -> None:
    """The sales assistant: on Telegram when TELEGRAM_TOKEN is set, else in this terminal."""
    from bot.settings import get_bot_settings

    bot_token, telegram_id, name = _demo_sales_chat()
    settings = get_bot_settings()
    if settings.telegram_token.get_secret_value():
        import asyncio

        from bot.app import run_polling

        console.print("sales assistant on Telegram; link yourself with lifecycle staff add")
        asyncio.run(
            run_polling(
                settings.model_copy(
                    update={"bot_api_url": api_url, "bot_api_token": SecretStr(bot_token)}
                )
            )
        )
        return
    if not sys.stdin.isatty():
        console.print("(no terminal: the chat is skipped; the API keeps serving until Ctrl-C)")
        while True:
            time.sleep(3600)
    from bot.console import run_console

    console.rule(f"[bold]Sales assistant — you are {name}")
    console.print("try /help, /today, /find <name>, /customer <id>; Ctrl-D or Ctrl-C ends")
    run_console(api_url, bot_token, telegram_id)


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
