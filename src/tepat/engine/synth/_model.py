"""The true population the generator invents: persons, families (KK) and households (rumah tangga).

Plain slotted classes rather than dataclasses: a regency has ~200k persons and every attribute access counts.
Dates are proleptic ordinals (date.toordinal) until they are written out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import NormalDist

from tepat.engine.synth._reference import Village

# Standard normal quantiles on a fine grid: indexing it with rng.random() draws a normal variate at a third of
# random.gauss's cost, which matters with ~15 draws per household. Tails beyond 3.7 sigma do not matter here.
NORMAL_STEPS = 4096
NORMAL = tuple(NormalDist().inv_cdf((i + 0.5) / NORMAL_STEPS) for i in range(NORMAL_STEPS))


class Person:
    __slots__ = (
        "birthplace",
        "born",
        "died",
        "disabled",
        "education",
        "family",
        "kinds",
        "male",
        "marital",
        "mother",
        "moved",
        "name",
        "nik",
        "nik_district",
        "occupation",
        "pid",
        "relation",
    )

    def __init__(self, name: str, male: bool, born: int, relation: str, mother: str, marital: str) -> None:
        self.pid = ""
        self.nik = ""
        self.nik_district = ""  # dotted district code of first registration
        self.birthplace = ""
        self.name = name
        self.male = male
        self.born = born
        self.relation = relation
        self.mother = mother  # nama ibu kandung
        self.marital = marital
        self.education = ""
        self.occupation = ""
        self.disabled = False
        self.family: Family | None = None
        self.died = 0  # ordinal of death, 0 when alive
        self.moved = 0  # ordinal of moving out of the region, 0 when still resident
        self.kinds: tuple[str, ...] = ()  # personal exclusion kinds: asn, tni_polri, guru_sertifikasi, ...

    @property
    def status(self) -> str:
        return "meninggal" if self.died else "pindah" if self.moved else "hidup"

    @property
    def sex(self) -> str:
        return "L" if self.male else "P"


class Family:
    """A KK: the unit DTSEN ranks into desil and most programs pay."""

    __slots__ = (
        "arrived",
        "christian",
        "data_date",
        "desil",
        "desil_kab",
        "desil_prov",
        "fid",
        "group",
        "household",
        "issued",
        "kk",
        "members",
        "pmt",
        "reach",
        "z",
    )

    def __init__(self, group: str, christian: bool) -> None:
        self.fid = ""
        self.kk = ""
        self.group = group
        self.christian = christian
        self.members: list[Person] = []
        self.household: Household | None = None
        self.z = 0.0  # latent welfare (national standard-normal scale)
        self.pmt = 0.0  # what the proxy-means test sees: latent + measurement noise
        self.desil = 0
        self.desil_prov = 0
        self.desil_kab = 0
        self.issued = 0  # KK issuance date
        self.data_date = 0  # tanggal_data of the DTSEN record
        self.arrived = 0  # 0 = not a recent in-migrant; else the ordinal of arrival in the region
        self.reach = 0.0  # how visible the family is to officers: the same families get every program

    @property
    def head(self) -> Person:
        return self.members[0]


class Household:
    """A rumah tangga: one dwelling, one kitchen; ~6% hold a married child's family as well."""

    __slots__ = ("address", "car", "daya", "families", "hid", "housing", "order", "pln_nonsub", "rt", "rw", "village")

    def __init__(self, village: Village) -> None:
        self.hid = ""
        self.order = 0
        self.village = village
        self.rt = ""
        self.rw = ""
        self.address = ""
        self.families: list[Family] = []
        self.housing: tuple[str, ...] = ()  # extract columns status_kepemilikan_rumah .. aset_sepeda_motor
        self.car = False
        self.daya = ""
        self.pln_nonsub = False


@dataclass
class Population:
    households: list[Household]
    families: list[Family]
    persons: list[Person]
    # (married child in their own KK, the parents' KK that still lists them): source of the "NIK in two KK" finding
    married_children: list[tuple[Person, Family]] = field(default_factory=list)
