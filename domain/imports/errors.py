"""Why an import could not start or could not finish."""

from __future__ import annotations

from collections.abc import Sequence

from domain.imports.summary import ImportSummary


class ImportFailed(Exception):
    """An import stopped; the message says why in one line."""


class SourceNotFound(ImportFailed):
    """The input file does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(f"file not found: {path}")


class BadOption(ImportFailed):
    """An option (currency, encoding, time zone, batch size) is not usable."""


class LayoutMismatch(ImportFailed):
    """The file's header does not match the layout of the import kind."""

    def __init__(self, kind: str, missing: Sequence[str] = (), problem: str = "") -> None:
        self.missing = list(missing)
        parts = [f"missing column(s): {', '.join(self.missing)}"] if self.missing else []
        if problem:
            parts.append(problem)
        super().__init__(f"the header does not match the {kind} layout: {'; '.join(parts)}")


class BatchFailed(ImportFailed):
    """The database refused a batch; it was rolled back, earlier batches stay committed."""

    def __init__(
        self, first_line: int, last_line: int, cause: BaseException, summary: ImportSummary
    ) -> None:
        self.first_line = first_line
        self.last_line = last_line
        self.summary = summary
        reason = " ".join(str(cause).split())[:300]
        super().__init__(
            f"the batch of lines {first_line}-{last_line} failed and was rolled back "
            f"({summary.batches} earlier batch(es) stay committed; rerun the same import to "
            f"resume): {type(cause).__name__}: {reason}"
        )
