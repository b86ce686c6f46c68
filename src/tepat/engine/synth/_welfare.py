"""Welfare, work and life events of the true population, all driven by one latent welfare score per household.

One latent score keeps the DTSEN variables coherent the way real data are: an earthen floor, a 450 VA meter, a
casual labourer head and desil 1 go together, while a civil servant with a car sits in desil 9. The score lives on
the national standard-normal scale; a region differs only by its mean (`wealth`), so the national desil cut points
are fixed and a rich city like Bontang simply has few families below them (DTSEN: ~16.4k of ~190k persons in desil
1-4, about 8.6%).
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Mapping
from itertools import accumulate
from statistics import NormalDist

from tepat.engine.synth._model import NORMAL, NORMAL_STEPS, Family, Household, Person, Population

YEAR = 365.2425
PMT_NOISE = 0.4  # the proxy-means test sees welfare through ~39 observable variables, not exactly
PROVINCE_SHIFT = 0.5  # the province is richer than the nation but poorer than its best-off city
NATIONAL_CUTS = tuple(NormalDist(0.0, math.hypot(1.0, PMT_NOISE)).inv_cdf(k / 10) for k in range(1, 10))

# Welfare buckets for occupation tables (national z scale).
_Z_EDGES = (-1.0, -0.4, 0.2, 0.7, 1.2, 1.7, 2.3)

_MALE_WORK = {
    "Nelayan": (14, 10, 6, 3, 1, 0.5, 0.2, 0.1),
    "Petani": (6, 5, 3, 1.5, 0.8, 0.4, 0.2, 0.1),
    "Buruh harian lepas": (30, 28, 22, 14, 7, 3, 1, 0.5),
    "Sopir": (5, 6, 7, 6, 4, 2, 1, 0.5),
    "Tukang": (8, 9, 9, 7, 4, 2, 1, 0.5),
    "Pedagang": (6, 8, 10, 10, 8, 6, 4, 3),
    "Wiraswasta": (5, 8, 12, 15, 16, 16, 15, 14),
    "Karyawan swasta": (4, 10, 20, 28, 32, 30, 26, 22),
    "Karyawan BUMN": (0.1, 0.4, 1, 3, 6, 10, 14, 16),
    "PNS": (0.15, 0.3, 0.8, 2, 3.8, 5.5, 7, 7.5),
    "TNI/Polri": (0.1, 0.2, 0.6, 1.4, 2, 2.8, 2.8, 2.5),
    "Guru": (0.2, 0.5, 1, 2, 2, 2, 1.5, 1),
    "Tidak bekerja": (15, 8, 4, 2, 1, 0.5, 0.3, 0.2),
}
_FEMALE_WORK = {
    "Mengurus rumah tangga": (55, 55, 52, 48, 42, 36, 30, 26),
    "Buruh harian lepas": (12, 10, 6, 3, 1, 0.5, 0.3, 0.2),
    "Pedagang": (10, 10, 10, 8, 6, 4, 3, 2),
    "Wiraswasta": (4, 6, 8, 10, 11, 11, 11, 11),
    "Karyawan swasta": (2, 4, 8, 12, 14, 16, 16, 16),
    "Karyawan BUMN": (0, 0.1, 0.3, 0.8, 1.5, 3, 4, 5),
    "PNS": (0.1, 0.2, 0.7, 1.7, 3, 4.8, 6, 7),
    "Guru": (0.3, 1, 2, 3.5, 4, 4, 4, 3),
    "TNI/Polri": (0, 0, 0.05, 0.1, 0.2, 0.3, 0.3, 0.3),
    "Petani": (2, 1.5, 1, 0.5, 0.2, 0.1, 0, 0),
    "Tidak bekerja": (10, 7, 5, 4, 3, 2, 2, 2),
}
_YOUNG_WORK = {
    "Pelajar/Mahasiswa": (5, 10, 18, 28, 38, 45, 50, 55),
    "Tidak bekerja": (35, 30, 25, 20, 15, 12, 10, 8),
    "Buruh harian lepas": (25, 20, 14, 8, 4, 2, 1, 1),
    "Karyawan swasta": (10, 15, 20, 25, 25, 22, 20, 18),
    "Pedagang": (4, 4, 4, 3, 2, 2, 1, 1),
    "Nelayan": (8, 6, 3, 1, 0.5, 0.2, 0.1, 0),
}
_OLD_WORK = {
    "Pensiunan": (0.5, 1, 4, 10, 18, 25, 30, 32),
    "Tidak bekerja": (40, 40, 38, 35, 30, 25, 20, 18),
    "Petani": (8, 6, 4, 2, 1, 0.5, 0.2, 0.1),
    "Nelayan": (8, 6, 4, 2, 1, 0.5, 0.2, 0.1),
    "Pedagang": (6, 7, 7, 6, 5, 4, 3, 2),
    "Wiraswasta": (2, 3, 5, 7, 9, 10, 10, 10),
    "Buruh harian lepas": (10, 8, 5, 2, 1, 0.5, 0.2, 0.1),
}


def _table(weights: Mapping[str, tuple[float, ...]]) -> tuple[tuple[str, ...], list[tuple[float, ...]]]:
    labels = tuple(weights)
    per_bucket = [tuple(accumulate(weights[label][b] for label in labels)) for b in range(len(_Z_EDGES) + 1)]
    return labels, per_bucket


_TABLES = {
    "male": _table(_MALE_WORK),
    "female": _table(_FEMALE_WORK),
    "young": _table(_YOUNG_WORK),
    "old": _table(_OLD_WORK),
}

_ORDINAL_1970 = 719163  # date(1970, 1, 1).toordinal()
_CHILD_RELATIONS = frozenset(("Anak", "Cucu", "Famili Lain"))
_SPECIAL_WORK = frozenset(
    ("PNS", "TNI/Polri", "Guru", "Karyawan swasta", "Karyawan BUMN", "Perangkat desa", "Pelajar/Mahasiswa")
)

EDUCATION = ("Tidak/belum sekolah", "SD", "SMP", "SMA", "D1-D3", "S1+")
_EDU_CUTS = (-1.3, -0.2, 0.6, 1.9, 2.3)

# Housing: categories ordered from poorest to richest, with cut points on the noisy welfare score.
_ORDINALS: dict[str, tuple[tuple[str, ...], tuple[float, ...], float]] = {
    "jenis_lantai": (
        ("Tanah", "Bambu", "Kayu/papan", "Semen", "Ubin/tegel", "Keramik", "Marmer/granit"),
        (-2.1, -1.8, -0.6, -0.1, 0.3, 2.7),
        0.7,
    ),
    "jenis_dinding": (("Bambu", "Kayu/papan", "Tembok tanpa plester", "Tembok"), (-2.0, -0.3, 0.2), 0.7),
    "jenis_atap": (
        ("Daun/rumbia", "Kayu/sirap", "Seng", "Asbes", "Genteng", "Beton"),
        (-2.3, -1.8, 1.6, 2.0, 2.6),
        0.8,
    ),
    "sumber_air_minum": (
        (
            "Air hujan",
            "Mata air tak terlindung",
            "Sumur tak terlindung",
            "Sumur terlindung",
            "Sumur bor/pompa",
            "Ledeng",
            "Air isi ulang",
            "Air kemasan bermerk",
        ),
        (-2.3, -2.1, -1.6, -1.0, -0.4, 0.2, 2.3),
        0.8,
    ),
    "fasilitas_bab": (("Tidak ada", "Umum", "Bersama", "Sendiri"), (-2.3, -1.7, -1.0), 0.7),
    "daya_listrik": (
        ("Tanpa listrik", "450 VA", "900 VA", "1300 VA", "2200 VA", ">2200 VA"),
        (-2.4, -0.6, 0.9, 1.7, 2.4),
        0.5,
    ),
    "bahan_bakar_memasak": (
        ("Kayu bakar", "Minyak tanah", "Gas 3 kg", "Gas 5.5 kg+", "Listrik"),
        (-2.0, -1.7, 1.7, 2.7),
        0.7,
    ),
}
HOUSING_COLUMNS = (
    "status_kepemilikan_rumah",
    "luas_lantai_m2",
    "jenis_lantai",
    "jenis_dinding",
    "jenis_atap",
    "sumber_air_minum",
    "fasilitas_bab",
    "daya_listrik",
    "bahan_bakar_memasak",
    "aset_mobil",
    "aset_sepeda_motor",
)
BAD_HOUSING = frozenset(("Tanah", "Bambu", "Kayu/papan", "Daun/rumbia", "Kayu/sirap", "Tidak ada", "Umum"))
_SUBSIDY = {1: 0.95, 2: 0.95, 3: 0.95, 4: 0.95, 5: 0.9, 6: 0.5}
NONSUBSIDISED = frozenset(("1300 VA", "2200 VA", ">2200 VA"))


class WelfareAssigner:
    def __init__(self, *, rng: random.Random, today: int, wealth: float) -> None:
        self.rng = rng
        self._random = rng.random
        self.today = today
        self.wealth = wealth
        shift = PROVINCE_SHIFT * wealth
        self.province_cuts = tuple(cut + shift for cut in NATIONAL_CUTS)

    def _normal(self) -> float:
        return NORMAL[int(self._random() * NORMAL_STEPS)]

    def assign(self, population: Population) -> None:
        for household in population.households:
            self._household(household)
        self._regency_desil(population.families)

    def _age(self, person: Person) -> float:
        return (self.today - person.born) / YEAR

    def _household(self, household: Household) -> None:
        primary = household.families[0]
        head = primary.head
        size = len(primary.members)
        head_age = self._age(head)
        effect = -0.12 * (size - 3.5)
        if not head.male:
            effect -= 0.45
        if size == 1 and head_age >= 60:
            effect -= 0.35
        if head_age < 25:
            effect -= 0.2
        if primary.arrived:
            effect -= 0.15
        n = self._normal
        z = self.wealth + 0.9 * n() + effect
        for index, family in enumerate(household.families):
            family.z = z if index == 0 else z - 0.15 + 0.3 * n()
            family.pmt = family.z + PMT_NOISE * n()
            family.desil = 1 + bisect(NATIONAL_CUTS, family.pmt)
            family.desil_prov = 1 + bisect(self.province_cuts, family.pmt)
            # Extreme-poor families are the least visible to officers: no documents, not at the RT meeting.
            family.reach = n() - (0.7 if family.desil == 1 else 0.0)
            village_is_desa = not household.village.urban
            for person in family.members:
                self._person(person, family, village_is_desa)
        self._housing(household, z)

    def _person(self, person: Person, family: Family, desa: bool) -> None:
        u = self._random
        age = (self.today - person.born) / YEAR
        z = family.z
        person.disabled = u() < 0.015 + (0.05 if age >= 65 else 0.0) + (0.01 if z < -0.5 else 0.0)
        if age < 18:
            person.marital = "Belum Kawin"
            if age < 6.5:
                person.education, person.occupation = EDUCATION[0], "Tidak bekerja"
                return
            level = 1 if age < 12.5 else 2 if age < 15.5 else 3
            if age >= 13 and u() < max(0.01, 0.12 - 0.08 * z):  # dropped out
                person.education = EDUCATION[level - 1]
                person.occupation = "Buruh harian lepas" if age >= 15 and u() < 0.4 else "Tidak bekerja"
            else:
                person.education, person.occupation = EDUCATION[level], "Pelajar/Mahasiswa"
            return
        # Schooling rose with every cohort until about 2000 (wajib belajar 9 tahun, 1994).
        cohort = (min(2000.0, (person.born - _ORDINAL_1970) / YEAR + 1970) - 1975) / 20
        education = bisect(_EDU_CUTS, 0.7 * z + cohort + 0.75 * NORMAL[int(u() * NORMAL_STEPS)])
        if age < 22:
            education = min(education, 3)  # nobody finishes a degree before 22; students are handled below
        if age < 26 and person.marital == "Belum Kawin" and person.relation in _CHILD_RELATIONS:
            table = "young"
        elif age >= 58:
            table = "old"
        else:
            table = "male" if person.male else "female"
        labels, per_bucket = _TABLES[table]
        cum = per_bucket[bisect(_Z_EDGES, z)]
        occupation = labels[bisect(cum, u() * cum[-1])]
        if table == "old" and not person.male and occupation in ("Tidak bekerja", "Pensiunan") and u() < 0.5:
            occupation = "Mengurus rumah tangga"
        if desa and table in ("male", "female") and person.relation == "Kepala Keluarga" and u() < 0.02:
            occupation = "Perangkat desa"
        if occupation in _SPECIAL_WORK:
            education = self._special(person, occupation, education, z, age)
        person.education = EDUCATION[education]
        person.occupation = occupation

    def _special(self, person: Person, occupation: str, education: int, z: float, age: float) -> int:
        """Exclusion kinds and the education the job requires."""
        u = self._random
        kinds: list[str] = []
        if occupation == "PNS":
            kinds.append("asn")
            education = max(education, 4 if u() < 0.2 else 5)
            if u() < 0.3:
                kinds.append("guru_sertifikasi")
        elif occupation == "TNI/Polri":
            kinds.append("tni_polri")
            education = max(education, 3)
        elif occupation == "Guru":
            education = max(education, 4)
            if u() < 0.35:
                kinds.append("guru_sertifikasi")
        elif occupation in ("Karyawan swasta", "Karyawan BUMN"):
            above = 0.9 if occupation == "Karyawan BUMN" else 0.75 if z > 1.0 else 0.35 if z > 0.4 else 0.05
            if u() < above:
                kinds.append("upah_di_atas_umk")
        elif occupation == "Perangkat desa":
            kinds.append("perangkat_desa")
        elif occupation == "Pelajar/Mahasiswa":
            education = max(education, 4 if u() < 0.3 else 5) if age >= 18.5 else max(education, 3)
        person.kinds = tuple(kinds)
        return education

    def _housing(self, household: Household, z: float) -> None:
        rng = self.rng
        primary = household.families[0]
        head = primary.head
        n = self._normal
        values = {column: labels[bisect(cuts, z + noise * n())] for column, (labels, cuts, noise) in _ORDINALS.items()}
        size = sum(len(family.members) for family in household.families)
        adults = sum(1 for family in household.families for p in family.members if self._age(p) >= 17)
        young_renters = (primary.arrived or self._age(head) < 33) and len(household.families) == 1
        if head.occupation in ("PNS", "TNI/Polri", "Karyawan BUMN") and rng.random() < 0.2:
            tenure = "Dinas"  # company and barracks housing: Bontang's fertiliser and LNG plants, the garrison
        elif rng.random() < (0.55 if young_renters else 0.12):
            tenure = "Kontrak" if rng.random() < 0.5 else "Sewa"
        elif rng.random() < 0.06:
            tenure = "Bebas sewa"
        else:
            tenure = "Milik sendiri"
        area = 40.0 * math.exp(0.25 * z + 0.35 * n()) * (1 + 0.05 * (size - 3))
        car = rng.random() < 1.0 / (1.0 + math.exp(-2.0 * (z - 1.9)))
        motorbikes = max(0, min(5, round(0.2 + 0.45 * z + 0.3 * adults + 0.7 * n())))
        daya = values["daya_listrik"]
        # 900 VA is subsidised only for families in the social registry (DTKS, roughly desil 1-4 and some 5-6).
        subsidised = daya == "450 VA" or (daya == "900 VA" and rng.random() < _SUBSIDY.get(primary.desil, 0.0))
        household.daya = daya
        household.pln_nonsub = daya in NONSUBSIDISED or (daya == "900 VA" and not subsidised)
        household.car = car
        household.housing = (
            tenure,
            str(max(9, min(400, round(area)))),
            values["jenis_lantai"],
            values["jenis_dinding"],
            values["jenis_atap"],
            values["sumber_air_minum"],
            values["fasilitas_bab"],
            daya,
            values["bahan_bakar_memasak"],
            "Ya" if car else "Tidak",
            str(motorbikes),
        )

    @staticmethod
    def _regency_desil(families: list[Family]) -> None:
        """Regency desil: deciles of the region's own persons, ranked by the same PMT score."""
        ranked = sorted(families, key=lambda family: family.pmt)
        total = sum(len(family.members) for family in ranked)
        before = 0
        for family in ranked:
            size = len(family.members)
            family.desil_kab = min(10, 1 + int(10 * (before + size / 2) / total))
            before += size


# --- life events ------------------------------------------------------------------------------------------------

DEATH_SHARE = 0.006  # of persons, over the three years before the snapshot
MOVE_FAMILY = 0.004
MOVE_YOUNG = 0.026


def _death_weight(age: float) -> float:
    if age < 1:
        return 3.0
    if age < 15:
        return 0.3
    if age < 45:
        return 1.0
    if age < 60:
        return 4.0
    if age < 70:
        return 12.0
    if age < 80:
        return 30.0
    return 70.0


def assign_events(population: Population, *, rng: random.Random, today: int) -> None:
    """Deaths in the last three years (age-graded) and moves out of the region in the last two."""
    persons = population.persons
    weights = [_death_weight((today - p.born) / YEAR) for p in persons]
    scale = DEATH_SHARE * len(persons) / sum(weights)
    for person, weight in zip(persons, weights, strict=True):
        if rng.random() < weight * scale:
            span = min(1095, today - person.born)
            person.died = today - 1 - int(rng.random() * max(1, span - 1))
    for family in population.families:
        if family.arrived:  # just came; they are not leaving again yet
            continue
        whole = rng.random() < MOVE_FAMILY
        date_ = today - 1 - int(rng.random() * 730)
        for person in family.members:
            if person.died:
                continue
            age = (today - person.born) / YEAR
            if whole or (17 <= age < 40 and rng.random() < MOVE_YOUNG):
                person.moved = max(date_ if whole else today - 1 - int(rng.random() * 730), person.born + 1)
