"""Kinds that write the registry: family lists (extracts, person lists), deaths, moves, exclusion findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from tepat.engine import columnar
from tepat.engine.identity import RegionCodes, check_kk, parse_sex
from tepat.engine.values import (
    clean_name,
    normalise_village_code,
    pad_code,
    split_place_date,
    split_rt_rw,
)
from tepat.intake.kinds.base import (
    TEXT_LIMITS,
    Cells,
    Handler,
    _bool,
    _date,
    _decimal,
    _desil,
    _int,
    family_in,
    fitted,
    in_range,
    person_in,
    require_valid_nik,
    ticked_sex,
)
from tepat.registry import bulk
from tepat.registry.models import HOUSING_FIELDS
from tepat.registry.writer import (
    CommitCounts,
    ExclusionIn,
    FamilyIn,
    NikIn,
    PersonUpdate,
    RegistryWriter,
)

_DESIL = ("desil_national", "desil_province", "desil_regency")
# The cells family_in parses, with their parsers: a finding in any of them sends a family's first row the per-row way.
_FAMILY_PARSED: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    *((name, _desil) for name in _DESIL),
    ("welfare_date", _date),
    ("floor_area_m2", _decimal),
    ("owns_car", _bool),
    ("motorcycles", _int),
)


_NO_PROBLEMS: tuple[str, ...] = ()  # a clean NIK's problems


def _iso_or_none(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_born(raw: Any) -> columnar.Parsed:
    return columnar.parse_cell(raw, _date)


def _sex_code(sex: Any) -> str:
    return sex.value if sex else ""


_HOUSING = HOUSING_FIELDS
_FAMILY_TEXT = ("family_key", "household_key", "rt", "rw", "street", "tenure", "floor", "wall", "roof",
                "drinking_water", "sanitation", "electricity", "cooking_fuel")  # fmt: skip


class FamilyListHandler(Handler):
    """Extracts and person lists: rows become persons in families (by the source's family id or the KK)."""

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.families: dict[str, FamilyIn] = {}
        self.pending: dict[int, FamilyIn] = {}  # families with members taken since the last flush
        self.mapping: dict[str, int] = {}
        self.born_cache: dict[Any, columnar.Parsed] = {}  # birth date cells read so far (see columnar.map_cached)
        self.iso_cache: dict[Any, str | None] = {}

    def check(self, cells: Cells) -> None:
        self.check_village(cells)
        if not (cells.text("nik") or cells.text("name")):
            cells.reject("nik", "row.no_identity")

    def add(self, cells: Cells, index: int) -> None:
        person = person_in(cells, self.regions, self.relationship)
        key = cells.text("family_key") or cells.text("kk") or f"row:{cells.line}"
        family = self.families.get(key)
        if family is None:
            family = self.families[key] = family_in(cells, cells.text("village"), self.regions, index)
        family.size += 1
        family.members.append((*person, index, family.size))
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
        self.born_cache.clear()
        self.iso_cache.clear()

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
        if "village_name" in mapping:  # rows without a code are placed by name (check_village); unplaced ones stay ""
            village_names, districts = columnar.texts(column("village_name")), columnar.texts(column("district_name"))
            place = self.names.code
            villages = [v or (place(village_names[i], districts[i])[0] if village_names[i] else "")
                        for i, v in enumerate(villages)]  # fmt: skip
        fit = columnar.fit
        nik_texts, names = columnar.texts(column("nik")), columnar.texts(column("name"))
        raw_sexes, both_marked = columnar.raws(column("sex")), [False] * count
        if "sex_male_mark" in mapping or "sex_female_mark" in mapping:  # L and P tick columns (see sex_cell)
            males, females = columnar.raws(column("sex_male_mark")), columnar.raws(column("sex_female_mark"))
            for i, value in enumerate(raw_sexes):
                if value is None or value == "":  # both ticked: the row goes row by row, for the warning
                    sex, both_marked[i] = ticked_sex(males[i], females[i])
                    raw_sexes[i] = sex or value
        sexes = columnar.map_distinct(raw_sexes, parse_sex)
        sex_codes = columnar.map_distinct(sexes, _sex_code)
        raw_born, raw_places = columnar.raws(column("birth_date")), columnar.texts(column("birth_place"))
        if "birth_place_date" in mapping:  # one 'Tempat/Tgl Lahir' column, for rows with neither (see birth_cells)
            for i, value in enumerate(columnar.raws(column("birth_place_date"))):
                if not raw_places[i] and (raw_born[i] is None or raw_born[i] == "") and columnar.cell_text(value):
                    raw_places[i], raw_born[i] = split_place_date(value)
        born = columnar.map_cached(raw_born, _parse_born, self.born_cache)
        borns = [value for value, _ in born]
        born_texts = columnar.map_cached(borns, _iso_or_none, self.iso_cache)
        niks = columnar.raws(column("nik"))
        clean_niks = columnar.niks_without_findings(niks, sexes, borns, regions=self.regions)
        disability = columnar.parse_column(columnar.raws(column("disability")), _bool)
        relationship = columnar.parse_column(columnar.raws(column("relationship")), self.relationship)
        family_ok = [True] * count
        family: dict[str, Sequence[Any]] = {}
        for name, parser in _FAMILY_PARSED:
            if mapping.get(name) is None:
                family[name] = [None] * count
                continue
            results = columnar.parse_column(columnar.raws(column(name)), parser)
            for row, (value, code) in enumerate(results):
                if code or (value is not None and not in_range(name, value)):
                    family_ok[row] = False
            family[name] = [value for value, _ in results]
        for name in _FAMILY_TEXT:
            texts = columnar.texts(column(name)) if name in mapping else [""] * count
            # cut as family_in cuts: the street once cleaned (in _family), the others as they are
            family[name] = fit(texts, TEXT_LIMITS[name]) if name in TEXT_LIMITS and name != "street" else texts
        if "rt_rw" in mapping:  # one 'RT/RW' column, for the rows without their own RT and RW (see rt_rw_of)
            rts, rws, both = list(family["rt"]), list(family["rw"]), columnar.raws(column("rt_rw"))
            for i, value in enumerate(both):
                if not (rts[i] or rws[i]) and columnar.cell_text(value):
                    rts[i], rws[i] = split_rt_rw(value)
                    if not rts[i]:
                        family_ok[i] = False  # the row that starts a family goes row by row, for the warning
            family["rt"], family["rw"] = rts, rws
        family["kk_raw"] = columnar.raws(column("kk"))
        family["kk_clean"] = columnar.kks_without_findings(family["kk_raw"], regions=self.regions)
        birth_places = fit(columnar.map_distinct(raw_places, clean_name), TEXT_LIMITS["birth_place"])
        # Names cleaned (clean_name), then cut, as person_in does
        clean_names = fit([" ".join(name.split()) for name in names], TEXT_LIMITS["name"])
        mother_names = fit([" ".join(name.split()) for name in columnar.texts(column("mother_name"))],
                           TEXT_LIMITS["mother_name"])  # fmt: skip
        marital = fit(columnar.texts(column("marital_status")), TEXT_LIMITS["marital_status"])
        education = fit(columnar.texts(column("education")), TEXT_LIMITS["education"])
        occupation = fit(columnar.texts(column("occupation")), TEXT_LIMITS["occupation"])
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
                or both_marked[i]
                or disability[i][1]
                or relationship[i][1]
            ):
                out.append(None)
                continue
            nik = niks[i]
            # What person_in gives for this row (a clean NIK: itself, valid, no problem).
            person = (nik, nik, True, _NO_PROBLEMS, relationship[i][0] or "", clean_names[i],
                      sex_codes[i], birth_places[i], born_texts[i], mother_names[i],
                      marital[i], education[i], occupation[i], disability[i][0])  # fmt: skip
            key = family_keys[i] or kks[i] or f"row:{lines[i]}"
            out.append((key, family_ok[i], person, family, i, village))
        return out

    def accept(self, ready: Any, index: int) -> bool:
        key, family_ok, person, columns, i, village = ready
        family = self.families.get(key)
        if family is None:
            if not family_ok:
                return False
            family = self.families[key] = self._family(columns, i, village, index)
        family.size += 1
        family.members.append((*person, index, family.size))
        self.pending[id(family)] = family
        return True

    def _family(self, columns: dict[str, Sequence[Any]], i: int, village: str, record: int) -> FamilyIn:
        """What family_in gives for a row whose family cells read without a finding (see prepare)."""
        raw = columns["kk_raw"][i]
        if columns["kk_clean"][i]:
            kk = NikIn(raw, raw, True, [])
        else:
            check = check_kk(raw, regions=self.regions)
            kk = NikIn(check.kk, fitted(check.raw, "kk_raw"), check.valid, [str(p) for p in check.problems])
        return FamilyIn(
            record=record,
            kk=kk,
            source_key=columns["family_key"][i],
            household_key=columns["household_key"][i],
            village=village,
            rt=pad_code(columns["rt"][i], 3),
            rw=pad_code(columns["rw"][i], 3),
            street=fitted(clean_name(columns["street"][i]), "street"),
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


_VA = re.compile(r"(\d[\d.]*)\s*va\b")


def exclusion_kind(text: str) -> str | None:
    """The exclusion a custodian's words name (``EXCLUSION_KINDS``, else by keywords: "Pegawai Negeri Sipil",
    "TNI-POLRI", "Guru PNS bersertifikasi", "Listrik 1300 VA", "Pemilik kendaraan roda 4", "Gaji di atas UMR",
    "Kepala Desa"); None when it names none. Electricity excludes from 900 VA up, unless it says subsidised 900 VA
    (that is the poor's tariff)."""
    key = " ".join(text.lower().replace("-", " ").replace("_", " ").split())
    if key in EXCLUSION_KINDS:
        return EXCLUSION_KINDS[key]
    words = set(re.findall(r"[a-z]+", key))
    if "guru" in words and "sertifika" in key:
        return "guru_sertifikasi"
    if words & {"pns", "asn", "pppk"} or "pegawai negeri" in key or "aparatur sipil" in key:
        return "asn"
    if words & {"tni", "polri", "polisi", "tentara"}:
        return "tni_polri"
    volt = _VA.search(key)
    if volt is not None and (words & {"pln", "listrik", "daya"} or key.startswith(volt[0])):
        va = int(volt[1].replace(".", ""))
        subsidised = "subsidi" in words and not ({"non", "nonsubsidi"} & words)
        return "pln_900va_nonsubsidi" if va > 900 or (va == 900 and not subsidised) else None
    if "mobil" in words or "roda 4" in key or "roda empat" in key:
        return "pemilik_mobil"
    if words & {"umk", "ump", "umr"}:
        return "upah_di_atas_umk"
    if re.search(r"\b(perangkat|aparat|kepala|sekretaris)\s+desa\b", key) or words & {"kades", "sekdes"}:
        return "perangkat_desa"
    if "pengusaha" in words or "pemilik usaha" in key or "usaha terdaftar" in key:
        return "pengusaha"
    return None


class ExclusionListHandler(Handler):
    """Custodians' matches (BKN, PLN, Samsat, BPJS-TK, …): kept as findings by NIK, linked to the person if known."""

    def __init__(self, regions: RegionCodes, villages: set[str], program: str = "") -> None:
        super().__init__(regions, villages, program)
        self.findings: list[ExclusionIn] = []

    def check(self, cells: Cells) -> None:
        require_valid_nik(cells, self.regions)
        kind = exclusion_kind(cells.text("exclusion"))
        if kind is None:
            cells.reject("exclusion", "exclusion.unknown", cells.text("exclusion"))
        else:
            cells.row["exclusion"] = kind

    def add(self, cells: Cells, index: int) -> None:
        self.findings.append(ExclusionIn(index, cells.text("nik"), cells.text("exclusion"),
                                         note=cells.text("note")[:200], issuer=cells.text("issuer")[:100]))  # fmt: skip

    def commit(self, writer: RegistryWriter) -> CommitCounts:
        return writer.record_exclusions(self.findings)
