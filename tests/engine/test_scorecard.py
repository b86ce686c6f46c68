"""Scorecards as data: scores that decompose into indicators, per-area weights, Alkire–Foster per area, desil."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.engine.scorecard import (
    BUILTIN,
    ScorecardError,
    compare_desil,
    desil_within,
    family_table,
    load_scorecard,
    multidimensional_poverty,
    score_families,
    scorecard_from_dict,
)

CARD = {
    "id": "uji",
    "version": "1",
    "cutoff": 0.5,
    "indicators": [
        {"id": "lantai", "label": "Lantai tanah", "dimension": "rumah", "weight": 2, "deprived_if": 'floor == "Tanah"'},
        {"id": "jamban", "label": "Tanpa jamban", "dimension": "rumah", "weight": 1,
         "deprived_if": 'sanitation in ["Tidak ada", "Umum"]'},
        {"id": "kerja", "label": "Kepala tidak bekerja", "dimension": "kerja", "weight": 1,
         "deprived_if": "head_not_working"},
    ],
}  # fmt: skip

FAMILIES = pa.table(
    {
        "family_id": ["A", "B", "C", "D", "E"],
        "kode_desa": ["64.74.03.1002", "64.74.03.1002", "64.74.03.1003", "64.74.01.1001", None],
        "floor": ["Tanah", "Keramik", "Tanah", None, "Semen"],
        "sanitation": ["Umum", "Sendiri", "Sendiri", "Tidak ada", None],
        "head_not_working": [True, False, None, True, None],
        "members": [4, 2, 3, 5, 1],
    }
)


def test_scores_are_weighted_deprivation_shares_rescaled_over_known_data() -> None:
    result = score_families(scorecard_from_dict(CARD), FAMILIES)
    # A: all three (2+1+1)/4; B: none; C: floor only, head unknown → 2/3; D: floor unknown → (1+1)/2;
    # E: only the floor is known, not deprived.
    assert result.score.tolist() == pytest.approx([1.0, 0.0, 2 / 3, 1.0, 0.0])
    assert result.unknown_share.tolist() == pytest.approx([0.0, 0.0, 0.25, 0.5, 0.5])
    assert result.poor.tolist() == [True, False, True, True, False]
    contributions = result.contributions()
    assert contributions.sum(axis=0) == pytest.approx(result.score)
    assert contributions[:, 2].tolist() == pytest.approx([2 / 3, 0.0, 0.0])


def test_the_family_page_shows_each_indicator_with_its_data() -> None:
    result = score_families(scorecard_from_dict(CARD), FAMILIES)
    why = {item.id: item for item in result.explain(FAMILIES, 2)}
    assert why["lantai"].deprived is True and why["lantai"].values == {"floor": "Tanah"}
    assert why["lantai"].contribution == pytest.approx(2 / 3)
    assert why["kerja"].deprived is None and why["kerja"].weight == 0.0
    assert why["jamban"].deprived is False and why["jamban"].label == "Tanpa jamban"


def test_indicators_the_table_cannot_feed_are_skipped_and_listed() -> None:
    result = score_families(scorecard_from_dict(CARD), FAMILIES.drop_columns(["sanitation"]))
    assert result.unavailable == {"jamban": ("sanitation",)}
    assert result.used == ("lantai", "kerja")
    assert result.score[0] == pytest.approx(1.0) and result.score[1] == 0.0


def test_area_weights_narrowest_prefix_wins_on_top_of_wider_ones() -> None:
    card = scorecard_from_dict({**CARD, "area_weights": {"64.74": {"jamban": 3}, "64.74.03": {"lantai": 0}}})
    result = score_families(card, FAMILIES)
    # A in 64.74.03: floor weight 0, sanitation 3 (from the regency), head 1 → (3+1)/4
    assert result.score[0] == pytest.approx(1.0)
    # C in 64.74.03: floor switched off, sanitation fine, head unknown → 0/3
    assert result.score[2] == pytest.approx(0.0)
    # D in 64.74.01: sanitation 3 and head 1 deprived, floor unknown
    assert result.score[3] == pytest.approx(1.0)
    assert set(result.weight_groups) == {"", "64.74", "64.74.03"}
    overridden = score_families(scorecard_from_dict(CARD), FAMILIES, area_weights={"64.74.03.1003": {"lantai": 0}})
    assert overridden.score[2] == pytest.approx(0.0) and overridden.score[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"area_weights": {"64-74": {"lantai": 1}}}, "bukan kode Kemendagri"),
        ({"area_weights": {"64.74": {"tidak_ada": 1}}}, "tidak ada di kartu skor"),
        ({"cutoff": 0}, "cutoff"),
        ({"indicators": [{"id": "x", "weight": 1, "deprived_if": "desill < 3"}]}, "maksud Anda 'desil'"),
        ({"indicators": [{"id": "x", "deprived_if": "desil < 3"}, {"id": "x", "deprived_if": "desil < 2"}]}, "ganda"),
        ({"indicators": [{"id": "x", "weight": -1, "deprived_if": "desil < 3"}]}, ">= 0"),
    ],
)
def test_bad_scorecards_are_refused_with_a_reason(change: dict[str, object], words: str) -> None:
    with pytest.raises(ScorecardError) as caught:
        scorecard_from_dict({**CARD, **change})
    assert words in str(caught.value)


@pytest.mark.parametrize("name", BUILTIN)
def test_shipped_scorecards_load_and_round_trip(name: str, tmp_path: Path) -> None:
    card = load_scorecard(name)
    assert card.indicators and 0 < card.cutoff <= 1
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(card.as_dict()), encoding="utf-8")
    again = load_scorecard(copy)
    assert [(i.id, i.weight, i.deprived_if.text) for i in again.indicators] == [
        (i.id, i.weight, i.deprived_if.text) for i in card.indicators
    ]


def test_multidimensional_weights_nest_dimensions_and_the_homeless_are_poor_outright() -> None:
    mpi = load_scorecard("multidimensi")
    by_dimension: dict[str, float] = {}
    for indicator in mpi.indicators:
        by_dimension[indicator.dimension] = by_dimension.get(indicator.dimension, 0) + indicator.weight
    assert by_dimension == pytest.approx(dict.fromkeys(by_dimension, 0.2))
    kemensos = load_scorecard("kemensos_262_2022")
    table = FAMILIES.append_column("homeless", pa.array([False, True, None, False, False]))
    table = table.rename_columns(["family_id", "kode_desa", "floor", "sanitation", "head_not_working", "members",
                                  "homeless"])  # fmt: skip
    result = score_families(kemensos, table)
    assert result.outright.tolist() == [False, True, False, False, False]
    assert result.score[1] == 1.0 and result.poor[1]
    assert result.contributions()[:, 1].sum() == 0.0


def test_alkire_foster_per_area() -> None:
    result = score_families(scorecard_from_dict(CARD), FAMILIES)
    table = multidimensional_poverty(result, FAMILIES.column("kode_desa"))
    rows = {row["area"]: row for row in table.to_pylist()}
    village = rows["64.74.03.1002"]  # A (score 1) poor, B (0) not
    assert (village["H"], village["A"], village["M0"]) == pytest.approx((0.5, 1.0, 0.5))
    assert village["h.lantai"] == 0.5 and village["contribution.lantai"] == pytest.approx(0.5)
    assert rows[None]["H"] == 0.0 and rows[None]["A"] is None
    weighted = multidimensional_poverty(result, FAMILIES.column("kode_desa"), persons=np.array([4, 2, 3, 5, 1.0]))
    assert {r["area"]: r["H"] for r in weighted.to_pylist()}["64.74.03.1002"] == pytest.approx(4 / 6)
    everywhere = multidimensional_poverty(result, ["all"] * 5, k=0.9)
    row = everywhere.to_pylist()[0]
    assert row["M0"] == pytest.approx(row["H"] * row["A"])
    assert sum(v for k, v in row.items() if k.startswith("contribution.")) == pytest.approx(1.0)


def test_desil_within_region_ranks_the_poorest_first() -> None:
    score = np.array([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0])
    assert desil_within(score).tolist() == [1, 9, 5, 7, 3, 8, 2, 6, 4, 10]
    assert desil_within(score, poorest="low").tolist() == [10, 2, 6, 4, 8, 3, 9, 5, 7, 1]
    regions = pa.array(["a"] * 5 + ["b"] * 5)
    within = desil_within(score, regions, bins=5)
    assert within.tolist() == [1, 5, 3, 4, 2, 4, 1, 3, 2, 5]
    assert desil_within(score, np.array(["a"] * 5 + ["b"] * 5), bins=5).tolist() == within.tolist()


def test_ties_share_a_desil_and_missing_scores_get_none() -> None:
    score = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, np.nan, 0.5])
    desil = desil_within(score, bins=3)
    assert desil[:4].tolist() == [1, 1, 1, 1] and desil[4:8].tolist() == [3, 3, 3, 3]
    assert desil[8] == 0 and desil[9] == 2
    broken = desil_within(score, bins=3, tiebreak=np.array([1, 2, 3, 4, 1, 1, 2, 2, 0, 0]))
    assert broken[:4].tolist() == [1, 1, 1, 2]


def test_desil_weighted_by_people() -> None:
    # One big poor family holds half the people: it alone is the bottom half.
    desil = desil_within(np.array([0.9, 0.1, 0.2, 0.3]), weights=np.array([6.0, 2.0, 2.0, 2.0]), bins=2)
    assert desil.tolist() == [1, 2, 2, 2]


@settings(max_examples=80, deadline=None)
@given(
    scores=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=200),
    regions=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_desil_depends_on_the_data_not_the_row_order(scores: list[int], regions: int, seed: int) -> None:
    score = np.array(scores, dtype=float) / 6
    group = np.arange(len(score)) % regions
    desil = desil_within(score, group)
    permutation = np.random.default_rng(seed).permutation(len(score))
    shuffled = desil_within(score[permutation], group[permutation])
    assert (shuffled == desil[permutation]).all()
    assert ((desil >= 1) & (desil <= 10)).all()
    for g in range(regions):
        mine = group == g
        # poorer (higher) scores never get a higher desil than richer ones in the same region
        order = np.argsort(-score[mine], kind="stable")
        assert (np.diff(desil[mine][order]) >= 0).all()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=10, max_value=3000))
def test_distinct_scores_fill_each_desil_with_a_tenth(n: int) -> None:
    desil = desil_within(np.random.default_rng(n).random(n))
    counts = np.bincount(desil, minlength=11)[1:]
    assert counts.max() - counts.min() <= 1


def test_official_and_local_desil_compared_per_village() -> None:
    official = np.array([1, 2, 3, 9, 4, 7, 0, 2])
    local = np.array([1, 3, 6, 9, 2, 1, 5, np.nan])
    villages = ["a", "a", "a", "a", "b", "b", "b", "b"]
    rows = {row["area"]: row for row in compare_desil(official, local, villages).to_pylist()}
    a, b = rows["a"], rows["b"]
    assert (a["families"], a["ranked_both"], a["same_desil"], a["within_one"]) == (4, 4, 2, 3)
    assert (a["low_both"], a["low_official_only"], a["low_local_only"]) == (2, 1, 0)
    assert a["spearman"] == pytest.approx(1.0)  # same order, different desil
    assert (b["ranked_both"], b["low_both"], b["low_local_only"]) == (2, 1, 1)  # unranked families left out
    assert b["spearman"] == pytest.approx(-1.0)


EXTRACT = """\
id_keluarga,id_rumah_tangga,hubungan_keluarga,jenis_kelamin,tanggal_lahir,pendidikan,pekerjaan,disabilitas,kode_desa,desil_nasional,luas_lantai_m2,jenis_lantai,jenis_dinding,fasilitas_bab,daya_listrik,aset_mobil,aset_sepeda_motor
K1,R1,Kepala Keluarga,P,1980-01-01,SD,Tidak bekerja,Tidak,64.74.03.1002,1,30,Tanah,Bambu,Umum,450 VA,Tidak,0
K1,R1,Anak,L,2012-05-01,SD,Tidak bekerja,Tidak,64.74.03.1002,1,30,Tanah,Bambu,Umum,450 VA,Tidak,0
K1,R1,Anak,P,2024-05-01,Tidak/belum sekolah,Tidak bekerja,Ya,64.74.03.1002,1,30,Tanah,Bambu,Umum,450 VA,Tidak,0
K2,R1,Kepala Keluarga,L,1955-03-01,SMA,Pensiunan,Tidak,64.74.03.1002,4,30,Tanah,Bambu,Umum,450 VA,Tidak,0
K3,R3,Kepala Keluarga,L,1975-07-07,S1+,PNS,Tidak,64.74.01.1001,10,120,Keramik,Tembok,Sendiri,2200 VA,Ya,2
K3,R3,Istri,P,1978-07-07,D1-D3,Pelajar/Mahasiswa,Tidak,64.74.01.1001,10,120,Keramik,Tembok,Sendiri,2200 VA,Ya,2
"""


def test_family_table_from_the_dtsen_extract() -> None:
    persons = pcsv.read_csv(io.BytesIO(EXTRACT.encode()), convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    families = family_table(persons, on=date(2026, 9, 30))
    rows = {row["family_id"]: row for row in families.to_pylist()}
    k1 = rows["K1"]
    assert (k1["members"], k1["household_members"], k1["children_under_5"], k1["school_age_children"]) == (3, 4, 1, 1)
    assert k1["children_out_of_school"] == 1  # a 14-year-old who is not a pupil
    assert k1["disabled_members"] == 1 and k1["female_head"] is True and k1["head_not_working"] is True
    assert k1["floor_area_per_person"] == pytest.approx(30 / 4)  # two families under one roof
    assert k1["max_education_level"] == 1.0 and k1["head_education_level"] == 1.0
    assert k1["kode_kecamatan"] == "64.74.03" and k1["desil"] == 1 and k1["owns_car"] is False
    assert rows["K2"]["elderly"] == 1 and rows["K2"]["working_members"] == 0 and rows["K2"]["head_not_working"] is False
    assert rows["K3"]["working_members"] == 1 and rows["K3"]["owns_car"] is True and rows["K3"]["motorcycles"] == 2
    result = score_families(load_scorecard("kemensos_262_2022"), families)
    assert result.score.tolist() == pytest.approx([1.0, 0.8, 0.0])  # K2's head is a pensioner: working
