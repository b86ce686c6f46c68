"""What each import kind needs from a row, and how a row becomes registry input.

A kind says which fields are required and parses one row (already mapped to canonical fields) into the
registry writer's input, naming every problem with (row, column, code). Kinds that only update persons
(deaths) say so; the pipeline does the rest the same way for all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tepat.engine.identity import RegionCodes, Severity, check_kk, check_nik, parse_sex
from tepat.engine.values import (
    ValueError_,
    clean_name,
    normalise_village_code,
    pad_code,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_relationship,
)
from tepat.registry.writer import (
    BenefitIn,
    CommitCounts,
    ExclusionIn,
    FamilyIn,
    NikIn,
    PersonIn,
    PersonUpdate,
    RegistryWriter,
)

# Cell parsers are pure and lists repeat values (dates, codes, categories) thousands of times.
_date = lru_cache(maxsize=1 << 16)(parse_date)
_int = lru_cache(maxsize=1 << 12)(parse_int)
_bool = lru_cache(maxsize=1 << 8)(parse_bool)
_decimal = lru_cache(maxsize=1 << 12)(parse_decimal)
_relationship = lru_cache(maxsize=1 << 8)(parse_relationship)


@dataclass(frozen=True, slots=True)
class Issue:
    row: int
    column: str
    code: str
    value: str = ""
    error: bool = True


@dataclass
class Cells:
    """One row mapped to canonical fields, with the issues found while reading it."""

    row: dict[str, Any]
    line: int
    issues: list[Issue] = field(default_factory=list)

    def text(self, name: str) -> str:
        value = self.row.get(name)
        if type(value) is str:  # CSV cells, and most workbook cells
            return value.strip()
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        return str(value).strip()

    def raw(self, name: str) -> Any:
        value = self.row.get(name)
        return value.strip() if isinstance(value, str) else value

    def parsed(self, name: str, parser: Callable[[Any], Any]) -> Any:
        raw = self.raw(name)
        if raw is None or raw == "":
            return None
        try:
            return parser(raw)
        except ValueError_ as exc:
            self.issues.append(Issue(self.line, name, exc.code, str(raw)[:200], error=False))
            return None
        except TypeError:  # an unhashable or odd cell type from a workbook
            self.issues.append(Issue(self.line, name, "value.invalid", str(raw)[:200], error=False))
            return None

    def reject(self, column: str, code: str, value: Any = "") -> None:
        self.issues.append(Issue(self.line, column, code, str(value)[:200], error=True))

    @property
    def rejected(self) -> bool:
        return any(issue.error for issue in self.issues)


def nik_in(cells: Cells, regions: RegionCodes, *, sex: Any = None, born: Any = None) -> NikIn:
    check = check_nik(cells.raw("nik"), regions=regions, sex=sex, born=born)
    for problem in check.problems:
        if problem.severity is Severity.WARNING:
            cells.issues.append(Issue(cells.line, "nik", problem.value, check.raw[:200], error=False))
    if not check.valid:
        reason = next(p for p in check.problems if p.severity is Severity.ERROR)
        cells.issues.append(Issue(cells.line, "nik", reason.value, check.raw[:200], error=False))
    return NikIn(check.nik, check.raw, check.valid, [str(p) for p in check.problems])


def person_in(cells: Cells, regions: RegionCodes) -> PersonIn:
    sex = parse_sex(cells.raw("sex"))
    born = cells.parsed("birth_date", _date)
    return PersonIn(
        record=0,
        nik=nik_in(cells, regions, sex=sex, born=born),
        values={
            "name": clean_name(cells.text("name")),
            "sex": sex.value if sex else "",
            "birth_place": clean_name(cells.text("birth_place")),
            "birth_date": born,
            "mother_name": clean_name(cells.text("mother_name")),
            "marital_status": cells.text("marital_status"),
            "education": cells.text("education"),
            "occupation": cells.text("occupation"),
            "disability": cells.parsed("disability", _bool),
        },
        relationship=cells.parsed("relationship", _relationship) or "",
    )


def family_in(cells: Cells, village: str, regions: RegionCodes, record: int) -> FamilyIn:
    """Family and housing columns, read from the first row of each family (extracts repeat them per member)."""
    desil = [cells.parsed(name, _int) for name in ("desil_national", "desil_province", "desil_regency")]
    for index, (name, value) in enumerate(
        zip(("desil_national", "desil_province", "desil_regency"), desil, strict=True)
    ):
        if value is not None and not 1 <= value <= 10:
            cells.issues.append(Issue(cells.line, name, "desil.range", str(value), error=False))
            desil[index] = None
    kk = check_kk(cells.raw("kk"), regions=regions)
    return FamilyIn(
        record=record,
        kk=NikIn(kk.kk, kk.raw, kk.valid, [str(p) for p in kk.problems]),
        source_key=cells.text("family_key"),
        household_key=cells.text("household_key"),
        village=village,
        rt=pad_code(cells.text("rt"), 3),
        rw=pad_code(cells.text("rw"), 3),
        street=clean_name(cells.text("street")),
        values={
            "desil_national": desil[0],
            "desil_province": desil[1],
            "desil_regency": desil[2],
            "welfare_date": cells.parsed("welfare_date", _date),
        },
        housing={
            "tenure": cells.text("tenure"),
            "floor_area_m2": cells.parsed("floor_area_m2", _decimal),
            "floor": cells.text("floor"),
            "wall": cells.text("wall"),
            "roof": cells.text("roof"),
            "drinking_water": cells.text("drinking_water"),
            "sanitation": cells.text("sanitation"),
            "electricity": cells.text("electricity"),
            "cooking_fuel": cells.text("cooking_fuel"),
            "owns_car": cells.parsed("owns_car", _bool),
            "motorcycles": cells.parsed("motorcycles", _int),
        },
    )


_VILLAGE_PREFIXES = ("kelurahan ", "kel. ", "kel ", "desa ", "ds. ", "ds ")


def village_key(name: str) -> str:
    """'KELURAHAN BONTANG KUALA', 'Kel. Bontang Kuala' and 'bontang  kuala' are the same village name."""
    text = " ".join(name.lower().replace("-", " ").split())
    for prefix in _VILLAGE_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.replace(" ", "")


def require_valid_nik(cells: Cells, regions: RegionCodes) -> None:
    """Lists that only say something about a person (deaths, exclusions) are useless without a valid NIK."""
    check = check_nik(cells.raw("nik"), regions=regions)
    if check.valid:
        cells.row["nik"] = check.nik
    else:
        reason = next((p for p in check.problems if p.severity is Severity.ERROR), None)
        cells.reject("nik", reason.value if reason else "nik.empty", check.raw)


class Handler:
    """One import kind: checks an accepted-so-far row, collects what it means, and commits the collection."""

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        self.regions, self.villages, self.program = regions, villages, program

    def check(self, cells: Cells) -> None:
        """Add rejections for rows this kind cannot use."""

    def add(self, cells: Cells, index: int) -> None:
        raise NotImplementedError

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        raise NotImplementedError


class FamilyListHandler(Handler):
    """Extracts and person lists: rows become persons in families (by the source's family id or the KK)."""

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.families: dict[str, FamilyIn] = {}

    def check(self, cells: Cells) -> None:
        village = normalise_village_code(cells.text("village"))
        cells.row["village"] = village
        if not village:
            cells.reject("village", "village.missing")
        elif village not in self.villages:
            cells.reject("village", "village.unknown", village)
        if not (cells.text("nik") or cells.text("name")):
            cells.reject("nik", "row.no_identity")

    def add(self, cells: Cells, index: int) -> None:
        person = person_in(cells, self.regions)
        person.record = index
        key = cells.text("family_key") or cells.text("kk") or f"row:{cells.line}"
        family = self.families.get(key)
        if family is None:
            family = self.families[key] = family_in(cells, cells.text("village"), self.regions, index)
        person.position = len(family.members) + 1
        family.members.append(person)

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        return writer.commit(list(self.families.values()))


class DeathListHandler(Handler):
    """Dukcapil death records: the matched person is marked deceased with the date (BPK: 1.69 M dead still active)."""

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.updates: list[PersonUpdate] = []

    def check(self, cells: Cells) -> None:
        require_valid_nik(cells, self.regions)

    def add(self, cells: Cells, index: int) -> None:
        died = cells.parsed("death_date", _date)
        self.updates.append(PersonUpdate(index, cells.text("nik"), {"vital_status": "deceased", "death_date": died},
                                         name=clean_name(cells.text("name")), line=cells.line))  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        return writer.update_persons(self.updates)


EXCLUSION_KINDS = {
    "asn": "asn", "pns": "asn", "pppk": "asn", "aparatur sipil negara": "asn", "tni": "tni_polri", "polri": "tni_polri",
    "tni/polri": "tni_polri", "tni_polri": "tni_polri", "guru sertifikasi": "guru_sertifikasi",
    "guru_sertifikasi": "guru_sertifikasi", "pln 900 va": "pln_900va_nonsubsidi",
    "pln_900va_nonsubsidi": "pln_900va_nonsubsidi",
    "listrik 900 va non subsidi": "pln_900va_nonsubsidi", "pemilik mobil": "pemilik_mobil", "mobil": "pemilik_mobil",
    "pemilik_mobil": "pemilik_mobil", "upah di atas umk": "upah_di_atas_umk", "upah_di_atas_umk": "upah_di_atas_umk",
    "upah di atas ump": "upah_di_atas_umk", "perangkat desa": "perangkat_desa", "perangkat_desa": "perangkat_desa",
    "pengusaha terdaftar": "pengusaha", "pengusaha": "pengusaha",
}  # fmt: skip


class ExclusionListHandler(Handler):
    """Custodians' matches (BKN, PLN, Samsat, BPJS-TK, …): kept as findings by NIK, linked to the person if known."""

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.findings: list[ExclusionIn] = []

    def check(self, cells: Cells) -> None:
        require_valid_nik(cells, self.regions)
        kind = " ".join(cells.text("exclusion").lower().replace("-", " ").split())
        if kind not in EXCLUSION_KINDS:
            cells.reject("exclusion", "exclusion.unknown", cells.text("exclusion"))
        else:
            cells.row["exclusion"] = EXCLUSION_KINDS[kind]

    def add(self, cells: Cells, index: int) -> None:
        self.findings.append(ExclusionIn(index, cells.text("nik"), cells.text("exclusion"),
                                         note=cells.text("note")[:200], issuer=cells.text("issuer")[:100]))  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        return writer.record_exclusions(self.findings)


class ProgramListHandler(Handler):
    """Recipient lists (PKH, Sembako, PBI-JK, PIP, RTLH, CSR, BAZNAS…): one ledger row per recipient and period.

    A row is kept even when its NIK is damaged or unknown to the registry (warned, not rejected): the payment
    happened, and who received it is exactly what the ledger must show. It needs some identity and a program.
    """

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.benefits: list[BenefitIn] = []
        self._names: dict[str, str | None] | None = None

    def _village_by_name(self, name: str) -> str | None:
        """Agency sheets often name the kelurahan instead of coding it; names unique within the region resolve."""
        if self._names is None:
            from django.conf import settings

            from tepat.areas.models import Area, Level
            from tepat.areas.selectors import within_q

            self._names = {}
            for code, village in Area.objects.filter(within_q(settings.TEPAT_REGION), level=Level.VILLAGE).values_list(
                "code", "name"
            ):
                key = village_key(village)
                self._names[key] = None if key in self._names else code  # a name twice in the region is ambiguous
        return self._names.get(village_key(name))

    def check(self, cells: Cells) -> None:
        if not (cells.text("nik") or cells.text("name")):
            cells.reject("nik", "row.no_identity")
        if not (cells.text("program") or self.program):
            cells.reject("program", "program.missing")

    def add(self, cells: Cells, index: int) -> None:
        village: str | None = normalise_village_code(cells.text("village"))
        if village not in self.villages:
            village = self._village_by_name(cells.text("village_name")) if cells.text("village_name") else None
        self.benefits.append(
            BenefitIn(
                record=index,
                program=(cells.text("program") or self.program)[:80],
                period=cells.text("period")[:20],
                amount=cells.parsed("amount", _decimal),
                nik=nik_in(cells, self.regions),
                name=clean_name(cells.text("name")),
                village=village,
                line=cells.line,
            )
        )

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        return writer.record_benefits(self.benefits)


@dataclass(frozen=True)
class Kind:
    code: str
    required: tuple[str, ...]
    one_of: tuple[str, ...] = ()  # at least one of these
    handler: type[Handler] = FamilyListHandler


KINDS: dict[str, Kind] = {
    # A national extract: one row per person, families by the source's family id or KK.
    "dtsen": Kind("dtsen", required=("nik", "name", "village"), one_of=("family_key", "kk")),
    # A person list (the DESIGN template): persons by NIK, families by KK; any column may be empty, but a row
    # needs a NIK or a name, and a village code to be placed.
    "person": Kind("person", required=("village",), one_of=("nik", "name")),
    "death": Kind("death", required=("nik",), handler=DeathListHandler),
    "exclusion": Kind("exclusion", required=("nik", "exclusion"), handler=ExclusionListHandler),
    # One program per file (or a `program` column); `--program` / the form names it when the file does not.
    "program": Kind("program", required=(), one_of=("nik", "name"), handler=ProgramListHandler),
}
