"""Customer archetypes, and how the acquisition channel shapes who arrives through it."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from domain.channels.models import ChannelCode
from domain.demo.sampling import FloatArray
from domain.stages.vocabulary import Stage


class Archetype(StrEnum):
    """The behaviour a demo customer is generated with (never stored: stages are derived)."""

    PROSPECT = "prospect"
    LEAD = "lead"
    ONE_TIME_RECENT = "one_time_recent"
    ONE_TIME_OLD = "one_time_old"
    REPEAT = "repeat"
    VIP = "vip"
    DECLINER = "decliner"
    SLEEPER = "sleeper"
    REACTIVATED = "reactivated"
    LOST = "lost"


ARCHETYPES: tuple[Archetype, ...] = tuple(Archetype)
A = {archetype: i for i, archetype in enumerate(ARCHETYPES)}
BUYERS: frozenset[Archetype] = frozenset(ARCHETYPES) - {Archetype.PROSPECT, Archetype.LEAD}

# The stage each archetype's behaviour was generated to lead to. A one-time buyer from long
# ago has no rhythm of their own and is far past any usual one, hence sleeping.
INTENDED_STAGE: dict[Archetype, Stage] = {
    Archetype.PROSPECT: Stage.PROSPECT,
    Archetype.LEAD: Stage.LEAD,
    Archetype.ONE_TIME_RECENT: Stage.FIRST_TIME_BUYER,
    Archetype.ONE_TIME_OLD: Stage.SLEEPING,
    Archetype.REPEAT: Stage.REPEAT,
    Archetype.VIP: Stage.LOYAL,
    Archetype.DECLINER: Stage.AT_RISK,
    Archetype.SLEEPER: Stage.SLEEPING,
    Archetype.REACTIVATED: Stage.REACTIVATED,
    Archetype.LOST: Stage.LOST,
}

CHANNELS: tuple[ChannelCode, ...] = (
    ChannelCode.WEB,
    ChannelCode.APP,
    ChannelCode.EMAIL,
    ChannelCode.SMS,
    ChannelCode.MESSAGING,
    ChannelCode.SOCIAL,
    ChannelCode.SHORT_VIDEO,
    ChannelCode.LIVE_STREAM,
    ChannelCode.COMMUNITY,
    ChannelCode.OFFLINE_STORE,
    ChannelCode.REFERRAL,
)
C = {code: i for i, code in enumerate(CHANNELS)}

# Share of new customers arriving through each channel.
CHANNEL_SHARES: dict[ChannelCode, float] = {
    ChannelCode.WEB: 20,
    ChannelCode.APP: 8,
    ChannelCode.EMAIL: 4,
    ChannelCode.SMS: 2,
    ChannelCode.MESSAGING: 4,
    ChannelCode.SOCIAL: 14,
    ChannelCode.SHORT_VIDEO: 14,
    ChannelCode.LIVE_STREAM: 7,
    ChannelCode.COMMUNITY: 5,
    ChannelCode.OFFLINE_STORE: 13,
    ChannelCode.REFERRAL: 9,
}

# Archetype mix per channel, in ARCHETYPES order: referral and the offline store bring
# repeat and VIP customers; social and short video bring many one-time buyers and leads.
ARCHETYPE_MIX: dict[ChannelCode, tuple[int, ...]] = {
    #                        pro lead 1new 1old rep vip dec slp react lost
    ChannelCode.WEB: (12, 20, 6, 16, 16, 3, 8, 8, 4, 7),
    ChannelCode.APP: (8, 15, 6, 12, 22, 7, 9, 8, 6, 7),
    ChannelCode.EMAIL: (15, 25, 5, 15, 15, 3, 7, 7, 3, 5),
    ChannelCode.SMS: (15, 25, 5, 17, 13, 2, 7, 7, 3, 6),
    ChannelCode.MESSAGING: (10, 20, 6, 15, 18, 4, 8, 8, 4, 7),
    ChannelCode.SOCIAL: (15, 25, 8, 28, 8, 1, 5, 5, 2, 3),
    ChannelCode.SHORT_VIDEO: (15, 22, 10, 32, 7, 1, 4, 4, 2, 3),
    ChannelCode.LIVE_STREAM: (10, 18, 9, 25, 13, 3, 7, 7, 3, 5),
    ChannelCode.COMMUNITY: (8, 18, 6, 12, 22, 6, 9, 8, 5, 6),
    ChannelCode.OFFLINE_STORE: (5, 8, 5, 10, 28, 10, 10, 9, 7, 8),
    ChannelCode.REFERRAL: (4, 8, 6, 8, 30, 10, 10, 8, 8, 8),
}

# Multipliers of purchase rate and of basket size per acquisition channel.
CHANNEL_FREQUENCY: dict[ChannelCode, float] = {
    ChannelCode.REFERRAL: 1.25,
    ChannelCode.OFFLINE_STORE: 1.2,
    ChannelCode.COMMUNITY: 1.1,
    ChannelCode.APP: 1.1,
    ChannelCode.LIVE_STREAM: 0.95,
    ChannelCode.SOCIAL: 0.85,
    ChannelCode.SHORT_VIDEO: 0.8,
}
CHANNEL_BASKET: dict[ChannelCode, float] = {
    ChannelCode.REFERRAL: 1.3,
    ChannelCode.OFFLINE_STORE: 1.35,
    ChannelCode.COMMUNITY: 1.15,
    ChannelCode.APP: 1.1,
    ChannelCode.SMS: 0.95,
    ChannelCode.SOCIAL: 0.8,
    ChannelCode.SHORT_VIDEO: 0.75,
}

# Where customers of each acquisition channel place their orders.
_ORDER_CHANNELS: dict[ChannelCode, dict[ChannelCode, float]] = {
    ChannelCode.OFFLINE_STORE: {
        ChannelCode.OFFLINE_STORE: 0.7,
        ChannelCode.WEB: 0.2,
        ChannelCode.APP: 0.1,
    },
    ChannelCode.APP: {ChannelCode.APP: 0.75, ChannelCode.WEB: 0.25},
    ChannelCode.LIVE_STREAM: {
        ChannelCode.LIVE_STREAM: 0.45,
        ChannelCode.APP: 0.3,
        ChannelCode.WEB: 0.25,
    },
    ChannelCode.MESSAGING: {
        ChannelCode.MESSAGING: 0.3,
        ChannelCode.WEB: 0.5,
        ChannelCode.APP: 0.2,
    },
}
_DEFAULT_ORDER_CHANNELS = {ChannelCode.WEB: 0.7, ChannelCode.APP: 0.3}
ONLINE_ORDER_CHANNELS: frozenset[ChannelCode] = frozenset(CHANNELS) - {ChannelCode.OFFLINE_STORE}


def _per_channel(values: dict[ChannelCode, float], default: float) -> FloatArray:
    return np.array([values.get(code, default) for code in CHANNELS])


CHANNEL_SHARE_WEIGHTS = _per_channel(CHANNEL_SHARES, 0.0)
MIX_WEIGHTS = np.array([ARCHETYPE_MIX[code] for code in CHANNELS], dtype=np.float64)
FREQUENCY_FACTOR = _per_channel(CHANNEL_FREQUENCY, 1.0)
BASKET_FACTOR = _per_channel(CHANNEL_BASKET, 1.0)
ORDER_CHANNEL_WEIGHTS = np.array(
    [
        [_ORDER_CHANNELS.get(code, _DEFAULT_ORDER_CHANNELS).get(target, 0.0) for target in CHANNELS]
        for code in CHANNELS
    ]
)
