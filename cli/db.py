"""`lifecycle db ...`: schema migrations."""

from __future__ import annotations

import typer

from cli.output import console
from domain import migrate
from domain.db import get_engine
from domain.settings import get_settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("heads", help="target revision")) -> None:
    """Apply the migrations (creates the SQLite file on first use)."""
    migrate.upgrade(get_engine(), revision)
    url = get_engine().url.render_as_string(hide_password=True)
    console.print(f"database at {url} is up to date ({revision})", highlight=False)


@app.command("url")
def url() -> None:
    """Print the database URL in use (password hidden)."""
    from sqlalchemy.engine import make_url

    console.print(make_url(get_settings().sqlalchemy_url).render_as_string(hide_password=True))
