"""The `lifecycle` command: one entry point that starts every part."""

from __future__ import annotations

import typer

from cli import clv, db, outbox, stats
from cli.bot import bot_command
from cli.cron import cron_command
from cli.demo import demo_command
from cli.demo_data import demo_data_command
from cli.importing import import_command
from cli.score import runs_command, score_command
from cli.serve import serve_command
from cli.staff import staff_app, token_app
from cli.worker import worker_command

app = typer.Typer(
    help="Lifecycle: customer-lifecycle marketing backend with a sales assistant.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(staff_app, name="staff")
app.add_typer(token_app, name="token")
app.add_typer(outbox.app, name="outbox")
app.add_typer(clv.app, name="clv")
app.command("stats")(stats.stats_command)
app.command("worker")(worker_command)
app.command("serve")(serve_command)
app.command("import")(import_command)
app.command("demo-data")(demo_data_command)
app.command("demo")(demo_command)
app.command("score")(score_command)
app.command("runs")(runs_command)
app.command("cron")(cron_command)
app.command("bot")(bot_command)
