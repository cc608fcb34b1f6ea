"""/funnel: customers per stage now, and this week's moves between stages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from bot.replies import Chat, Reply

# Moves listed at most, biggest first.
SHOWN_FLOWS = 12


def week_start(now: datetime, timezone: tzinfo) -> datetime:
    """Monday 00:00 of this week in the reader's time zone."""
    local = now.astimezone(timezone)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


async def funnel_command(chat: Chat, args: list[str]) -> Reply:
    """/funnel."""
    t = chat.t
    start = week_start(datetime.now(UTC), t.timezone)
    funnel = await chat.api.funnel(chat.actor, start)
    total = sum(count for _, count in funnel.totals)
    lines = [t._("Customers per stage ({total} in all):").format(total=total)]
    lines.extend(f"  {t.stage(stage)}: {count}" for stage, count in funnel.totals if count)
    lines.append(t._("Moves since {date}:").format(date=t.day(start.date())))
    flows = sorted(funnel.flows, key=lambda flow: -flow[2])[:SHOWN_FLOWS]
    if not flows:
        lines.append("  " + t._("none yet"))
    lines.extend(f"  {t.stage(a)} → {t.stage(b)}: {count}" for a, b, count in flows)
    return Reply("\n".join(lines))
