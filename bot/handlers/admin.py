"""Admin commands: /score (queue a scoring run, report when it ends) and /status.

/status shows the latest runs and their failures, the job queues' depth and the outbox.
"""

from __future__ import annotations

import asyncio
import time

from bot.client import ApiUnavailable
from bot.replies import Chat, Reply

# How often a queued run is checked, and for how long at most.
POLL_SECONDS = 5.0
POLL_LIMIT_SECONDS = 4 * 3600.0


async def score_command(chat: Chat, args: list[str]) -> Reply:
    """/score: queue a scoring run; a second message follows when it finishes."""
    t = chat.t
    run = await chat.api.enqueue_scoring_run(chat.actor, chat.key("score"))
    text = t._("Scoring run #{id} is queued. I will tell you when it finishes.").format(id=run.id)
    return Reply(text, follow_up=lambda: wait_for_run(chat, run.id, POLL_SECONDS))


async def wait_for_run(chat: Chat, run_id: str, interval: float) -> Reply:
    """Poll the run until it ends; the reply says how it went."""
    t = chat.t
    deadline = time.monotonic() + POLL_LIMIT_SECONDS
    while time.monotonic() < deadline:
        try:
            run = await chat.api.scoring_run(chat.actor, run_id)
        except ApiUnavailable:
            # The API restarting during a long run is no reason to stop watching it.
            await asyncio.sleep(interval)
            continue
        if run is None:
            return Reply(t._("Scoring run #{id} disappeared.").format(id=run_id))
        if run.status == "succeeded":
            return Reply(
                t._("Scoring run #{id} finished: {shards} shards scored.").format(
                    id=run.id, shards=run.shards_done
                )
            )
        if run.status == "failed":
            return Reply(
                t._("Scoring run #{id} failed: {error}").format(id=run.id, error=run.error or "?")
            )
        await asyncio.sleep(interval)
    return Reply(t._("Scoring run #{id} is still running; see /status.").format(id=run_id))


async def status_command(chat: Chat, args: list[str]) -> Reply:
    """/status: the latest scoring runs, the job queues and the outbox backlog."""
    t = chat.t
    status = await chat.api.system_status(chat.actor)
    runs = status.runs
    lines = [t._("Latest scoring runs:")]
    if not runs:
        lines.append("  " + t._("none yet"))
    for run in runs:
        as_of = t.day(run.as_of) if run.as_of else "—"
        line = f"  #{run.id} {as_of}: {run.status} {run.shards_done}/{run.shard_count}"
        if run.finished_at:
            line += f" · {t.moment(run.finished_at)}"
        if run.error:
            line += f" · {run.error[:200]}"
        lines.append(line)
    lines.append(t._("Job queues:"))
    if not status.queues:
        lines.append("  " + t._("none: jobs run in-process (no Redis)"))
    for queue in status.queues:
        lines.append(
            "  "
            + t._("{name}: {queued} waiting, {started} running, {failed} failed").format(
                name=queue.name,
                queued=queue.queued,
                started=queue.started,
                failed=queue.failed,
            )
        )
    lines.append(
        t._("Outbox: {pending} waiting, {sending} sending, {dead} dead").format(
            pending=status.outbox_pending,
            sending=status.outbox_sending,
            dead=status.outbox_dead,
        )
    )
    return Reply("\n".join(lines))
