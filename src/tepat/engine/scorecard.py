"""Transparent local scores: weighted deprivation indicators defined as data, scored column-wise, with the "why".

The official desil comes from BPS and is never recomputed here (Inpres 4/2025). What a region may do is rank
families for its *own* programs with criteria everyone can read: the Kemensos criteria for the poor
(Kepmensos 262/HUK/2022) or a multidimensional set (education, health, living standards, work, disability). Each
indicator is one condition in the rule language (engine.rules), e.g. ``floor in ["Tanah", "Semen"]``, with a
weight; the definitions live in JSON files under data/targeting/, so a TKPK can change a weight or a category list
without a programmer, and every family's score decomposes into the indicators that produced it.

Scores are deprivation shares in [0, 1] (higher = more deprived = poorer). An indicator the data do not hold for a
family is left out *for that family* and the weights of the others are rescaled, so missing data neither push a
family up nor down; the share of weight that was unknown is reported next to the score. The same numbers give the
Alkire–Foster measures per area: headcount H (share with score >= k), intensity A (mean score of the poor) and
M0 = H × A, with each indicator's contribution to M0.

Everything here works on pyarrow tables and numpy arrays, never row by row: a million families score in about a
second (bench/targeting.py).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.rules import FieldSpec, Rule, RuleError, Schema, compile_rule
from tepat.errors import UserError

SCORECARD_DIR = Path(os.environ.get("TEPAT_DATA_DIR", Path(__file__).resolve().parents[3] / "data")) / "targeting"
BUILTIN = ("kemensos_262_2022", "kriteria_bps_14", "multidimensi")
DEFAULT_SCORECARD = "kemensos_262_2022"

_AREA = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
AREA_LEVELS = {"province": 2, "regency": 5, "district": 8, "village": 13}

# ---------------------------------------------------------------------------------------------------------------
# The family table: the columns scorecards and eligibility rules may name.
#
# Canonical names are English like the registry's model fields; every field also has its Indonesian name (the
# DTSEN extract's column where there is one), so `jenis_lantai == "Tanah"` and `floor == "Tanah"` are the same rule.

FLOOR = (
    "Tanah",
    "Bambu",
    "Kayu/papan",
    "Semen",
    "Semen/bata merah",
    "Plesteran",
    "Ubin/tegel",
    "Keramik",
    "Parket/vinil",
    "Marmer/granit",
    "Lainnya",
)
WALL = (
    "Bambu",
    "Anyaman bambu",
    "Kawat",
    "Terpal",
    "Kardus",
    "Rumbia",
    "Seng",
    "Kayu/papan",
    "Tembok tanpa plester",
    "Tembok",
    "Lainnya",
)
ROOF = ("Daun/rumbia", "Ijuk", "Jerami", "Bambu", "Kayu/sirap", "Seng", "Asbes", "Genteng", "Beton", "Lainnya")
WATER = (
    "Air hujan",
    "Air sungai/danau",
    "Mata air tak terlindung",
    "Sumur tak terlindung",
    "Mata air terlindung",
    "Sumur terlindung",
    "Sumur bor/pompa",
    "Ledeng",
    "Air isi ulang",
    "Air kemasan bermerk",
    "Lainnya",
)
SANITATION = ("Tidak ada", "Umum", "Bersama", "Sendiri")
ELECTRICITY = ("Tanpa listrik", "Listrik non-PLN", "450 VA", "900 VA", "1300 VA", "2200 VA", ">2200 VA")
COOKING_FUEL = ("Kayu bakar", "Arang", "Minyak tanah", "Gas 3 kg", "Gas 5.5 kg+", "Listrik", "Tidak memasak")
TENURE = ("Milik sendiri", "Kontrak", "Sewa", "Bebas sewa", "Dinas", "Lainnya")
EDUCATION_LEVELS: dict[str, int] = {
    # highest schooling completed → 0 none, 1 SD, 2 SMP, 3 SMA, 4 diploma, 5 degree (Dukcapil and BPS spellings)
    **dict.fromkeys(
        (
            "tidak/belum sekolah",
            "tidak sekolah",
            "belum sekolah",
            "tidak tamat sd",
            "tidak tamat sd/sederajat",
            "belum tamat sd/sederajat",
            "tidak/belum tamat sd",
        ),
        0,
    ),
    **dict.fromkeys(("sd", "sd/sederajat", "tamat sd", "tamat sd/sederajat", "sd/mi", "paket a"), 1),
    **dict.fromkeys(("smp", "sltp", "smp/sederajat", "sltp/sederajat", "smp/mts", "paket b"), 2),
    **dict.fromkeys(("sma", "slta", "smk", "sma/sederajat", "slta/sederajat", "sma/smk/ma", "paket c"), 3),
    **dict.fromkeys(("d1-d3", "d1", "d2", "d3", "diploma i/ii", "akademi/diploma iii/s. muda", "diploma"), 4),
    **dict.fromkeys(("s1+", "s1", "d4", "diploma iv/strata i", "s2", "s3", "strata ii", "strata iii"), 5),
}
NOT_WORKING = frozenset(("tidak bekerja", "belum/tidak bekerja", "tidak/belum bekerja", "mengurus rumah tangga"))
NOT_EARNING = NOT_WORKING | {"pelajar/mahasiswa", "pensiunan"}

_F = FieldSpec
FAMILY_FIELDS: tuple[FieldSpec, ...] = (
    _F("family_id", "text", "ID keluarga", ("id_keluarga",)),
    _F("kode_desa", "text", "Kode desa/kelurahan", ("village_code", "desa")),
    _F("kode_kecamatan", "text", "Kode kecamatan", ("district_code",)),
    _F("kode_kabupaten", "text", "Kode kabupaten/kota", ("regency_code",)),
    _F("desil", "number", "Desil nasional (resmi)", ("desil_nasional", "desil_national")),
    _F("desil_provinsi", "number", "Desil provinsi (resmi)", ("desil_province",)),
    _F("desil_kabupaten", "number", "Desil kabupaten/kota (resmi)", ("desil_regency",)),
    _F("extreme_poor", "bool", "Miskin ekstrem", ("miskin_ekstrem",)),
    _F("local_score", "number", "Skor lokal (0-1, makin tinggi makin miskin)", ("skor_lokal",)),
    _F("local_desil", "number", "Desil lokal dalam wilayah", ("desil_lokal",)),
    _F("members", "number", "Jumlah anggota keluarga", ("jumlah_anggota",)),
    _F("household_members", "number", "Jumlah penghuni rumah", ("jumlah_penghuni",)),
    _F("children_under_5", "number", "Balita (0-4 tahun)", ("balita",)),
    _F("school_age_children", "number", "Anak usia sekolah (7-18 tahun)", ("anak_usia_sekolah",)),
    _F("children_out_of_school", "number", "Anak usia sekolah yang tidak bersekolah", ("anak_tidak_sekolah",)),
    _F("elderly", "number", "Lansia (60 tahun ke atas)", ("lansia",)),
    _F("disabled_members", "number", "Anggota dengan disabilitas", ("anggota_disabilitas",)),
    _F("working_members", "number", "Anggota yang bekerja", ("anggota_bekerja",)),
    _F(
        "max_education_level",
        "number",
        "Pendidikan tertinggi anggota 15+ (0 tidak sekolah … 5 S1+)",
        ("pendidikan_tertinggi",),
    ),
    _F("female_head", "bool", "Kepala keluarga perempuan", ("kepala_perempuan",)),
    _F("head_age", "number", "Umur kepala keluarga", ("umur_kepala",)),
    _F("head_education", "text", "Pendidikan kepala keluarga", ("pendidikan_kepala",)),
    _F(
        "head_education_level",
        "number",
        "Tingkat pendidikan kepala (0 tidak sekolah … 5 S1+)",
        ("tingkat_pendidikan_kepala",),
    ),
    _F("head_occupation", "text", "Pekerjaan kepala keluarga", ("pekerjaan_kepala",)),
    _F("head_not_working", "bool", "Kepala keluarga tidak bekerja", ("kepala_tidak_bekerja",)),
    _F("tenure", "text", "Status kepemilikan rumah", ("status_kepemilikan_rumah",), TENURE),
    _F("floor_area_m2", "number", "Luas lantai (m²)", ("luas_lantai_m2", "luas_lantai")),
    _F("floor_area_per_person", "number", "Luas lantai per penghuni (m²)", ("luas_lantai_per_orang",)),
    _F("floor", "text", "Jenis lantai terluas", ("jenis_lantai",), FLOOR),
    _F("wall", "text", "Jenis dinding terluas", ("jenis_dinding",), WALL),
    _F("roof", "text", "Jenis atap terluas", ("jenis_atap",), ROOF),
    _F("drinking_water", "text", "Sumber air minum", ("sumber_air_minum",), WATER),
    _F("sanitation", "text", "Fasilitas buang air besar", ("fasilitas_bab",), SANITATION),
    _F("electricity", "text", "Sumber penerangan / daya listrik", ("daya_listrik",), ELECTRICITY),
    _F("cooking_fuel", "text", "Bahan bakar memasak", ("bahan_bakar_memasak",), COOKING_FUEL),
    _F("owns_car", "bool", "Memiliki mobil", ("aset_mobil",)),
    _F("motorcycles", "number", "Jumlah sepeda motor", ("aset_sepeda_motor",)),
    # Collected by field verification or a survey, not in the DTSEN extract: indicators that use them are skipped
    # when the family table does not have the column.
    _F("homeless", "bool", "Tidak memiliki tempat berteduh/tinggal", ("tunawisma", "tidak_punya_tempat_tinggal")),
    _F("food_insecure", "bool", "Pernah khawatir/tidak makan setahun terakhir", ("rawan_pangan",)),
    _F("food_share", "number", "Pangsa pengeluaran makanan (0-1)", ("pangsa_pangan",)),
    _F("no_clothing_spending", "bool", "Tidak membeli pakaian setahun terakhir", ("tanpa_belanja_pakaian",)),
    _F("meals_per_day", "number", "Frekuensi makan per hari", ("frekuensi_makan",)),
    _F("protein_weekly", "bool", "Makan daging/ayam/susu lebih dari sekali seminggu", ("konsumsi_protein",)),
    _F("can_pay_health_care", "bool", "Sanggup membayar berobat ke puskesmas", ("mampu_berobat",)),
    _F("health_insurance", "bool", "Memiliki jaminan kesehatan (JKN)", ("jaminan_kesehatan", "jkn")),
    _F("savings_500k", "bool", "Memiliki tabungan/barang mudah dijual ≥ Rp500.000", ("tabungan_500rb",)),
    # Exclusion findings of the data custodians (BPK's flags on DTKS), true when any member has one.
    _F("flag.civil_servant", "bool", "ASN (PNS/PPPK)", ("flag.asn",)),
    _F("flag.military_police", "bool", "TNI/Polri", ("flag.tni_polri",)),
    _F("flag.certified_teacher", "bool", "Guru bersertifikasi", ("flag.guru_sertifikasi",)),
    _F("flag.pln_900va", "bool", "Pelanggan PLN ≥ 900 VA nonsubsidi", ("flag.pln_900va_nonsubsidi",)),
    _F("flag.car_owner", "bool", "Pemilik mobil", ("flag.pemilik_mobil",)),
    _F("flag.wage_above_minimum", "bool", "Upah di atas UMK", ("flag.upah_di_atas_umk",)),
    _F("flag.village_official", "bool", "Perangkat desa", ("flag.perangkat_desa",)),
    _F("flag.business_owner", "bool", "Pengusaha terdaftar", ("flag.pengusaha",)),
    _F("flag.any", "bool", "Ada temuan pengecualian apa pun", ("flag.ada",)),
)
FAMILY_SCHEMA = Schema(FAMILY_FIELDS)
# Exclusion kinds as the registry and the exclusion lists name them → the family table's flag column.
EXCLUSION_FLAGS = {
    "asn": "flag.civil_servant",
    "tni_polri": "flag.military_police",
    "guru_sertifikasi": "flag.certified_teacher",
    "pln_900va_nonsubsidi": "flag.pln_900va",
    "pemilik_mobil": "flag.car_owner",
    "upah_di_atas_umk": "flag.wage_above_minimum",
    "perangkat_desa": "flag.village_official",
    "pengusaha": "flag.business_owner",
}


class ScorecardError(UserError):
    """A scorecard definition that cannot be used (bad JSON, unknown field in a condition, bad area code)."""

    def __init__(self, message: str, code: str = "scorecard.invalid") -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------------------------------------
# Definitions


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    dimension: str
    weight: float
    deprived_if: Rule
    note: str = ""


@dataclass(frozen=True)
class Scorecard:
    """A scorecard as loaded from data: indicators, weights per area, the poverty cutoff k."""

    id: str
    version: str
    name: str
    source: str
    indicators: tuple[Indicator, ...]
    cutoff: float  # k: a family with a score >= k is counted poor (Alkire–Foster)
    dimensions: Mapping[str, str] = field(default_factory=dict)  # id -> label
    area_weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # code prefix -> id -> weight
    outright: Rule | None = None  # families meeting it are poor whatever else (Kepmensos: no shelter)
    outright_label: str = ""
    note: str = ""

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(ind.id for ind in self.indicators)

    def with_area_weights(self, overrides: Mapping[str, Mapping[str, float]]) -> Scorecard:
        """The same scorecard with more per-area weights (e.g. a district's own priorities, set in the UI)."""
        merged = {prefix: dict(weights) for prefix, weights in self.area_weights.items()}
        for prefix, weights in _checked_area_weights(overrides, self.ids).items():
            merged.setdefault(prefix, {}).update(weights)
        return Scorecard(**{**self.__dict__, "area_weights": merged})

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (what `load_scorecard` reads), e.g. to store a region's edited copy."""
        data: dict[str, Any] = {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "source": self.source,
            "note": self.note,
            "cutoff": self.cutoff,
            "dimensions": dict(self.dimensions),
            "indicators": [
                {
                    "id": ind.id,
                    "label": ind.label,
                    "dimension": ind.dimension,
                    "weight": ind.weight,
                    "deprived_if": ind.deprived_if.text,
                    **({"note": ind.note} if ind.note else {}),
                }
                for ind in self.indicators
            ],
            "area_weights": {prefix: dict(w) for prefix, w in self.area_weights.items()},
        }
        if self.outright is not None:
            data["outright_if"] = {"rule": self.outright.text, "label": self.outright_label}
        return data


def scorecard_from_dict(data: Mapping[str, Any], *, schema: Schema = FAMILY_SCHEMA) -> Scorecard:
    """Build and check a scorecard; every condition is compiled against the family fields now, not at scoring."""
    try:
        indicators_raw = list(data["indicators"])
        card_id = str(data["id"])
    except (KeyError, TypeError):
        raise ScorecardError("definisi skor harus memuat 'id' dan daftar 'indicators'") from None
    dimensions_raw = data.get("dimensions") or {}
    dimensions = {str(k): str(v.get("label", k) if isinstance(v, Mapping) else v) for k, v in dimensions_raw.items()}
    dimension_weight = {
        str(k): float(v.get("weight", 1.0)) if isinstance(v, Mapping) else 1.0 for k, v in dimensions_raw.items()
    }
    per_dimension: dict[str, int] = {}
    for raw in indicators_raw:
        if "weight" not in raw:
            per_dimension[str(raw.get("dimension", ""))] = per_dimension.get(str(raw.get("dimension", "")), 0) + 1
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for raw in indicators_raw:
        ident = str(raw.get("id", ""))
        if not ident or ident in seen:
            raise ScorecardError(f"{card_id}: indikator tanpa id atau id ganda: {ident!r}")
        seen.add(ident)
        dimension = str(raw.get("dimension", ""))
        if "weight" in raw:
            weight = float(raw["weight"])
        else:  # Alkire–Foster nesting: a dimension's weight shared equally by its indicators
            weight = dimension_weight.get(dimension, 1.0) / per_dimension[dimension]
        if not np.isfinite(weight) or weight < 0:
            raise ScorecardError(f"{card_id}: bobot indikator {ident} harus angka >= 0")
        try:
            rule = compile_rule(str(raw.get("deprived_if", "")), schema)
        except RuleError as exc:
            raise ScorecardError(f"{card_id}: syarat indikator {ident}: {exc}", exc.code) from None
        indicators.append(
            Indicator(ident, str(raw.get("label", ident)), dimension, weight, rule, str(raw.get("note", "")))
        )
    if not indicators or sum(ind.weight for ind in indicators) <= 0:
        raise ScorecardError(f"{card_id}: tidak ada indikator berbobot")
    cutoff = float(data.get("cutoff", 1 / 3))
    if not 0 < cutoff <= 1:
        raise ScorecardError(f"{card_id}: cutoff k harus di antara 0 dan 1")
    outright = None
    outright_label = ""
    if data.get("outright_if"):
        spec = data["outright_if"]
        text = spec["rule"] if isinstance(spec, Mapping) else str(spec)
        outright_label = str(spec.get("label", text)) if isinstance(spec, Mapping) else text
        try:
            outright = compile_rule(text, schema)
        except RuleError as exc:
            raise ScorecardError(f"{card_id}: syarat langsung miskin: {exc}", exc.code) from None
    ids = tuple(ind.id for ind in indicators)
    return Scorecard(
        id=card_id,
        version=str(data.get("version", "1")),
        name=str(data.get("name", card_id)),
        source=str(data.get("source", "")),
        indicators=tuple(indicators),
        cutoff=cutoff,
        dimensions=dimensions,
        area_weights=_checked_area_weights(data.get("area_weights") or {}, ids),
        outright=outright,
        outright_label=outright_label,
        note=str(data.get("note", "")),
    )


def _checked_area_weights(raw: Mapping[str, Mapping[str, float]], ids: Sequence[str]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for prefix, weights in raw.items():
        if not _AREA.match(str(prefix)):
            raise ScorecardError(f"kode wilayah {prefix!r} bukan kode Kemendagri (mis. 64.74 atau 64.74.03)")
        for ident, weight in weights.items():
            if ident not in ids:
                raise ScorecardError(f"bobot wilayah {prefix}: indikator {ident!r} tidak ada di kartu skor")
            if not np.isfinite(float(weight)) or float(weight) < 0:
                raise ScorecardError(f"bobot wilayah {prefix}: bobot {ident} harus angka >= 0")
        out[str(prefix)] = {str(k): float(v) for k, v in weights.items()}
    return out


def load_scorecard(name_or_path: str | Path, *, schema: Schema = FAMILY_SCHEMA) -> Scorecard:
    """A shipped scorecard by name (``kemensos_262_2022``, ``kriteria_bps_14``, ``multidimensi``) or a JSON file."""
    path = Path(name_or_path)
    if not path.suffix and str(name_or_path) in BUILTIN:
        path = SCORECARD_DIR / f"{name_or_path}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScorecardError(f"kartu skor tidak ditemukan: {name_or_path}", "scorecard.not_found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScorecardError(f"kartu skor {path.name} bukan JSON yang sah: {exc}", "scorecard.json") from None
    return scorecard_from_dict(data, schema=schema)


# ---------------------------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class IndicatorResult:
    """One indicator for one family, as the family page shows it."""

    id: str
    label: str
    dimension: str
    deprived: bool | None  # None: the data for this indicator are missing for the family
    weight: float  # the effective weight after area overrides and rescaling over known indicators
    contribution: float  # weight × deprived: its part of the family's score
    values: Mapping[str, Any]


@dataclass(frozen=True)
class ScoreResult:
    """Scores of a family table. Arrays are aligned with the table's rows."""

    scorecard: Scorecard
    score: np.ndarray  # float64 in [0, 1]; NaN when no indicator is known for the family
    poor: np.ndarray  # bool: score >= k, or the outright condition
    deprived: np.ndarray  # int8 (indicators × families): 1 deprived, 0 not, -1 unknown
    weight_group: np.ndarray  # int32 per family: row of weight_table (area overrides)
    weight_table: np.ndarray  # float64 (groups × indicators), raw weights
    weight_groups: tuple[str, ...]  # "" for the default weights, else the area prefix
    unknown_share: np.ndarray  # float64: share of the family's weight whose data were missing
    outright: np.ndarray  # bool
    used: tuple[str, ...]  # indicators the table could feed
    unavailable: Mapping[str, tuple[str, ...]]  # indicator -> the columns the table lacks

    @property
    def method(self) -> str:
        return f"{self.scorecard.id}@{self.scorecard.version}"

    def effective_weights(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """(indicators × families) weights after area overrides and rescaling over the known indicators."""
        select = slice(None) if rows is None else rows
        group = self.weight_group[select]
        known = self.deprived[:, select] >= 0
        raw = self.weight_table[group].T * known
        total = raw.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, raw / np.where(total > 0, total, 1.0), 0.0)

    def contributions(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """(indicators × families): each indicator's part of the score; columns sum to the score."""
        select = slice(None) if rows is None else rows
        contrib = self.effective_weights(rows) * (self.deprived[:, select] == 1)
        return np.where(self.outright[select], 0.0, contrib)

    def explain(self, table: pa.Table, row: int) -> list[IndicatorResult]:
        """Every indicator for one family: deprived or not, its weight and part of the score, the data it read."""
        weights = self.effective_weights(np.array([row]))[:, 0]
        contrib = self.contributions(np.array([row]))[:, 0]
        out = []
        for j, indicator in enumerate(self.scorecard.indicators):
            state = int(self.deprived[j, row])
            fields = indicator.deprived_if.fields
            values = {name: table.column(name)[row].as_py() for name in fields if name in table.column_names}
            out.append(
                IndicatorResult(
                    id=indicator.id,
                    label=indicator.label,
                    dimension=indicator.dimension,
                    deprived=None if state < 0 else bool(state),
                    weight=float(weights[j]),
                    contribution=float(contrib[j]),
                    values=values,
                )
            )
        return out

    def to_table(self) -> pa.Table:
        """score, poor, unknown_share and one int8 column per indicator (1/0/null): the scores as data."""
        columns: dict[str, Any] = {
            "score": pa.array(self.score, mask=np.isnan(self.score)),
            "poor": pa.array(self.poor),
            "unknown_share": pa.array(self.unknown_share),
        }
        for j, ident in enumerate(self.scorecard.ids):
            state = self.deprived[j]
            columns[f"deprived.{ident}"] = pa.array(state, type=pa.int8(), mask=state < 0)
        return pa.table(columns)


def score_families(
    card: Scorecard,
    table: pa.Table,
    *,
    area_column: str = "kode_desa",
    area_weights: Mapping[str, Mapping[str, float]] | None = None,
) -> ScoreResult:
    """Score every family of ``table`` with ``card`` (column-wise).

    Indicators whose columns the table lacks are left out altogether and listed in ``unavailable``; that is how
    the Kemensos criteria that only a field survey collects (food, clothing) coexist with a DTSEN-only table.
    """
    if area_weights:
        card = card.with_area_weights(area_weights)
    n = table.num_rows
    m = len(card.indicators)
    deprived = np.full((m, n), -1, dtype=np.int8)
    unavailable: dict[str, tuple[str, ...]] = {}
    used: list[str] = []
    for j, indicator in enumerate(card.indicators):
        missing = tuple(name for name in indicator.deprived_if.fields if name not in table.column_names)
        if missing:
            unavailable[indicator.id] = missing
            continue
        deprived[j] = indicator.deprived_if.states(table)
        used.append(indicator.id)
    groups, group_of_row = _weight_groups(card, table, area_column)
    weight_table = np.array(
        [[_weight_for(card, prefix, ind) for ind in card.indicators] for prefix in groups], dtype=np.float64
    ).reshape(len(groups), m)
    for j, indicator in enumerate(card.indicators):
        if indicator.id in unavailable:
            weight_table[:, j] = 0.0
    numerator = np.zeros(n)
    known = np.zeros(n)
    total = np.zeros(n)
    for j in range(m):
        w = weight_table[group_of_row, j] if len(groups) > 1 else np.full(n, weight_table[0, j])
        state = deprived[j]
        total += w
        known += w * (state >= 0)
        numerator += w * (state == 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(known > 0, numerator / np.where(known > 0, known, 1.0), np.nan)
        unknown_share = np.where(total > 0, 1.0 - known / np.where(total > 0, total, 1.0), 1.0)
    outright = card.outright.evaluate(table) if card.outright is not None and _has(table, card.outright) else None
    if outright is None:
        outright = np.zeros(n, dtype=bool)
    else:
        score = np.where(outright, 1.0, score)
    poor = (np.nan_to_num(score, nan=-1.0) >= card.cutoff - 1e-12) | outright
    return ScoreResult(
        scorecard=card,
        score=score,
        poor=poor,
        deprived=deprived,
        weight_group=group_of_row,
        weight_table=weight_table,
        weight_groups=tuple(groups),
        unknown_share=unknown_share,
        outright=outright,
        used=tuple(used),
        unavailable=unavailable,
    )


def _has(table: pa.Table, rule: Rule) -> bool:
    return all(name in table.column_names for name in rule.fields)


def _weight_for(card: Scorecard, prefix: str, indicator: Indicator) -> float:
    """The weight in force for an area: the default, then every override from the widest prefix to the narrowest."""
    weight = indicator.weight
    for override in sorted((p for p in card.area_weights if _within(prefix, p)), key=len):
        weight = card.area_weights[override].get(indicator.id, weight)
    return weight


def _within(code: str, prefix: str) -> bool:
    return bool(code) and (code == prefix or code.startswith(prefix + "."))


def _weight_groups(card: Scorecard, table: pa.Table, area_column: str) -> tuple[list[str], np.ndarray]:
    n = table.num_rows
    if not card.area_weights or area_column not in table.column_names:
        return [""], np.zeros(n, dtype=np.int32)
    prefixes = sorted(card.area_weights, key=len)
    indices, unique = _encode(table.column(area_column))
    groups = [""]
    index = {"": 0}
    group_of_code = np.zeros(len(unique), dtype=np.int32)
    for k, code in enumerate(unique):
        best = ""
        for prefix in prefixes:
            if _within(str(code or ""), prefix):
                best = prefix  # prefixes sorted by length: the narrowest that matches wins
        if best not in index:
            index[best] = len(groups)
            groups.append(best)
        group_of_code[k] = index[best]
    return groups, group_of_code[indices]


def _encode(column: pa.ChunkedArray | pa.Array | Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """(int64 code per row, the distinct values); an empty cell is a value of its own (None)."""
    array = column if isinstance(column, pa.Array | pa.ChunkedArray) else pa.array(column)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary.to_pylist()


# ---------------------------------------------------------------------------------------------------------------
# Alkire–Foster per area


def multidimensional_poverty(
    result: ScoreResult,
    areas: pa.Array | pa.ChunkedArray | Sequence[str | None],
    *,
    k: float | None = None,
    persons: np.ndarray | None = None,
) -> pa.Table:
    """H, A and M0 per area, with each indicator's censored headcount and percentage contribution to M0.

    ``persons`` (e.g. family size) weights families so that H is a share of people, as the MPI is usually stated;
    without it every family counts once. ``k`` defaults to the scorecard's cutoff.
    """
    cutoff = result.scorecard.cutoff if k is None else k
    n = len(result.score)
    weight = np.ones(n) if persons is None else np.asarray(persons, dtype=np.float64)
    index, names = _encode(areas)
    groups = len(names)
    scored = ~np.isnan(result.score)
    score = np.nan_to_num(result.score, nan=0.0)
    poor = scored & ((score >= cutoff - 1e-12) | result.outright)
    w = weight * scored
    population = np.bincount(index, weights=w, minlength=groups)
    poor_weight = np.bincount(index, weights=w * poor, minlength=groups)
    intensity_sum = np.bincount(index, weights=w * poor * score, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        headcount = poor_weight / population
        intensity = intensity_sum / poor_weight
        m0 = intensity_sum / population
    columns: dict[str, Any] = {
        "area": pa.array(names, type=pa.string()),
        "families": pa.array(np.bincount(index, minlength=groups)),
        "population": pa.array(population),
        "poor": pa.array(poor_weight),
        "H": pa.array(headcount, mask=population == 0),
        "A": pa.array(intensity, mask=poor_weight == 0),
        "M0": pa.array(m0, mask=population == 0),
    }
    contributions = result.contributions()
    for j, ident in enumerate(result.scorecard.ids):
        censored = np.bincount(index, weights=w * poor * (result.deprived[j] == 1), minlength=groups)
        part = np.bincount(index, weights=w * poor * contributions[j], minlength=groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns[f"h.{ident}"] = pa.array(censored / population, mask=population == 0)
            columns[f"contribution.{ident}"] = pa.array(part / intensity_sum, mask=intensity_sum == 0)
    if result.outright.any():
        part = np.bincount(index, weights=w * poor * result.outright, minlength=groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns["contribution.outright"] = pa.array(part / intensity_sum, mask=intensity_sum == 0)
    return pa.table(columns).sort_by("area")


# ---------------------------------------------------------------------------------------------------------------
# Desil within a region


def area_level(codes: pa.Array | pa.ChunkedArray, level: str) -> pa.Array:
    """Kemendagri codes cut to a level (``province``, ``regency``, ``district``, ``village``): 64.74.03.1002 →
    64.74.03 for the district. Codes have fixed-width segments, so a prefix is the enclosing area."""
    width = AREA_LEVELS[level]
    array = codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes
    if pa.types.is_dictionary(array.type):
        cut = pc.utf8_slice_codeunits(array.dictionary, 0, width)
        return pc.take(cut, array.indices)
    return pc.utf8_slice_codeunits(array, 0, width)


def desil_within(
    score: np.ndarray,
    groups: pa.Array | pa.ChunkedArray | np.ndarray | None = None,
    *,
    poorest: str = "high",
    weights: np.ndarray | None = None,
    tiebreak: np.ndarray | None = None,
    bins: int = 10,
) -> np.ndarray:
    """Rank families into ``bins`` groups (desil 1 = poorest) within each group (region), column-wise.

    Ties are handled so that the result depends only on the data, never on row order: families with the same
    score share a desil, placed at the midpoint of the positions their tie block occupies. ``weights`` (e.g.
    family size) make each desil hold a tenth of the *people* instead of the families. ``poorest="high"`` for
    deprivation scores, ``"low"`` for welfare (consumption, PMT predictions). A scorecard of a few yes/no criteria
    gives many equal scores; ``tiebreak`` (lower = poorer, e.g. the official desil) orders families inside a tie,
    and only families equal on both stay tied. Returns int8, 0 where the score is missing.
    """
    values = np.asarray(score, dtype=np.float64)
    n = len(values)
    if poorest not in ("high", "low"):
        raise ValueError("poorest must be 'high' or 'low'")
    key = -values if poorest == "high" else values
    if groups is None:
        group = np.zeros(n, dtype=np.int64)
    elif isinstance(groups, np.ndarray) and np.issubdtype(groups.dtype, np.integer):
        group = groups.astype(np.int64, copy=False)
    else:
        group, _ = _encode(groups)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    valid = ~np.isnan(values) & (w > 0)
    second = np.zeros(n) if tiebreak is None else np.nan_to_num(np.asarray(tiebreak, dtype=np.float64), nan=np.inf)
    order = np.lexsort((second, key, group))
    order = order[valid[order]]
    out = np.zeros(n, dtype=np.int8)
    if len(order) == 0:
        return out
    gs, ks, ts, ws = group[order], key[order], second[order], w[order]
    new_group = np.empty(len(order), dtype=bool)
    new_group[0] = True
    new_group[1:] = gs[1:] != gs[:-1]
    group_id = np.cumsum(new_group) - 1
    cumulative = np.cumsum(ws)
    before = cumulative - ws  # weight of everything earlier in the sort order
    before_in_group = before - before[new_group][group_id]
    total = np.bincount(group_id, weights=ws)
    new_block = new_group.copy()
    new_block[1:] |= (ks[1:] != ks[:-1]) | (ts[1:] != ts[:-1])
    block_id = np.cumsum(new_block) - 1
    block_start = before_in_group[new_block]
    block_weight = np.bincount(block_id, weights=ws)
    middle = block_start[block_id] + block_weight[block_id] / 2
    position = middle / total[group_id]
    out[order] = np.minimum(bins, np.floor(position * bins + 1e-9).astype(np.int64) + 1)
    return out


def compare_desil(
    official: np.ndarray,
    local: np.ndarray,
    areas: pa.Array | pa.ChunkedArray | Sequence[str | None],
    *,
    low: int = 4,
) -> pa.Table:
    """Official desil against the local one, per area: how often they agree, and who only one of them puts low.

    ``low_official_only`` counts families the national ranking puts in desil 1..``low`` but the local score does
    not, and ``low_local_only`` the reverse: the candidates for field verification (verval) and for
    proposals of additions and removals. ``spearman`` is the rank correlation of the two inside the area. Desil 0
    or NaN means "not ranked" and leaves the family out of the comparison.
    """
    a = np.nan_to_num(np.asarray(official, dtype=np.float64), nan=0)
    b = np.nan_to_num(np.asarray(local, dtype=np.float64), nan=0)
    index, names = _encode(areas)
    groups = len(names)
    both = (a >= 1) & (b >= 1)

    def per_area(values: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=groups)

    count = per_area(both.astype(np.float64))
    low_a = both & (a <= low)
    low_b = both & (b <= low)
    # Spearman within each area: average ranks per area, then Pearson on the ranks.
    rank_a = _ranks_within(a, index, both)
    rank_b = _ranks_within(b, index, both)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = per_area(rank_a * both) / count
        mean_b = per_area(rank_b * both) / count
        da = np.where(both, rank_a - mean_a[index], 0.0)
        db = np.where(both, rank_b - mean_b[index], 0.0)
        spearman = per_area(da * db) / np.sqrt(per_area(da * da) * per_area(db * db))
    return pa.table(
        {
            "area": pa.array(names, pa.string()),
            "families": np.bincount(index, minlength=groups),
            "ranked_both": count.astype(np.int64),
            "same_desil": per_area((both & (a == b)).astype(np.float64)).astype(np.int64),
            "within_one": per_area((both & (np.abs(a - b) <= 1)).astype(np.float64)).astype(np.int64),
            "low_both": per_area((low_a & low_b).astype(np.float64)).astype(np.int64),
            "low_official_only": per_area((low_a & ~low_b).astype(np.float64)).astype(np.int64),
            "low_local_only": per_area((low_b & ~low_a).astype(np.float64)).astype(np.int64),
            "spearman": pa.array(spearman, mask=~np.isfinite(spearman)),
        }
    ).sort_by("area")


def _ranks_within(values: np.ndarray, group: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank) of ``values`` inside each group, for the valid rows."""
    ranks = np.zeros(len(values))
    rows = np.flatnonzero(valid)
    if len(rows) == 0:
        return ranks
    order = rows[np.lexsort((values[rows], group[rows]))]
    g, v = group[order], values[order]
    new_group = np.r_[True, g[1:] != g[:-1]]
    position = np.arange(len(order)) - np.flatnonzero(new_group)[np.cumsum(new_group) - 1]
    new_block = new_group | np.r_[True, v[1:] != v[:-1]]
    block = np.cumsum(new_block) - 1
    start = position[new_block]
    length = np.bincount(block)
    ranks[order] = start[block] + (length[block] + 1) / 2
    return ranks


# ---------------------------------------------------------------------------------------------------------------
# From the DTSEN extract's person rows to the family table


def family_table(persons: pa.Table, *, on: date, family_column: str = "id_keluarga") -> pa.Table:
    """One row per family with the FAMILY_FIELDS columns, from person rows named as in the DTSEN extract.

    Housing columns describe the dwelling and are repeated on every member's row; member columns (age, schooling,
    work, disability) are counted per family. Column-wise (pyarrow group-by), so a regency's extract takes about a
    second. Columns the extract lacks come out empty rather than failing: scorecards skip what is not there.
    """
    n = persons.num_rows
    names = set(persons.column_names)

    def text(name: str) -> pa.Array:
        if name not in names:
            return pa.nulls(n, pa.string())
        column = persons.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        column = column.cast(pa.string())
        return pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), pa.scalar(None, pa.string()), column)

    def number(name: str) -> pa.Array:
        if name not in names:
            return pa.nulls(n, pa.float64())
        column = persons.column(name).combine_chunks()
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            return column.cast(pa.float64())
        return _to_float(text(name))

    family = text(family_column)
    born = pc.strptime(text("tanggal_lahir"), format="%Y-%m-%d", unit="s", error_is_null=True)
    born_days = pc.cast(pc.cast(born, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False)
    today = (on - date(1970, 1, 1)).days
    age = (today - np.asarray(born_days, dtype=np.float64)) / 365.2425
    education = _lookup_levels(text("pendidikan"))
    occupation = pc.utf8_lower(text("pekerjaan"))
    not_earning = _in(occupation, NOT_EARNING)
    student = _in(occupation, {"pelajar/mahasiswa"})
    disabled = _yes(text("disabilitas"))
    relation = pc.utf8_lower(text("hubungan_keluarga"))
    head = pc.fill_null(pc.match_substring(relation, "kepala"), False).to_numpy(zero_copy_only=False)
    female = pc.fill_null(pc.is_in(pc.utf8_upper(text("jenis_kelamin")), pa.array(["P", "PEREMPUAN"])), False)
    known_age = ~np.isnan(age)
    school_age = known_age & (age >= 7) & (age < 19)
    members = pa.table(
        {
            "family": family,
            "one": np.ones(n, dtype=np.int64),
            "under5": (known_age & (age < 5)).astype(np.int64),
            "school_age": school_age.astype(np.int64),
            "out_of_school": (school_age & ~student).astype(np.int64),
            "elderly": (known_age & (age >= 60)).astype(np.int64),
            "disabled": disabled.astype(np.int64),
            "working": (~not_earning & pc.is_valid(occupation).to_numpy(zero_copy_only=False)).astype(np.int64),
            "edu15": pa.array(education, mask=~(known_age & (age >= 15)) | np.isnan(education)),
        }
    )
    housing = {
        "kode_desa": text("kode_desa"),
        "household": text("id_rumah_tangga"),
        "desil": number("desil_nasional"),
        "desil_provinsi": number("desil_provinsi"),
        "desil_kabupaten": number("desil_kabupaten"),
        "tenure": text("status_kepemilikan_rumah"),
        "floor_area_m2": number("luas_lantai_m2"),
        "floor": text("jenis_lantai"),
        "wall": text("jenis_dinding"),
        "roof": text("jenis_atap"),
        "drinking_water": text("sumber_air_minum"),
        "sanitation": text("fasilitas_bab"),
        "electricity": text("daya_listrik"),
        "cooking_fuel": text("bahan_bakar_memasak"),
        "owns_car": pa.array(_yes(text("aset_mobil")), mask=_null(text("aset_mobil"))),
        "motorcycles": number("aset_sepeda_motor"),
    }
    for name, values in housing.items():
        members = members.append_column(name, values)
    counts = members.group_by("family", use_threads=False).aggregate(
        [
            ("one", "sum"),
            ("under5", "sum"),
            ("school_age", "sum"),
            ("out_of_school", "sum"),
            ("elderly", "sum"),
            ("disabled", "sum"),
            ("working", "sum"),
            ("edu15", "max"),
            *[(name, "first") for name in housing],
        ]
    )
    heads = pa.table(
        {
            "family": family,
            "female_head": female,
            "head_age": pa.array(age, mask=~known_age),
            "head_education": text("pendidikan"),
            "head_education_level": pa.array(education, mask=np.isnan(education)),
            "head_occupation": text("pekerjaan"),
        }
    ).filter(pa.array(head))
    heads = heads.group_by("family", use_threads=False).aggregate(
        [(name, "first") for name in heads.column_names if name != "family"]
    )
    heads = heads.rename_columns(["family" if c == "family" else c.removesuffix("_first") for c in heads.column_names])
    rename = {f"{name}_first": name for name in housing}
    rename.update(
        {
            "one_sum": "members",
            "under5_sum": "children_under_5",
            "school_age_sum": "school_age_children",
            "out_of_school_sum": "children_out_of_school",
            "elderly_sum": "elderly",
            "disabled_sum": "disabled_members",
            "working_sum": "working_members",
            "edu15_max": "max_education_level",
        }
    )
    counts = counts.rename_columns([rename.get(c, c) for c in counts.column_names])
    joined = counts.join(heads, "family", join_type="left outer", use_threads=False)
    # Floor area per person counts everyone under the roof: a dwelling can hold several families (KK).
    sizes = counts.group_by("household", use_threads=False).aggregate([("members", "sum")])
    joined = joined.join(sizes, "household", join_type="left outer", use_threads=False)
    joined = joined.take(pc.sort_indices(joined, sort_keys=[("family", "ascending")]))
    household_members = pc.coalesce(joined.column("members_sum"), joined.column("members")).to_numpy().astype(float)
    area = joined.column("floor_area_m2").to_numpy(zero_copy_only=False).astype(np.float64)
    per_person = area / household_members
    occupation_head = pc.utf8_lower(joined.column("head_occupation")).combine_chunks()
    columns: dict[str, Any] = {
        "family_id": joined.column("family"),
        "kode_desa": joined.column("kode_desa"),
        "kode_kecamatan": area_level(joined.column("kode_desa"), "district"),
        "kode_kabupaten": area_level(joined.column("kode_desa"), "regency"),
        "members": joined.column("members"),
        "household_members": pa.array(household_members),
        "floor_area_per_person": pa.array(per_person, mask=np.isnan(per_person)),
        "head_not_working": pa.array(_in(occupation_head, NOT_WORKING), mask=_null(occupation_head)),
    }
    keep = [c for c in joined.column_names if c not in ("family", "household", "kode_desa", "members", "members_sum")]
    for name in keep:
        columns[name] = joined.column(name)
    return pa.table(columns)


def _to_float(values: pa.Array) -> pa.Array:
    numeric = pc.match_substring_regex(values, r"^\s*-?\d+([.,]\d+)?\s*$")
    cleaned = pc.replace_substring(pc.utf8_trim_whitespace(values), ",", ".")
    safe = pc.if_else(numeric, cleaned, pa.scalar(None, pa.string()))
    return pc.cast(safe, pa.float64())


def _lookup_levels(values: pa.Array) -> np.ndarray:
    index, distinct = _encode(pc.utf8_lower(pc.utf8_trim_whitespace(values)))
    levels = np.array([EDUCATION_LEVELS.get(v, np.nan) if v else np.nan for v in distinct] + [np.nan])
    return levels[index]


def _null(values: pa.Array) -> np.ndarray:
    return pc.is_null(values).to_numpy(zero_copy_only=False)


def _in(values: pa.Array, options: Iterable[str]) -> np.ndarray:
    return pc.fill_null(pc.is_in(values, pa.array(sorted(options))), False).to_numpy(zero_copy_only=False)


def _yes(values: pa.Array) -> np.ndarray:
    lowered = pc.utf8_lower(values)
    return _in(lowered, {"ya", "y", "1", "true", "ada", "punya", "benar", "yes"})
