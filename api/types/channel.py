"""Channels as the API shows them."""

from __future__ import annotations

import strawberry

from domain.channels.models import Channel as ChannelRow


@strawberry.type(description="A channel customers arrive through or are contacted on.")
class Channel:
    code: str
    name: str
    contactable: bool = strawberry.field(description="whether it can carry outbound messages")

    @classmethod
    def from_row(cls, row: ChannelRow) -> Channel:
        """The API view of a channel."""
        return cls(code=row.code, name=row.name, contactable=row.contactable)
