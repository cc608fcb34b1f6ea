"""The channels customers arrive through and are contacted on."""

from __future__ import annotations

import strawberry

from api.context import Info
from api.types.channel import Channel
from domain.channels.queries import all_channels


@strawberry.type
class ChannelQueries:
    @strawberry.field(description="Every channel, by code.")
    async def channels(self, info: Info) -> list[Channel]:
        rows = await info.context.db.run(lambda s: all_channels(session=s))
        return [Channel.from_row(row) for row in sorted(rows.values(), key=lambda r: r.code)]
