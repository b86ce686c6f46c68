"""`tepat pmt fit` / `score` / `card` as DESIGN.md states them: exit 0 with the scores file, exit 2 and one line on
stderr for bad input, never a traceback."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tepat.engine.pmt.synthetic import synthetic_survey

TEPAT = str(Path(sys.executable).with_name("tepat"))


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TEPAT_SQLITE": str(tmp_path / "cli.sqlite3"), "TEPAT_VAR_DIR": str(tmp_path)}
    environment.pop("DATABASE_URL", None)
    return subprocess.run([TEPAT, *args], capture_output=True, text=True, env=environment, timeout=300)


def test_fit_then_score_a_person_level_survey(tmp_path: Path) -> None:
    survey = synthetic_survey(tmp_path / "susenas.csv", households=300, seed=5)
    fitted = run(
        ["pmt", "fit", str(survey.path), "--household-id", "id_rt", "--welfare", "kapita", "--weight", "bobot",
         "--exclude", "desil", "--folds", "3", "--out", str(tmp_path / "model.json"),
         "--card", str(tmp_path / "card.md")],
        tmp_path,
    )  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    assert "validasi silang 3 lipatan" in fitted.stdout and "eksklusi / inklusi" in fitted.stdout
    assert "peringatan: kolom konstan" in fitted.stdout
    model = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert model["format"] == "tepat-pmt" and model["cv"]["chosen"] in ("ridge", "boosting")
    assert (tmp_path / "card.md").read_text(encoding="utf-8").startswith("# Kartu model PMT")
    scored = run(
        ["pmt", "score", str(tmp_path / "model.json"), str(survey.path), "--out", str(tmp_path / "scores.csv")],
        tmp_path,
    )
    assert scored.returncode == 0, scored.stderr
    with (tmp_path / "scores.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["household_id", "score", "rank", "decile"]
    assert len(rows) == 301 and {row[0] for row in rows[1:]} == set(survey.ids)
    poorest = min(rows[1:], key=lambda row: float(row[1]))
    assert poorest[2] == "1" and poorest[3] == "1"
    card = run(["pmt", "card", str(tmp_path / "model.json")], tmp_path)
    assert card.returncode == 0 and "## Validasi silang" in card.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["pmt", "fit", "{tmp}/s.csv", "--household-id", "rt", "--out", "{tmp}/m.json"], "pilih tepat satu"),
        (["pmt", "fit", "{tmp}/s.csv", "--household-id", "rt", "--welfare", "kapita", "--out", "{tmp}/m.json"],
         "kolom 'kamar' (fitur) baris 4: 'dua' bukan angka"),
        (["pmt", "fit", "{tmp}/s.csv", "--household-id", "nomor", "--welfare", "kapita", "--out", "{tmp}/m.json"],
         "kolom 'nomor' (--household-id) tidak ada"),
        (["pmt", "fitt", "{tmp}/s.csv"], "invalid choice"),
        (["pmt", "score", "{tmp}/none.json", "{tmp}/s.csv", "--out", "{tmp}/o.csv"], "berkas model tidak ditemukan"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], words: str) -> None:
    rows = "".join(f"H{i},{'dua' if i == 2 else i % 4},{1000 + i}\n" for i in range(80))
    (tmp_path / "s.csv").write_text("rt,kamar,kapita\n" + rows, encoding="utf-8")
    result = run([a.replace("{tmp}", str(tmp_path)) for a in args], tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tepat: ")
    assert words in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.json").exists()


# The bad survey files issue 5 names, through the command as a user meets them: each exits 2 with one line that
# says which column and what to do, and writes no model.
SURVEYS = {
    "no_id": ("nomor,kamar,kapita\n", "kolom 'rt' (--household-id) tidak ada di survei.csv; kolom yang ada: nomor"),
    "empty_id": ("rt,kamar,kapita\n,1,100\n", "baris 2"),
    "constant": ("rt,kamar,desa,kapita\n", "kolom konstan (satu nilai saja) diabaikan: kamar, desa"),
    "text_in_number": ("rt,kamar,kapita\n", "kolom 'kapita' (--welfare) baris 5: 'seratus' bukan angka"),
    "single_class": ("rt,kamar,kelas\n", "kolom 'kelas' hanya berisi satu kelas (3)"),
}


def _survey(kind: str) -> str:
    header, _words = SURVEYS[kind]
    if kind == "no_id" or kind == "empty_id":
        body = "".join(f"H{i},{i % 4},{100 + i}\n" for i in range(80))
    elif kind == "constant":
        body = "".join(f"H{i},3,Api-Api,{100 + i}\n" for i in range(80))
    elif kind == "text_in_number":
        body = "".join(f"H{i},{i % 4},{'seratus' if i == 3 else 100 + i}\n" for i in range(80))
    else:
        body = "".join(f"H{i},{i % 4},3\n" for i in range(80))
    return header + body


@pytest.mark.parametrize("kind", sorted(SURVEYS))
def test_the_bad_survey_files_of_the_issue_get_one_clear_line(tmp_path: Path, kind: str) -> None:
    (tmp_path / "survei.csv").write_text(_survey(kind), encoding="utf-8")
    target = ["--label", "kelas"] if kind == "single_class" else ["--welfare", "kapita"]
    out = str(tmp_path / "m.json")
    result = run(["pmt", "fit", str(tmp_path / "survei.csv"), "--household-id", "rt", *target, "--out", out], tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert SURVEYS[kind][1] in result.stderr, result.stderr
    assert not (tmp_path / "m.json").exists()


def test_scoring_a_file_with_text_in_numbers_or_without_the_id_or_a_column_is_refused(tmp_path: Path) -> None:
    rows = "".join(f"H{i},{i % 4},{i % 3},{100 + 3 * i + 20 * (i % 4)}\n" for i in range(80))
    (tmp_path / "survei.csv").write_text("rt,kamar,aset,kapita\n" + rows, encoding="utf-8")
    model = str(tmp_path / "m.json")
    fitted = run(["pmt", "fit", str(tmp_path / "survei.csv"), "--household-id", "rt", "--welfare", "kapita",
                  "--models", "ridge", "--folds", "3", "--out", model], tmp_path)  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    for name, text, words in (
        ("teks.csv", "rt,kamar,aset\nA,1,2\nB,dua,1\n", "kolom 'kamar' (fitur) baris 3: 'dua' bukan angka"),
        ("tanpa_id.csv", "kamar,aset\n1,2\n", "kolom 'rt' (--household-id) tidak ada di tanpa_id.csv"),
        ("kurang.csv", "rt,aset\nA,2\n", "kolom yang dipakai model tidak ada di kurang.csv: kamar"),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        result = run(["pmt", "score", model, str(tmp_path / name), "--out", str(tmp_path / "o.csv")], tmp_path)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert words in result.stderr, result.stderr
        assert not (tmp_path / "o.csv").exists()
