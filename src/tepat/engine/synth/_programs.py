"""Recipient lists as agencies and partners send them to the TKPK, with their targeting errors and defects.

Selection is correlated across programs through one "reach" score per family (how visible the family is to the
RT, the village office and the field officers): that is why, in every regency, the same families appear on many
lists while a good share of desil 1 families appears on none. Targeting errors are not injected separately: a
recipient whose family sits above the program's desil ceiling, has a civil servant, a car or a non-subsidised
meter is flagged from the truth, so the ground truth always agrees with the data.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from statistics import NormalDist

from tepat.engine.synth import _names as names
from tepat.engine.synth._defects import NIK_CELL_DEFECTS, Defect, DefectRow, damage_nik, excel_nik, wrong_birth
from tepat.engine.synth._model import NORMAL, NORMAL_STEPS, Family, Household, Person, Population
from tepat.engine.synth._reference import Region
from tepat.engine.synth._registry import EXCLUSION_KINDS, LifeRecords, iso, write_rows
from tepat.engine.synth._welfare import BAD_HOUSING

YEAR = 365.2425
REACH_CORRELATION = 0.75
COMPANY = "PT Samudra Karya Nusantara"  # fictional CSR partner

TEMPLATE = (
    "record_id",
    "nik",
    "no_kk",
    "nama",
    "jenis_kelamin",
    "tempat_lahir",
    "tanggal_lahir",
    "hubungan_keluarga",
    "nama_ibu_kandung",
    "alamat",
    "rt",
    "rw",
    "kode_desa",
    "program",
    "periode",
    "nominal",
)
# Dinas Perkim's spreadsheet: Indonesian headers, ';', dd/mm/yyyy, upper case, village by name.
PERKIM_HEADER = (
    "NO",
    "NIK",
    "NO KK",
    "NAMA LENGKAP",
    "JK",
    "TEMPAT LAHIR",
    "TGL LAHIR",
    "ALAMAT",
    "RT",
    "RW",
    "KELURAHAN",
    "KECAMATAN",
    "HUB KELUARGA",
    "PROGRAM",
    "PERIODE",
    "NOMINAL",
    "KONDISI RUMAH",
)


@dataclass(frozen=True)
class Program:
    key: str
    file: str
    label: str
    funder: str
    unit: str  # family | members | students | household
    max_desil: int  # eligibility ceiling (Kepmensos 79/HUK/2025 for the national programs)
    coverage: float  # share of eligible units reached
    inclusion: float  # share of recipients above the ceiling
    period: str  # quarter | month | year
    style: str  # template | excel | perkim | partner
    prefix: str
    recipient: str = "head"  # head | mother | head_or_wife
    extra: tuple[str, ...] = ()
    blank: frozenset[str] = frozenset()
    missing_birth: float = 1.0  # multiplier: partners often leave the birth date out


PROGRAMS = (
    Program("pkh", "program_pkh.csv", "PKH", "Kemensos (APBN)", "family", 4, 0.62, 0.1, "quarter", "template",
            "PKH", recipient="mother", extra=("komponen",)),
    Program("sembako", "program_sembako.csv", "Sembako (BPNT)", "Kemensos (APBN)", "family", 5, 0.6, 0.1, "quarter",
            "excel", "BPNT", recipient="head_or_wife", blank=frozenset({"nama_ibu_kandung"})),
    Program("pbi_jk", "program_pbi_jk.csv", "PBI-JK", "Kemensos/BPJS Kesehatan (APBN)", "members", 5, 0.72, 0.08,
            "month", "template", "PBI"),
    Program("pip", "program_pip.csv", "PIP", "Kemendikdasmen (APBN)", "students", 4, 0.6, 0.12, "year", "template",
            "PIP", extra=("jenjang",)),
    Program("rtlh", "program_rtlh.csv", "BEDAH RUMAH (RTLH)", "Dinas Perkim (APBD)", "household", 5, 0.18, 0.08,
            "year", "perkim", ""),
    Program("csr", "program_csr.csv", f"CSR {COMPANY} - Paket Sembako", COMPANY, "family", 5, 0.25, 0.3, "month",
            "partner", "CSR", extra=("perusahaan",),
            blank=frozenset({"no_kk", "nama_ibu_kandung", "hubungan_keluarga"}), missing_birth=6.0),
    Program("baznas", "program_baznas.csv", "BAZNAS - Bantuan Konsumtif Fakir Miskin", "BAZNAS", "family", 4, 0.15,
            0.1, "quarter", "partner", "BZN", extra=("asnaf",), blank=frozenset({"nama_ibu_kandung"})),
)  # fmt: skip

_PKH_AMOUNTS = {"balita": 750_000, "sd": 225_000, "smp": 375_000, "sma": 500_000, "lansia": 600_000,
                "disabilitas": 600_000}  # fmt: skip  # per quarter
_PIP_AMOUNTS = {"SD": 450_000, "SMP": 750_000, "SMA": 1_800_000}
_EXCEL_STYLES = (Defect.NIK_EXCEL_SCIENTIFIC, Defect.NIK_EXCEL_FLOAT, Defect.NIK_EXCEL_TRUNCATED, None)


def period_of(kind: str, snapshot: date) -> tuple[str, date]:
    if kind == "quarter":
        quarter = (snapshot.month - 1) // 3 + 1
        return f"{snapshot.year}-Q{quarter}", date(snapshot.year, 3 * quarter - 2, 1)
    if kind == "month":
        return f"{snapshot.year}-{snapshot.month:02d}", date(snapshot.year, snapshot.month, 1)
    return str(snapshot.year), date(snapshot.year, 1, 1)


class Row:
    __slots__ = ("cells", "defects", "dup_of", "family", "number", "person")

    def __init__(self, person: Person, family: Family, cells: dict[str, str], defects: list[tuple[Defect, str]]):
        self.person = person
        self.family = family
        self.cells = cells
        self.defects = defects
        self.dup_of: Row | None = None
        self.number = 0


@dataclass
class ProgramList:
    program: Program
    periode: str
    start: date
    rows: list[Row]
    excel_styles: dict[str, str]


class ProgramBuilder:
    def __init__(
        self,
        *,
        population: Population,
        region: Region,
        records: LifeRecords,
        rng: random.Random,
        rates: dict[Defect, float],
        defect_rate: float,
        snapshot: date,
    ) -> None:
        self.population = population
        self.region = region
        self.records = records
        self.rng = rng
        self.rates = rates
        self.defect_rate = defect_rate
        self.snapshot = snapshot
        self.today = snapshot.toordinal()
        districts = list(region.districts)
        ring_size = max(1, len(districts) // 3)
        start = int(rng.random() * len(districts))
        # The company's "ring 1": the districts around its plant.
        self.csr_ring = frozenset(districts[(start + i) % len(districts)] for i in range(ring_size))
        self._components: dict[str, list[str]] = {}  # PKH components per family, for the quarter

    # --- who is present, eligible, selected ----------------------------------------------------------------------

    @staticmethod
    def _present(person: Person, start: int) -> bool:
        return (not person.died or person.died >= start) and (not person.moved or person.moved >= start)

    def _age(self, person: Person, at: int) -> float:
        return (at - person.born) / YEAR

    def _students(self, family: Family, start: int) -> list[Person]:
        youngest, oldest = start - 19 * YEAR, start - 6 * YEAR
        return [
            p
            for p in family.members
            if p.occupation == "Pelajar/Mahasiswa"
            and p.education in _PIP_AMOUNTS
            and youngest < p.born <= oldest
            and (not p.died or p.died >= start)
            and (not p.moved or p.moved >= start)
        ]

    def _pkh_components(self, family: Family, start: int) -> list[str]:
        cached = self._components.get(family.fid)
        if cached is not None:
            return cached
        components: list[str] = []
        under6, under21, over60 = start - 6 * YEAR, start - 21 * YEAR, start - 60 * YEAR
        for p in family.members:
            if (p.died and p.died < start) or (p.moved and p.moved < start):
                continue
            if p.born > under6:
                components.append("balita")
            elif p.occupation == "Pelajar/Mahasiswa" and p.education in _PIP_AMOUNTS and p.born > under21:
                components.append(p.education.lower())
            elif p.born <= over60:
                components.append("lansia")
            elif p.disabled:
                components.append("disabilitas")
        components = components[:4]  # PKH pays at most four components per family
        self._components[family.fid] = components
        return components

    def _pool(self, program: Program, start: int) -> list[Family]:
        """Families that meet the program's own condition, whatever their desil."""
        families = self.population.families
        key = program.key
        if key == "pkh":
            return [f for f in families if self._pkh_components(f, start)]
        if key == "pip":
            return [f for f in families if self._students(f, start)]
        if key == "rtlh":
            return [h.families[0] for h in self.population.households if _bad_housing(h) >= 2]
        if key == "csr":
            ring = self.csr_ring
            return [f for f in families if f.household and f.household.village.district in ring]
        if key == "baznas":
            return [f for f in families if not f.christian]
        return families

    def _select(self, program: Program, start: int) -> list[Family]:
        rng = self.rng
        rand = rng.random
        threshold = NormalDist().inv_cdf(1.0 - program.coverage)
        noise = math.sqrt(1.0 - REACH_CORRELATION**2)
        ceiling = program.max_desil
        selected: list[Family] = []
        candidates: list[tuple[float, Family]] = []
        for family in self._pool(program, start):
            if family.desil <= ceiling:
                if REACH_CORRELATION * family.reach + noise * NORMAL[int(rand() * NORMAL_STEPS)] > threshold:
                    selected.append(family)
            else:
                # Efraimidis-Spirakis keys: weighted sampling without replacement, near desils and visible
                # families first.
                weight = math.exp(0.8 * family.reach) / (family.desil - ceiling) ** 2
                candidates.append((math.log(1.0 - rand()) / weight, family))
        wanted = round(len(selected) * program.inclusion / (1.0 - program.inclusion))
        candidates.sort(key=lambda item: (-item[0], item[1].fid))
        return selected + [family for _, family in candidates[:wanted]]

    # --- rows --------------------------------------------------------------------------------------------------

    def _stale(self, person: Person, start: int) -> tuple[Defect, str] | None:
        """A recipient gone before the period who is still on the list, as Dukcapil could have told."""
        if person.died and person.died < start:
            if person.pid in self.records.deaths and self.rng.random() < self.rates[Defect.DEAD_RECIPIENT]:
                return Defect.DEAD_RECIPIENT, f"died {iso(person.died)}, period starts {iso(start)}"
        elif person.moved and person.moved < start:
            target = self.records.moves_out.get(person.pid)
            if target and self.rng.random() < self.rates[Defect.MOVED_RECIPIENT]:
                return Defect.MOVED_RECIPIENT, f"moved {iso(person.moved)} to {target}"
        return None

    def _recipient(
        self, program: Program, family: Family, start: int
    ) -> tuple[Person, list[tuple[Defect, str]]] | None:
        members = family.members
        natural = members[0]
        if program.recipient == "mother":
            natural = next((p for p in members if not p.male and p.relation in ("Kepala Keluarga", "Istri")), natural)
        elif program.recipient == "head_or_wife" and self.rng.random() < 0.3:
            natural = next((p for p in members if p.relation == "Istri"), natural)
        if self._present(natural, start):
            return natural, []
        stale = self._stale(natural, start)
        if stale:
            return natural, [stale]
        for person in members:  # the card passes to another adult of the family
            if self._present(person, start) and self._age(person, start) >= 17:
                return person, []
        return None

    def _units(self, program: Program, family: Family, start: int) -> list[tuple[Person, list[tuple[Defect, str]]]]:
        if program.unit == "members":
            units: list[tuple[Person, list[tuple[Defect, str]]]] = []
            for person in family.members:
                if self._present(person, start):
                    units.append((person, []))
                else:
                    stale = self._stale(person, start)
                    if stale:
                        units.append((person, [stale]))
            return units
        if program.unit == "students":
            return [(p, []) for p in self._students(family, start) if self.rng.random() < 0.9]
        found = self._recipient(program, family, start)
        return [found] if found else []

    def _status_defects(self, program: Program, family: Family) -> list[tuple[Defect, str]]:
        household = family.household
        assert household is not None
        kinds = {kind for p in family.members if not p.died and not p.moved for kind in p.kinds}
        if household.car:
            kinds.add("pemilik_mobil")
        if household.pln_nonsub:
            kinds.add("pln_900va_nonsubsidi")
        defects = [(Defect.EXCLUDED_RECIPIENT, kind) for kind in EXCLUSION_KINDS if kind in kinds]
        if family.desil > program.max_desil:
            defects.append((Defect.INCLUSION_ERROR_DESIL, f"desil {family.desil} > {program.max_desil}"))
        return defects

    def _cells(self, program: Program, person: Person, family: Family, periode: str, start: int) -> dict[str, str]:
        household = family.household
        assert household is not None
        cells = {
            "nik": person.nik,
            "no_kk": family.kk,
            "nama": person.name,
            "jenis_kelamin": person.sex,
            "tempat_lahir": person.birthplace,
            "tanggal_lahir": iso(person.born),
            "hubungan_keluarga": person.relation,
            "nama_ibu_kandung": person.mother,
            "alamat": household.address,
            "rt": household.rt,
            "rw": household.rw,
            "kode_desa": household.village.code,
            "program": program.label,
            "periode": periode,
            "nominal": "",
        }
        key = program.key
        if key == "pkh":
            components = self._pkh_components(family, start) or ["lansia"]
            counts: dict[str, int] = {}
            for component in components:
                counts[component] = counts.get(component, 0) + 1
            cells["komponen"] = ";".join(f"{name}={count}" for name, count in counts.items())
            cells["nominal"] = str(sum(_PKH_AMOUNTS[c] for c in components))
        elif key == "sembako":
            cells["nominal"] = "600000"  # Rp 200,000 a month, paid per quarter
        elif key == "pbi_jk":
            cells["nominal"] = "42000"  # monthly premium, class III
        elif key == "pip":
            level = person.education if person.education in _PIP_AMOUNTS else "SD"
            cells["jenjang"] = level
            cells["nominal"] = str(_PIP_AMOUNTS[level])
        elif key == "rtlh":
            cells["nominal"] = "20000000"
            parts = zip(("Lantai", "Dinding", "Atap", "Air", "Jamban"), household.housing[2:7], strict=True)
            cells["kondisi"] = ", ".join(f"{part} {value.lower()}" for part, value in parts if value in BAD_HOUSING)
            cells["kecamatan"] = self.region.district_names.get(household.village.district, "")
            cells["kelurahan"] = household.village.name
        elif key == "csr":
            cells["perusahaan"] = COMPANY
            cells["nominal"] = "350000"
        elif key == "baznas":
            cells["asnaf"] = "Fakir" if family.desil == 1 else "Miskin"
            cells["nominal"] = "1500000" if family.desil == 1 else "1000000"
        for column in program.blank:
            cells[column] = ""
        if program.style == "partner":  # typed by hand: RT "3", not "003"
            cells["rt"] = cells["rt"].lstrip("0")
            cells["rw"] = cells["rw"].lstrip("0")
        return cells

    def _damage(self, program: Program, row: Row) -> None:
        """Cell defects: at most one per NIK, name and birth date."""
        rng, rates = self.rng, self.rates
        person, cells = row.person, row.cells
        r = rng.random()
        for defect in NIK_CELL_DEFECTS:
            rate = rates[defect]
            if r < rate:
                cells["nik"], detail = damage_nik(rng, person.nik, defect)
                row.defects.append((defect, detail))
                break
            r -= rate
        r = rng.random()
        if r < rates[Defect.NAME_TYPO]:
            typo = names.name_typo(rng, person.name)
            if typo:
                cells["nama"] = typo[0]
                row.defects.append((Defect.NAME_TYPO, typo[1]))
        elif r < rates[Defect.NAME_TYPO] + rates[Defect.NAME_VARIANT]:
            self._variant(program, row)
        r = rng.random()
        wrong = rates[Defect.BIRTH_DATE_WRONG]
        if r < wrong:
            born, detail = wrong_birth(rng, person.born)
            cells["tanggal_lahir"] = iso(born)
            row.defects.append((Defect.BIRTH_DATE_WRONG, f"{detail}; true {iso(person.born)}"))
        elif r < wrong + min(1.0, rates[Defect.BIRTH_DATE_MISSING] * program.missing_birth):
            cells["tanggal_lahir"] = ""
            row.defects.append((Defect.BIRTH_DATE_MISSING, "empty"))

    def _variant(self, program: Program, row: Row) -> None:
        person = row.person
        variant = names.name_variant(
            self.rng,
            person.name,
            muslim=not row.family.christian,
            male=person.male,
            adult=self._age(person, self.today) >= 40,
            allow_upper=program.style != "perkim",
        )
        if variant:
            row.cells["nama"] = variant[0]
            row.defects = [d for d in row.defects if d[0] not in (Defect.NAME_TYPO, Defect.NAME_VARIANT)]
            row.defects.append((Defect.NAME_VARIANT, variant[1]))

    def build(self, program: Program) -> ProgramList:
        rng = self.rng
        periode, start_date = period_of(program.period, self.snapshot)
        start = start_date.toordinal()
        rows: list[Row] = []
        for family in self._select(program, start):
            status = self._status_defects(program, family)
            for person, stale in self._units(program, family, start):
                row = Row(person, family, self._cells(program, person, family, periode, start), [*stale, *status])
                self._damage(program, row)
                rows.append(row)
        styles: dict[str, str] = {}
        if program.style == "excel":
            styles = self._excel(rows)
        rows.sort(key=lambda row: row.person.pid)
        duplicates: list[Row] = []
        for row in rows:
            if rng.random() < self.rates[Defect.DUPLICATE_IN_LIST]:
                copy = Row(row.person, row.family, dict(row.cells), list(row.defects))
                copy.dup_of = row
                if rng.random() < 0.5:
                    self._variant(program, copy)
                copy.defects.append((Defect.DUPLICATE_IN_LIST, ""))
                duplicates.append(copy)
        for copy in duplicates:
            rows.insert(int(rng.random() * (len(rows) + 1)), copy)
        for index, row in enumerate(rows):
            row.number = index + 2
        return ProgramList(program, periode, start_date, rows, styles)

    def _excel(self, rows: list[Row]) -> dict[str, str]:
        """Each district operator saved the sheet from Excel their own way; the NIK column shows it."""
        rng = self.rng
        styles: dict[str, Defect | None] = {}
        for index, district in enumerate(self.region.districts):
            if self.defect_rate <= 0 or (index > 0 and rng.random() >= min(1.0, self.defect_rate)):
                styles[district] = None
            else:
                styles[district] = _EXCEL_STYLES[0] if index == 0 else _EXCEL_STYLES[int(rng.random() * 4)]
        for row in rows:
            household = row.family.household
            assert household is not None
            style = styles[household.village.district]
            if style is not None and row.cells["nik"] == row.person.nik:
                row.cells["nik"], detail = excel_nik(row.person.nik, style, rng)
                row.defects.append((style, f"{detail} (district operator)"))
        return {district: (style.value if style else "text") for district, style in styles.items()}


def _bad_housing(household: Household) -> int:
    """Count of Kemensos RTLH criteria met: floor, wall, roof, latrine."""
    housing = household.housing
    return sum(1 for value in (housing[2], housing[3], housing[4], housing[6]) if value in BAD_HOUSING)


def write_program(plist: ProgramList, out_dir: Path, log: list[DefectRow]) -> int:
    program = plist.program
    for row in plist.rows:
        record_id = _record_id(program, plist.periode, row.number)
        row.cells["record_id"] = record_id
        for defect, detail in row.defects:
            if defect is Defect.DUPLICATE_IN_LIST:
                assert row.dup_of is not None
                detail = f"duplicate of row {row.dup_of.number}"
            log.append(DefectRow(program.file, row.number, record_id, row.person.pid, defect, detail))
    if program.style == "perkim":
        return write_rows(
            out_dir / program.file,
            PERKIM_HEADER,
            (_perkim(row.cells) for row in plist.rows),
            delimiter=";",
            lineterminator="\r\n",
        )
    header = (*TEMPLATE, *program.extra)
    return write_rows(
        out_dir / program.file, header, ([row.cells[c] for c in header] for row in plist.rows), lineterminator="\r\n"
    )


def _record_id(program: Program, periode: str, number: int) -> str:
    if program.style == "perkim":
        return str(number - 1)
    return f"{program.prefix}-{periode.replace('-', '')}-{number - 1:06d}"


def _perkim(cells: dict[str, str]) -> list[str]:
    born = cells["tanggal_lahir"]
    if born:
        born = f"{born[8:10]}/{born[5:7]}/{born[0:4]}"
    nominal = f"{int(cells['nominal']):,}".replace(",", ".")
    return [
        cells["record_id"],
        cells["nik"],
        cells["no_kk"],
        cells["nama"].upper(),
        cells["jenis_kelamin"],
        cells["tempat_lahir"].upper(),
        born,
        cells["alamat"].upper(),
        cells["rt"],
        cells["rw"],
        cells["kelurahan"].upper(),
        cells["kecamatan"].upper(),
        cells["hubungan_keluarga"].upper(),
        cells["program"],
        cells["periode"],
        nominal,
        cells["kondisi"].upper(),
    ]
