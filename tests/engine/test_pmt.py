"""PMT: a known welfare model recovered from a synthetic survey, honest CV figures, portable JSON models, and a
clear one-line reason for every kind of bad survey file."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from scipy.stats import spearmanr

from tepat.engine.pmt import FitOptions, PmtError, PmtProblem, fit_pmt, model_card, read_model, score_pmt, write_model
from tepat.engine.pmt.fitting import _min_rank
from tepat.engine.pmt.households import HouseholdSpec, aggregate, classify_columns, detect_age, detect_head, group_rows
from tepat.engine.pmt.metrics import targeting_errors
from tepat.engine.pmt.models import fit, predict
from tepat.engine.pmt.reading import Categorical, Numeric, read_table
from tepat.engine.pmt.synthetic import Survey, synthetic_survey


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    return synthetic_survey(tmp_path_factory.mktemp("pmt") / "susenas.csv", households=1200, seed=3)


@pytest.fixture(scope="module")
def welfare_model(survey: Survey) -> dict:
    return fit_pmt(survey.path, FitOptions(household_id="id_rt", welfare="kapita", weight="bobot", exclude=("desil",)))


def test_a_known_welfare_model_is_recovered_with_honest_cv_figures(survey: Survey, welfare_model: dict) -> None:
    ceiling = spearmanr(survey.oracle, survey.log_welfare).statistic  # the best any model can do on these data
    chosen = welfare_model["cv"]["candidates"][welfare_model["cv"]["chosen"]]
    assert ceiling - 0.06 <= chosen["spearman"] <= ceiling + 0.03
    at_20, at_40 = chosen["targeting"]
    assert at_20["coverage"] == 0.2 and 0.2 < at_20["exclusion_error"] < 0.55
    assert at_40["exclusion_error"] < at_20["exclusion_error"]
    assert abs(at_40["exclusion_error"] - at_40["inclusion_error"]) < 0.05  # equal shares: the errors mirror
    top = {item["feature"].split("=")[0].split("__")[0] for item in welfare_model["card"]["top_features"][:12]}
    assert {"jenis_lantai", "mobil", "penerangan"} <= top
    scores = score_pmt(welfare_model, survey.path).table
    assert scores.column("household_id").to_pylist() == survey.ids
    assert spearmanr(np.log(scores.column("score").to_numpy()), survey.oracle).statistic > 0.93


def test_the_survey_structure_is_detected(welfare_model: dict) -> None:
    card = welfare_model["card"]
    assert card["data"]["row_kind"] == "persons" and card["data"]["households"] == 1200
    assert {"jenis_lantai", "luas_lantai", "mobil", "kode_desa"} <= set(card["columns"]["household"])
    assert {"umur", "pendidikan", "bekerja"} <= set(card["columns"]["member"])
    assert card["columns"]["age"] == "umur"
    assert card["columns"]["head"] == {"column": "hubungan", "value": "Kepala rumah tangga"}
    names = {item["name"] for item in welfare_model["features"]["numeric"]}
    assert {"n_anggota", "kepala__pendidikan__tingkat", "pendidikan__tingkat__max", "bekerja__sum",
            "n_umur_0_4", "rasio_ketergantungan"} <= names  # fmt: skip
    assert any("tahun" in w for w in card["warnings"])  # constant column dropped, not an error
    assert any("nik" in w and "nama" in w for w in card["warnings"])  # identifiers are not predictors


def test_the_model_is_plain_json_and_scores_the_same_elsewhere(
    survey: Survey, welfare_model: dict, tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    write_model(welfare_model, path)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "pickle" not in text
    again = read_model(path)
    first = score_pmt(welfare_model, survey.path).table
    second = score_pmt(again, survey.path).table
    assert first.equals(second)
    assert "Kartu model PMT" in model_card(again) and "Galat eksklusi" in model_card(again)


def test_scores_rank_the_poorest_first(welfare_model: dict, survey: Survey) -> None:
    table = score_pmt(welfare_model, survey.path).table
    score = table.column("score").to_numpy()
    rank = table.column("rank").to_numpy()
    decile = table.column("decile").to_numpy()
    poorest = int(np.argmin(score))
    assert rank[poorest] == 1 and decile[poorest] == 1 and decile[int(np.argmax(score))] == 10
    assert (np.bincount(decile)[1:] == 120).all()
    assert _min_rank(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3, 1, 3, 2]


def test_ordinal_labels(survey: Survey) -> None:
    model = fit_pmt(survey.path, FitOptions(household_id="id_rt", label="desil", exclude=("kapita",), folds=3))
    chosen = model["cv"]["candidates"][model["cv"]["chosen"]]
    assert model["cv"]["criterion"] == "macro_f1"
    assert chosen["macro_f1"] > 0.18  # ten classes: chance is 0.10
    assert chosen["within_one_class"] > 0.5
    assert chosen["targeting"][1]["poor_classes_up_to"] == 4.0  # bottom 40 % = desil 1-4
    assert model["target"]["classes"] == [float(c) for c in range(1, 11)] and len(model["target"]["cuts"]) == 9
    table = score_pmt(model, survey.path).table
    assert set(table.column("decile").to_pylist()) == set(range(1, 11))


def test_household_rows_and_unseen_levels(survey: Survey, tmp_path: Path) -> None:
    persons = pacsv.read_csv(survey.path, convert_options=pacsv.ConvertOptions(column_types={"nik": pa.string()}))
    households = persons.filter(pc.equal(persons.column("no_art"), 1)).select(
        ["id_rt", "jenis_lantai", "luas_lantai", "penerangan", "sepeda_motor", "mobil", "kode_desa", "kapita"]
    )
    pacsv.write_csv(households, tmp_path / "rt.csv")
    model = fit_pmt(tmp_path / "rt.csv", FitOptions(household_id="id_rt", welfare="kapita", models=("ridge",)))
    assert model["households"]["rows"] == "households" and model["cv"]["chosen"] == "ridge"
    assert "n_anggota" not in {item["name"] for item in model["features"]["numeric"]}
    # A new village, a floor type the survey never saw, an empty floor area, extra columns: all tolerated.
    (tmp_path / "new.csv").write_text(
        "id_rt,jenis_lantai,luas_lantai,penerangan,sepeda_motor,mobil,kode_desa,catatan\n"
        "A,Marmer,,900 VA,1,0,64.74.09.9999,baru\n"
        "B,Tanah,20,Tanpa listrik,0,0,64.74.01.1001,\n",
        encoding="utf-8",
    )
    scored = score_pmt(model, tmp_path / "new.csv").table
    assert scored.column("household_id").to_pylist() == ["A", "B"]
    assert scored.column("rank").to_pylist() == [2, 1]
    (tmp_path / "short.csv").write_text("id_rt,jenis_lantai\nA,Tanah\n", encoding="utf-8")
    with pytest.raises(PmtError) as caught:
        score_pmt(model, tmp_path / "short.csv")
    assert caught.value.problem == PmtProblem.MISSING_COLUMN and "luas_lantai" in str(caught.value)


MEMBERS = textwrap.dedent("""\
    rt;hub;umur;sekolah;kerja;lantai;kapita
    R1;Kepala;40;SMA;1;Keramik;900000
    R1;Istri;38;SD;0;Keramik;900000
    R1;Anak;3;;0;Keramik;900000
    R2;Kepala;70;Tidak/belum sekolah;0;Tanah;300000
    R3;Kepala;30;S1+;1;Keramik;2500000
    R3;Anak;10;SD;0;;2500000
""")


def test_member_rows_become_counts_shares_and_head_values(tmp_path: Path) -> None:
    path = tmp_path / "members.csv"
    path.write_text(MEMBERS, encoding="utf-8")
    raw = read_table(path)
    grouping = group_rows(raw, "rt")
    warnings: list[str] = []
    specs, typed = classify_columns(raw, grouping, ["hub", "umur", "sekolah", "kerja", "lantai"], categorical=set(),
                                    warnings=warnings)  # fmt: skip
    levels = {s.name: s.level for s in specs}
    assert levels == {"hub": "member", "umur": "member", "sekolah": "member", "kerja": "member", "lantai": "household"}
    head_column, head_value = detect_head(specs, typed, None, None)
    assert (head_column, head_value) == ("hub", "Kepala")
    spec = HouseholdSpec("rt", "persons", specs, detect_age(specs, None), head_column, head_value)
    households = aggregate(raw, grouping, spec, typed)
    f = households.features
    assert households.ids == ["R1", "R2", "R3"]

    def numbers(name: str) -> list[float]:
        column = f[name]
        assert isinstance(column, Numeric)
        return column.values.tolist()

    assert numbers("n_anggota") == [3, 1, 2]
    assert numbers("kerja__sum") == [1, 0, 1]
    assert numbers("n_umur_0_4") == [1, 0, 0] and numbers("n_umur_60_plus") == [0, 1, 0]
    assert numbers("sekolah__tingkat__max") == [3, 0, 5]
    assert numbers("kepala__umur") == [40, 70, 30]
    assert numbers("hub__n[Anak]") == [1, 0, 1] and numbers("hub__pct[Anak]") == pytest.approx([1 / 3, 0, 0.5])
    lantai = f["lantai"]
    assert isinstance(lantai, Categorical)
    keramik = lantai.levels.index("Keramik")
    assert lantai.codes.tolist() == [keramik, -2, keramik]  # R3's empty cell filled; a one-row level is "other"


def test_stored_trees_reproduce_the_library() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 6))
    y = X[:, 0] + np.sin(3 * X[:, 1]) + 0.1 * rng.normal(size=1500)
    model = fit("boosting", X, y, np.ones(1500), seed=0)
    json.dumps(model, allow_nan=False)
    from sklearn.metrics import r2_score

    assert r2_score(y, predict(model, X)) > 0.9


def test_targeting_errors_by_hand() -> None:
    truth = np.arange(10.0)  # households 0-1 are the poorest 20 %
    predicted = np.array([0, 5, 1, 3, 4, 2, 6, 7, 8, 9.0])  # the model picks 0 and 2
    errors = targeting_errors(truth, predicted, np.ones(10), 0.2)
    assert errors["exclusion_error"] == 0.5 and errors["inclusion_error"] == 0.5


def _write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


W = {"household_id": "rt", "welfare": "kapita"}


def _households(n: int, *, extra: str = "") -> str:
    rows = [f"H{i},{i % 7},{(i * 37) % 11},{100 + i * 3}{extra}" for i in range(n)]
    return "rt,kamar,aset,kapita\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    "text, options, problem, words",
    [
        (_households(80), {"household_id": "id", "welfare": "kapita"}, PmtProblem.MISSING_COLUMN, "--household-id"),
        (_households(80), {**W, "welfare": "kapitaa"}, PmtProblem.MISSING_COLUMN, "maksud Anda 'kapita'"),
        (_households(80), {"household_id": "rt", "label": "klas"}, PmtProblem.MISSING_COLUMN, "--label"),
        (_households(80), {"household_id": "rt"}, PmtProblem.OPTIONS, "--welfare"),
        (_households(80), {**W, "label": "aset"}, PmtProblem.OPTIONS, "tepat satu"),
        (_households(80).replace("H5,5,", "H5,lima,"), W,
         PmtProblem.TEXT_IN_NUMBER, "kolom 'kamar' (fitur) baris 7: 'lima' bukan angka"),
        (_households(80).replace(",115\n", ",seratus\n"), W,
         PmtProblem.TEXT_IN_NUMBER, "'seratus' bukan angka"),
        ("rt,kamar,kapita\n" + "".join(f"H{i},{i % 5},{100 + i}\nH{i},1,{100 + i + (i == 7)}\n" for i in range(80)),
         W, PmtProblem.NOT_CONSTANT, "berbeda antar anggota rumah tangga 'H7' (baris 16 dst.)"),
        ("rt,kamar,kelas\n" + "".join(f"H{i},{i % 5},3\n" for i in range(80)), {"household_id": "rt", "label": "kelas"},
         PmtProblem.SINGLE_CLASS, "satu kelas (3)"),
        (_households(30), W, PmtProblem.TOO_FEW, "hanya 30 rumah tangga"),
        (_households(80).replace("\nH3,", "\n,"), W,
         PmtProblem.HOUSEHOLD_ID, "baris 5"),
        ("rt,kapita,kapita\nA,1,2\n", W, PmtProblem.HEADER, "ganda"),
        ("rt,,kapita\nA,1,2\n", W, PmtProblem.HEADER, "ke-2"),
        ("rt,kamar,kapita\n", W, PmtProblem.EMPTY, "tanpa baris data"),
        ("", W, PmtProblem.EMPTY, "kosong"),
        ("rt,kapita\n" + "".join(f"H{i},{i + 1}\n" for i in range(80)), W,
         PmtProblem.NO_FEATURES, "hanya memuat kolom ID dan target"),
        ("rt,kamar,desa,kapita\n" + "".join(f"H{i},3,Api-Api,{100 + i}\n" for i in range(80)), W,
         PmtProblem.NO_FEATURES, "kolom konstan (satu nilai saja) diabaikan: kamar, desa"),
        ("rt,kamar,kapita\n" + "".join(f"H{i},{i % 3},850000\n" for i in range(80)), W,
         PmtProblem.TARGET, "'kapita' bernilai sama (850000) untuk semua rumah tangga"),
        ("rt,kamar,kapita\n" + "".join(f"H{i},{i % 3},\n" for i in range(80)), W,
         PmtProblem.TARGET, "kosong untuk semua"),
        (_households(80), {**W, "coverage": (0.2, 1.5)}, PmtProblem.OPTIONS,
         "--coverage"),
    ],
)  # fmt: skip
def test_bad_survey_files_get_one_clear_line(
    tmp_path: Path, text: str, options: dict, problem: PmtProblem, words: str | None
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PmtError) as caught:
        fit_pmt(path, FitOptions(**{"models": ("ridge",), **options}))
    assert caught.value.problem == problem, str(caught.value)
    assert caught.value.code == problem.value
    message = str(caught.value)
    assert "\n" not in message
    if words:
        assert words in message


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(PmtError) as caught:
        fit_pmt(tmp_path / "none.csv", FitOptions(household_id="rt", welfare="kapita"))
    assert caught.value.problem == PmtProblem.NOT_FOUND
    binary = tmp_path / "survey.xlsx"
    binary.write_bytes(b"PK\x03\x04\x00\x00\x00binary")
    with pytest.raises(PmtError) as caught:
        fit_pmt(binary, FitOptions(household_id="rt", welfare="kapita"))
    assert caught.value.problem == PmtProblem.UNREADABLE
    with pytest.raises(PmtError) as caught:
        read_model(binary)
    assert caught.value.problem == PmtProblem.MODEL
    (tmp_path / "other.json").write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(PmtError) as caught:
        read_model(tmp_path / "other.json")
    assert "bukan model PMT Tepat" in str(caught.value)


def test_semicolons_decimal_commas_windows_encoding_and_missing_tokens(tmp_path: Path) -> None:
    rows = "".join(
        f"H{i};{i % 4};{'NA' if i % 9 == 0 else f'{i % 5},5'};Désa {i % 3};{1000 + 7 * i}\n" for i in range(80)
    )
    path = tmp_path / "cp1252.csv"
    path.write_bytes(("rt;kamar;luas;desa;kapita\n" + rows).encode("cp1252"))
    model = fit_pmt(path, FitOptions(household_id="rt", welfare="kapita", models=("ridge",), folds=3))
    numeric = {item["name"]: item for item in model["features"]["numeric"]}
    assert numeric["luas"]["missing"] is True and numeric["luas"]["high"] == 4.5
    categorical = {item["name"]: item for item in model["features"]["categorical"]}
    assert "Désa 1" in categorical["desa"]["levels"]
