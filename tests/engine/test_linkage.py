"""Layered deduplication: each layer links what it should, and refuses what only a person may decide."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.engine.identity import RegionCodes, check_nik
from tepat.engine.linkage import Decision, LinkageConfig, LinkageResult, dedupe, pairwise_scores
from tepat.engine.linkage.evaluate import TEMPLATE, synth_lists
from tepat.engine.linkage.prepare import _nik, segmentable
from tepat.engine.synth import SynthConfig, generate

REFERENCE = Path(__file__).parents[2] / "data" / "reference"


@pytest.fixture(scope="module")
def regions() -> RegionCodes:
    return RegionCodes.from_reference_dir(REFERENCE)


@pytest.fixture(scope="module")
def background(tmp_path_factory: pytest.TempPathFactory) -> tuple[pa.Table, list[str | None]]:
    """The registry extract and program lists of 2,000 synthetic persons: the crowd the scenarios hide in, and
    enough records for the model to learn from."""
    out = tmp_path_factory.mktemp("synth")
    generate(SynthConfig(region="64.74", persons=2000, seed=11), reference_dir=REFERENCE, out_dir=out)
    return synth_lists(out)


# One person (A, NIK 6474031207859001: Bontang Barat, man, 12 July 1985) written six ways, and the people who
# must stay apart from him. Serials 9xxx keep these NIKs apart from the synthetic crowd's.
A = {
    "nik": "6474031207859001",
    "no_kk": "6474031507109001",
    "nama": "Muhammad Rizki",
    "jenis_kelamin": "L",
    "tempat_lahir": "Bontang",
    "tanggal_lahir": "1985-07-12",
    "nama_ibu_kandung": "Siti Aminah",
    "alamat": "Jl. Merdeka No. 5",
    "rt": "003",
    "rw": "",
    "kode_desa": "64.74.03.1002",
}
SCENARIO = [
    ("a-extract", {}),
    ("a-same-nik", {"nama": "Moch. Rizki", "rt": "3"}),  # layer 1
    # Name key, birth date and village are A's, but a namesake shares them: the rule will not choose, the model does.
    ("a-excel-nik", {"nik": "6.47403E+15", "nama": "M. RIZKI"}),
    ("a-typo", {"nik": "", "nama": "Muhamad Riski", "tanggal_lahir": "1985-12-07", "alamat": "JL MERDEKA NO 5"}),
    ("child-on-a-nik", {"nama": "Nur Aini", "jenis_kelamin": "P", "tanggal_lahir": "2010-05-05"}),  # conflict
    (
        "namesake",  # the same name, birth date and village, another valid NIK, another family
        {"nik": "6474031207859002", "no_kk": "6474031507109002", "nama_ibu_kandung": "Hasnah", "alamat": "Gg. Mawar 9"},
    ),
    (
        "sibling",  # same KK, address and mother: a family, not a person
        {"nik": "", "nama": "Ahmad Fauzi", "tanggal_lahir": "1988-03-03", "jenis_kelamin": "L"},
    ),
]


def _scenario_table(background: tuple[pa.Table, list[str | None]]) -> tuple[pa.Table, dict[str, int]]:
    crowd, _ = background
    rows = [{"record_id": label, **A, **change} for label, change in SCENARIO]
    extra = pa.table({column: pa.array([row.get(column) or None for row in rows], pa.string()) for column in TEMPLATE})
    table = pa.concat_tables([crowd.select(list(TEMPLATE)), extra])
    return table, {label: crowd.num_rows + index for index, (label, _) in enumerate(SCENARIO)}


@pytest.fixture(scope="module")
def scenario(
    background: tuple[pa.Table, list[str | None]], regions: RegionCodes
) -> tuple[LinkageResult, dict[str, int]]:
    table, rows = _scenario_table(background)
    return dedupe(table, LinkageConfig(regions=regions, u_pairs=300_000)), rows


def _cluster(result: LinkageResult, row: int) -> int:
    return result.cluster_ids[row]


def _pairs(result: LinkageResult, left: int, right: int) -> list[dict[str, object]]:
    low, high = min(left, right), max(left, right)
    return [p for p in result.pairs.to_pylist() if (p["row_l"], p["row_r"]) == (low, high)]


def test_one_person_written_four_ways_is_one_cluster(scenario: tuple[LinkageResult, dict[str, int]]) -> None:
    result, rows = scenario
    a = _cluster(result, rows["a-extract"])
    assert [_cluster(result, rows[label]) for label in ("a-same-nik", "a-excel-nik", "a-typo")] == [a, a, a]
    layers = result.clusters.column("layer").to_pylist()
    assert layers[rows["a-same-nik"]] == "nik" and layers[rows["a-excel-nik"]] == "model"


def test_the_rule_layer_links_a_damaged_nik_when_the_group_is_unambiguous(
    background: tuple[pa.Table, list[str | None]], regions: RegionCodes
) -> None:
    table, rows = _scenario_table(background)
    without_namesake = table.filter(pa.array([i != rows["namesake"] for i in range(table.num_rows)]))
    result = dedupe(without_namesake, LinkageConfig(regions=regions, u_pairs=300_000))
    excel = rows["a-excel-nik"]  # the namesake row comes after it
    assert result.cluster_ids[excel] == result.cluster_ids[rows["a-extract"]]
    assert result.clusters.column("layer").to_pylist()[excel] == "rule"


def test_the_model_says_why(scenario: tuple[LinkageResult, dict[str, int]]) -> None:
    result, rows = scenario
    typo = rows["a-typo"]
    found = [p for p in result.pairs.to_pylist() if typo in (p["row_l"], p["row_r"]) and p["layer"] == "model"]
    assert found and found[0]["decision"] == Decision.LINK
    assert found[0]["match_probability"] >= 0.99
    evidence = json.loads(str(found[0]["evidence"]))
    assert evidence["dob"] == "day_month_swapped" and evidence["household"] == "same_kk"


def test_same_nik_different_persons_is_a_conflict_not_a_merge(
    scenario: tuple[LinkageResult, dict[str, int]],
) -> None:
    result, rows = scenario
    child = rows["child-on-a-nik"]
    assert _cluster(result, child) != _cluster(result, rows["a-extract"])
    conflicts = [p for p in result.conflicts.to_pylist() if child in (p["row_l"], p["row_r"])]
    assert conflicts and {p["layer"] for p in conflicts} == {"nik"}


def test_a_namesake_with_another_nik_goes_to_review(scenario: tuple[LinkageResult, dict[str, int]]) -> None:
    result, rows = scenario
    namesake = rows["namesake"]
    assert _cluster(result, namesake) != _cluster(result, rows["a-extract"])
    decisions = {p["decision"] for p in result.pairs.to_pylist() if namesake in (p["row_l"], p["row_r"])}
    assert decisions == {Decision.REVIEW}


def test_family_members_are_not_merged(scenario: tuple[LinkageResult, dict[str, int]]) -> None:
    result, rows = scenario
    assert _cluster(result, rows["sibling"]) != _cluster(result, rows["a-extract"])


def test_every_row_has_a_cluster_and_ids_are_dense(scenario: tuple[LinkageResult, dict[str, int]]) -> None:
    result, _ = scenario
    ids = result.cluster_ids
    assert len(ids) == result.stats["records"] and ids[0] == 1
    assert sorted(set(ids)) == list(range(1, max(ids) + 1))


def test_accuracy_on_the_synthetic_lists(background: tuple[pa.Table, list[str | None]], regions: RegionCodes) -> None:
    table, truth = background
    scores = pairwise_scores(dedupe(table, LinkageConfig(regions=regions, u_pairs=300_000)).cluster_ids, truth)
    assert scores.precision >= 0.999 and scores.recall >= 0.99, scores


def test_runs_are_deterministic_and_take_duckdb_relations(
    background: tuple[pa.Table, list[str | None]], regions: RegionCodes
) -> None:
    table, _ = background
    config = LinkageConfig(regions=regions, u_pairs=300_000)
    first = dedupe(table, config)
    con = duckdb.connect()
    con.register("lists", table)
    again = dedupe(con.sql("SELECT * FROM lists"), config)
    assert again.cluster_ids == first.cluster_ids
    assert again.pairs.equals(first.pairs)


# --- the same valid NIK: typing errors link, different persons conflict -------------------------------------------


@pytest.mark.parametrize(
    "first, second, one_person",
    [
        (("Siti Aminah", "P", "1970-01-01", "Hasnah"), ("SITI AMINAH", "P", "01/01/1970", ""), True),
        (("Muhammad Rizki", "L", "1985-07-12", ""), ("Muh. Riski", "L", "1985-12-07", ""), True),  # typo, swap
        (("Siti Jelita Palastri", "P", "1960-02-02", ""), ("Siti Jelita", "P", "1961-02-02", ""), True),
        (("Hj. Nur Haliza", "P", "1950-03-03", "Salmah"), ("Nurhaliza", "P", "1950-03-03", "Salma"), True),
        (("Siti Aminah", "P", "1970-01-01", ""), ("Siti Nurhaliza", "P", "1995-05-05", ""), False),  # a daughter
        (("Talia", "P", "2006-10-01", ""), ("Olivia", "P", "2006-10-01", ""), False),
        (("Hendrikus Michael Bato", "L", "2018-03-13", "Keisha"), ("Hendra", "L", "2018-03-13", "Marlina"), False),
        (("Budi", "L", "1980-01-01", ""), ("Budi", "P", "2001-06-06", ""), False),
    ],
)
def test_records_sharing_a_valid_nik(
    first: tuple[str, ...], second: tuple[str, ...], one_person: bool, regions: RegionCodes
) -> None:
    rows = [first, second]
    table = pa.table(
        {
            "nik": ["6474034110060021"] * 2,
            "nama": [r[0] for r in rows],
            "jenis_kelamin": [r[1] for r in rows],
            "tanggal_lahir": [r[2] for r in rows],
            "nama_ibu_kandung": [r[3] or None for r in rows],
        }
    )
    result = dedupe(table, LinkageConfig(regions=regions))
    assert (result.cluster_ids[0] == result.cluster_ids[1]) is one_person
    assert (result.conflicts.num_rows == 1) is not one_person


# --- small inputs --------------------------------------------------------------------------------------------------


def test_a_list_without_nik_or_village_still_links_by_name_and_birth_date() -> None:
    table = pa.table(
        {
            "nama": ["Siti Aminah", "SITI AMINAH", "Budi", "Hj. Siti Aminah"],
            "tanggal_lahir": ["1970-01-02", "02/01/1970", "1980-05-05", "1970-01-02"],
        }
    )
    result = dedupe(table)
    assert result.cluster_ids == [1, 1, 2, 1]
    assert result.clusters.column("record_id").to_pylist() == ["1", "2", "3", "4"]  # row numbers


def test_an_empty_list() -> None:
    result = dedupe(pa.table({"nik": pa.array([], pa.string()), "nama": pa.array([], pa.string())}))
    assert result.cluster_ids == [] and result.pairs.num_rows == 0


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="thresholds"):
        LinkageConfig(lower=0.9, upper=0.5)


# --- NIK validity: the segment shortcut must agree with identity.check_nik ---------------------------------------


def _niks(regions: RegionCodes) -> st.SearchStrategy[str]:
    districts = [*sorted(regions.districts)[:400], "91.01.01", "64.01.01", "99.99.99"]
    real = st.builds(
        lambda district, day, month, yy, serial: f"{district.replace('.', '')}{day:02d}{month:02d}{yy:02d}{serial:04d}",
        st.sampled_from(districts),
        st.integers(0, 75),
        st.integers(0, 13),
        st.integers(0, 99),
        st.integers(0, 9999),
    )
    placeholder = st.sampled_from(
        ["1212121212121212", "0000000000000000", "1234567890123456", "8765432109876543", "6474030000000000"]
    )
    damaged = st.sampled_from(
        ["6.47403E+15", "647403120785000", "6474031207850001.0", "'6474031207850001", "6474 0312"]
    )
    return st.one_of(real, placeholder, damaged, st.text("0123456789", min_size=14, max_size=17))


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_nik_validity_shortcut_agrees_with_check_nik(data: st.DataObject, regions: RegionCodes) -> None:
    values = data.draw(st.lists(_niks(regions), min_size=1, max_size=30))
    cells = pa.array(values, pa.string())
    found = _nik(cells, LinkageConfig(regions=regions))["ident_ok"].to_pylist()
    assert [bool(ok) for ok in found] == [check_nik(value, regions=regions).valid for value in values]


def test_birth_dates_in_niks_around_29_february(regions: RegionCodes) -> None:
    dates = ["290200", "290224", "290225", "290296", "290297", "690200", "690223", "690224", "310288", "300288"]
    dates += ["311299", "010100", "451088", "721088", "000188", "011388"]
    values = [f"647403{ddmmyy}0001" for ddmmyy in dates]
    found = _nik(pa.array(values), LinkageConfig(regions=regions))["ident_ok"].to_pylist()
    assert [bool(ok) for ok in found] == [check_nik(value, regions=regions).valid for value in values]
    assert found[:5] == [True, True, False, True, False]


def test_the_shortcut_takes_clean_numbers_only() -> None:
    cells = pa.array(["6474031207850001", "1212121212121212", "647403120785000", None, "6474030000000000"])
    assert segmentable(cells).to_pylist() == [True, False, False, False, False]


# --- scores --------------------------------------------------------------------------------------------------------


def test_pairwise_scores() -> None:
    scores = pairwise_scores([1, 1, 1, 2, 3], ["a", "a", "b", "b", None])
    assert (scores.true_positives, scores.predicted, scores.actual) == (1, 3, 2)
    assert scores.precision == pytest.approx(1 / 3) and scores.recall == pytest.approx(1 / 2)
