"""Reading the files regencies really send: every format, every encoding, and every way a file can be unusable.

Files are generated in tmp_path; every refusal must be an IntakeError with its stable code, never another exception.
"""

from __future__ import annotations

import random
import time as clock
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from tepat.intake.columns import map_columns
from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.readers import Limits, Table, open_table
from tepat.intake.readers import sniff as sniff_module


def score(cells: list[str]) -> int:
    return len(map_columns(cells))


def rows(table: Table) -> list[tuple[int, list[Any]]]:
    return list(table.rows())


def refused(path: Path, code: FileProblem, **kwargs: Any) -> IntakeError:
    with pytest.raises(IntakeError) as caught:
        open_table(path, header_score=score, **kwargs)
    assert caught.value.code == code.value, str(caught.value)
    return caught.value


def write_xlsx(path: Path, build: Callable[[Any], None]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    build(workbook)
    workbook.close()
    return path


def write_ods(path: Path, sheets: dict[str, list[list[str | float]]]) -> Path:
    """A minimal ODS built by hand (mimetype, content.xml, manifest): what calamine needs and LibreOffice writes."""

    def cell(value: str | float) -> str:
        if isinstance(value, str):
            return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="float" office:value="{value!r}"/>'

    tables = "".join(
        f'<table:table table:name="{name}">'
        + "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in data)
        + "</table:table>"
        for name, data in sheets.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")  # first and stored, per ODF
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return path


# --- workbooks ------------------------------------------------------------------------------------------------------


def recipients_sheet(workbook: Any, name: str = "Data") -> None:
    sheet = workbook.add_worksheet(name)
    sheet.merge_range(0, 0, 0, 4, "DAFTAR PENERIMA BANTUAN KOTA BONTANG 2025")  # title merged across the table
    sheet.write_row(2, 0, ["NIK", "Nama", "Tanggal Lahir", "Jumlah", "Kode Desa"])
    sheet.write_number(3, 0, 6474031207850001)  # typed as a number: Excel keeps 15 digits, we keep it float
    sheet.write_string(3, 1, "Ahmad Fauzi ")
    sheet.write_datetime(3, 2, datetime(1985, 7, 12), workbook.add_format({"num_format": "dd/mm/yyyy"}))
    sheet.write_formula(3, 3, "=2*21", None, 42)  # calamine reads the value Excel cached
    sheet.write_string(3, 4, "64.74.03.1002")
    sheet.write_string(4, 0, "6474034507900002")  # stored as text: intact
    sheet.write_string(4, 1, "Nur Aisyah")
    sheet.write_datetime(4, 2, datetime(1990, 7, 5, 8, 30), workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"}))
    sheet.write_number(4, 3, 2.5)
    # row 6 left empty; row 7 holds a number below Excel's 15 digits and a boolean
    sheet.write_number(6, 0, 123456789012345)
    sheet.write_boolean(6, 1, True)


def test_xlsx_title_rows_are_skipped_and_cells_keep_their_type(tmp_path: Path) -> None:
    table = open_table(write_xlsx(tmp_path / "daftar.xlsx", recipients_sheet), header_score=score)
    assert (table.format, table.sheet, table.sheets) == ("xlsx", "Data", ["Data"])
    assert (table.encoding, table.delimiter) == ("", "")
    assert table.header == ["NIK", "Nama", "Tanggal Lahir", "Jumlah", "Kode Desa"]
    assert table.header_line == 3
    got = rows(table)
    assert got == [
        (4, [6474031207850001.0, "Ahmad Fauzi ", date(1985, 7, 12), 42, "64.74.03.1002"]),
        (5, ["6474034507900002", "Nur Aisyah", datetime(1990, 7, 5, 8, 30), 2.5, None]),
        (7, [123456789012345, True, None, None, None]),
    ]
    nik_number = got[0][1][0]
    assert type(nik_number) is float  # 16 digits through a spreadsheet number: the identity engine must see it
    assert type(got[0][1][2]) is date and type(got[0][1][3]) is int
    assert type(got[2][1][0]) is int
    assert table.row_count_estimate() == 4


def test_the_sheet_with_the_list_is_chosen_over_a_notes_sheet(tmp_path: Path) -> None:
    def build(workbook: Any) -> None:
        notes = workbook.add_worksheet("Petunjuk")
        notes.write_row(0, 0, ["No", "Keterangan"])
        notes.write_row(1, 0, [1, "Isi NIK sebagai teks"])
        recipients_sheet(workbook, "Penerima")
        hidden = workbook.add_worksheet("Lama")
        hidden.write_row(0, 0, ["nik", "nama", "no_kk", "alamat", "rt", "rw"])  # scores best, but hidden
        hidden.write_row(1, 0, ["6474031207850001", "X", "6474031203150001", "Jl. A", "1", "2"])
        hidden.hide()

    path = write_xlsx(tmp_path / "dua_lembar.xlsx", build)
    table = open_table(path, header_score=score)
    assert table.sheet == "Penerima" and table.sheets == ["Petunjuk", "Penerima", "Lama"]
    assert table.alike == []  # no other sheet has these columns
    assert table.header_line == 3
    # without a scorer every header ties: the first sheet that has one
    assert open_table(path).sheet == "Petunjuk"
    # a sheet named by the user is read even when hidden
    chosen = open_table(path, sheet="Lama", header_score=score)
    assert chosen.sheet == "Lama" and rows(chosen)[0][1][0] == "6474031207850001"


def test_other_sheets_with_the_same_columns_are_named(tmp_path: Path) -> None:
    """A village keeps one sheet per RT: one sheet is read, and the others with the same columns (whatever their
    title rows, letter case or spacing) are named, so that nobody takes the first RT for the whole village."""

    def build(workbook: Any) -> None:
        workbook.add_worksheet("Petunjuk").write_row(0, 0, ["No", "Keterangan"])
        for number, title_rows in ((1, 0), (2, 2), (3, 0)):
            sheet = workbook.add_worksheet(f"RT 0{number}")
            if title_rows:
                sheet.write(0, 0, f"DATA WARGA RT 0{number}")
            names = ["NIK", "NAMA", "KODE DESA"] if number != 3 else ["nik", " Nama ", "Kode  Desa"]
            sheet.write_row(title_rows, 0, names)
            sheet.write_row(title_rows + 1, 0, [f"647403120785000{number}", "Budi", "64.74.03.1002"])
        other = workbook.add_worksheet("Rekap")
        other.write_row(0, 0, ["NIK", "NAMA"])  # other columns: not alike
        other.write_row(1, 0, ["6474031207850009", "Ani"])
        hidden = workbook.add_worksheet("RT 04 lama")
        hidden.write_row(0, 0, ["NIK", "NAMA", "KODE DESA"])
        hidden.hide()

    path = write_xlsx(tmp_path / "per_rt.xlsx", build)
    table = open_table(path, header_score=score)
    assert (table.sheet, table.alike) == ("RT 01", ["RT 02", "RT 03"])
    assert open_table(path, sheet="RT 02", header_score=score).alike == []  # a sheet the user chose: theirs


def test_a_hidden_sheet_is_read_when_no_visible_sheet_has_a_list(tmp_path: Path) -> None:
    def build(workbook: Any) -> None:
        workbook.add_worksheet("Sampul").write(0, 0, "Data Penerima 2025")
        hidden = workbook.add_worksheet("Data")
        hidden.write_row(0, 0, ["nik", "nama"])
        hidden.write_row(1, 0, ["6474031207850001", "Budi"])
        hidden.hide()

    assert open_table(write_xlsx(tmp_path / "x.xlsx", build), header_score=score).sheet == "Data"


def test_a_table_that_starts_away_from_a1_keeps_spreadsheet_line_numbers(tmp_path: Path) -> None:
    def build(workbook: Any) -> None:
        sheet = workbook.add_worksheet("Data")
        sheet.write_row(4, 2, ["nik", "nama"])  # C5
        sheet.write_row(6, 2, ["6474031207850001", "Budi"])

    table = open_table(write_xlsx(tmp_path / "geser.xlsx", build), header_score=score)
    assert (table.header, table.header_line, rows(table)) == (["nik", "nama"], 5, [(7, ["6474031207850001", "Budi"])])


def test_an_unknown_sheet_is_refused_with_the_sheet_names(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "daftar.xlsx", recipients_sheet)
    problem = refused(path, FileProblem.UNKNOWN_SHEET, sheet="Sheet1")
    assert "Sheet1" in str(problem) and "Data" in str(problem)


def two_row_header_sheet(workbook: Any) -> None:
    """A government form: title, a header over two rows (merged group titles with their columns under them, the
    other titles merged down), a row numbering the columns, then the data."""
    sheet = workbook.add_worksheet("Data")
    sheet.merge_range(0, 0, 0, 8, "DATA PENERIMA BANTUAN RTLH KELURAHAN BERBAS PANTAI")
    for column, title in enumerate(["NO", "NIK", "NAMA LENGKAP"]):
        sheet.merge_range(2, column, 3, column, title)
    sheet.merge_range(2, 3, 2, 4, "LAHIR")
    sheet.write_row(3, 3, ["TEMPAT", "TANGGAL"])
    sheet.merge_range(2, 5, 2, 7, "ALAMAT")
    sheet.write_row(3, 5, ["JALAN", "RT", "RW"])
    sheet.merge_range(2, 8, 3, 8, "KODE DESA")
    sheet.write_row(4, 0, ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)"])
    sheet.write_row(5, 0, ["1", "6474034507900002", "Nur Aisyah", "Bontang", "05/07/1990", "Jl. Kenari", "003",
                           "005", "64.74.03.1002"])  # fmt: skip


def test_a_header_over_two_rows_with_numbered_columns_is_one_header(tmp_path: Path) -> None:
    table = open_table(write_xlsx(tmp_path / "rtlh.xlsx", two_row_header_sheet), header_score=score)
    assert table.header == ["NO", "NIK", "NAMA LENGKAP", "TEMPAT LAHIR", "TANGGAL LAHIR", "JALAN", "RT", "RW",
                            "KODE DESA"]  # fmt: skip
    assert table.header_line == 5  # the numbering row belongs to the header
    assert [(line, cells[1]) for line, cells in rows(table)] == [(6, "6474034507900002")]
    mapped = map_columns(table.header)
    assert {"nik", "name", "birth_place", "birth_date", "street", "rt", "rw", "village"} <= set(mapped)


def test_sex_ticked_in_l_and_p_columns_under_one_title_is_read(tmp_path: Path) -> None:
    path = tmp_path / "blt.csv"
    path.write_text("NIK;NAMA;JENIS KELAMIN;;KODE DESA\n;;L;P;\n1;2;3;4;5\n6474034507900002;Nur;;√;64.74.03.1002\n",
                    encoding="utf-8")  # fmt: skip
    table = open_table(path, header_score=score)
    assert (table.header, table.header_line) == (["NIK", "NAMA", "L", "P", "KODE DESA"], 3)
    assert {"sex_male_mark": 2, "sex_female_mark": 3}.items() <= map_columns(table.header).items()


def test_a_known_column_named_under_a_title_over_it_alone_is_a_sub_header(tmp_path: Path) -> None:
    path = tmp_path / "rt.csv"
    path.write_text("NIK;NAMA;ALAMAT;KODE DESA\n;;RT/RW;\n6474034507900002;Nur;003/005;64.74.03.1002\n",
                    encoding="utf-8")  # fmt: skip
    table = open_table(path, header_score=score)
    assert (table.header, table.header_line) == (["NIK", "NAMA", "RT/RW", "KODE DESA"], 2)
    hint = tmp_path / "petunjuk.csv"  # a hint under its own column is no sub-header: the row stays a row
    hint.write_text("NIK;NAMA;JENIS KELAMIN;KODE DESA\n;;L/P;\n6474034507900002;Nur;P;64.74.03.1002\n",
                    encoding="utf-8")  # fmt: skip
    assert open_table(hint, header_score=score).header_line == 1


def test_the_first_data_row_is_never_taken_for_sub_headers_or_column_numbers(tmp_path: Path) -> None:
    text = "Nama,NIK,Keterangan,,Kode Desa\nIbu,6474034507900002,Ayah,1,64.74.03.1002\n1,2,3,4,5\n"
    path = tmp_path / "daftar.csv"
    path.write_text(text, encoding="utf-8")
    table = open_table(path, header_score=score)
    assert (table.header, table.header_line) == (["Nama", "NIK", "Keterangan", "", "Kode Desa"], 1)
    assert [line for line, _ in rows(table)] == [2, 3]
    numbered = tmp_path / "bernomor.csv"
    numbered.write_text("NIK;Nama;Kode Desa\n1;2;3\n6474034507900002;Nur;64.74.03.1002\n", encoding="utf-8")
    table = open_table(numbered, header_score=score)
    assert table.header_line == 2 and [line for line, _ in rows(table)] == [3]


def test_workbook_header_without_rows_and_empty_workbooks(tmp_path: Path) -> None:
    def header_only(workbook: Any) -> None:
        workbook.add_worksheet("A").write_row(0, 0, ["nik", "nama", "", "kode_desa"])

    table = open_table(write_xlsx(tmp_path / "h.xlsx", header_only), header_score=score)
    assert table.header == ["nik", "nama", "", "kode_desa"] and rows(table) == []
    refused(write_xlsx(tmp_path / "e.xlsx", lambda wb: wb.add_worksheet("Kosong")), FileProblem.EMPTY)
    one_cell = write_xlsx(tmp_path / "t.xlsx", lambda wb: wb.add_worksheet().write(0, 0, "judul saja"))
    refused(one_cell, FileProblem.NO_HEADER)


def test_ods(tmp_path: Path) -> None:
    path = write_ods(
        tmp_path / "daftar.ods",
        {"Catatan": [["catatan saja"]], "Lembar1": [["DAFTAR"], ["nik", "nama", "rt"], [6474031207850001, "Budi", 3]]},
    )
    table = open_table(path, header_score=score)
    assert (table.format, table.sheet, table.header, table.header_line) == ("ods", "Lembar1", ["nik", "nama", "rt"], 2)
    assert rows(table) == [(3, [6474031207850001.0, "Budi", 3])]


def test_xls(tmp_path: Path) -> None:
    xlwt = pytest.importorskip("xlwt", reason="xlwt writes the legacy .xls test file")
    book = xlwt.Workbook()
    sheet = book.add_sheet("Penerima")
    sheet.write(0, 0, "Daftar")
    for column, name in enumerate(["nik", "nama", "tgl_lahir"]):
        sheet.write(1, column, name)
    sheet.write(2, 0, "6474031207850001")
    sheet.write(2, 1, "Siti")
    sheet.write(2, 2, date(1985, 7, 12), xlwt.easyxf(num_format_str="DD/MM/YYYY"))
    path = tmp_path / "lama.xls"
    book.save(str(path))
    table = open_table(path, header_score=score)
    assert (table.format, table.header_line, table.header) == ("xls", 2, ["nik", "nama", "tgl_lahir"])
    assert rows(table) == [(3, ["6474031207850001", "Siti", date(1985, 7, 12)])]


def test_format_is_judged_by_content_not_by_name(tmp_path: Path) -> None:
    real = write_xlsx(tmp_path / "daftar.xlsx", recipients_sheet)
    renamed = tmp_path / "daftar.csv"
    renamed.write_bytes(real.read_bytes())
    assert open_table(renamed, header_score=score).format == "xlsx"
    ods = write_ods(tmp_path / "x.ods", {"A": [["nik", "nama"], ["1", "2"]]})
    misnamed = tmp_path / "x.xls"
    misnamed.write_bytes(ods.read_bytes())
    assert open_table(misnamed).format == "ods"


# --- CSV ------------------------------------------------------------------------------------------------------------

CSV_TEXT = "nik{d}nama{d}alamat\n6474031207850001{d}José Ñandú{d}Jl. Merdeka 5\n6474034507900002{d}Wíwí{d}RT 02\n"
CSV_ROWS = [
    (2, ["6474031207850001", "José Ñandú", "Jl. Merdeka 5"]),
    (3, ["6474034507900002", "Wíwí", "RT 02"]),
]


@pytest.mark.parametrize(
    "encode, delimiter, encoding",
    [
        (lambda text: text.encode("utf-8"), ",", "utf-8"),
        (lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), ";", "utf-8"),  # Excel's "CSV UTF-8"
        (lambda text: text.encode("cp1252"), ";", "cp1252"),  # Excel's "CSV" on an Indonesian Windows PC
        (lambda text: text.encode("utf-16"), "\t", "utf-16"),  # Excel's "Unicode Text"
        (lambda text: text.encode("utf-16-le"), "\t", "utf-16"),  # the same without BOM
        (lambda text: text.replace("\n", "\r\n").encode("utf-8"), "|", "utf-8"),
        (lambda text: text.replace("\n", "\r").encode("cp1252"), ",", "cp1252"),  # classic Mac Excel
    ],
)
def test_csv_encodings_and_delimiters(
    tmp_path: Path, encode: Callable[[str], bytes], delimiter: str, encoding: str
) -> None:
    path = tmp_path / "daftar.csv"
    path.write_bytes(encode(CSV_TEXT.format(d=delimiter)))
    table = open_table(path, header_score=score)
    assert (table.format, table.sheet, table.sheets) == ("csv", "", [])
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    assert (table.header, table.header_line) == (["nik", "nama", "alamat"], 1)
    assert rows(table) == CSV_ROWS


def test_mixed_encodings_are_decoded_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "gabungan.csv"
    path.write_bytes(
        "nik,nama\n1,José\n".encode()
        + "2,André\n".encode("cp1252")
        + b"".join(f"{i},x\n".encode() for i in range(20_000))  # pushes the next line past the 64 KB sample
        + "3,Müller\n".encode("cp1252")
    )
    table = open_table(path, header_score=score)
    assert table.encoding == "mixed"
    got = rows(table)
    assert got[:2] == [(2, ["1", "José"]), (3, ["2", "André"])] and got[-1] == (20_004, ["3", "Müller"])

    late = tmp_path / "terlambat.csv"
    late.write_bytes(b"nik,nama\n" + "1,José\n".encode() + b"2,x\n" * 100_000 + "3,André\n".encode("cp1252"))
    table = open_table(late, header_score=score)
    assert table.encoding == "utf-8"  # all that opening it showed
    assert rows(table)[-1] == (100_003, ["3", "André"]) and table.encoding == "mixed"  # what reading found


def test_csv_title_rows_quoted_newlines_raw_cells_and_widths(tmp_path: Path) -> None:
    path = tmp_path / "daftar.csv"
    path.write_text(
        "DAFTAR PENERIMA BANTUAN, KOTA BONTANG\n"  # a comma in the title must not make it the header
        ";;;\n"
        "No;NIK;Nama;Alamat;;\n"
        '1;6474031207850001; Ahmad ;"Jl. Merdeka, No. 5\nRT 02/RW 01"\n'
        ";;;\n"
        "2;6474034507900002;Nur;Jl. A;extra;more\n"
        "3;6474034507900003\n"
        "\n\n",
        encoding="utf-8",
    )
    table = open_table(path, header_score=score)
    assert table.delimiter == ";" and table.header == ["No", "NIK", "Nama", "Alamat"] and table.header_line == 3
    assert rows(table) == [
        (4, ["1", "6474031207850001", " Ahmad ", "Jl. Merdeka, No. 5\nRT 02/RW 01"]),  # raw: the caller strips
        (6, ["2", "6474034507900002", "Nur", "Jl. A"]),  # cells past the header are dropped
        (7, ["3", "6474034507900003", "", ""]),  # short rows are padded
    ]


def test_header_detection_prefers_recognised_names(tmp_path: Path) -> None:
    path = tmp_path / "daftar.csv"
    path.write_text("Dinas Sosial,Kota Bontang\nDibuat,2025-01-31\nnik,nama,kode_desa\n6474034507900002,Nur,1\n",
                    encoding="utf-8")  # fmt: skip
    assert open_table(path, header_score=score).header_line == 3
    assert open_table(path).header_line == 1  # without a scorer: the first row with two filled cells
    single = tmp_path / "satu.csv"
    single.write_text("JUDUL\n\nsatu kolom\n", encoding="utf-8")
    refused(single, FileProblem.NO_HEADER)


def test_header_only_and_duplicate_headers(tmp_path: Path) -> None:
    path = tmp_path / "kosong.csv"
    path.write_text("nik,nama,,nama,\n", encoding="utf-8")
    table = open_table(path, header_score=score)
    assert table.header == ["nik", "nama", "", "nama"] and rows(table) == []


def test_oversized_cells_are_cut_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "panjang.csv"
    path.write_text(f'nik,nama\n1,"{"x" * 200_000}"\n2,Budi\n', encoding="utf-8")  # past csv's field limit
    got = rows(open_table(path))
    assert got[0][0] == 2 and got[0][1][0] == "1" and 0 < len(got[0][1][1]) <= 32_767
    assert got[-1] == (3, ["2", "Budi"])

    path.write_text('nik,nama\n1,"baris satu\nbaris dua\nbaris tiga"\n2,' + "y" * 50 + "\n3,Budi\n", encoding="utf-8")
    assert rows(open_table(path, limits=Limits(max_cell_chars=12))) == [
        (2, ["1", "baris satu\nb"]),  # a long cell over several lines
        (3, ["2", "y" * 12]),  # a long cell on one line
        (4, ["3", "Budi"]),
    ]


def test_line_ends_split_across_read_blocks(tmp_path: Path) -> None:
    body = "".join(f"{i},Nama {i}\r\n" for i in range(40_000))
    for encoding in ("utf-16", "utf-8"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(("nik,nama\r\n" + body).encode(encoding))
        got = rows(open_table(path))
        assert len(got) == 40_000 and got[-1] == (40_001, ["39999", "Nama 39999"]), encoding
        assert all(line == i + 2 for i, (line, _) in enumerate(got))


def test_rows_are_streamed(tmp_path: Path) -> None:
    path = tmp_path / "besar.csv"
    line = b"6474031207850001,Ahmad Fauzi,Jl. Merdeka No. 5 RT 02 RW 01,64.74.03.1002\n"
    with path.open("wb") as fh:
        fh.write(b"nik,nama,alamat,kode_desa\n")
        block = line * 10_000
        while fh.tell() < 20 * 1024 * 1024:
            fh.write(block)
    tracemalloc.start()
    try:
        table = open_table(path, header_score=score)
        first = next(iter(table.rows()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first == (2, ["6474031207850001", "Ahmad Fauzi", "Jl. Merdeka No. 5 RT 02 RW 01", "64.74.03.1002"])
    assert peak < 5 * 1024 * 1024
    estimate = table.row_count_estimate()
    true_count = path.stat().st_size // len(line)
    assert estimate is not None and abs(estimate - true_count) < true_count * 0.02


# --- refusals -------------------------------------------------------------------------------------------------------


def test_missing_empty_and_blank_files(tmp_path: Path) -> None:
    refused(tmp_path / "tidak_ada.csv", FileProblem.NOT_FOUND)
    refused(tmp_path, FileProblem.NOT_FOUND)
    (tmp_path / "kosong.csv").write_bytes(b"")
    refused(tmp_path / "kosong.csv", FileProblem.EMPTY)
    (tmp_path / "spasi.csv").write_bytes(b"\xef\xbb\xbf  \r\n\t\n   \n")
    refused(tmp_path / "spasi.csv", FileProblem.EMPTY)
    (tmp_path / "spasi16.csv").write_bytes(" \n\n".encode("utf-16"))
    refused(tmp_path / "spasi16.csv", FileProblem.EMPTY)
    (tmp_path / "banyak_spasi.csv").write_bytes(b"\n" * 100_000 + b" ;\n")
    refused(tmp_path / "banyak_spasi.csv", FileProblem.EMPTY)


@pytest.mark.parametrize(
    "name, content, code, words",
    [
        ("foto.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(100), FileProblem.NOT_TEXT, ["PNG", ".xlsx"]),
        ("scan.csv", b"\xff\xd8\xff\xe0" + bytes(100), FileProblem.NOT_TEXT, ["JPEG", ".csv"]),
        ("surat.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", FileProblem.NOT_TEXT, ["PDF"]),
        ("ekspor.xls", b"<html><body><table><tr><td>nik</td></tr></table>", FileProblem.NOT_TEXT, ["HTML", ".xlsx"]),
        ("acak.xlsx", random.Random(1).randbytes(4096), FileProblem.CORRUPT, ["acak.xlsx"]),
        ("acak.csv", random.Random(1).randbytes(4096), FileProblem.NOT_TEXT, ["acak.csv"]),
        ("potong.xlsx", b"PK\x03\x04" + bytes(200), FileProblem.CORRUPT, []),
        (
            "rahasia.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600) + "EncryptedPackage".encode("utf-16-le"),
            FileProblem.ENCRYPTED,
            [],
        ),
        ("rusak.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), FileProblem.CORRUPT, ["xls"]),
    ],
)
def test_files_that_are_not_tables(
    tmp_path: Path, name: str, content: bytes, code: FileProblem, words: list[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    message = str(refused(path, code))
    assert all(word in message for word in words), message


def test_zips_that_are_not_workbooks_or_are_broken(tmp_path: Path) -> None:
    def zip_with(name: str, members: dict[str, str]) -> Path:
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            for member, text in members.items():
                archive.writestr(member, text)
        return path

    assert "Word" in str(refused(zip_with("surat.xlsx", {"word/document.xml": "<w/>"}), FileProblem.NOT_TEXT))
    refused(zip_with("arsip.xlsx", {"daftar.csv": "nik,nama\n"}), FileProblem.NOT_TEXT)
    refused(zip_with("rusak.xlsx", {"xl/workbook.xml": "bukan xml", "[Content_Types].xml": "x"}), FileProblem.CORRUPT)
    locked = bytearray(zip_with("terkunci.xlsx", {"xl/workbook.xml": "x"}).read_bytes())
    locked[6] |= 0x1  # the "encrypted" flag of the member, in the local header and in the central directory
    locked[locked.index(b"PK\x01\x02") + 8] |= 0x1
    (tmp_path / "terkunci.xlsx").write_bytes(bytes(locked))
    refused(tmp_path / "terkunci.xlsx", FileProblem.ENCRYPTED)
    real = write_xlsx(tmp_path / "asli.xlsx", recipients_sheet).read_bytes()
    truncated = tmp_path / "terpotong.xlsx"
    truncated.write_bytes(real[: len(real) // 2])  # an interrupted download: no central directory
    refused(truncated, FileProblem.CORRUPT)


def test_zip_bombs_are_refused_before_calamine_unpacks_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def build(workbook: Any) -> None:
        sheet = workbook.add_worksheet("Data")
        sheet.write_row(0, 0, ["nik", "nama"])
        for row in range(1, 3000):
            sheet.write_row(row, 0, ["6474031207850001", "Budi"])

    path = write_xlsx(tmp_path / "bom.xlsx", build)
    unpacked = sum(m.file_size for m in zipfile.ZipFile(path).infolist())
    refused(path, FileProblem.ZIP_BOMB, limits=Limits(max_uncompressed_bytes=unpacked - 1))
    assert open_table(path, limits=Limits(max_uncompressed_bytes=unpacked)).sheet == "Data"

    monkeypatch.setattr(sniff_module, "RATIO_GRACE_BYTES", 0)  # the ratio is judged only on big archives
    refused(path, FileProblem.ZIP_BOMB, limits=Limits(max_compression_ratio=2))


def test_a_member_that_lies_about_its_size_is_corrupt(tmp_path: Path) -> None:
    """A member declared small that inflates big: calamine's zip reader stops at the declared size."""
    path = write_xlsx(tmp_path / "bohong.xlsx", recipients_sheet)
    with zipfile.ZipFile(path) as archive:
        members = {m.filename: archive.read(m) for m in archive.infolist()}
    sheet_xml = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet_xml.replace(b"</sheetData>", b"</sheetData>" + b" " * 2_000_000)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    entry = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    name = entry.filename.encode()
    local = entry.header_offset  # local file header: uncompressed size at +22
    central = data.index(b"PK\x01\x02")  # central directory entries: uncompressed size at +24
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    for position in (local + 22, central + 24):
        assert int.from_bytes(data[position : position + 4], "little") == entry.file_size
        data[position : position + 4] = (5000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    refused(path, FileProblem.CORRUPT)


def test_password_protected_workbooks(tmp_path: Path) -> None:
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml", reason="msoffcrypto-tool encrypts the test workbook")
    plain = write_xlsx(tmp_path / "biasa.xlsx", recipients_sheet)
    locked = tmp_path / "terkunci.xlsx"
    with plain.open("rb") as source, locked.open("wb") as target:
        ooxml.OOXMLFile(source).encrypt("rahasia", target)
    refused(locked, FileProblem.ENCRYPTED)


def test_size_and_width_limits(tmp_path: Path) -> None:
    path = tmp_path / "daftar.csv"
    path.write_text("nik,nama\n" + "6474031207850001,Budi\n" * 100, encoding="utf-8")
    problem = refused(path, FileProblem.TOO_LARGE, limits=Limits(max_bytes=1024))
    assert "daftar.csv" in str(problem)
    write_xlsx(tmp_path / "b.xlsx", recipients_sheet)
    refused(tmp_path / "b.xlsx", FileProblem.TOO_LARGE, limits=Limits(max_bytes=1024))

    wide = tmp_path / "lebar.csv"
    header = ",".join(f"kolom_{i}" for i in range(10_000))
    wide.write_text(f"{header}\n" + ",".join(["1"] * 10_000) + "\n", encoding="utf-8")
    started = clock.perf_counter()
    problem = refused(wide, FileProblem.TOO_MANY_COLUMNS)
    assert "10000" in str(problem) and clock.perf_counter() - started < 5  # a guard against a hang, not a benchmark

    def wide_sheet(workbook: Any) -> None:
        workbook.add_worksheet().write_row(0, 0, [f"k{i}" for i in range(30)])

    refused(
        write_xlsx(tmp_path / "lebar.xlsx", wide_sheet), FileProblem.TOO_MANY_COLUMNS, limits=Limits(max_columns=20)
    )


def test_headers_as_national_and_agency_lists_spell_them() -> None:
    """BDT/DTKS spellings, P3KE's family id, hints in brackets, one RT/RW and one birth place/date column."""
    header = ["IDARTBDT", "IDBDT", "ID Keluarga P3KE", "NIK (16 digit)", "No. KK [teks]", "Nama Sesuai KTP",
              "JNSKEL", "TMPLAHIR", "TGL LAHIR (DD/MM/YYYY)", "RT/RW", "Tempat/Tgl Lahir", "Kecamatan",
              "Desa/Kel", "Jumlah ART"]  # fmt: skip
    assert map_columns(header) == {
        "record_id": 0, "household_key": 1, "family_key": 2, "nik": 3, "kk": 4, "name": 5, "sex": 6,
        "birth_place": 7, "birth_date": 8, "rt_rw": 9, "birth_place_date": 10, "district_name": 11,
        "village_name": 12,
    }  # fmt: skip
    # SIKS-NG's DTKS export and a DTSEN extract
    assert map_columns(["NOKK", "TMPT_LAHIR", "STA_KAWIN", "HUB_KEL", "HUBUNGAN_DENGAN_KK", "DESIL_KABKOTA"]) == {
        "kk": 0, "birth_place": 1, "marital_status": 2, "relationship": 3, "desil_regency": 5}  # fmt: skip
    # A bracket that says which value it is, not how it is written, leaves the header to the user to map.
    assert map_columns(["DESA (KODE)", "NIK (KEPALA KELUARGA)", "NAMA"]) == {"name": 2}
