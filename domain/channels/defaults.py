"""The channels every installation starts with (seeded by a migration)."""

from __future__ import annotations

from domain.channels.models import ChannelCode

# code -> (name, contactable: can carry an outbound message to a customer)
DEFAULT_CHANNELS: dict[ChannelCode, tuple[str, bool]] = {
    ChannelCode.WEB: ("Website", False),
    ChannelCode.APP: ("Mobile app (push)", True),
    ChannelCode.EMAIL: ("Email", True),
    ChannelCode.SMS: ("SMS", True),
    ChannelCode.MESSAGING: ("Messaging app", True),
    ChannelCode.SOCIAL: ("Social media", False),
    ChannelCode.SHORT_VIDEO: ("Short video", False),
    ChannelCode.LIVE_STREAM: ("Live stream", False),
    ChannelCode.COMMUNITY: ("Community", False),
    ChannelCode.OFFLINE_STORE: ("Offline store", False),
    ChannelCode.REFERRAL: ("Referral", False),
}
