"""What an import did: rows read, loaded and skipped by reason, rows created per table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class SkipReason(StrEnum):
    """Why a row was not loaded; every reason except ALREADY_LOADED goes to the rejects file."""

    ALREADY_LOADED = "already loaded"
    WRONG_COLUMN_COUNT = "wrong column count"
    MALFORMED_CSV = "malformed CSV"
    UNDECODABLE = "undecodable bytes"
    MISSING_FIELD = "missing required field"
    BAD_DATE = "unparseable date"
    BAD_NUMBER = "not a number"
    BAD_VALUE = "invalid value"
    QUANTITY_SIGN = "quantity sign does not match the order kind"
    UNKNOWN_CUSTOMER = "unknown customer"
    UNKNOWN_CHANNEL = "unknown channel"
    UNKNOWN_STAFF = "unknown staff"
    SEEN_EARLIER = "order seen earlier in the file"
    INCONSISTENT_ORDER = "differs from the first row of its order"


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that was not loaded: where it is, why, and its text as read."""

    line_no: int
    reason: SkipReason
    detail: str
    raw: str


@dataclass(slots=True)
class BatchOutcome:
    """What one committed batch did; merged into the summary only after its commit."""

    rows: int = 0
    loaded: int = 0
    already_loaded: int = 0
    rejects: list[Reject] = field(default_factory=list)
    guest_rows: int = 0
    return_rows: int = 0
    created: Counter[str] = field(default_factory=Counter)
    customer_ids: set[int] = field(default_factory=set)


@dataclass(slots=True)
class ImportSummary:
    """Totals of one import; rows_read == rows_loaded + sum(skipped.values()), always."""

    kind: str
    file: Path
    encoding: str
    rejects_file: Path
    rows_read: int = 0
    rows_loaded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    guest_rows: int = 0
    return_rows: int = 0
    created: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    facts_changed: int = 0
    stage_changes: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rejected(self) -> int:
        """Rows written to the rejects file."""
        return sum(n for reason, n in self.skipped.items() if reason != SkipReason.ALREADY_LOADED)

    def add(self, outcome: BatchOutcome) -> None:
        """Fold a committed batch into the totals."""
        self.batches += 1
        self.rows_read += outcome.rows
        self.rows_loaded += outcome.loaded
        if outcome.already_loaded:
            self.skipped[SkipReason.ALREADY_LOADED] += outcome.already_loaded
        for reject in outcome.rejects:
            self.skipped[reject.reason] += 1
        self.guest_rows += outcome.guest_rows
        self.return_rows += outcome.return_rows
        self.created.update(+outcome.created)

    def as_dict(self) -> dict[str, object]:
        """The summary as plain JSON-ready values."""
        return {
            "kind": self.kind,
            "file": str(self.file),
            "encoding": self.encoding,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rejected,
            "skipped": {str(reason): n for reason, n in sorted(self.skipped.items())},
            "guest_rows": self.guest_rows,
            "return_rows": self.return_rows,
            "created": {table: self.created[table] for table in CREATED_TABLES},
            "batches": self.batches,
            "facts_changed": self.facts_changed,
            "stage_changes": self.stage_changes,
            "ignored_columns": self.ignored_columns,
            "rejects_file": str(self.rejects_file),
            "seconds": round(self.seconds, 3),
        }


# Keys of ImportSummary.created, in the order they are reported.
CREATED_TABLES = ("customers", "consents", "products", "orders", "returns", "lines", "events")
