"""The stage rules of `rules.py` as one SELECT over the customer table, for bulk passes.

Each CTE mirrors a step of `classify` / `propose`, computing the same whole-second
integers and IEEE doubles in the same order, so a customer gets the same stage, reason
and date here as from the pure functions. Works on PostgreSQL and SQLite.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Integer, String, TextualSelect, bindparam, column, text

from domain.columns import UTCDateTime
from domain.jsonrows import json_document, json_table
from domain.stages.config import EngagementResponse, StagesConfig
from domain.stages.rules import DAY, epoch_seconds, p_alive_threshold_text
from domain.stages.scores import LatestRun
from domain.stages.transitions import TRANSITIONS
from domain.stages.vocabulary import Stage

DECISION_COLUMNS = ("customer_id", "from_stage", "to_stage", "changed_at", "reason", "allowed")
# Customers each looked at as of their own moment, its epoch seconds, and an engagement
# to count on top of their stored facts (or null).
MOMENT_COLUMNS = (
    ("customer_id", "BIGINT"),
    ("as_of", "TIMESTAMPTZ"),
    ("as_of_s", "BIGINT"),
    ("engaged_at", "TIMESTAMPTZ"),
)


@dataclass(frozen=True)
class _Sql:
    """The few expressions that differ between PostgreSQL and SQLite."""

    postgres: bool

    def epoch(self, value: str) -> str:
        if self.postgres:
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM {value})) AS BIGINT)"
        # Only the whole seconds: strftime would round .9995 s and up to the next second.
        return f"CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER)"

    def moment(self, seconds: str) -> str:
        if self.postgres:
            return f"to_timestamp({seconds})"
        # The text form SQLAlchemy stores, so that comparisons between strings hold.
        return f"(strftime('%Y-%m-%d %H:%M:%S', {seconds}, 'unixepoch') || '.000000')"

    def double(self, value: str) -> str:
        return f"CAST({value} AS {'DOUBLE PRECISION' if self.postgres else 'REAL'})"

    def ceil(self, value: str) -> str:
        if self.postgres:
            return f"CAST(CEIL({value}) AS BIGINT)"
        # SQLite's ceil() needs the optional math functions; the values are positive.
        return f"(CAST({value} AS INTEGER) + (({value}) > CAST({value} AS INTEGER)))"

    def floor(self, value: str) -> str:
        if self.postgres:
            return f"CAST(FLOOR({value}) AS BIGINT)"
        return f"CAST({value} AS INTEGER)"

    @staticmethod
    def text(value: str) -> str:
        return f"CAST({value} AS TEXT)"

    @staticmethod
    def greatest(a: str, b: str) -> str:
        return f"CASE WHEN {a} >= {b} THEN {a} ELSE {b} END"

    @staticmethod
    def least(a: str, b: str) -> str:
        return f"CASE WHEN {a} <= {b} THEN {a} ELSE {b} END"


def decision_query(
    *,
    postgres: bool,
    config: StagesConfig,
    as_of: datetime | Mapping[int, datetime],
    stages: Collection[Stage] | None,
    run: LatestRun | None,
    engaged: Mapping[int, datetime] | None = None,
) -> TextualSelect:
    """SELECT customer_id, from_stage, to_stage, changed_at, reason, allowed: every change due.

    `as_of` is the moment for everyone, or {customer id: moment}: then only those
    customers are looked at, each as of its own moment (the fast path for a batch).
    `stages` limits the customers looked at (None: everyone); `run` is the scoring run
    whose P(alive) counts; `engaged` (with moments only) are engagements the rules count as
    if `last_engaged_at` already held them. `allowed` is 0 where the table forbids the change.
    """
    per_customer = isinstance(as_of, Mapping)
    statement = _statement(postgres, run is not None, stages is not None, per_customer)
    typed = [
        bindparam("p_alive_at", run.scored_at if run else None, type_=UTCDateTime()),
        bindparam("pairs", sorted(f"{a}>{b}" for a, b in TRANSITIONS), expanding=True),
    ]
    if stages is not None:
        typed.append(bindparam("stages", sorted(str(stage) for stage in stages), expanding=True))
    values = _values(config)
    if isinstance(as_of, Mapping):
        noted = engaged or {}
        rows = (
            {
                "customer_id": key,
                "as_of": moment,
                "as_of_s": epoch_seconds(moment),
                "engaged_at": noted.get(key),
            }
            for key, moment in as_of.items()
        )
        values["moments"] = json_document(rows, postgres=postgres)
    else:
        typed.append(bindparam("as_of", as_of, type_=UTCDateTime()))
        values["as_of_s"] = epoch_seconds(as_of)
    if run is not None:
        values["run_id"] = run.id
    return statement.bindparams(*typed).bindparams(**values)


@cache
def _statement(
    postgres: bool, with_scores: bool, filtered: bool, per_customer: bool
) -> TextualSelect:
    """The query's text for this kind of pass, built once (its values are bound per call)."""
    sql = _sql(postgres, with_scores, filtered, per_customer)
    return text(sql).columns(
        column("customer_id", BigInteger()),
        column("from_stage", String()),
        column("to_stage", String()),
        column("changed_at", UTCDateTime()),
        column("reason", String()),
        column("allowed", Integer()),
    )


def _sql(postgres: bool, with_scores: bool, filtered: bool, per_customer: bool) -> str:
    q = _Sql(postgres)
    if per_customer:
        moments = json_table(postgres=postgres, param="moments", columns=MOMENT_COLUMNS)
        at, at_s = "m.as_of", "m.as_of_s"
        last_engaged = (
            "CASE WHEN m.engaged_at IS NOT NULL AND (c.last_engaged_at IS NULL"
            " OR m.engaged_at > c.last_engaged_at) THEN m.engaged_at ELSE c.last_engaged_at END"
        )
        moment_join = f"JOIN {moments} m ON m.customer_id = c.id"
        # Only these customers' orders are counted for the reactivated ones among them.
        own_customers = f"JOIN {moments} mr ON mr.customer_id = r.id"
    else:
        at, at_s = ":as_of", ":as_of_s"
        last_engaged = "c.last_engaged_at"
        moment_join = ""
        own_customers = ""
    p_alive = "s.p_alive" if with_scores else q.double("NULL")
    score_join = (
        "LEFT JOIN score s ON s.run_id = :run_id AND s.customer_id = c.id" if with_scores else ""
    )
    stage_filter = "c.stage IN :stages" if filtered else "1 = 1"
    # PostgreSQL would inline every CTE into the next one, repeating each expression many
    # times over (and JIT-compiling the result for seconds); OFFSET 0 keeps each step whole.
    fence = "OFFSET 0" if postgres else ""
    own_rhythm = f"{q.double('last_s - first_s')} / (n - 1)"
    slow_reason = (
        f"'no order for ' || {q.text('idle / 86400')} || ' days, ' || {q.text('tenths / 10')}"
        f" || '.' || {q.text('tenths % 10')} || '× '"
        " || CASE WHEN n >= 2 THEN 'their' ELSE 'the' END"
        f" || ' usual ' || {q.text('rhythm_days')} || '-day rhythm'"
    )
    p_reason = (
        f"'P(alive) ' || {q.text(q.floor('p_alive * 100'))} || '%, below the '"
        " || :p_text || ' threshold'"
    )
    return f"""
WITH base AS (
  SELECT c.id AS customer_id, c.stage AS stage, c.stage_since AS since,
         {q.epoch("c.stage_since")} AS since_s,
         c.first_order_at AS first_order_at, c.last_order_at AS last_order_at,
         {last_engaged} AS last_engaged_at,
         {q.epoch("c.first_order_at")} AS first_s, {q.epoch("c.last_order_at")} AS last_s,
         {q.epoch(last_engaged)} AS engaged_s,
         c.order_count AS n, c.net_revenue_minor AS revenue,
         {p_alive} AS p_alive, COALESCE(f.further, 0) AS further,
         CASE WHEN c.stage = 'prospect' AND c.stage_since > {at}
              THEN {at} ELSE c.stage_since END AS floor_at,
         {at} AS as_of, {at_s} AS as_of_s
  FROM customer c
  {moment_join}
  {score_join}
  LEFT JOIN (
    SELECT o.customer_id AS customer_id, COUNT(*) AS further
    FROM orders o JOIN customer r ON r.id = o.customer_id
    {own_customers}
    WHERE r.stage = 'reactivated' AND o.kind = 'sale' AND o.status = 'completed'
      AND o.ordered_at > r.stage_since AND o.ordered_at <= r.last_order_at
    GROUP BY o.customer_id
  ) f ON f.customer_id = c.id
  WHERE {stage_filter}
  {fence}
),
measured AS (
  SELECT base.*,

    CASE WHEN n >= 2 AND first_s IS NOT NULL AND last_s IS NOT NULL
         THEN {q.least(q.greatest(own_rhythm, ":min_s"), ":max_s")}
         ELSE :default_s END AS rhythm,
    as_of_s - last_s AS idle,
    as_of_s - engaged_s AS quiet
  FROM base
  WHERE floor_at <= as_of
  {fence}
),
thresholds AS (
  SELECT measured.*,
    {q.ceil("rhythm * :at_risk_multiplier")} AS at_risk_after,
    {q.ceil("rhythm * :sleeping_multiplier")} AS sleeping_after,
    {q.floor("idle * 10 / rhythm")} AS tenths,
    {q.floor(f"rhythm / 86400 + {q.double('0.5')}")} AS rhythm_days,
    CASE WHEN p_alive IS NOT NULL AND last_order_at IS NOT NULL AND p_alive < :p_alive_below
              AND last_order_at < :p_alive_at AND :p_alive_at <= as_of
         THEN 1 ELSE 0 END AS p_low,
    CASE WHEN :rescue = 1 AND last_engaged_at IS NOT NULL AND last_order_at IS NOT NULL
              AND last_order_at < last_engaged_at AND last_engaged_at <= as_of
         THEN 1 ELSE 0 END AS engaged_after
  FROM measured
  {fence}
),
flagged AS (
  SELECT thresholds.*,
    CASE WHEN idle >= sleeping_after THEN 1 ELSE 0 END AS overdue,
    {q.moment("last_s + sleeping_after")} AS crossing,
    {slow_reason} AS slow
  FROM thresholds
  {fence}
),
asleep AS (
  SELECT flagged.*,
    CASE WHEN p_low = 0 THEN crossing
         WHEN overdue = 1 THEN {q.least("crossing", ":p_alive_at")}
         ELSE :p_alive_at END AS asleep_at,
    CASE WHEN p_low = 0 OR overdue = 1 THEN slow ELSE {p_reason} END AS asleep_reason
  FROM flagged
  {fence}
),
branched AS (
  SELECT asleep.*,
    CASE
      WHEN n <= 0 OR last_order_at IS NULL THEN
        CASE WHEN last_engaged_at IS NULL THEN 'prospect'
             WHEN quiet >= :lead_sleep_after THEN 'lead_asleep'
             ELSE 'lead' END
      WHEN overdue = 1 OR p_low = 1 THEN
        CASE WHEN engaged_after = 1 AND quiet < :window THEN 'rescued' ELSE 'asleep' END
      WHEN idle >= at_risk_after THEN 'slow'
      WHEN n = 1 THEN 'first'
      WHEN n >= :loyal_orders AND revenue >= :loyal_revenue THEN 'loyal'
      ELSE 'repeat'
    END AS branch
  FROM asleep
  {fence}
),
earned AS (
  SELECT branched.*,
    CASE branch
      WHEN 'prospect' THEN 'prospect' WHEN 'lead' THEN 'lead'
      WHEN 'lead_asleep' THEN 'sleeping' WHEN 'asleep' THEN 'sleeping'
      WHEN 'rescued' THEN 'at_risk' WHEN 'slow' THEN 'at_risk'
      WHEN 'first' THEN 'first_time_buyer' WHEN 'loyal' THEN 'loyal'
      ELSE 'repeat'
    END AS earned,
    CASE branch
      WHEN 'prospect' THEN 'no engagement yet'
      WHEN 'lead' THEN 'engaged, no order yet'
      WHEN 'lead_asleep' THEN
        'no engagement for ' || {q.text("quiet / 86400")} || ' days and no order'
      WHEN 'asleep' THEN asleep_reason
      WHEN 'rescued' THEN
        asleep_reason || ', but engaged ' || {q.text("quiet / 86400")} || ' days ago'
      WHEN 'slow' THEN slow
      WHEN 'first' THEN 'first order'
      WHEN 'loyal' THEN {q.text("n")} || ' orders, net revenue at the VIP threshold'
      ELSE {q.text("n")} || ' orders'
    END AS earned_reason,
    CASE branch
      WHEN 'lead_asleep' THEN {q.moment("engaged_s + :lead_sleep_after")}
      WHEN 'asleep' THEN
        CASE WHEN engaged_after = 1
             THEN {q.greatest("asleep_at", q.moment("engaged_s + :window"))}
             ELSE asleep_at END
      WHEN 'rescued' THEN
        CASE WHEN asleep_at <= last_engaged_at THEN last_engaged_at
             ELSE {q.moment("last_s + at_risk_after")} END
      WHEN 'slow' THEN {q.moment("last_s + at_risk_after")}
      ELSE as_of
    END AS earned_at
  FROM branched
  {fence}
),
ruled AS (
  SELECT earned.*,
    CASE
      WHEN stage IN ('sleeping', 'lost') AND last_order_at IS NOT NULL
           AND last_order_at >= since THEN
        CASE WHEN first_order_at IS NOT NULL AND first_order_at < since
             THEN 'reactivate' ELSE 'woken' END
      WHEN stage = 'sleeping' AND earned IN ('lead', 'at_risk') THEN 'woken'
      WHEN stage IN ('sleeping', 'lost') THEN NULL
      WHEN stage = 'reactivated' AND earned IN ('at_risk', 'sleeping') THEN 'earned'
      WHEN stage = 'reactivated' AND (as_of_s - since_s >= :settle_after
                                      OR further >= :settle_orders) THEN 'settled'
      WHEN stage = 'reactivated' THEN NULL
      ELSE 'earned'
    END AS rule
  FROM earned
  {fence}
),
proposed AS (
  SELECT customer_id, stage AS from_stage, floor_at, as_of,
    CASE rule WHEN 'reactivate' THEN 'reactivated' ELSE earned END AS to_stage,
    CASE rule
      WHEN 'reactivate' THEN
        CASE WHEN stage = 'sleeping' THEN 'ordered again after sleeping'
             ELSE 'ordered again after being lost' END
      WHEN 'settled' THEN 'settled after reactivation: ' || earned_reason
      ELSE earned_reason
    END AS reason,
    CASE rule
      WHEN 'earned' THEN earned_at
      WHEN 'settled' THEN
        CASE WHEN as_of_s - since_s >= :settle_after
             THEN {q.moment("since_s + :settle_after")} ELSE as_of END
      ELSE as_of
    END AS proposed_at
  FROM ruled
  WHERE rule IS NOT NULL
  {fence}
)
SELECT customer_id, from_stage, to_stage,
  CASE WHEN proposed_at > as_of THEN as_of
       WHEN proposed_at < floor_at THEN floor_at
       ELSE proposed_at END AS changed_at,
  reason,
  CASE WHEN (from_stage || '>' || to_stage) IN :pairs THEN 1 ELSE 0 END AS allowed
FROM proposed
WHERE to_stage <> from_stage
"""


def _values(config: StagesConfig) -> dict[str, Any]:
    return {
        "min_s": float(config.rhythm.min_days * DAY),
        "max_s": float(config.rhythm.max_days * DAY),
        "default_s": float(config.rhythm.default_days * DAY),
        "at_risk_multiplier": config.at_risk.rhythm_multiplier,
        "sleeping_multiplier": config.sleeping.rhythm_multiplier,
        "p_alive_below": config.sleeping.p_alive_below,
        "p_text": p_alive_threshold_text(config.sleeping),
        "rescue": int(config.sleeping.on_engagement == EngagementResponse.AT_RISK),
        "window": config.sleeping.engagement_window_days * DAY,
        "lead_sleep_after": config.lead.sleep_after_days * DAY,
        "loyal_orders": config.loyal.min_orders,
        "loyal_revenue": config.loyal.min_net_revenue_minor,
        "settle_after": config.reactivated.settle_after_days * DAY,
        "settle_orders": config.reactivated.settle_after_orders,
    }
