"""Run records: shards over id ranges, progress counted once, failures, resumes, latest scores."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from domain.scoring.models import RunStatus, Score, ScoringRun
from domain.scoring.queries import latest_scores, list_runs, run_shards
from domain.scoring.service import (
    RunNotResumable,
    StaleLaunch,
    check_launch,
    create_run,
    finish_shard_features,
    finish_shard_scores,
    launch_run,
    prepare_resume,
    record_failure,
    require_run,
    shard_ranges,
    start_shard,
)
from tests.factories import make_customer

AS_OF = date(2024, 2, 1)


def _customers(session: Session, count: int) -> list[int]:
    return [int(make_customer(session).id or 0) for _ in range(count)]


def _run(session: Session, shard_size: int = 4) -> ScoringRun:
    run = create_run(session=session, as_of=AS_OF, model_version="v1", shard_size=shard_size)
    assert run.id is not None
    launch_run(session=session, run_id=run.id, launch="L1")
    return run


def test_shards_are_contiguous_id_ranges_of_the_given_size(session: Session) -> None:
    ids = _customers(session, 10)

    assert shard_ranges(session=session, shard_size=4) == [
        (ids[0], ids[3]),
        (ids[4], ids[7]),
        (ids[8], ids[9]),
    ]
    assert shard_ranges(session=session, shard_size=50) == [(ids[0], ids[9])]


def test_a_new_run_is_queued_with_its_shards(session: Session) -> None:
    _customers(session, 10)

    run = create_run(session=session, as_of=AS_OF, model_version="v1", shard_size=4)

    assert (run.status, run.shard_count, run.shards_done) == (RunStatus.QUEUED, 3, 0)
    assert run.params == {"shard_size": 4, "customers": 10}
    shards = run_shards(session=session, run_id=run.id or 0)
    assert [(s.shard_no, s.phase, s.status) for s in shards] == [
        (0, "features", "queued"),
        (1, "features", "queued"),
        (2, "features", "queued"),
    ]


def test_a_shard_scored_twice_counts_once(session: Session) -> None:
    _customers(session, 10)
    run = _run(session)
    run_id = run.id or 0

    firsts = [
        finish_shard_scores(session=session, run_id=run_id, shard_no=1, customers=4, seconds=1.0)
        for _ in range(2)
    ]

    session.refresh(run)
    assert firsts == [True, False]
    assert run.shards_done == 1


def test_a_retried_failure_marks_the_shard_and_a_final_one_the_run(session: Session) -> None:
    _customers(session, 10)
    run_id = _run(session).id or 0
    start_shard(session=session, run_id=run_id, shard_no=2, phase="scores")

    record_failure(
        session=session,
        run_id=run_id,
        error="OperationalError: gone",
        phase="scores",
        shard_no=2,
        final=False,
    )
    retrying = (
        run_shards(session=session, run_id=run_id)[2],
        require_run(session=session, run_id=run_id),
    )
    assert (retrying[0].status, retrying[0].error) == (
        "queued",
        "retrying after: OperationalError: gone",
    )
    assert retrying[1].status == RunStatus.RUNNING

    record_failure(
        session=session, run_id=run_id, error="OperationalError: gone", phase="scores", shard_no=2
    )
    run = require_run(session=session, run_id=run_id)
    shard = run_shards(session=session, run_id=run_id)[2]
    assert (run.status, run.error) == (
        RunStatus.FAILED,
        "scores of shard 2 failed: OperationalError: gone",
    )
    assert (shard.status, shard.error) == ("failed", "OperationalError: gone")


def test_resume_puts_shards_back_and_recounts_what_is_done(session: Session) -> None:
    _customers(session, 10)
    run_id = _run(session).id or 0
    for shard_no in (0, 1):
        finish_shard_features(
            session=session, run_id=run_id, launch="L1", shard_no=shard_no, customers=4, seconds=1
        )
        finish_shard_scores(
            session=session, run_id=run_id, shard_no=shard_no, customers=4, seconds=1
        )
    record_failure(session=session, run_id=run_id, error="boom", phase="features", shard_no=2)

    run = prepare_resume(session=session, run_id=run_id, features=[2], scores=[1, 2], refit=False)

    shards = run_shards(session=session, run_id=run_id)
    assert [(s.phase, s.status, s.error) for s in shards] == [
        ("scores", "succeeded", None),
        ("scores", "queued", None),
        ("features", "queued", None),
    ]
    assert (run.status, run.shards_done, run.error) == (RunStatus.QUEUED, 1, None)


def test_only_the_current_launch_may_record_work(session: Session) -> None:
    _customers(session, 3)
    run_id = _run(session).id or 0
    launch_run(session=session, run_id=run_id, launch="L2")

    with pytest.raises(StaleLaunch, match=f"scoring run {run_id} was relaunched"):
        finish_shard_features(
            session=session, run_id=run_id, launch="L1", shard_no=0, customers=3, seconds=1
        )
    assert check_launch(session=session, run_id=run_id, launch="L2").id == run_id


def test_a_succeeded_run_is_not_launched_again(session: Session) -> None:
    _customers(session, 3)
    run = _run(session)
    run.status = RunStatus.SUCCEEDED
    session.flush()

    with pytest.raises(RunNotResumable, match="already succeeded"):
        launch_run(session=session, run_id=run.id or 0, launch="L2")


def test_latest_scores_come_from_the_latest_succeeded_run(session: Session) -> None:
    ann, bob = _customers(session, 2)
    older = ScoringRun(as_of=date(2024, 1, 1), model_version="v1", status=RunStatus.SUCCEEDED)
    newer = ScoringRun(as_of=date(2024, 2, 1), model_version="v1", status=RunStatus.SUCCEEDED)
    failed = ScoringRun(as_of=date(2024, 3, 1), model_version="v1", status=RunStatus.FAILED)
    session.add_all([older, newer, failed])
    session.flush()
    for run, customer, p in (
        (older, ann, 0.1),
        (older, bob, 0.2),
        (newer, ann, 0.3),
        (failed, ann, 0.9),
    ):
        session.add(Score(run_id=run.id or 0, customer_id=customer, model_version="v1", p_alive=p))
    session.flush()

    latest = latest_scores(session=session, customer_ids=[ann, bob])

    assert {customer: score.p_alive for customer, score in latest.items()} == {ann: 0.3, bob: 0.2}
    assert [item.run.id for item in list_runs(session=session)] == [failed.id, newer.id, older.id]
