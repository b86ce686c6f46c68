"""A large xlsx sheet is cut into parts and read one part at a time (``intake.readers.parts``). Here every sheet is
'large' and the parts are a few rows each: the table read in parts must be the table read whole, for the layouts
and value types regencies' workbooks have."""

from __future__ import annotations

import threading
import zipfile
from datetime import datetime
from pathlib import Path
from types import GeneratorType
from typing import Any

import pytest
import xlsxwriter

from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.readers import Table, open_table, parts
from tepat.intake.readers.workbook import PartedSource, WorkbookSource

from .test_readers import recipients_sheet, score


def _table(path: Path, monkeypatch: pytest.MonkeyPatch, *, split: bool, rows_per_part: int = 2) -> Table:
    monkeypatch.setattr(parts, "SPLIT_BYTES", 0 if split else 10**12)
    monkeypatch.setattr(parts, "PART_ROWS", rows_per_part)
    monkeypatch.setattr(parts, "FIRST_PART_ROWS", 5)  # title, two empty lines (no row in the XML), header, a row
    table = open_table(path, header_score=score)
    assert isinstance(table.source, PartedSource if split else WorkbookSource)
    return table


def _read(table: Table) -> tuple[Any, ...]:
    return table.sheet, table.sheets, table.header, table.header_line, list(table.rows())


def _long_list(workbook: Any, *, first_column: int = 0) -> None:
    """Title rows, a header on row 4, typed values, empty rows and cells, text that XML must escape."""
    sheet = workbook.add_worksheet("Penerima")
    when = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.merge_range(0, first_column, 0, first_column + 5, "DAFTAR KELUARGA PENERIMA 2025 & usulan <desa>")
    sheet.write_row(3, first_column, ["NIK", "Nama", "Tgl Lahir", "Jumlah", "Aktif", "Kode Desa"])
    for i in range(23):
        row = 4 + i + i // 7  # an empty row now and then
        c = first_column
        if i % 3:
            sheet.write_string(row, c, f"64740312078{i:05d}")
        else:
            sheet.write_number(row, c, 6474031207850000 + i)  # a NIK typed as a number: stays float
        sheet.write_string(row, c + 1, ["Ahmad “Fauzi”", "Nur & Aisyah", "Ni Luh\nPutu", "  Made  ", "Ü <b>"][i % 5])
        if i % 4:
            sheet.write_datetime(row, c + 2, datetime(1980 + i, 1 + i % 12, 1 + i), when)
        sheet.write_formula(row, c + 3, f"={i}*2", None, i * 2)
        sheet.write_boolean(row, c + 4, bool(i % 2))
        sheet.write_string(row, c + 5, "64.74.03.1002")


@pytest.mark.parametrize("inline", [False, True], ids=["shared-strings", "inline-strings"])
@pytest.mark.parametrize("first_column", [0, 2], ids=["from-A", "from-C"])
def test_a_sheet_read_in_parts_is_the_sheet_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inline: bool, first_column: int
) -> None:
    path = tmp_path / "daftar.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": inline})
    workbook.add_worksheet("Catatan").write_row(0, 0, ["lihat", "lembar", "berikut"])
    _long_list(workbook, first_column=first_column)
    workbook.close()
    whole = _read(_table(path, monkeypatch, split=False))
    for size in (1, 2, 5, 50):
        table = _table(path, monkeypatch, split=True, rows_per_part=size)
        assert table.row_count_estimate() == 25 - 4  # the rows the cut counted (title, header, 23), less 4 lines
        assert isinstance(table.source, PartedSource) and table.source.book is not None  # opened for the header
        assert _read(table) == whole
        assert table.source.book is None and _read(table) == whole  # read again: the parts' workbook opened anew
    assert whole[0] == "Penerima" and len(whole[4]) == 23 and whole[4][0][0] == 5


def test_dates_keep_the_workbooks_date_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mac.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"date_1904": True})
    recipients_sheet(workbook)
    workbook.close()
    whole = _read(_table(path, monkeypatch, split=False))
    assert _read(_table(path, monkeypatch, split=True, rows_per_part=1)) == whole
    assert whole[4][0][1][2] == datetime(1985, 7, 12).date()


def _parted_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Table:
    path = tmp_path / "daftar.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    _long_list(workbook)
    workbook.close()
    return _table(path, monkeypatch, split=True)


def test_the_parts_go_when_the_table_is_released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = _parted_list(tmp_path, monkeypatch)
    assert isinstance(table.source, PartedSource)
    folder = table.source.path.parent
    assert folder.is_dir() and len(table.source.parts) == 1 + 10  # 5 rows, then 20 in parts of 2
    table.release()
    assert not folder.exists()


def test_a_reader_that_stops_early_leaves_no_loading_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parts are loaded in a thread one ahead of the rows taken; a reader that stops after a few rows (an
    import cancelled, a preview) ends it, and the parts still go when the table is released."""
    table = _parted_list(tmp_path, monkeypatch)
    rows = table.rows()
    taken = [next(rows) for _ in range(3)]
    assert [line for line, _ in taken] == [5, 6, 7]
    assert any(thread.name == "tepat-xlsx-parts" for thread in threading.enumerate())
    assert isinstance(rows, GeneratorType)  # closing it runs the source's clean-up
    rows.close()
    assert not any(thread.name == "tepat-xlsx-parts" for thread in threading.enumerate())
    assert isinstance(table.source, PartedSource)
    folder = table.source.path.parent
    table.release()
    assert not folder.exists()


def _sheet_xml(rows: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        f'2006/main"><dimension ref="A1:B9"/><sheetData>{rows}</sheetData></worksheet>'
    )


def _hand_made(path: Path, sheet: str) -> Path:
    """A workbook written by hand: one sheet, inline strings."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def _row(r: int, nik: str, name: str) -> str:
    return (
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{nik}</t></is></c>'
        f'<c r="B{r}" t="inlineStr"><is><t>{name}</t></is></c></row>'
    )


def test_a_broken_part_is_a_corrupt_file_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cut does not parse rows: XML broken in row 6 is found when that part is read, as file.corrupt."""
    rows = _row(1, "nik", "nama") + "".join(_row(r, f"647403120785000{r}", "Budi") for r in range(2, 6))
    path = _hand_made(tmp_path / "rusak.xlsx", _sheet_xml(rows + '<row r="6"><c r="A6" t="inlineStr"><is><t>x</row>'))
    with pytest.raises(IntakeError) as whole:
        _table(path, monkeypatch, split=False)
    table = _table(path, monkeypatch, split=True, rows_per_part=3)
    with pytest.raises(IntakeError) as parted:
        list(table.rows())
    assert parted.value.code == whole.value.code == FileProblem.CORRUPT.value


def test_the_sheet_is_unpacked_ahead_and_its_errors_come_where_the_blocks_are_taken() -> None:
    """The unpacking thread hands blocks over in order, raises a read's error in the taker, and ends when the cut
    stops early (no thread is left waiting to hand over a block)."""

    class Source:
        def __init__(self, blocks: list[bytes | Exception]) -> None:
            self.blocks = blocks

        def read(self, size: int = -1) -> bytes:
            block = self.blocks.pop(0) if self.blocks else b""
            if isinstance(block, Exception):
                raise block
            return block

    with parts._ReadAhead(Source([b"a", b"b", b"c"])) as ahead:  # type: ignore[arg-type]
        assert [ahead.read(), ahead.read(), ahead.read(), ahead.read(), ahead.read()] == [b"a", b"b", b"c", b"", b""]
    with parts._ReadAhead(Source([b"a", zipfile.BadZipFile("Bad CRC-32")])) as ahead:  # type: ignore[arg-type]
        assert ahead.read() == b"a"
        for _ in range(2):
            with pytest.raises(zipfile.BadZipFile):
                ahead.read()
    with parts._ReadAhead(Source([b"x"] * 50)) as ahead:  # type: ignore[arg-type]
        ahead.read()
    assert not ahead.thread.is_alive()


def test_parts_are_written_in_order_and_a_failed_write_stops_the_cut(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "p.zip", "w") as out, parts._PartWriter(out) as writer:
        for i in range(5):
            writer.put(f"part{i}.xml", [b"<a>", str(i).encode(), b"</a>"])
        writer.finish()
    with zipfile.ZipFile(tmp_path / "p.zip") as written:
        assert [(n, written.read(n)) for n in written.namelist()] == [(f"part{i}.xml", f"<a>{i}</a>".encode())
                                                                      for i in range(5)]  # fmt: skip

    class Full:
        def open(self, *args: Any, **kwargs: Any) -> Any:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError), parts._PartWriter(Full()) as failing:  # type: ignore[arg-type]
        failing.put("part1.xml", [b"x"])
        failing.finish()
    assert not failing.thread.is_alive()


def test_a_sheet_that_cannot_be_cut_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows under a namespace prefix are cut as well; a sheet that never closes its rows is read whole."""
    rows = _row(1, "nik", "nama") + "".join(_row(r, f"647403120785000{r}", "Budi") for r in range(2, 6))
    prefixed = (
        _sheet_xml(rows)
        .replace("<worksheet xmlns=", "<x:worksheet xmlns:x=")
        .replace("</worksheet>", "</x:worksheet>")
        .replace("<", "<x:")
        .replace("<x:/", "</x:")
        .replace("<x:?xml", "<?xml")
        .replace("<x:x:", "<x:")
        .replace("</x:x:", "</x:")
    )
    assert "<x:row " in prefixed and "</x:sheetData>" in prefixed
    path = _hand_made(tmp_path / "awalan.xlsx", prefixed)
    whole = _read(_table(path, monkeypatch, split=False))
    assert _read(_table(path, monkeypatch, split=True)) == whole and len(whole[4]) == 4
    assert parts.split_sheet(path, "Data", tmp_path, rows_per_part=2) is not None
    unclosed = _hand_made(tmp_path / "tanpa_akhir.xlsx", _sheet_xml(rows).replace("</sheetData>", ""))
    assert parts.split_sheet(unclosed, "Data", tmp_path) is None


def test_parts_left_by_a_dead_process_go_with_the_next_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "daftar.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    _long_list(workbook)
    workbook.close()
    dead = tmp_path / ".tepat-parts-999999999-abc"  # no such process
    dead.mkdir()
    (dead / "parts.xlsx").write_bytes(b"x")
    table = _table(path, monkeypatch, split=True)
    assert not dead.exists() and isinstance(table.source, PartedSource) and table.source.path.exists()


def test_a_sheet_whose_rows_have_no_numbers_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row's number (r) is optional; calamine would count each part's rows from its first again."""
    rows = "".join(_row(r, f"647403120785000{r}", "Budi").replace(f' r="{r}"', "", 1) for r in range(2, 10))
    path = _hand_made(tmp_path / "tanpa_nomor.xlsx", _sheet_xml(_row(1, "nik", "nama").replace(' r="1"', "", 1) + rows))
    monkeypatch.setattr(parts, "FIRST_PART_ROWS", 2)
    assert parts.split_sheet(path, "Data", tmp_path, rows_per_part=2) is None
    whole = _read(_table(path, monkeypatch, split=False))
    monkeypatch.setattr(parts, "SPLIT_BYTES", 0)
    table = open_table(path, header_score=score)
    assert isinstance(table.source, WorkbookSource) and _read(table) == whole and len(whole[4]) == 8


def test_the_parts_of_a_sheet_without_a_table_go_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large sheet of formatting only (cells with a style and no value): cut, found empty, and its parts gone."""
    cells = "".join(f'<row r="{r}"><c r="A{r}" s="0"/><c r="B{r}" s="0"/></row>' for r in range(1, 9))
    path = _hand_made(tmp_path / "format.xlsx", _sheet_xml(cells))
    monkeypatch.setattr(parts, "SPLIT_BYTES", 0)
    monkeypatch.setattr(parts, "PART_ROWS", 2)
    monkeypatch.setattr(parts, "FIRST_PART_ROWS", 2)
    with pytest.raises(IntakeError) as caught:
        open_table(path, header_score=score)
    assert caught.value.code == FileProblem.EMPTY.value
    assert not list(tmp_path.glob(".tepat-parts-*"))
