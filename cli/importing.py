"""`lifecycle import KIND FILE`: load customer, order and event history from a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cli.output import console, err_console, fail
from domain.db import get_engine
from domain.imports.errors import (
    BadOption,
    BatchFailed,
    ImportFailed,
    LayoutMismatch,
    SourceNotFound,
)
from domain.imports.runner import ImportKind, run_import
from domain.imports.summary import CREATED_TABLES, ImportSummary, SkipReason

# Errors that mean the import could not start; a failed batch or database is exit code 1.
UNUSABLE_INPUT = (SourceNotFound, LayoutMismatch, BadOption)


class _ProgressBar:
    """A bar of bytes read on stderr (a terminal), shown from the first committed batch on."""

    def __init__(self, file: Path) -> None:
        self._total = file.stat().st_size if file.is_file() else None
        self._progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            # Redirected to a file or a CI log, a bar would only add noise.
            disable=not err_console.is_interactive,
        )
        self._task: TaskID | None = None

    def __call__(self, bytes_read: int) -> None:
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task("import", total=self._total)
        self._progress.update(self._task, completed=bytes_read)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._progress.stop()


def import_command(
    kind: Annotated[
        ImportKind, typer.Argument(help="layout of the file", metavar="KIND", show_default=False)
    ],
    file: Annotated[
        Path, typer.Argument(help="the file to import", metavar="FILE", show_default=False)
    ],
    currency: Annotated[
        str | None, typer.Option(help="ISO 4217 code of amounts without one (default: settings)")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="text encoding (default: UTF-8, or Latin-1 if the file is not UTF-8)"),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(help="IANA zone of times written without one (default: settings)"),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="where to write rejected rows (default: FILE.rejects.csv)"),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="rows per transaction (default: settings)")
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="print the summary as one JSON object")
    ] = False,
) -> None:
    """Import customers, orders or events; a rerun adds only what is new (docs/importing.md)."""
    failure: ImportFailed | None = None
    with _ProgressBar(file) as bar:
        try:
            summary = run_import(
                kind,
                file,
                engine=get_engine(),
                currency=currency,
                encoding=encoding,
                time_zone=timezone,
                rejects_path=rejects,
                batch_size=batch_size,
                progress=bar,
            )
        except ImportFailed as exc:
            failure = exc
    if isinstance(failure, BatchFailed):
        _print(failure.summary, json_output)
    if failure is not None:
        fail(str(failure), code=2 if isinstance(failure, UNUSABLE_INPUT) else 1)
    _print(summary, json_output)


def _print(summary: ImportSummary, json_output: bool) -> None:
    if json_output:
        typer.echo(json.dumps(summary.as_dict()))
        return
    for line in _summary_lines(summary):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _summary_lines(summary: ImportSummary) -> list[str]:
    created = summary.created
    made = [f"{created[table]:,} {table}" for table in CREATED_TABLES if created[table]]
    lines = [
        f"Imported {summary.kind} from {summary.file} ({summary.encoding}) "
        f"in {summary.seconds:.1f} s, {summary.batches} batch(es)",
        f"  rows read       {summary.rows_read:>12,}",
        f"  loaded          {summary.rows_loaded:>12,}",
        f"  already loaded  {summary.skipped[SkipReason.ALREADY_LOADED]:>12,}",
        f"  rejected        {summary.rejected:>12,}",
    ]
    lines.extend(
        f"    {reason}: {count:,}"
        for reason, count in sorted(summary.skipped.items())
        if reason != SkipReason.ALREADY_LOADED
    )
    lines += [
        f"  guest rows      {summary.guest_rows:>12,}",
        f"  return rows     {summary.return_rows:>12,}",
        f"  created         {', '.join(made) or 'nothing'}",
        f"  customer facts  {summary.facts_changed:,} changed",
        f"  stage changes   {summary.stage_changes:,}",
    ]
    if summary.ignored_columns:
        lines.append(f"  ignored columns {', '.join(summary.ignored_columns)}")
    if summary.rejected:
        lines.append(f"{summary.rejected:,} row(s) rejected: see {summary.rejects_file}")
    else:
        lines.append(f"No rows rejected (rejects file: {summary.rejects_file})")
    return lines
