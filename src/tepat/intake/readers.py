"""Reading delimited text files the way regencies send them (UTF-8 with or without BOM, Windows-1252; , ; tab)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tepat.intake.errors import FileProblem, IntakeError

SAMPLE_BYTES = 64 * 1024


@dataclass
class TextTable:
    path: Path
    encoding: str
    delimiter: str
    header: list[str]
    header_line: int

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(spreadsheet line number, cells) for every non-empty data row."""
        with self.path.open(encoding=self.encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            for line, cells in enumerate(reader, start=1):
                if line <= self.header_line:
                    continue
                if any(c.strip() for c in cells):
                    yield line, cells


def _encoding(sample: bytes) -> str:
    if b"\x00" in sample[:4096]:
        raise IntakeError(FileProblem.NOT_TEXT, path="")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            sample.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8-sig" and exc.start > len(sample) - 4:
                return encoding  # a multi-byte character cut by the sample boundary
            continue
        return encoding
    return "latin-1"


def open_text_table(path: Path) -> TextTable:
    if not path.exists() or not path.is_file():
        raise IntakeError(FileProblem.NOT_FOUND, path=path)
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip():
        raise IntakeError(FileProblem.EMPTY, path=path.name)
    try:
        encoding = _encoding(sample)
    except IntakeError:
        raise IntakeError(FileProblem.NOT_TEXT, path=path.name) from None
    text = sample.decode(encoding, errors="ignore")
    first_lines = [line for line in text.splitlines() if line.strip()][:20]
    counts = {d: sum(line.count(d) for line in first_lines[:5]) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for line, cells in enumerate(reader, start=1):
        filled = [c for c in cells if c.strip()]
        # The header is the first row with at least two filled cells (title rows above it are skipped).
        if len(filled) >= 2:
            return TextTable(
                path=path, encoding=encoding, delimiter=delimiter, header=[c.strip() for c in cells], header_line=line
            )
        if line > 30:
            break
    raise IntakeError(FileProblem.NO_HEADER, path=path.name)
