"""The synthetic registry: deterministic, on real region codes, and every defect in the truth is really there."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tepat.engine.synth import Defect, SynthConfig, SynthError, generate
from tepat.engine.synth._defects import NIK_PLACEHOLDERS
from tepat.engine.synth._registry import CsvOut

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
BONTANG = "64.74"
PERSONS = 3000

# Dinas Perkim's sheet uses its own headers; everything else is the person-list template.
PERKIM = {
    "NO": "record_id",
    "NIK": "nik",
    "NO KK": "no_kk",
    "NAMA LENGKAP": "nama",
    "JK": "jenis_kelamin",
    "TGL LAHIR": "tanggal_lahir",
    "KELURAHAN": "kelurahan",
}


def _generate(out: Path, **overrides: object) -> dict[str, object]:
    settings: dict[str, Any] = {"region": BONTANG, "persons": PERSONS, "seed": 11, **overrides}
    config = SynthConfig(**settings)
    return generate(config, reference_dir=REFERENCE, out_dir=out)


@pytest.fixture(scope="module")
def bontang(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bontang")
    _generate(out)
    return out


@pytest.fixture(scope="module")
def stressed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three times the defect rates, so that every kind of defect shows up in a small run."""
    out = tmp_path_factory.mktemp("stressed")
    _generate(out, defect_rate=3.0, seed=12, persons=8000)
    return out


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    """A file's rows with template column names and ISO dates, whatever the agency's format."""
    return _read(str(out), name)


@cache
def _read(out: str, name: str) -> list[dict[str, str]]:
    text = (Path(out) / name).read_text(encoding="utf-8")
    delimiter = ";" if text.split("\n", 1)[0].count(";") > 1 else ","
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    if delimiter == ";":
        converted = []
        for row in rows:
            new = {PERKIM.get(key, key): value for key, value in row.items()}
            born = new["tanggal_lahir"]
            new["tanggal_lahir"] = f"{born[6:10]}-{born[3:5]}-{born[0:2]}" if born else ""
            converted.append(new)
        return converted
    return rows


def _truth(out: Path) -> dict[str, dict[str, str]]:
    return {row["person_id"]: row for row in _rows(out, "truth_persons.csv")}


def _villages() -> dict[str, str]:
    with (REFERENCE / "villages.csv").open(encoding="utf-8") as handle:
        return {row["code"]: row["name"] for row in csv.DictReader(handle) if row["code"].startswith(BONTANG + ".")}


def _districts() -> set[str]:
    with (REFERENCE / "districts.csv").open(encoding="utf-8") as handle:
        return {row["code"].replace(".", "") for row in csv.DictReader(handle)}


def test_the_same_config_writes_byte_identical_files(tmp_path: Path) -> None:
    _generate(tmp_path / "a", seed=5, persons=1500)
    _generate(tmp_path / "b", seed=5, persons=1500)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_other_people(tmp_path: Path, bontang: Path) -> None:
    _generate(tmp_path, seed=99)
    assert (tmp_path / "truth_persons.csv").read_bytes() != (bontang / "truth_persons.csv").read_bytes()


def test_row_counts_match_the_manifest(bontang: Path) -> None:
    manifest = _manifest(bontang)
    for name, count in manifest["files"].items():
        assert len(_rows(bontang, name)) == count, name
    assert manifest["population"]["persons"] == PERSONS == len(_rows(bontang, "truth_persons.csv"))
    assert manifest["defects"]["total"] == manifest["files"]["truth_defects.csv"]
    assert set(manifest["files"]) >= {
        "dtsen_extract.csv",
        "program_pkh.csv",
        "program_sembako.csv",
        "program_pbi_jk.csv",
        "program_pip.csv",
        "program_rtlh.csv",
        "program_csr.csv",
        "program_baznas.csv",
        "death_list.csv",
        "exclusion_list.csv",
        "moved_list.csv",
        "truth_persons.csv",
        "truth_defects.csv",
    }


def test_families_look_indonesian(bontang: Path) -> None:
    population = _manifest(bontang)["population"]
    families = population["families"]
    assert 3.2 <= population["mean_family_size"] <= 3.8
    assert 0.10 <= population["female_headed_families"] / families <= 0.18
    assert 0.05 <= population["single_person_families"] / families <= 0.11
    assert 0.03 <= population["two_family_households"] / population["households"] <= 0.09
    assert 0.68 <= population["first_registered_in_region"] / population["persons"] <= 0.82
    relations = {row["hubungan_keluarga"] for row in _rows(bontang, "dtsen_extract.csv")}
    assert {"Kepala Keluarga", "Istri", "Anak", "Cucu", "Menantu"} <= relations


def test_every_village_code_is_a_real_village_of_the_region(bontang: Path) -> None:
    villages = _villages()
    files = [name for name in _manifest(bontang)["files"] if name != "truth_defects.csv"]
    for name in files:
        for row in _rows(bontang, name):
            if "kode_desa" in row:
                assert row["kode_desa"] in villages, (name, row["kode_desa"])
            if "kelurahan" in row:
                assert row["kelurahan"] in {v.upper() for v in villages.values()}, (name, row["kelurahan"])


def test_true_niks_encode_birth_date_sex_and_a_real_district(bontang: Path) -> None:
    districts = _districts()
    truth = _rows(bontang, "truth_persons.csv")
    assert len({row["nik"] for row in truth}) == len(truth)
    for row in truth:
        nik, born = row["nik"], date.fromisoformat(row["tanggal_lahir"])
        assert re.fullmatch(r"\d{16}", nik), nik
        assert nik[:6] in districts, nik
        day = int(nik[6:8]) - (40 if row["jenis_kelamin"] == "P" else 0)
        assert (day, int(nik[8:10]), int(nik[10:12])) == (born.day, born.month, born.year % 100), nik
        assert nik[12:] != "0000"
        assert re.fullmatch(r"\d{16}", row["no_kk"]) and row["no_kk"][:6] in districts


def test_desil_1_to_4_is_as_rare_as_in_bontang(bontang: Path) -> None:
    """DTSEN: ~16.4k of ~190k Bontang residents (8.6%) are in desil 1-4; a 3000-person sample is noisy."""
    truth = _rows(bontang, "truth_persons.csv")
    share = sum(1 for row in truth if int(row["desil_nasional"]) <= 4) / len(truth)
    assert 0.04 <= share <= 0.14
    assert _manifest(bontang)["desil_nasional"]["persons_desil_1_4"] == round(share * len(truth))


def test_a_poorer_region_has_more_low_desil_families(tmp_path: Path, bontang: Path) -> None:
    manifest = _generate(tmp_path, wealth=-0.5)
    assert manifest["desil_nasional"]["persons_desil_1_4_share"] > 0.4  # type: ignore[index]
    assert manifest["region"]["code"] == BONTANG  # type: ignore[index]


def _checks(out: Path) -> dict[Defect, Callable[[dict[str, str], dict[str, str], dict[str, str], str], bool]]:
    """Per defect: does the row (cells, true person, defect row, file name) show it?"""
    manifest = _manifest(out)
    programs = manifest["programs"]
    truth = _truth(out)
    deaths = {row["nik"]: row["tanggal_meninggal"] for row in _rows(out, "death_list.csv")}
    moves = {row["nik"]: row["tanggal_pindah"] for row in _rows(out, "moved_list.csv")}
    family_of = {row["nik"]: row["id_keluarga"] for row in truth.values()}
    exclusions = {(row["jenis_pengecualian"], family_of.get(row["nik"])) for row in _rows(out, "exclusion_list.csv")}

    def name_differs(cells: dict[str, str], person: dict[str, str], _d: dict[str, str], name: str) -> bool:
        if name == "program_rtlh.csv":
            return cells["nama"] != person["nama"].upper()
        return cells["nama"] != person["nama"]

    def before_period(table: dict[str, str]) -> Callable[[dict[str, str], dict[str, str], dict[str, str], str], bool]:
        def check(_c: dict[str, str], person: dict[str, str], _d: dict[str, str], name: str) -> bool:
            return person["nik"] in table and table[person["nik"]] < programs[name]["period_start"]

        return check

    def excluded(_c: dict[str, str], person: dict[str, str], defect: dict[str, str], _n: str) -> bool:
        kind = defect["detail"]
        if kind in ("pemilik_mobil", "pln_900va_nonsubsidi"):
            return person[kind] == "1"
        return (kind, person["id_keluarga"]) in exclusions

    return {
        Defect.NIK_INVALID_LENGTH: lambda c, p, d, n: c["nik"].isdigit() and len(c["nik"]) != 16,
        Defect.NIK_SERIAL_ZERO: lambda c, p, d, n: c["nik"] == p["nik"][:12] + "0000",
        Defect.NIK_PLACEHOLDER: lambda c, p, d, n: c["nik"] in NIK_PLACEHOLDERS,
        Defect.NIK_EXCEL_SCIENTIFIC: lambda c, p, d, n: bool(re.fullmatch(r"\d\.\d+E\+15", c["nik"])),
        Defect.NIK_EXCEL_FLOAT: lambda c, p, d, n: (
            bool(re.fullmatch(r"\d{16}\.0", c["nik"])) and abs(float(c["nik"]) - int(p["nik"])) < 4
        ),
        Defect.NIK_EXCEL_TRUNCATED: lambda c, p, d, n: (
            c["nik"] != p["nik"] and c["nik"] in (p["nik"][:15], p["nik"][:15] + "0")
        ),
        Defect.NIK_IN_TWO_KK: lambda c, p, d, n: c["id_keluarga"] != p["id_keluarga"],
        Defect.NAME_EMPTY: lambda c, p, d, n: c["nama"] == "",
        Defect.NAME_TYPO: name_differs,
        Defect.NAME_VARIANT: name_differs,
        Defect.BIRTH_DATE_WRONG: lambda c, p, d, n: c["tanggal_lahir"] not in ("", p["tanggal_lahir"]),
        Defect.BIRTH_DATE_MISSING: lambda c, p, d, n: c["tanggal_lahir"] == "",
        Defect.DUPLICATE_IN_LIST: lambda c, p, d, n: True,  # checked on its own below
        Defect.DEAD_STILL_LISTED: lambda c, p, d, n: p["status"] == "meninggal" and n == "dtsen_extract.csv",
        Defect.DEAD_RECIPIENT: before_period(deaths),
        Defect.MOVED_RECIPIENT: before_period(moves),
        Defect.EXCLUDED_RECIPIENT: excluded,
        Defect.INCLUSION_ERROR_DESIL: lambda c, p, d, n: int(p["desil_nasional"]) > programs[n]["max_desil"],
    }


@pytest.mark.parametrize("run", ["bontang", "stressed"])
def test_every_recorded_defect_shows_in_its_row(run: str, request: pytest.FixtureRequest) -> None:
    out: Path = request.getfixturevalue(run)
    truth = _truth(out)
    checks = _checks(out)
    defects = _rows(out, "truth_defects.csv")
    assert defects
    for defect in defects:
        cells = _rows(out, defect["file"])[int(defect["row"]) - 2]
        if defect["file"] != "dtsen_extract.csv":
            assert cells["record_id"] == defect["record_id"]
        person = truth[defect["person_id"]]
        assert checks[Defect(defect["defect"])](cells, person, defect, defect["file"]), defect


def test_a_stress_run_has_every_kind_of_defect(stressed: Path) -> None:
    found = {row["defect"] for row in _rows(stressed, "truth_defects.csv")}
    assert found == {defect.value for defect in Defect}


def test_duplicates_repeat_a_person_of_the_same_list(stressed: Path) -> None:
    duplicates = [row for row in _rows(stressed, "truth_defects.csv") if row["defect"] == "duplicate_in_list"]
    assert duplicates
    truth = _truth(stressed)
    for defect in duplicates:
        rows = _rows(stressed, defect["file"])
        first_row = int(re.fullmatch(r"duplicate of row (\d+)", defect["detail"])[1])  # type: ignore[index]
        first, copy = rows[first_row - 2], rows[int(defect["row"]) - 2]
        assert first is not copy
        assert (first["nik"], first["tanggal_lahir"]) == (copy["nik"], copy["tanggal_lahir"])
        if re.fullmatch(r"\d{16}", first["nik"]) and first["nik"] == truth[defect["person_id"]]["nik"]:
            assert copy["nik"] == truth[defect["person_id"]]["nik"]


def test_dead_recipients_died_before_the_period(stressed: Path) -> None:
    programs = _manifest(stressed)["programs"]
    truth = _truth(stressed)
    deaths = {row["nik"]: row["tanggal_meninggal"] for row in _rows(stressed, "death_list.csv")}
    dead = [row for row in _rows(stressed, "truth_defects.csv") if row["defect"] == "dead_recipient"]
    assert dead
    for defect in dead:
        nik = truth[defect["person_id"]]["nik"]
        assert nik in deaths
        assert deaths[nik] < programs[defect["file"]]["period_start"]


def test_agency_files_look_like_agency_exports(bontang: Path, stressed: Path) -> None:
    rtlh = (stressed / "program_rtlh.csv").read_bytes().decode("utf-8")
    assert rtlh.startswith("NO;NIK;NO KK;NAMA LENGKAP;JK;TEMPAT LAHIR;TGL LAHIR;ALAMAT;RT;RW;KELURAHAN;")
    assert re.search(r";\d\d/\d\d/\d{4};", rtlh) and "\r\n" in rtlh and ";20.000.000;" in rtlh
    sembako = _rows(bontang, "program_sembako.csv")
    assert any(re.fullmatch(r"\d\.\d+E\+15", row["nik"]) for row in sembako)
    extract = _rows(bontang, "dtsen_extract.csv")
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", row["tanggal_lahir"]) for row in extract)
    assert {row["jenis_kelamin"] for row in extract} == {"L", "P"}


def test_without_defects_only_targeting_errors_remain(tmp_path: Path) -> None:
    manifest = _generate(tmp_path, defect_rate=0.0)
    codes = set(manifest["defects"]["by_code"])  # type: ignore[index]
    assert codes <= {"excluded_recipient", "inclusion_error_desil"}
    assert not any(re.fullmatch(r"\d\.\d+E\+15", row["nik"]) for row in _rows(tmp_path, "program_sembako.csv"))


def test_progress_ends_at_the_total(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate(
        SynthConfig(region="6474", persons=12000, seed=1),
        reference_dir=REFERENCE,
        out_dir=tmp_path,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert len(calls) >= 2
    assert calls[-1] == (12000, 12000)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"region": "99.99"}, "unknown regency"),
        ({"region": "banana"}, "unknown regency"),
        ({"persons": 0}, "persons"),
        ({"defect_rate": -1.0}, "defect_rate"),
        ({"snapshot": date(1990, 1, 1)}, "snapshot"),
    ],
)
def test_bad_input_is_refused_in_one_line(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SynthError, match=message) as raised:
        _generate(tmp_path, **overrides)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_a_region_without_villages_is_refused(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "provinces.csv").write_text("code,name\n64,Kalimantan Timur\n", encoding="utf-8")
    (reference / "regencies.csv").write_text("code,province_code,name\n64.74,64,Kota Bontang\n", encoding="utf-8")
    (reference / "districts.csv").write_text("code,regency_code,name\n64.74.01,64.74,Bontang Utara\n", encoding="utf-8")
    (reference / "villages.csv").write_text("code,district_code,name\n", encoding="utf-8")
    with pytest.raises(SynthError, match="no villages"):
        generate(SynthConfig(region=BONTANG, persons=10, seed=1), reference_dir=reference, out_dir=tmp_path / "out")


def test_a_single_person_is_enough(tmp_path: Path) -> None:
    manifest = _generate(tmp_path, persons=1)
    assert manifest["population"]["persons"] == 1  # type: ignore[index]


@pytest.mark.parametrize(
    "fields",
    [
        ["a", "b c", ""],
        ["Jl. Mawar, Gg. 2", 'He said "hi"', "x"],
        ["line\nbreak", "cr\rhere", "ok"],
        [""],
        ["semi;colon", "1"],
    ],
)
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_fast_csv_writer_writes_what_csv_writes(fields: list[str], delimiter: str) -> None:
    fast, slow = io.StringIO(), io.StringIO()
    out = CsvOut(fast, delimiter=delimiter, lineterminator="\r\n")
    out.row(fields)
    out.row(["plain", "row"])
    out.flush()
    writer = csv.writer(slow, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(fields)
    writer.writerow(["plain", "row"])
    assert fast.getvalue() == slow.getvalue()
