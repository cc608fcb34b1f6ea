"""`lifecycle clv`: fit the BG/NBD and Gamma-Gamma customer-value models from CSV files."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from worker.models import bgnbd, gamma_gamma
from worker.models.clv_file import (
    SummaryTable,
    parse_day,
    read_summary_csv,
    read_transactions_csv,
)
from worker.models.summary import Freq, summary_from_transactions

USAGE_ERROR = 2

app = typer.Typer(
    help="Customer-value models: BG/NBD purchases and Gamma-Gamma spend, as in lifetimes.",
    no_args_is_help=True,
)


class Period(StrEnum):
    """Period a transaction log is summarised in."""

    D = "D"
    W = "W"


_FREQ: dict[Period, Freq] = {Period.D: "D", Period.W: "W"}


@app.callback()
def clv() -> None:
    """Customer-value models: BG/NBD purchases and Gamma-Gamma spend, as in lifetimes."""


@app.command()
def fit(
    summary: Annotated[
        Path | None,
        typer.Argument(
            help="CSV with columns frequency, recency, T and optionally monetary_value.",
            metavar="SUMMARY",
            show_default=False,
        ),
    ] = None,
    transactions: Annotated[
        Path | None,
        typer.Option(help="Transaction log CSV to summarise first, instead of SUMMARY."),
    ] = None,
    customer_col: Annotated[str | None, typer.Option(help="Customer id column.")] = None,
    date_col: Annotated[str | None, typer.Option(help="ISO date or date-time column.")] = None,
    amount_col: Annotated[str | None, typer.Option(help="Transaction value column.")] = None,
    freq: Annotated[Period, typer.Option(help="Period: D (days) or W (weeks).")] = Period.D,
    observation_end: Annotated[
        str | None, typer.Option(help="Last date observed (default: the last transaction).")
    ] = None,
) -> None:
    """Fit BG/NBD (and Gamma-Gamma when spend is known) and print the parameters as JSON."""
    try:
        table = _load(
            summary, transactions, customer_col, date_col, amount_col, freq, observation_end
        )
        started = time.perf_counter()
        purchases = bgnbd.fit(table.frequency, table.recency, table.T)
        spend = None
        if table.monetary_value is not None:
            spend = gamma_gamma.fit(table.frequency, table.monetary_value)
        seconds = time.perf_counter() - started
    except (OSError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(USAGE_ERROR) from None

    if not purchases.converged or (spend is not None and not spend.converged):
        typer.echo("Warning: the fit did not converge; the parameters are unreliable.", err=True)
    result: dict[str, object] = {
        "customers": int(table.frequency.size),
        "bgnbd": {
            "r": purchases.r,
            "alpha": purchases.alpha,
            "a": purchases.a,
            "b": purchases.b,
            "log_likelihood": purchases.log_likelihood,
        },
    }
    if spend is not None:
        result["gamma_gamma"] = {"p": spend.p, "q": spend.q, "v": spend.v}
    result["seconds"] = round(seconds, 6)
    typer.echo(json.dumps(result))


def _load(
    summary: Path | None,
    transactions: Path | None,
    customer_col: str | None,
    date_col: str | None,
    amount_col: str | None,
    freq: Period,
    observation_end: str | None,
) -> SummaryTable:
    """The RFM summary, read from SUMMARY or built from the transaction log."""
    if transactions is None:
        if summary is None:
            raise ValueError("give a SUMMARY file or --transactions FILE")
        return read_summary_csv(summary)
    if summary is not None:
        raise ValueError("give either a SUMMARY file or --transactions FILE, not both")
    if customer_col is None or date_col is None:
        raise ValueError("--transactions needs --customer-col and --date-col")
    end = None
    if observation_end is not None:
        try:
            end = parse_day(observation_end)
        except ValueError:
            raise ValueError(
                f"--observation-end {observation_end!r} is not an ISO date (YYYY-MM-DD)"
            ) from None
    log = read_transactions_csv(transactions, customer_col, date_col, amount_col)
    if log.customer.size == 0:
        raise ValueError(f"{transactions}: no transactions")
    rfm = summary_from_transactions(
        log.customer, log.day, log.amount, freq=_FREQ[freq], observation_end=end
    )
    if rfm.customer.size == 0:
        raise ValueError(f"{transactions}: no transactions up to the observation end")
    return SummaryTable(
        frequency=rfm.frequency.astype(float),
        recency=rfm.recency,
        T=rfm.T,
        monetary_value=rfm.monetary_value,
    )
