"""Write one shard's scores back in a single transaction, so a shard is all there or not at all.

Delete the run's scores for the shard's id range, insert the new rows (binary COPY on
PostgreSQL, executemany batches on SQLite), mark the shard done, commit. A worker killed at
any point leaves the previous state; a retry or a rerun replaces it whole.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from domain.db import unit_of_work
from domain.scoring.service import check_launch, delete_shard_scores, finish_shard_scores
from worker.pipeline.pgcopy import HEADER, TRAILER, encode_records
from worker.pipeline.score_rows import SCORE_COLUMNS, ScoreRows, sqlite_rows

# Test-only: when set to a file path, the write-back creates that file once its rows are in
# and then waits PAUSE_SECONDS before committing, so a test can kill the worker mid-write.
PAUSE_ENV = "LIFECYCLE_SCORING_PAUSE_FILE"
PAUSE_SECONDS = 120.0
COPY_ROWS = 20_000
SQLITE_ROWS = 5_000


def write_shard_scores(
    engine: Engine,
    *,
    run_id: int,
    launch: str,
    shard_no: int,
    id_min: int,
    id_max: int,
    rows: ScoreRows,
    started: float,
) -> bool:
    """Replace the shard's scores and mark it done; True when it was not done before.

    Raises StaleLaunch, writing nothing, when the run was launched again meanwhile.
    """
    with unit_of_work(engine) as session:
        check_launch(session=session, run_id=run_id, launch=launch)
        delete_shard_scores(session=session, run_id=run_id, id_min=id_min, id_max=id_max)
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            _copy_in(connection, rows)
        else:
            _insert_many(connection, rows)
        _pause_for_tests()
        return finish_shard_scores(
            session=session,
            run_id=run_id,
            shard_no=shard_no,
            customers=rows.rows,
            seconds=round(time.perf_counter() - started, 3),
        )


def _copy_in(connection: Connection, rows: ScoreRows) -> None:
    driver = connection.connection.driver_connection
    assert driver is not None
    names = ", ".join(SCORE_COLUMNS)
    statement = f"COPY score ({names}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(HEADER)
        for start in range(0, rows.rows, COPY_ROWS):
            part = rows.slice(start, min(rows.rows, start + COPY_ROWS))
            copy.write(encode_records(part.columns, part.rows))
        copy.write(TRAILER)


def _insert_many(connection: Connection, rows: ScoreRows) -> None:
    names = ", ".join(SCORE_COLUMNS)
    marks = ", ".join("?" for _ in SCORE_COLUMNS)
    statement = f"INSERT INTO score ({names}) VALUES ({marks})"
    for start in range(0, rows.rows, SQLITE_ROWS):
        part = rows.slice(start, min(rows.rows, start + SQLITE_ROWS))
        connection.exec_driver_sql(statement, sqlite_rows(part))


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).touch()
        time.sleep(PAUSE_SECONDS)
