"""The registry-side files: the DTSEN extract, Dukcapil's death and move records, the custodians' exclusion
matches, and the ground truth (persons and defects)."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TextIO

from tepat.engine.synth._defects import Defect, DefectRow, damage_nik
from tepat.engine.synth._model import Family, Household, Person, Population
from tepat.engine.synth._reference import Atlas, Region
from tepat.engine.synth._welfare import HOUSING_COLUMNS

EXTRACT = "dtsen_extract.csv"
DEATHS = "death_list.csv"
MOVES = "moved_list.csv"
EXCLUSIONS = "exclusion_list.csv"
TRUTH_PERSONS = "truth_persons.csv"
TRUTH_DEFECTS = "truth_defects.csv"

EXTRACT_HEADER = (
    "id_keluarga",
    "id_rumah_tangga",
    "no_kk",
    "nik",
    "nama",
    "jenis_kelamin",
    "tempat_lahir",
    "tanggal_lahir",
    "hubungan_keluarga",
    "nama_ibu_kandung",
    "status_perkawinan",
    "pendidikan",
    "pekerjaan",
    "disabilitas",
    "alamat",
    "rt",
    "rw",
    "kode_desa",
    "desil_nasional",
    "desil_provinsi",
    "desil_kabupaten",
    "tanggal_data",
    *HOUSING_COLUMNS,
)
DEATHS_HEADER = ("nik", "nama", "jenis_kelamin", "tanggal_lahir", "tanggal_meninggal", "kode_desa", "no_akta_kematian")
MOVES_HEADER = ("nik", "nama", "tanggal_pindah", "kode_desa_asal", "tujuan")
EXCLUSIONS_HEADER = ("nik", "nama", "jenis_pengecualian", "sumber", "keterangan")
TRUTH_PERSONS_HEADER = (
    "person_id",
    "nik",
    "no_kk",
    "nama",
    "jenis_kelamin",
    "tanggal_lahir",
    "kode_desa",
    "id_keluarga",
    "status",
    "tanggal_meninggal",
    "asn",
    "pemilik_mobil",
    "pln_900va_nonsubsidi",
    "desil_nasional",
)
TRUTH_DEFECTS_HEADER = ("file", "row", "record_id", "person_id", "defect", "detail")
EXCLUSION_KINDS = (
    "asn",
    "tni_polri",
    "guru_sertifikasi",
    "pln_900va_nonsubsidi",
    "pemilik_mobil",
    "upah_di_atas_umk",
    "perangkat_desa",
)

P_DEATH_REGISTERED = 0.85  # akta kematian coverage: high in a city, far from complete
P_MOVE_REPORTED = 0.85  # the rest moved without a surat pindah


@cache
def iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


class CsvOut:
    """Writes exactly what csv.writer writes, at a fraction of the cost for rows of plain fields.

    A regency's extract and truth are ~400k rows; csv.writer.writerow is the largest single cost of the run. Rows
    whose fields hold no delimiter, quote or line break are joined directly (that is all QUOTE_MINIMAL would do);
    any other row goes through csv.writer.
    """

    def __init__(self, handle: TextIO, *, delimiter: str = ",", lineterminator: str = "\n") -> None:
        self.handle = handle
        self.delimiter = delimiter
        self.lineterminator = lineterminator
        self.writer = csv.writer(handle, delimiter=delimiter, lineterminator=lineterminator)
        self.lines: list[str] = []

    def row(self, fields: Sequence[str]) -> None:
        line = self.delimiter.join(fields)
        if (
            '"' in line
            or "\n" in line
            or "\r" in line
            or line.count(self.delimiter) != len(fields) - 1
            or (len(fields) == 1 and not line)
        ):
            self.flush()
            self.writer.writerow(fields)
            return
        self.lines.append(line)
        if len(self.lines) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.lines.append("")
            self.handle.write(self.lineterminator.join(self.lines))
            self.lines = []


def write_rows(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    delimiter: str = ",",
    lineterminator: str = "\n",
) -> int:
    """Write a header and rows; machine files end lines with LF, agency exports with CRLF as Excel does."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = CsvOut(handle, delimiter=delimiter, lineterminator=lineterminator)
        out.row(header)
        count = 0
        for row in rows:
            out.row(row)
            count += 1
        out.flush()
    return count


@dataclass
class LifeRecords:
    """What Dukcapil knows: registered deaths and reported moves (not every death or move is registered)."""

    deaths: dict[str, tuple[str, int]] = field(default_factory=dict)  # person id -> (akta number, registered on)
    moves_out: dict[str, str] = field(default_factory=dict)  # person id -> destination village
    moves_in: list[tuple[Person, str]] = field(default_factory=list)  # (person, village of origin)


def life_records(
    population: Population,
    *,
    rng: random.Random,
    region: Region,
    atlas: Atlas,
    today: int,
    origin_district: Callable[[str], str],
) -> LifeRecords:
    records = LifeRecords()
    regency4 = region.code.replace(".", "")
    serials: dict[int, int] = {}
    province_districts = [
        code for code in atlas.districts_by_province.get(region.province_code, []) if not code.startswith(region.code)
    ]

    def village_in(district: str) -> str:
        pool = atlas.villages_by_district.get(district)
        return pool[int(rng.random() * len(pool))] if pool else ""

    def destination(group: str) -> str:
        for _ in range(8):
            if province_districts and rng.random() < 0.5:
                district = province_districts[int(rng.random() * len(province_districts))]
            else:
                district = origin_district(group)
            village = village_in(district)
            if village:
                return village
        return ""

    for person in population.persons:
        family = person.family
        assert family is not None
        if person.died and rng.random() < P_DEATH_REGISTERED:
            registered = min(today - 1, person.died + 1 + int(rng.random() * 60))
            serials[registered] = serials.get(registered, 0) + 1
            day = date.fromordinal(registered)
            akta = f"{regency4}-KM-{day.day:02d}{day.month:02d}{day.year}-{serials[registered]:04d}"
            records.deaths[person.pid] = (akta, registered)
        if person.moved and rng.random() < P_MOVE_REPORTED:
            target = destination(family.group)
            if target:
                records.moves_out[person.pid] = target
        if family.arrived:
            head_origin = family.head.nik_district
            from_village = "" if head_origin.startswith(region.code) else village_in(head_origin)
            records.moves_in.append((person, from_village or destination(family.group)))
    return records


def _household(family: Family) -> Household:
    household = family.household
    assert household is not None
    return household


def write_extract(
    population: Population, *, rng: random.Random, rates: dict[Defect, float], out_dir: Path, log: list[DefectRow]
) -> int:
    """One row per person DTSEN still lists, family by family, with the registry's own defects."""
    p_length = rates[Defect.NIK_INVALID_LENGTH]
    p_zero = p_length + rates[Defect.NIK_SERIAL_ZERO]
    p_placeholder = p_zero + rates[Defect.NIK_PLACEHOLDER]
    p_empty = rates[Defect.NAME_EMPTY]
    p_dead = rates[Defect.DEAD_STILL_LISTED]
    stale: dict[str, list[Person]] = {}  # parents' family id -> married children still on their KK
    for child, parents in population.married_children:
        if not child.died and rng.random() < rates[Defect.NIK_IN_TWO_KK]:
            stale.setdefault(parents.fid, []).append(child)
    row_number = 1
    with (out_dir / EXTRACT).open("w", encoding="utf-8", newline="") as handle:
        writer = CsvOut(handle)
        writer.row(EXTRACT_HEADER)
        for family in population.families:
            household = _household(family)
            family_cells = (
                family.fid,
                household.hid,
                family.kk,
            )
            place_cells = (household.address, household.rt, household.rw, household.village.code)
            desil_cells = (str(family.desil), str(family.desil_prov), str(family.desil_kab), iso(family.data_date))
            listed: list[tuple[Person, str, str, Family | None]]
            listed = [(p, p.relation, p.marital, None) for p in family.members]
            listed += [(p, "Anak", "Belum Kawin", p.family) for p in stale.get(family.fid, [])]
            for person, relation, marital, own_family in listed:
                defects: list[tuple[Defect, str]] = []
                if person.died:
                    if rng.random() >= p_dead:
                        continue
                    defects.append((Defect.DEAD_STILL_LISTED, f"died {iso(person.died)}"))
                if own_family is not None:
                    defects.append((Defect.NIK_IN_TWO_KK, f"also in no_kk {own_family.kk}"))
                nik = person.nik
                r = rng.random()
                if r < p_placeholder:
                    code = (
                        Defect.NIK_INVALID_LENGTH
                        if r < p_length
                        else Defect.NIK_SERIAL_ZERO
                        if r < p_zero
                        else Defect.NIK_PLACEHOLDER
                    )
                    nik, detail = damage_nik(rng, nik, code)
                    defects.append((code, detail))
                name = person.name
                if rng.random() < p_empty:
                    name = ""
                    defects.append((Defect.NAME_EMPTY, "empty name"))
                row_number += 1
                writer.row(
                    (
                        *family_cells,
                        nik,
                        name,
                        person.sex,
                        person.birthplace,
                        iso(person.born),
                        relation,
                        person.mother,
                        marital,
                        person.education,
                        person.occupation,
                        "Ya" if person.disabled else "Tidak",
                        *place_cells,
                        *desil_cells,
                        *household.housing,
                    )
                )
                for code, detail in defects:
                    log.append(DefectRow(EXTRACT, row_number, "", person.pid, code, detail))
        writer.flush()
    return row_number - 1


def write_truth_persons(population: Population, out_dir: Path) -> int:
    def rows() -> Iterable[tuple[str, ...]]:
        for person in population.persons:
            family = person.family
            assert family is not None
            household = _household(family)
            yield (
                person.pid,
                person.nik,
                family.kk,
                person.name,
                person.sex,
                iso(person.born),
                household.village.code,
                family.fid,
                person.status,
                iso(person.died) if person.died else "",
                "1" if ("asn" in person.kinds or "tni_polri" in person.kinds) else "0",
                "1" if household.car else "0",
                "1" if household.pln_nonsub else "0",
                str(family.desil),
            )

    return write_rows(out_dir / TRUTH_PERSONS, TRUTH_PERSONS_HEADER, rows())


def write_deaths(population: Population, records: LifeRecords, out_dir: Path) -> int:
    dead = [p for p in population.persons if p.pid in records.deaths]
    dead.sort(key=lambda p: (p.died, p.pid))

    def rows() -> Iterable[tuple[str, ...]]:
        for person in dead:
            family = person.family
            assert family is not None
            yield (
                person.nik,
                person.name,
                person.sex,
                iso(person.born),
                iso(person.died),
                _household(family).village.code,
                records.deaths[person.pid][0],
            )

    return write_rows(out_dir / DEATHS, DEATHS_HEADER, rows())


def write_moves(population: Population, records: LifeRecords, out_dir: Path) -> int:
    """Pindah keluar and pindah datang in one file, by date: the origin village tells the direction."""
    rows: list[tuple[int, str, tuple[str, ...]]] = []
    for person in population.persons:
        target = records.moves_out.get(person.pid)
        if target:
            family = person.family
            assert family is not None
            origin = _household(family).village.code
            rows.append((person.moved, person.pid, (person.nik, person.name, iso(person.moved), origin, target)))
    for person, origin in records.moves_in:
        family = person.family
        assert family is not None
        arrived = max(family.arrived, person.born + 1)
        destination = _household(family).village.code
        rows.append((arrived, person.pid, (person.nik, person.name, iso(arrived), origin, destination)))
    rows.sort(key=lambda item: (item[0], item[1]))
    return write_rows(out_dir / MOVES, MOVES_HEADER, (row for _, _, row in rows))


_PLATES = {
    "11": "BL", "12": "BK", "13": "BA", "14": "BM", "15": "BH", "16": "BG", "17": "BD", "18": "BE", "19": "BN",
    "21": "BP", "31": "B", "32": "D", "33": "H", "34": "AB", "35": "L", "36": "A", "51": "DK", "52": "DR",
    "53": "DH", "61": "KB", "62": "KH", "63": "DA", "64": "KT", "65": "KU", "71": "DB", "72": "DN", "73": "DD",
    "74": "DT", "75": "DM", "76": "DC", "81": "DE", "82": "DG", "91": "PA", "92": "PB",
}  # fmt: skip
_CARS = ("Toyota Avanza", "Daihatsu Xenia", "Toyota Innova", "Honda Brio", "Mitsubishi Pajero Sport",
         "Toyota Hilux", "Suzuki Ertiga", "Daihatsu Sigra", "Toyota Rush", "Honda HR-V")  # fmt: skip
_AGENCIES = ("Dinas Pendidikan", "Dinas Kesehatan", "RSUD", "Sekretariat Daerah", "Dinas PUPR", "Kecamatan",
             "Kelurahan", "Dinas Sosial", "Bappeda", "Dinas Perhubungan", "Satpol PP", "Puskesmas")  # fmt: skip
_GRADES = ("II/a", "II/b", "II/c", "III/a", "III/b", "III/c", "III/d", "IV/a", "IV/b")


def _rupiah(amount: int) -> str:
    return f"Rp {amount:,}".replace(",", ".")


def write_exclusions(
    population: Population, *, rng: random.Random, region: Region, matched: set[str], out_dir: Path
) -> int:
    """The custodians' answers to the region's matching request (BPK: match before every monthly list).

    BKPSDM sends its whole roster of civil servants; the other custodians return hits only for the NIKs the region
    sent: families of desil 1-6 and everyone on a program list (`matched`, family ids). Samsat and PLN know the
    owner or customer, usually the head of the household, still under the name of a head who has died.
    """
    sources = {
        "asn": f"BKPSDM {region.name}",
        "tni_polri": "Kemensos (padan data TNI/Polri)",
        "guru_sertifikasi": "Dapodik Kemendikdasmen",
        "pln_900va_nonsubsidi": "PLN UP3",
        "pemilik_mobil": f"Bapenda/Samsat {region.province_name}",
        "upah_di_atas_umk": "BPJS Ketenagakerjaan",
        "perangkat_desa": "Dinas PMD",
    }
    plate = _PLATES.get(region.province_code, "B")
    hits: dict[str, list[tuple[str, ...]]] = {kind: [] for kind in EXCLUSION_KINDS}
    for household in population.households:
        household_matched = any(family.fid in matched for family in household.families)
        for family in household.families:
            family_matched = family.fid in matched
            for person in family.members:
                alive = not person.died and not person.moved
                for kind in person.kinds:
                    if not alive or not (family_matched or kind == "asn"):
                        continue
                    hits[kind].append((person.nik, person.name, kind, sources[kind], _remark(rng, kind, household)))
        if household_matched:
            owner = household.families[0].head
            for kind, flagged in (("pemilik_mobil", household.car), ("pln_900va_nonsubsidi", household.pln_nonsub)):
                if flagged:
                    remark = _remark(rng, kind, household, plate)
                    name = owner.name.upper() if kind == "pln_900va_nonsubsidi" else owner.name
                    hits[kind].append((owner.nik, name, kind, sources[kind], remark))
    return write_rows(out_dir / EXCLUSIONS, EXCLUSIONS_HEADER, (row for kind in EXCLUSION_KINDS for row in hits[kind]))


def _remark(rng: random.Random, kind: str, household: Household, plate: str = "B") -> str:
    pick = lambda pool: pool[int(rng.random() * len(pool))]  # noqa: E731
    if kind == "asn":
        return f"PNS {pick(_AGENCIES)}, golongan {pick(_GRADES)}"
    if kind == "tni_polri":
        return pick(("Anggota Polri", "Anggota TNI AD", "Anggota TNI AL"))
    if kind == "guru_sertifikasi":
        return "Penerima tunjangan profesi guru"
    if kind == "upah_di_atas_umk":
        return f"Upah terlapor {_rupiah(5_000_000 + 250_000 * int(rng.random() * 40))}"
    if kind == "perangkat_desa":
        return f"Perangkat desa {household.village.name}"
    if kind == "pemilik_mobil":
        letters = "".join(pick("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        return f"{plate} {1000 + int(rng.random() * 9000)} {letters}, {pick(_CARS)} {2008 + int(rng.random() * 18)}"
    customer = "".join(str(int(rng.random() * 10)) for _ in range(10))
    return f"Daya {household.daya}, tarif non-subsidi, ID pelanggan 23{customer}"


def write_defects(rows: list[DefectRow], out_dir: Path) -> int:
    return write_rows(
        out_dir / TRUTH_DEFECTS,
        TRUTH_DEFECTS_HEADER,
        ((r.file, str(r.row), r.record_id, r.person_id, r.defect.value, r.detail) for r in rows),
    )
