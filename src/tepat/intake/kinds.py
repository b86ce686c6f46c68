"""What each import kind needs from a row, and how a row becomes registry input.

A kind says which fields are required and parses one row (already mapped to canonical fields) into the
registry writer's input, naming every problem with (row, column, code). Kinds that only update persons
(deaths) say so; the pipeline does the rest the same way for all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from tepat.engine import columnar
from tepat.engine.columnar import cell_raw, cell_text, parse_cell
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
from tepat.registry import bulk
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
        return cell_text(self.row.get(name))

    def raw(self, name: str) -> Any:
        return cell_raw(self.row.get(name))

    def parsed(self, name: str, parser: Callable[[Any], Any]) -> Any:
        raw = self.raw(name)
        value, code = parse_cell(raw, parser)
        if code:
            self.issues.append(Issue(self.line, name, code, str(raw)[:200], error=False))
        return value

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

    def prepare(self, rows: list[list[Any]], lines: list[int], mapping: dict[str, int]) -> list[Any]:
        """Rows of a chunk this kind can take without a finding, read column-wise (see FamilyListHandler); None for
        a row that goes through ``check`` and ``add``. The default: every row does."""
        return [None] * len(rows)

    def accept(self, ready: Any, index: int) -> bool:
        """Take a row ``prepare`` made ready, as ``add`` would; False sends it through ``check`` and ``add``."""
        return False

    def add(self, cells: Cells, index: int) -> None:
        raise NotImplementedError

    def flush(self, writer: RegistryWriter) -> None:
        """Write what was taken so far (a one-pass import calls this after every chunk); only the family lists
        write as they go: the other kinds read the registry while they commit, so they wait for ``commit``."""

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        raise NotImplementedError

    def release(self) -> None:
        """Drop what was collected once it is committed: freed now rather than scanned by the garbage collector
        when it is switched on again after the batch (a million parsed persons took it seconds)."""


_DESIL = ("desil_national", "desil_province", "desil_regency")
# The cells family_in parses, with their parsers: a finding in any of them sends a family's first row the per-row way.
_FAMILY_PARSED: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    *((name, _int) for name in _DESIL),
    ("welfare_date", _date),
    ("floor_area_m2", _decimal),
    ("owns_car", _bool),
    ("motorcycles", _int),
)


# One empty list for every clean NIK: a million of them would be 56 MB of empty lists. Nothing appends to it.
_NO_PROBLEMS: list[str] = []
_HOUSING = ("tenure", "floor_area_m2", "floor", "wall", "roof", "drinking_water", "sanitation", "electricity",
            "cooking_fuel", "owns_car", "motorcycles")  # fmt: skip
_FAMILY_TEXT = ("family_key", "household_key", "rt", "rw", "street", "tenure", "floor", "wall", "roof",
                "drinking_water", "sanitation", "electricity", "cooking_fuel")  # fmt: skip


class FamilyListHandler(Handler):
    """Extracts and person lists: rows become persons in families (by the source's family id or the KK)."""

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.families: dict[str, FamilyIn] = {}
        self.pending: dict[int, FamilyIn] = {}  # families with members taken since the last flush
        self.mapping: dict[str, int] = {}

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
        family.size += 1
        person.position = family.size
        family.members.append(person)
        self.pending[id(family)] = family

    def flush(self, writer: RegistryWriter) -> None:
        if self.pending:
            writer.write(list(self.pending.values()))
            self.pending.clear()

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        with bulk.background_writes():
            self.flush(writer)
            return writer.close()

    def release(self) -> None:
        self.families.clear()
        self.pending.clear()

    def prepare(self, rows: list[list[Any]], lines: list[int], mapping: dict[str, int]) -> list[Any]:
        """The rows that ``check`` would accept and ``add`` would take without any issue, from whole columns.

        A row is ready when its village is known, it has a NIK or a name, its NIK passes every check with no
        finding, and every cell ``add`` parses reads cleanly; the family columns count only for the row that
        starts a family, which ``accept`` decides. Everything else goes the per-row way, which writes the report.
        """
        self.mapping = mapping
        count = len(rows)
        width = {len(row) for row in rows}
        columns = list(zip(*rows, strict=True)) if len(width) == 1 else None

        def column(name: str) -> Sequence[Any]:
            index = mapping.get(name)
            if index is None:
                return [None] * count
            if columns is not None:
                return columns[index] if index < len(columns) else [None] * count
            return [row[index] if index < len(row) else None for row in rows]

        villages = columnar.map_distinct(columnar.texts(column("village")), normalise_village_code)
        nik_texts, names = columnar.texts(column("nik")), columnar.texts(column("name"))
        sexes = columnar.map_distinct(columnar.raws(column("sex")), parse_sex)
        born = columnar.parse_column(columnar.raws(column("birth_date")), _date)
        borns = [value for value, _ in born]
        niks = columnar.raws(column("nik"))
        clean_niks = columnar.niks_without_findings(niks, sexes, borns, regions=self.regions)
        disability = columnar.parse_column(columnar.raws(column("disability")), _bool)
        relationship = columnar.parse_column(columnar.raws(column("relationship")), _relationship)
        family_ok = [True] * count
        family: dict[str, Sequence[Any]] = {}
        for name, parser in _FAMILY_PARSED:
            if mapping.get(name) is None:
                family[name] = [None] * count
                continue
            results = columnar.parse_column(columnar.raws(column(name)), parser)
            for row, (value, code) in enumerate(results):
                if code or (name in _DESIL and value is not None and not 1 <= value <= 10):
                    family_ok[row] = False
            family[name] = [value for value, _ in results]
        for name in _FAMILY_TEXT:
            family[name] = columnar.texts(column(name)) if name in mapping else [""] * count
        family["kk_raw"] = columnar.raws(column("kk"))
        birth_places = columnar.map_distinct(columnar.texts(column("birth_place")), clean_name)
        mother_names = columnar.texts(column("mother_name"))
        marital, education = columnar.texts(column("marital_status")), columnar.texts(column("education"))
        occupation = columnar.texts(column("occupation"))
        family_keys, kks = columnar.texts(column("family_key")), columnar.texts(column("kk"))
        known = self.villages
        out: list[Any] = []
        for i in range(count):
            village = villages[i]
            if (
                not clean_niks[i]
                or not village
                or village not in known
                or not (nik_texts[i] or names[i])
                or born[i][1]
                or disability[i][1]
                or relationship[i][1]
            ):
                out.append(None)
                continue
            sex = sexes[i]
            values = {
                "name": " ".join(names[i].split()),
                "sex": sex.value if sex else "",
                "birth_place": birth_places[i],
                "birth_date": borns[i],
                "mother_name": " ".join(mother_names[i].split()),
                "marital_status": marital[i],
                "education": education[i],
                "occupation": occupation[i],
                "disability": disability[i][0],
            }
            key = family_keys[i] or kks[i] or f"row:{lines[i]}"
            out.append((key, family_ok[i], niks[i], values, relationship[i][0] or "", family, i, village))
        return out

    def accept(self, ready: Any, index: int) -> bool:
        key, family_ok, nik, values, relationship, columns, i, village = ready
        family = self.families.get(key)
        if family is None:
            if not family_ok:
                return False
            family = self.families[key] = self._family(columns, i, village, index)
        family.size += 1
        family.members.append(PersonIn(index, NikIn(nik, nik, True, _NO_PROBLEMS), values, relationship, family.size))
        self.pending[id(family)] = family
        return True

    def _family(self, columns: dict[str, Sequence[Any]], i: int, village: str, record: int) -> FamilyIn:
        """What family_in gives for a row whose family cells read without a finding (see prepare)."""
        kk = check_kk(columns["kk_raw"][i], regions=self.regions)
        return FamilyIn(
            record=record,
            kk=NikIn(kk.kk, kk.raw, kk.valid, [str(p) for p in kk.problems]),
            source_key=columns["family_key"][i],
            household_key=columns["household_key"][i],
            village=village,
            rt=pad_code(columns["rt"][i], 3),
            rw=pad_code(columns["rw"][i], 3),
            street=clean_name(columns["street"][i]),
            values={name: columns[name][i] for name in (*_DESIL, "welfare_date")},
            housing={name: columns[name][i] for name in _HOUSING},
        )


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


class MovedListHandler(Handler):
    """Dukcapil move records: a person who left the region is marked moved out (with the date, as a Change).

    A move to another village inside the region is not a reason to drop anyone from a list: it is counted (the
    address comes with the next extract) and the person stays as they are.
    """

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.updates: list[PersonUpdate] = []
        self.within_region = 0

    def check(self, cells: Cells) -> None:
        require_valid_nik(cells, self.regions)

    def add(self, cells: Cells, index: int) -> None:
        from django.conf import settings

        destination = normalise_village_code(cells.text("destination")) or cells.text("destination")
        if destination in self.villages and destination.startswith(settings.TEPAT_REGION + "."):
            self.within_region += 1
            return
        moved = cells.parsed("moved_date", _date)
        self.updates.append(PersonUpdate(index, cells.text("nik"), {"vital_status": "moved_out", "moved_date": moved},
                                         name=clean_name(cells.text("name")), line=cells.line))  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        counts = writer.update_persons(self.updates)
        counts.moved_within_region = self.within_region
        return counts


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


PROPOSAL_ACTIONS = {
    **dict.fromkeys(("tambah", "baru", "usulan baru", "usul baru", "masuk", "usul masuk", "add", "penambahan",
                     "pengusulan", "diusulkan masuk"), "add"),
    **dict.fromkeys(("hapus", "keluar", "usul keluar", "usulan keluar", "dikeluarkan", "coret", "dicoret", "remove",
                     "penghapusan", "pengurangan", "diusulkan keluar"), "remove"),
}  # fmt: skip
REMOVAL_REASONS = {
    **dict.fromkeys(("pindah", "pindah domisili", "pindah alamat", "moved"), "moved"),
    **dict.fromkeys(("meninggal", "meninggal dunia", "wafat", "alm", "almarhum", "almarhumah", "died"), "died"),
    **dict.fromkeys(("mampu", "sudah mampu", "tidak miskin", "well off", "well_off"), "well_off"),
    **dict.fromkeys(("menolak", "tidak bersedia", "refused"), "refused"),
    **dict.fromkeys(("ganda", "data ganda", "duplikat", "duplicate"), "duplicate"),
}  # fmt: skip


def _key(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


_REASON_WORDS = [(re.compile(rf"\b{re.escape(phrase)}\b"), code)
                 for phrase, code in sorted(REMOVAL_REASONS.items(), key=lambda item: -len(item[0]))]  # fmt: skip


def removal_reason(text: str) -> str:
    """The reason code of a removal as villages write it ("sudah mampu (buka warung)" → well_off); '' if empty."""
    key = _key(text)
    if not key:
        return ""
    if key in REMOVAL_REASONS:
        return REMOVAL_REASONS[key]
    return next((code for pattern, code in _REASON_WORDS if pattern.search(key)), "other")


class ProposalListHandler(Handler):
    """Village proposals (usulan): additions and removals with a reason, kept for verification, never applied.

    A removal must say why (pindah, meninggal, mampu, menolak, ganda or in the village's own words) and name
    someone by a valid NIK or KK; an addition needs a name or NIK. Every proposal needs its village.
    """

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        from tepat.verification.services import ProposalIn

        self._make = ProposalIn
        self.proposals: list[Any] = []

    def check(self, cells: Cells) -> None:
        village = normalise_village_code(cells.text("village"))
        cells.row["village"] = village
        if not village:
            cells.reject("village", "village.missing")
        elif village not in self.villages:
            cells.reject("village", "village.unknown", village)
        reason = removal_reason(cells.text("reason"))
        action = PROPOSAL_ACTIONS.get(_key(cells.text("action")))
        if action is None and not cells.text("action") and reason:
            action = "remove"  # a removal reason alone says what is proposed
        if action is None:
            cells.reject("action", "proposal.action_unknown", cells.text("action"))
            return
        cells.row["action"], cells.row["reason_code"] = action, reason if action == "remove" else ""
        if action == "remove":
            if not reason:
                cells.reject("reason", "proposal.reason_missing")
            nik = check_nik(cells.raw("nik"), regions=self.regions)
            kk = check_kk(cells.raw("kk"), regions=self.regions)
            if not (nik.valid or kk.valid):
                cells.reject("nik", "proposal.identity_missing", cells.text("nik") or cells.text("kk"))
        elif not (cells.text("nik") or cells.text("name")):
            cells.reject("nik", "row.no_identity")

    def add(self, cells: Cells, index: int) -> None:
        person = person_in(cells, self.regions)
        kk = check_kk(cells.raw("kk"), regions=self.regions)
        values = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in person.values.items()
                  if v not in (None, "")}  # fmt: skip
        for name in ("rt", "rw", "street"):
            if cells.text(name):
                values[name] = cells.text(name)
        self.proposals.append(
            self._make(source_record=index, action=cells.row["action"], village=cells.row["village"],
                       nik=person.nik.nik or "", nik_raw=person.nik.raw, nik_valid=person.nik.valid,
                       kk=kk.kk if kk.valid and kk.kk else "", name=str(person.values["name"] or ""),
                       reason=cells.row["reason_code"], reason_text=cells.text("reason"), values=values,
                       line=cells.line)
        )  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        from tepat.verification.services import proposals_record

        for proposal in self.proposals:
            proposal.source_record = writer.record_ids[proposal.source_record]
        recorded = proposals_record(batch_id=writer.batch.pk, proposals=self.proposals)
        writer.counts.proposals_new = recorded.proposals
        writer.counts.persons_not_found = len(recorded.unmatched_lines)
        writer.unmatched.extend(recorded.unmatched_lines)
        return writer.counts


# Indicator names as BPS tables and planning documents write them -> indicator code.
INDICATOR_NAMES = {
    **dict.fromkeys(("p0", "p0 pct", "persentase penduduk miskin", "tingkat kemiskinan", "persentase kemiskinan",
                     "angka kemiskinan", "persentase penduduk miskin (p0)", "poverty rate"), "p0_pct"),
    **dict.fromkeys(("jumlah penduduk miskin", "jumlah penduduk miskin (ribu jiwa)", "penduduk miskin (ribu)",
                     "poor thousand"), "poor_thousand"),
    **dict.fromkeys(("kemiskinan ekstrem", "persentase penduduk miskin ekstrem", "tingkat kemiskinan ekstrem",
                     "extreme poor pct"), "extreme_poor_pct"),
}  # fmt: skip
_COMPARISONS = ("<=", ">=", "<", ">", "≤", "≥")
_AREA_LENGTHS = {2: (2,), 4: (2, 2), 6: (2, 2, 2), 10: (2, 2, 2, 4)}


def area_code(text: str) -> str:
    """A Kemendagri code of any level, dotted: ``6107`` → ``61.07``; ``61.07`` stays."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if "." in text or len(digits) not in _AREA_LENGTHS:
        return text.strip()
    parts, start = [], 0
    for width in _AREA_LENGTHS[len(digits)]:
        parts.append(digits[start : start + width])
        start += width
    return ".".join(parts)


class IndicatorHandler(Handler):
    """BPS series (kind ``bps``) and RPJMD targets (kind ``targets``): one value per area, indicator and year.

    Saved through the monitoring services; unknown areas and indicators are row errors here, so the report says
    which row, never a whole-file refusal.
    """

    targets = False

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        from tepat.areas.models import Area
        from tepat.monitoring.models import Indicator
        from tepat.monitoring.services import indicator_codes, indicators_ensure

        indicators_ensure()
        self.indicators = indicator_codes()
        self.lower_is_better = set(Indicator.objects.filter(direction="lower").values_list("code", flat=True))
        self.areas = set(Area.objects.values_list("code", flat=True))
        self.rows: list[Any] = []

    def _indicator(self, cells: Cells) -> str | None:
        text = cells.text("indicator") or self.program
        key = _key(text)
        if text in self.indicators:
            return text
        return INDICATOR_NAMES.get(key) or (key.replace(" ", "_") if key.replace(" ", "_") in self.indicators else None)

    def check(self, cells: Cells) -> None:
        code = area_code(cells.text("area") or cells.text("village"))
        column = "area" if cells.text("area") else "village"
        if not code:
            cells.reject(column, "area.missing")
        elif code not in self.areas:
            cells.reject(column, "area.unknown", code)
        cells.row["area_code"] = code
        indicator = self._indicator(cells)
        if indicator is None:
            cells.reject("indicator", "indicator.unknown", cells.text("indicator"))
        cells.row["indicator_code"] = indicator
        year = cells.parsed("year", _int)
        if year is None or not 1945 <= year <= 2100:
            cells.reject("year", "year.invalid", cells.text("year"))
        cells.row["year_int"] = year
        text = cells.text("target" if self.targets else "value") or cells.text("amount")
        comparison = ""
        for sign in _COMPARISONS:
            if text.startswith(sign):
                comparison, text = sign.replace("≤", "<=").replace("≥", ">="), text[len(sign) :].strip()
                break
        try:
            value = parse_decimal(text.removesuffix("%").strip()) if text else None
        except ValueError_:
            value = None
        if value is None:
            cells.reject("target" if self.targets else "value", "value.missing" if not text else "number.invalid", text)
        cells.row["number"] = value
        if self.targets:
            given = cells.text("comparison").replace("≤", "<=").replace("≥", ">=")
            if given and given not in ("<", "<=", ">=", ">"):
                cells.reject("comparison", "comparison.invalid", given)
            cells.row["comparison_sign"] = given or comparison

    def add(self, cells: Cells, index: int) -> None:
        from decimal import Decimal

        from tepat.monitoring.services import SeriesValueIn, TargetIn

        value = Decimal(str(cells.row["number"]))
        if not self.targets:
            self.rows.append(SeriesValueIn(cells.row["area_code"], cells.row["indicator_code"], cells.row["year_int"],
                                           value))  # fmt: skip
            return
        baseline = cells.parsed("baseline_value", _decimal)
        # Without a sign, a target is a ceiling for indicators where lower is better (poverty), else a floor.
        sign = cells.row["comparison_sign"] or ("<=" if cells.row["indicator_code"] in self.lower_is_better else ">=")
        self.rows.append(
            TargetIn(cells.row["area_code"], cells.row["indicator_code"], cells.row["year_int"], value, sign,
                     (cells.text("document") or "RPJMD")[:120], cells.parsed("baseline_year", _int),
                     Decimal(str(baseline)) if baseline is not None else None)
        )  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        from tepat.monitoring.services import series_values_save, targets_save

        if self.targets:
            counts = targets_save(targets=self.rows, batch_id=writer.batch.pk, actor=writer.batch.created_by)
        else:
            counts = series_values_save(values=self.rows, batch_id=writer.batch.pk, source=writer.batch.source.name)
        writer.counts.values_new, writer.counts.values_changed = counts.created, counts.changed
        writer.counts.values_unchanged = counts.unchanged
        return writer.counts


class TargetListHandler(IndicatorHandler):
    targets = True


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
    "moved": Kind("moved", required=("nik",), handler=MovedListHandler),
    "exclusion": Kind("exclusion", required=("nik", "exclusion"), handler=ExclusionListHandler),
    # One program per file (or a `program` column); `--program` / the form names it when the file does not.
    "program": Kind("program", required=(), one_of=("nik", "name"), handler=ProgramListHandler),
    # Village proposals: add/remove with a reason (a reason alone means removal).
    "proposal": Kind("proposal", required=("village",), one_of=("action", "reason"), handler=ProposalListHandler),
    # Indicator series (long format: area, indicator, year, value) and RPJMD targets (area, indicator, year, target).
    "bps": Kind("bps", required=("year",), one_of=("value", "amount"), handler=IndicatorHandler),
    "targets": Kind("targets", required=("year", "target"), handler=TargetListHandler),
}
