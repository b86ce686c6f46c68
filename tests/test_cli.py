"""The `tepat` command contracts (DESIGN.md): JSON lines from `nik check`, exit code 2 and one line for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TEPAT = str(Path(sys.executable).with_name("tepat"))


def run(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TEPAT_SQLITE": str(tmp_path / "cli.sqlite3"), "TEPAT_VAR_DIR": str(tmp_path), **env}
    environment.pop("DATABASE_URL", None) if "DATABASE_URL" not in env else None
    return subprocess.run([TEPAT, *args], input=stdin, capture_output=True, text=True, env=environment, timeout=120)


def test_nik_check_writes_one_json_object_per_line(tmp_path: Path) -> None:
    lines = "\n".join(
        [
            "6474035508880002",  # a woman born 15-08-1988 in Bontang Barat
            "6.47403E+15",  # Excel's scientific notation: digits lost
            "6474035508880002,L,1988-08-15",  # recorded as a man: flagged, not rejected
            "6474030000000000",
        ]
    )
    result = run(["nik", "check"], tmp_path, stdin=lines + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert set(out[0]) == {"nik", "valid", "reasons", "province", "regency", "district", "birth_date", "sex"}
    assert out[0] == {
        "nik": "6474035508880002",
        "valid": True,
        "reasons": [],
        "province": "64",
        "regency": "64.74",
        "district": "64.74.03",
        "birth_date": "1988-08-15",
        "sex": "P",
    }
    assert out[1]["valid"] is False and "nik.excel_scientific" in out[1]["reasons"]
    assert out[2]["valid"] is True and "nik.sex_mismatch" in out[2]["reasons"]
    assert out[3]["valid"] is False and "nik.placeholder" in out[3]["reasons"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["import", "/no/such/list.csv", "--source", "dtsen"], "tidak ditemukan"),
        (["areas", "load", "--boundaries-within", "64-74"], "not a Kemendagri area code"),
        (["synth", "--region", "99.99", "--persons", "10", "--out", "{tmp}/s"], "99.99"),
        (["import", "{tmp}/x.csv", "--source", "targets"], "tidak ditemukan"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    result = run([a.replace("{tmp}", str(tmp_path)) for a in args], tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tepat: ") and words in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_that_is_down_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = run(["areas", "stats"], tmp_path, DATABASE_URL="postgres://tepat@127.0.0.1:9/tepat")
    assert result.returncode == 2
    assert result.stderr.startswith("tepat: database unavailable") and "Traceback" not in result.stderr


def test_synth_writes_the_lists_and_a_ground_truth(tmp_path: Path) -> None:
    result = run(
        ["synth", "--region", "64.74", "--persons", "500", "--seed", "3", "--out", str(tmp_path / "s")], tmp_path
    )
    assert result.returncode == 0, result.stderr
    written = {p.name for p in (tmp_path / "s").iterdir()}
    assert {
        "dtsen_extract.csv",
        "death_list.csv",
        "exclusion_list.csv",
        "truth_defects.csv",
        "manifest.json",
    } <= written


def test_import_writes_a_report_with_row_column_code_and_message(tmp_path: Path) -> None:
    from .conftest import EXTRACT

    assert run(["migrate", "-v0"], tmp_path).returncode == 0
    assert run(["areas", "load", "--no-boundaries"], tmp_path).returncode == 0
    extract = tmp_path / "dtsen.csv"
    extract.write_text(EXTRACT, encoding="utf-8")
    result = run(["import", str(extract), "--source", "dtsen", "--report", str(tmp_path / "r.json")], tmp_path)
    assert result.returncode == 0, result.stderr  # rows were rejected, but the file was read
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["status"] == "committed" and report["totals"]["persons_new"] == 5
    assert report["rejected"] == [
        {"row": 8, "column": "kode_desa", "field": "village", "code": "village.unknown",
         "message": "Kode desa/kelurahan tidak dikenal (Kepmendagri)", "value": "99.99.99.9999"}
    ]  # fmt: skip
    again = run(["import", str(extract), "--source", "dtsen"], tmp_path)
    assert again.returncode == 0 and again.stdout.startswith("unchanged")
    dry = tmp_path / "dry.csv"
    dry.write_text(EXTRACT.replace("Ahmad Fauzi", "Achmad Fauzi"), encoding="utf-8")
    preview = run(
        ["import", str(dry), "--source", "dtsen", "--dry-run", "--report", str(tmp_path / "d.json")], tmp_path
    )
    assert preview.returncode == 0
    assert json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))["preview"]["persons_changed"] == 1


def test_import_takes_a_recipient_lists_program_and_period(tmp_path: Path) -> None:
    assert run(["migrate", "-v0"], tmp_path).returncode == 0
    path = tmp_path / "pkh.csv"
    path.write_text("NIK;NAMA;NOMINAL\n6474031207850001;Ahmad Fauzi;Rp 750.000\n", encoding="utf-8")
    bad = run(["import", str(path), "--source", "program", "--program", "PKH", "--period", "Tahap 2"], tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Tahap 2" in bad.stderr, bad.stderr
    args = ["import", str(path), "--source", "program", "--program", "PKH", "--period", "Triwulan III 2026"]
    result = run([*args, "--report", str(tmp_path / "r.json")], tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (report["program"], report["period"], report["totals"]["benefits_new"]) == ("PKH", "2026-Q3", 1)


def test_import_says_which_sheets_with_the_same_columns_it_did_not_read(tmp_path: Path) -> None:
    import xlsxwriter

    assert run(["migrate", "-v0"], tmp_path).returncode == 0
    assert run(["areas", "load", "--no-boundaries"], tmp_path).returncode == 0
    path = tmp_path / "per_rt.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for number in (1, 2):
        sheet = book.add_worksheet(f"RT 0{number}")
        sheet.write_row(0, 0, ["NIK", "NAMA", "KODE DESA"])
        sheet.write_row(1, 0, [f"647403120785000{number}", "Budi", "64.74.03.1002"])
    book.close()
    result = run(["import", str(path), "--source", "person", "--report", str(tmp_path / "r.json")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "only sheet “RT 01” was read" in result.stderr and "RT 02" in result.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (report["sheet"], report["alike_sheets_not_read"]) == ("RT 01", ["RT 02"])
    assert report["totals"]["persons_new"] == 1 and "--sheet" in result.stderr
    second = run(["import", str(path), "--source", "person", "--sheet", "RT 02"], tmp_path)
    assert second.returncode == 0 and "persons_new: 1" in second.stdout, second.stderr
    for args in (["--sheet", "RT 02"], []):  # each sheet once; the file as it is: its first sheet, done
        assert run(["import", str(path), "--source", "person", *args], tmp_path).stdout.startswith("unchanged")
    missing = run(["import", str(path), "--source", "person", "--sheet", "RT 09"], tmp_path)
    assert missing.returncode == 2 and "RT 09" in missing.stderr and "Traceback" not in missing.stderr
