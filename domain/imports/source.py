"""Reading an input file as a stream of records with line numbers, and writing the rejects.

Nothing here holds more than one record: files of any size are read in constant memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from domain.imports.errors import BadOption, LayoutMismatch
from domain.imports.summary import Reject, SkipReason

# csv's own bound on one field; an unclosed quote stops there instead of eating the file.
csv.field_size_limit(1 << 20)
_UNDECODED = re.compile("[\udc80-\udcff]")
_NAME_NOISE = str.maketrans("", "", " _-")


def detect_encoding(path: Path) -> str:
    """'utf-8', or 'latin-1' when the file has bytes UTF-8 cannot decode and no UTF-8 text.

    A file mixing valid UTF-8 text with some undecodable lines stays UTF-8: those lines
    are rejected rather than turning every accented letter of the good lines into mojibake.
    """
    utf8_text = undecodable = False
    with path.open("rb") as binary:
        for line in binary:
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_text = True
            except UnicodeDecodeError:
                undecodable = True
            if utf8_text and undecodable:
                break
    return "latin-1" if undecodable and not utf8_text else "utf-8"


def check_encoding(name: str) -> str:
    """The canonical codec name; BadOption for an unknown encoding."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise BadOption(f"unknown encoding {name!r}") from None


@dataclass(frozen=True, slots=True)
class Record:
    """One record of the file: its first line number, its text as read, its fields."""

    line_no: int
    raw: str
    fields: list[str]


class Source:
    """A text file opened for streaming, which knows how many bytes it has consumed."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self.size = path.stat().st_size
        self._binary = path.open("rb")
        # surrogateescape keeps undecodable bytes visible, so the line is rejected, not lost.
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        self._text = io.TextIOWrapper(
            self._binary, encoding=codec, errors="surrogateescape", newline=""
        )

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._text.close()

    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (for progress)."""
        return self._binary.tell()

    def csv_records(self) -> Iterator[Record | Reject]:
        """Records of a CSV file; quoted fields may span lines. Blank lines are skipped."""
        pending: list[str] = []

        def lines() -> Iterator[str]:
            for line in self._text:
                pending.append(line)
                yield line

        reader = csv.reader(lines())
        while True:
            try:
                fields = next(reader)
                error = ""
            except StopIteration:
                return
            except csv.Error as exc:
                fields, error = [], str(exc)
            raw = "".join(pending).rstrip("\r\n")
            first_line = reader.line_num - len(pending) + 1
            pending.clear()
            if error:
                yield Reject(first_line, SkipReason.MALFORMED_CSV, error, raw)
            elif fields:
                yield _checked(Record(first_line, raw, fields), self.encoding)

    def whitespace_records(self) -> Iterator[Record | Reject]:
        """Records of a file whose fields are separated by runs of blanks."""
        for line_no, line in enumerate(self._text, start=1):
            raw = line.rstrip("\r\n")
            if raw.strip():
                yield _checked(Record(line_no, raw, raw.split()), self.encoding)


def _checked(record: Record, encoding: str) -> Record | Reject:
    """The record, or its reject when it has undecodable bytes or a NUL character."""
    raw = record.raw
    if not raw.isascii() and _undecodable(raw):
        return Reject(record.line_no, SkipReason.UNDECODABLE, f"not valid {encoding}", raw)
    # PostgreSQL text cannot hold NUL; no layout has a use for it.
    if "\x00" in raw:
        return Reject(record.line_no, SkipReason.BAD_VALUE, "the row has a NUL character", raw)
    return record


def _undecodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def header_index(
    kind: str, header: Record, required: Sequence[Sequence[str]], optional: Sequence[str]
) -> tuple[dict[str, int], list[str]]:
    """{column: position} of the header's known columns, and the names it has beyond them.

    Names match ignoring case, spaces, underscores and dashes; each required entry lists
    accepted spellings (the first is its name in the index).
    """
    positions: dict[str, int] = {}
    for position, name in enumerate(header.fields):
        key = normal_name(name)
        if key in positions:
            raise LayoutMismatch(kind, problem=f"column {name.strip()!r} appears twice")
        positions[key] = position
    index: dict[str, int] = {}
    missing: list[str] = []
    for spellings in required:
        found = [positions[normal_name(s)] for s in spellings if normal_name(s) in positions]
        if found:
            index[spellings[0]] = found[0]
        else:
            missing.append(" or ".join(spellings))
    if missing:
        raise LayoutMismatch(kind, missing)
    for name in optional:
        if normal_name(name) in positions:
            index[name] = positions[normal_name(name)]
    used = set(index.values())
    ignored = [name.strip() for position, name in enumerate(header.fields) if position not in used]
    return index, ignored


def normal_name(name: str) -> str:
    """A column name compared loosely: `Customer ID`, `customer_id` and `CustomerID` agree."""
    return name.strip().lower().translate(_NAME_NOISE)


class RejectsFile:
    """The CSV of rejected rows next to the input: line, reason, detail, raw text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(["line", "reason", "detail", "raw"])

    def __enter__(self) -> RejectsFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()

    def write(self, rejects: Iterable[Reject]) -> None:
        """Append rejects in line order and flush, so a crash keeps what was written."""
        for reject in sorted(rejects, key=lambda r: r.line_no):
            # Undecodable bytes were kept as surrogates; show them as \xNN.
            raw = _UNDECODED.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", reject.raw)
            self._writer.writerow([reject.line_no, str(reject.reason), reject.detail, raw])
        self._file.flush()


def default_rejects_path(path: Path) -> Path:
    """`FILE.rejects.csv` next to the input."""
    return path.with_name(path.name + ".rejects.csv")
