"""`lifecycle score` starts (or resumes) a scoring run; `lifecycle runs` lists runs."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.output import console, fail
from domain.clock import utcnow
from domain.db import unit_of_work
from domain.scoring.models import RunStatus, ScoringRun, ScoringShard
from domain.scoring.queries import RunOverview, get_run, list_runs, run_shards
from domain.scoring.service import ScoringError

POLL_SECONDS = 2.0
FAILED = 1


def score_command(
    as_of: str | None = typer.Option(
        None, "--as-of", help="score as of this date, YYYY-MM-DD (default: today, UTC)"
    ),
    shard_size: int | None = typer.Option(
        None, "--shard-size", min=1, help="customers per shard (default 100,000)"
    ),
    wait: bool = typer.Option(False, "--wait", help="with Redis: wait until the run ends"),
    resume: int | None = typer.Option(
        None, "--resume", metavar="RUN_ID", help="re-run the unfinished phases of a run"
    ),
) -> None:
    """Score every customer: RFM, P(alive), CLV, churn, next order, cross-sell.

    Without REDIS_URL the run executes here; with it, its jobs go to the workers.
    """
    from worker import runs
    from worker.queue import queues_enabled

    if resume is not None and (as_of is not None or shard_size is not None):
        fail("--resume continues a run as it was planned: drop --as-of and --shard-size")
    day = _parse_day(as_of) if as_of is not None else utcnow().date()
    started = time.perf_counter()
    try:
        if resume is None:
            run_id = runs.new_run(as_of=day, shard_size=shard_size or runs.DEFAULT_SHARD_SIZE)
            plan = runs.full_plan(run_id)
        else:
            run_id = resume
            plan = runs.resume_plan(resume)
    except ScoringError as exc:
        fail(str(exc))
    try:
        runs.launch(plan)
    except ScoringError as exc:
        fail(str(exc))
    except Exception as exc:
        # In-process, the run itself records the failure; show it and the way back.
        _print_failure(run_id=run_id, detail=runs.describe(exc))
        raise typer.Exit(FAILED) from None
    if queues_enabled() and not wait:
        overview = _overview(run_id)
        _say(
            f"scoring run {run_id} queued: {overview.run.shard_count} shards as of "
            f"{overview.run.as_of}; `lifecycle runs` shows its progress"
        )
        return
    overview = _wait(run_id) if queues_enabled() else _overview(run_id)
    if overview.run.status != RunStatus.SUCCEEDED:
        _print_failure(run_id=run_id, detail=None)
        raise typer.Exit(FAILED)
    _say(
        f"scoring run {run_id} succeeded as of {overview.run.as_of}: "
        f"{sum(shard.customers for shard in overview.shards):,} customers in "
        f"{overview.run.shard_count} shards, {time.perf_counter() - started:.1f} s"
    )
    for line in summary_lines(overview.run):
        _say(f"  {line}")


def runs_command(
    as_json: bool = typer.Option(False, "--json", help="print one JSON array"),
    limit: int = typer.Option(10, min=1, help="how many of the latest runs"),
) -> None:
    """List scoring runs: status, shard progress, timings, metrics and failures."""
    with unit_of_work() as session:
        overviews = list_runs(session=session, limit=limit)
    if as_json:
        print(json.dumps([run_json(item) for item in overviews], sort_keys=True, default=str))
        return
    if not overviews:
        console.print("no scoring runs yet")
        return
    table = Table(title="Scoring runs")
    for column in ("run", "status", "as of", "shards", "customers", "seconds", "started"):
        table.add_column(column, justify="right" if column != "status" else "left")
    for item in overviews:
        run = item.run
        table.add_row(
            str(run.id),
            run.status,
            str(run.as_of),
            f"{run.shards_done}/{run.shard_count}",
            f"{sum(shard.customers for shard in item.shards):,}",
            _seconds(run.timings.get("total")),
            f"{run.started_at:%Y-%m-%d %H:%M}" if run.started_at else "-",
        )
    console.print(table)
    for item in overviews:
        if item.run.status == RunStatus.SUCCEEDED:
            continue
        if item.run.error:
            _say(f"run {item.run.id}: {item.run.error}", style="red")
        console.print(_shard_table(item))


def summary_lines(run: ScoringRun) -> list[str]:
    """The run's headline figures, one per line."""
    params, metrics, timings = run.params, run.metrics, run.timings
    lines = []
    if "bgnbd" in params:
        p = params["bgnbd"]
        ll = metrics.get("bgnbd", {}).get("log_likelihood")
        lines.append(
            f"BG/NBD r={p['r']:.4g} alpha={p['alpha']:.4g} a={p['a']:.4g} b={p['b']:.4g}, "
            f"log-likelihood {ll:,.1f}"
        )
    if "gamma_gamma" in params:
        p = params["gamma_gamma"]
        lines.append(f"Gamma-Gamma p={p['p']:.4g} q={p['q']:.4g} v={p['v']:.4g}")
    propensity = metrics.get("propensity", {})
    if "auc" in propensity:
        lines.append(
            f"churn model AUC {_number(propensity['auc'])} (recency alone "
            f"{_number(propensity['recency_auc'])}), top-decile lift "
            f"{_number(propensity['lift_top_decile'])} "
            f"(recency {_number(propensity['recency_lift_top_decile'])})"
        )
    cross_sell = metrics.get("cross_sell", {})
    if "hit_rate" in cross_sell:
        lines.append(
            f"cross-sell hit rate@{cross_sell['k']} {_number(cross_sell['hit_rate'])} "
            f"(popularity {_number(cross_sell['popularity_hit_rate'])})"
        )
    next_order = metrics.get("next_order", {})
    if "median_abs_error_days" in next_order:
        lines.append(
            f"next order median error {_number(next_order['median_abs_error_days'])} days "
            f"(naive {_number(next_order['naive_median_abs_error_days'])})"
        )
    for name in ("bgnbd", "gamma_gamma", "propensity", "next_order", "cross_sell"):
        skipped = metrics.get(name, {}).get("skipped")
        if skipped:
            lines.append(f"{name}: not fitted ({skipped})")
    if "total" in timings:
        phases = ", ".join(
            f"{phase} {_seconds(timings[phase].get('wall'))} s"
            for phase in ("features", "fit", "scores")
            if isinstance(timings.get(phase), dict)
        )
        lines.append(f"{_seconds(timings['total'])} s in all ({phases})")
    return lines


def run_json(item: RunOverview) -> dict[str, Any]:
    """A run and its shards as plain data."""
    run = item.run
    return {
        "id": run.id,
        "status": run.status,
        "as_of": run.as_of.isoformat(),
        "model_version": run.model_version,
        "shard_count": run.shard_count,
        "shards_done": run.shards_done,
        "error": run.error,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "params": run.params,
        "metrics": run.metrics,
        "timings": run.timings,
        "shards": [_shard_json(shard) for shard in item.shards],
    }


def _shard_json(shard: ScoringShard) -> dict[str, Any]:
    return {
        "shard_no": shard.shard_no,
        "customer_id_min": shard.customer_id_min,
        "customer_id_max": shard.customer_id_max,
        "phase": shard.phase,
        "status": shard.status,
        "customers": shard.customers,
        "seconds": shard.seconds,
        "error": shard.error,
    }


def _shard_table(item: RunOverview) -> Table:
    table = Table(title=f"Run {item.run.id} shards")
    for column in ("shard", "customer ids", "phase", "status", "customers", "seconds", "error"):
        table.add_column(column)
    for shard in item.shards:
        table.add_row(
            str(shard.shard_no),
            f"{shard.customer_id_min}-{shard.customer_id_max}",
            shard.phase,
            shard.status,
            f"{shard.customers:,}",
            _seconds(shard.seconds),
            escape(shard.error or ""),
        )
    return table


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of {text!r} is not a date (YYYY-MM-DD)")


def _overview(run_id: int) -> RunOverview:
    with unit_of_work() as session:
        run = get_run(session=session, run_id=run_id)
        if run is None:
            fail(f"scoring run {run_id} does not exist")
        return RunOverview(run, run_shards(session=session, run_id=run_id))


def _wait(run_id: int) -> RunOverview:
    """Poll the run until it succeeds or fails."""
    while True:
        overview = _overview(run_id)
        if overview.run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
            return overview
        time.sleep(POLL_SECONDS)


def _print_failure(*, run_id: int, detail: str | None) -> None:
    overview = _overview(run_id)
    _say(f"scoring run {run_id} failed: {overview.run.error or detail or 'failed'}", style="red")
    _say(f"resume it with: lifecycle score --resume {run_id}")


def _say(text: str, style: str | None = None) -> None:
    """One line as it is: no wrapping at the terminal width, no markup, no highlighting."""
    console.print(escape(text), style=style, soft_wrap=True, highlight=False)


def _seconds(value: Any) -> str:
    return f"{float(value):.1f}" if isinstance(value, (int, float)) else "-"


def _number(value: Any) -> str:
    return f"{float(value):.3f}" if isinstance(value, (int, float)) else "n/a"
