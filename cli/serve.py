"""`lifecycle serve`: the GraphQL API under uvicorn."""

from __future__ import annotations

import typer
import uvicorn

from api.logs import log_config


def serve_command(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    workers: int = typer.Option(1, min=1, help="server processes (each with its own pool)"),
    log_level: str = typer.Option("info", help="debug, info, warning or error"),
) -> None:
    """Serve the GraphQL API (/graphql), /healthz and /readyz."""
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(log_level.upper()),
        access_log=False,
        proxy_headers=False,
    )
