"""`tepat dedupe INPUT --out clusters.csv` (DESIGN.md command contracts): record_id,cluster_id for every row."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import call_command

from tepat.errors import UserError

TEPAT = str(Path(sys.executable).with_name("tepat"))

# Siti twice (the second time her NIK went through Excel), Budi once, and a row for the same Siti by another office.
PERSON_LIST = """\
record_id,nik,no_kk,nama,jenis_kelamin,tempat_lahir,tanggal_lahir,nama_ibu_kandung,alamat,rt,rw,kode_desa
A-1,6474035508880002,6474031507100001,Siti Aminah,P,Bontang,1988-08-15,Hasnah,Jl. Merdeka No. 5,003,,64.74.03.1002
A-2,6474031207850001,6474031507100002,Budi Santoso,L,Bontang,1985-07-12,Sumarni,Gg. Mawar 2,001,,64.74.03.1002
A-3,6.47403E+15,6474031507100001,SITI AMINAH,P,Bontang,15/08/1988,Hasnah,JL MERDEKA NO 5,3,,64.74.03.1002
A-4,6474035508880002,,Hj. Siti Aminah,P,,1988-08-15,,,,,64.74.03.1002
"""


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_row_gets_its_cluster(tmp_path: Path) -> None:
    source = tmp_path / "daftar.csv"
    source.write_text(PERSON_LIST, encoding="utf-8")
    out, review = tmp_path / "clusters.csv", tmp_path / "review.csv"
    call_command("dedupe", str(source), "--out", str(out), "--pairs-out", str(review), stdout=io.StringIO())
    rows = _rows(out)
    assert list(rows[0]) == ["record_id", "cluster_id"]
    clusters = {row["record_id"]: row["cluster_id"] for row in rows}
    assert list(clusters) == ["A-1", "A-2", "A-3", "A-4"]
    assert clusters["A-1"] == clusters["A-3"] == clusters["A-4"] != clusters["A-2"]
    pairs = _rows(review)
    assert {(p["record_id_l"], p["record_id_r"], p["layer"]) for p in pairs} >= {("A-1", "A-4", "nik")}
    assert {"nama_l", "nama_r", "evidence"} <= set(pairs[0])


def test_a_workbook_with_indonesian_headers_and_a_title(tmp_path: Path) -> None:
    source = tmp_path / "penerima.xlsx"
    book = xlsxwriter.Workbook(str(source))
    sheet = book.add_worksheet("Penerima")
    sheet.write_row(0, 0, ["DAFTAR PENERIMA BANTUAN 2026"])
    sheet.write_row(2, 0, ["NO. NIK", "NAMA LENGKAP", "JK", "TGL LAHIR", "NO KK", "KELURAHAN"])
    sheet.write_row(3, 0, ["6474035508880002", "Siti Aminah", "P", "15-08-1988", "6474031507100001", "Api-Api"])
    sheet.write_row(4, 0, ["6474035508880002", "SITI AMINAH", "P", "15-08-1988", "6474031507100001", "Api-Api"])
    sheet.write_row(5, 0, ["6474031207850001", "Budi", "L", "12-07-1985", "6474031507100002", "Api-Api"])
    book.close()
    out = tmp_path / "clusters.csv"
    call_command("dedupe", str(source), "--out", str(out), stdout=io.StringIO())
    rows = _rows(out)
    # No record_id column: rows are named by their spreadsheet line.
    assert [row["record_id"] for row in rows] == ["4", "5", "6"]
    assert rows[0]["cluster_id"] == rows[1]["cluster_id"] != rows[2]["cluster_id"]


@pytest.mark.parametrize("blank_line", [False, True])
def test_rows_without_record_id_are_named_by_their_line(tmp_path: Path, blank_line: bool) -> None:
    """Both CSV readers (Arrow's for plain files, the streaming one otherwise) name rows the same way."""
    lines = ["nik,nama,tanggal_lahir", "6474035508880002,Siti Aminah,1988-08-15", "6474031207850001,Budi,1985-07-12"]
    if blank_line:
        lines.insert(2, "")
    source = tmp_path / "daftar.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "clusters.csv"
    call_command("dedupe", str(source), "--out", str(out), stdout=io.StringIO())
    assert [row["record_id"] for row in _rows(out)] == (["2", "4"] if blank_line else ["2", "3"])


def test_a_file_without_names_or_niks_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "angka.csv"
    source.write_text("kode,nilai\n1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(UserError, match="NIK maupun nama"):
        call_command("dedupe", str(source), "--out", str(tmp_path / "c.csv"))


def test_thresholds_out_of_order_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "daftar.csv"
    source.write_text(PERSON_LIST, encoding="utf-8")
    with pytest.raises(UserError, match="ambang"):
        call_command("dedupe", str(source), "--out", str(tmp_path / "c.csv"), "--threshold", "0.4")


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [TEPAT, "dedupe", str(tmp_path / "none.csv"), "--out", str(tmp_path / "c.csv")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TEPAT_SQLITE": str(tmp_path / "cli.sqlite3")},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tepat: ") and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize("fast", [True, False], ids=["arrow-reader", "streaming-reader"])
def test_combined_birth_and_rt_rw_columns_are_read_apart(tmp_path: Path, fast: bool) -> None:
    """A village list writes 'Tempat/Tgl Lahir' and 'RT/RW' in one column each and ticks the sex in L and P columns:
    the birth date still links Siti's two rows (her NIK went through Excel in one), as it does for the import."""
    from tepat.linkage.management.commands.dedupe import read_person_list

    text = ("NAMA,TEMPAT/TGL LAHIR,RT/RW,NIK,L,P\n"
            "Siti Aminah,\"Bontang, 15-08-1988\",003/005,6474035508880002,,√\n"
            "SITI AMINAH,\"BONTANG, 15/08/1988\",3/5,6.47403E+15,,v\n"
            "Budi Santoso,\"Samarinda, 12-07-1985\",RT 1 RW 2,6474031207850001,√,\n")  # fmt: skip
    source = tmp_path / "desa.csv"
    source.write_text(text if fast else text.replace("\nSITI", "\n\nSITI"), encoding="utf-8")  # a blank line:
    # the streaming reader's case
    table, lines = read_person_list(source, progress=lambda *args: None)
    assert lines == 3 and "tempat_tgl_lahir" not in table.column_names
    assert table.column("tanggal_lahir").to_pylist() == ["15-08-1988", "15/08/1988", "12-07-1985"]
    assert table.column("tempat_lahir").to_pylist() == ["Bontang", "BONTANG", "Samarinda"]
    assert (table.column("rt").to_pylist(), table.column("rw").to_pylist()) == (["003", "3", "1"], ["005", "5", "2"])
    assert table.column("jenis_kelamin").to_pylist() == ["P", "P", "L"]  # ticked in an L or a P column
    out = tmp_path / "clusters.csv"
    call_command("dedupe", str(source), "--out", str(out), stdout=io.StringIO())
    clusters = [row["cluster_id"] for row in _rows(out)]
    assert clusters[0] == clusters[1] != clusters[2]
