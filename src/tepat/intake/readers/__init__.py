"""Reading the tables regencies really send, safely.

`open_table` judges a file by its content, not its name (xlsx, xlsb, xls, ods through calamine; anything else that is
text as CSV), refuses what would hurt the server (size, zip bombs, absurd widths) with an IntakeError carrying a
stable code, finds the header below any title rows, and returns a Table whose rows() streams the data.

    table = open_table(path, header_score=lambda cells: len(map_columns(cells)))
    for line, cells in table.rows():
        ...

Every problem with the file itself is an IntakeError (file.*); a bad row is never an exception.
"""

from __future__ import annotations

from pathlib import Path

from tepat.intake.readers.base import DEFAULT_LIMITS, Cell, HeaderScore, Limits, Table
from tepat.intake.readers.sniff import sniff_format
from tepat.intake.readers.text import open_text
from tepat.intake.readers.workbook import open_workbook

__all__ = ["DEFAULT_LIMITS", "Cell", "HeaderScore", "Limits", "Table", "open_table"]


def open_table(
    path: Path,
    *,
    sheet: str | None = None,
    header_score: HeaderScore | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Table:
    """Open a CSV file or a workbook sheet and find its header.

    `header_score(cells)` rates a candidate header row (the caller counts the column names it recognises); the
    best row of the first 30 non-empty ones wins when it scores 2 or more, else the first row with two filled cells.
    With `sheet=None` the sheet with the best header is taken (ties: the first), hidden sheets only as a last
    resort; `sheet` is ignored for CSV.
    """
    path = Path(path)
    sniffed = sniff_format(path, limits)
    if sniffed.format == "csv":
        return open_text(path, utf16=sniffed.text_encoding, header_score=header_score, limits=limits)
    return open_workbook(path, sniffed.format, sheet=sheet, header_score=header_score, limits=limits)
