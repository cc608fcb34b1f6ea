"""Why a customer scored as they did, in words a sales person reads, in their language.

A scoring run stores each reason as what it found, not as words: `{"feature": name,
"raises": whether it raised P(order), "value": the feature's value}` (NaN and infinities as
the strings "nan", "inf", "-inf", which JSON lacks). `render` says it in the reader's
language when it is read. Plain strings (rows written before, or by hand) are shown as they
are. Values are the feature's own, except spend (a multiple of the average) and the spend
trend (a relative change).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from domain.wording import Words, words

# What JSON cannot hold, kept as strings.
SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def stored(feature: str, raises: bool, value: float) -> dict[str, Any]:
    """A reason as a scoring run stores it."""
    kept: float | str = value
    if math.isnan(value):
        kept = "nan"
    elif math.isinf(value):
        kept = "inf" if value > 0 else "-inf"
    return {"feature": feature, "raises": raises, "value": kept}


def render_all(items: Sequence[Any], language: str | None = None) -> list[str]:
    """Every stored reason in words, in the language a tag asks for (else English)."""
    reader = words(language)
    return [render(item, reader) for item in items]


def render(item: Any, reader: Words) -> str:
    """One stored reason in the reader's words."""
    if not isinstance(item, dict):
        return str(item)
    value = item.get("value")
    if isinstance(value, str):
        number = SPECIAL_FLOATS.get(value, math.nan)
    else:
        number = math.nan if value is None else float(value)
    return _text(str(item.get("feature")), bool(item.get("raises")), number, reader)


def _text(feature: str, raises: bool, value: float, w: Words) -> str:
    if feature == "recency_days":
        if raises:
            return w._("last ordered {duration} ago").format(duration=duration(value, w))
        return w._("silent for {duration}").format(duration=duration(value, w))
    if feature == "frequency":
        if raises:
            return w.n_("ordered {n} time", "ordered {n} times", value).format(n=w.number(value))
        return w.n_("only {n} order so far", "only {n} orders so far", value).format(
            n=w.number(value)
        )
    if feature == "monetary":
        return w._("spent {times} the average customer in total").format(times=times(value, w))
    if feature == "spend_12m":
        return w._("spent {times} the average in the last 12 months").format(times=times(value, w))
    if feature == "tenure_days":
        return w._("customer for {duration}").format(duration=duration(value, w))
    if feature == "mean_interval_days":
        if raises:
            return w._("buys every {duration} on average").format(duration=duration(value, w))
        return w._("used to buy every {duration}").format(duration=duration(value, w))
    if feature == "overdue_ratio":
        # Told from the value, not the direction: the model's bins need not be monotonic, so
        # being overdue may well raise a customer's score.
        if value <= 1:
            return w._("still within their usual gap between orders")
        return w._("{times} past their usual gap between orders").format(times=times(value, w))
    if feature == "spend_trend":
        return _trend(value, w)
    if feature == "returns_share":
        if value == 0:
            return w._("never returned anything")
        return w._("returned {share} of what they bought").format(share=w.percent(value))
    if feature == "engagement_90d":
        if value == 0:
            return w._("no visits, opens or clicks in the last 90 days")
        return w.n_(
            "{n} visit, open or click in the last 90 days",
            "{n} visits, opens or clicks in the last 90 days",
            value,
        ).format(n=w.number(value))
    if feature == "category_breadth":
        if raises:
            return w.n_("buys from {n} category", "buys from {n} categories", value).format(
                n=w.number(value)
            )
        return w.n_("buys from only {n} category", "buys from only {n} categories", value).format(
            n=w.number(value)
        )
    return feature


def _trend(value: float, w: Words) -> str:
    if math.isnan(value):
        return w._("bought nothing in the last 12 months")
    if math.isinf(value):
        return w._("started spending in the last 6 months")
    if value == -1:
        return w._("bought nothing in the last 6 months, after buying in the 6 before")
    share = w.percent(abs(value))
    if value > 0:
        return w._("spend up {share} on the 6 months before").format(share=share)
    return w._("spend down {share} on the 6 months before").format(share=share)


def duration(days: float, w: Words) -> str:
    """A duration in the unit a person would say: days, weeks, months or years."""
    if days < 14:
        n: float = round(days)
        return w.n_("{n} day", "{n} days", n).format(n=w.number(n))
    if days < 60:
        n = round(days / 7)
        return w.n_("{n} week", "{n} weeks", n).format(n=w.number(n))
    if days < 730:
        n = round(days / 30.4)
        return w.n_("{n} month", "{n} months", n).format(n=w.number(n))
    n = round(days / 365, 1)
    return w.n_("{n} year", "{n} years", n).format(n=w.number(n))


def times(ratio: float, w: Words) -> str:
    """A multiple, e.g. '2.6×' (one decimal below ten, none above)."""
    return w._("{x}×").format(x=w.number(ratio, decimals=1 if ratio < 10 else 0))
