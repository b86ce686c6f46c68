"""What every kind shares: issues, a row's cells, persons, families and NIKs parsed from them, the handler base."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

from tepat.engine.columnar import cell_raw, cell_text, parse_cell
from tepat.engine.identity import NikProblem, RegionCodes, Severity, Sex, check_kk, check_nik, parse_sex
from tepat.engine.values import (
    BPS,
    clean_name,
    month_first_date,
    normalise_village_code,
    pad_code,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_desil,
    parse_int,
    parse_period,
    parse_relationship,
    relationship_numbering,
    split_place_date,
    split_rt_rw,
)
from tepat.registry.models import HOUSING_FIELDS, Address, Family, Household, Person
from tepat.registry.writer import (
    CommitCounts,
    FamilyIn,
    Member,
    NikIn,
    RegistryWriter,
    member_head,
)

# Cell parsers are pure and lists repeat values (dates, codes, categories) thousands of times.
_date = lru_cache(maxsize=1 << 16)(parse_date)
_int = lru_cache(maxsize=1 << 12)(parse_int)
_desil = lru_cache(maxsize=1 << 8)(parse_desil)
_period = lru_cache(maxsize=1 << 10)(parse_period)
_bool = lru_cache(maxsize=1 << 8)(parse_bool)
_decimal = lru_cache(maxsize=1 << 12)(parse_decimal)
_relationship = lru_cache(maxsize=1 << 8)(parse_relationship)
_relationship_bps = lru_cache(maxsize=1 << 8)(partial(parse_relationship, numbering=BPS))


def _length(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


# The registry's text columns, by the field names the kinds use: a cell longer than its column is cut (the kept raw
# row has it whole). PostgreSQL refuses a longer value, and one long address stopped the whole commit.
TEXT_LIMITS = {
    **{name: _length(Person, name) for name in ("name", "birth_place", "mother_name", "marital_status", "education",
                                                 "occupation", "nik_raw")},
    "kk_raw": _length(Family, "kk_raw"), "family_key": _length(Family, "source_key"),
    "household_key": _length(Household, "source_key"), "street": _length(Address, "street"),
    **{name: _length(Household, name) for name in HOUSING_FIELDS
       if Household._meta.get_field(name).get_internal_type() == "CharField"},
}  # fmt: skip
SMALL_COUNT = 32_767  # a PositiveSmallIntegerField's largest value
# The numbers family_in takes without a warning (desil.range, number.range); prepare sends a row out of them the
# per-row way, which reports it.
VALUE_RANGES = {**dict.fromkeys(("desil_national", "desil_province", "desil_regency"), (1, 10)),
                "motorcycles": (0, SMALL_COUNT)}  # fmt: skip


def in_range(name: str, value: Any) -> bool:
    bounds = VALUE_RANGES.get(name)
    return bounds is None or bounds[0] <= value <= bounds[1]


def fitted(text: str, name: str) -> str:
    return text[: TEXT_LIMITS[name]]


def count_in(cells: Cells, name: str) -> int | None:
    """A count (motorcycles…) a small positive integer column holds; else a ``number.range`` warning and nothing."""
    value = cells.parsed(name, _int)
    if value is not None and not in_range(name, value):
        cells.issues.append(Issue(cells.line, name, "number.range", str(value), error=False))
        return None
    return value


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
    return NikIn(check.nik, fitted(check.raw, "nik_raw"), check.valid, [str(p) for p in check.problems])


def birth_cells(cells: Cells) -> tuple[str, Any, str]:
    """The row's birth place and birth date as written, and the column the date is in: their own columns, else one
    'Tempat/Tgl Lahir' column split (``engine.values.split_place_date``) when both are empty."""
    place, raw = cells.text("birth_place"), cells.raw("birth_date")
    if not place and (raw is None or raw == "") and cells.text("birth_place_date"):
        place, raw = split_place_date(cells.raw("birth_place_date"))
        return place, raw, "birth_place_date"
    return place, raw, "birth_date"


def _birth_date(cells: Cells, regions: RegionCodes, sex: Any, raw: Any, column: str) -> Any:
    """The row's birth date. Indonesian lists write day first; a date that only reads month first (``07/25/1985``),
    or that reads both ways and whose NIK (which carries the birth date) agrees only with month first, is read month
    first with a ``date.month_first`` warning: a list saved by a computer set to American English."""
    born, code = parse_cell(raw, _date)
    other = month_first_date(raw) if code == "date.invalid" or born is not None else None
    if other is not None and other != born:
        if born is not None:
            as_written = check_nik(cells.raw("nik"), regions=regions, sex=sex, born=born).problems
            swapped = check_nik(cells.raw("nik"), regions=regions, sex=sex, born=other).problems
            if NikProblem.BIRTH_DATE_MISMATCH not in as_written or NikProblem.BIRTH_DATE_MISMATCH in swapped:
                return born
        cells.issues.append(Issue(cells.line, column, "date.month_first", str(raw)[:200], error=False))
        return other
    if code:
        cells.issues.append(Issue(cells.line, column, code, str(raw)[:200], error=False))
    return born


_UNMARKED = frozenset({"", "0", "-", "tidak", "t", "no", "n", "false", "salah"})


def marked(value: Any) -> bool:
    """Whether a tick column's cell is ticked: ✓, √, v, X, 1, Ya, the letter itself… anything but empty, 0, '-' or
    'tidak' (and False, 0)."""
    if value is None or value is False or value == 0:
        return False
    return str(value).strip().casefold() not in _UNMARKED


def ticked_sex(male_cell: Any, female_cell: Any) -> tuple[Sex | None, bool]:
    """The sex an L and a P tick column give, and whether both are ticked (then no sex): the one rule of the
    row-by-row path (``sex_cell``), the column-wise one (``FamilyListHandler.prepare``) and ``tepat dedupe``."""
    male, female = marked(male_cell), marked(female_cell)
    if male and female:
        return None, True
    return (Sex.MALE if male else Sex.FEMALE if female else None), False


def sex_cell(cells: Cells) -> Any:
    """The row's sex as written: its own column, else which of the L and P tick columns is ticked (both: a
    ``sex.both_marked`` warning and no sex)."""
    raw = cells.raw("sex")
    if raw is not None and raw != "":
        return raw
    sex, both = ticked_sex(cells.raw("sex_male_mark"), cells.raw("sex_female_mark"))
    if both:
        cells.issues.append(Issue(cells.line, "sex_male_mark", "sex.both_marked", "L + P", error=False))
    return sex or raw


def person_in(cells: Cells, regions: RegionCodes, relationship: Callable[[Any], str] = _relationship) -> Member:
    """The row's person as a family member without its record and position (see ``registry.stream.Member``);
    ``relationship`` reads the relationship cell (the list's numbering: ``Handler.observe``)."""
    sex = parse_sex(sex_cell(cells))
    place, raw_born, column = birth_cells(cells)
    born = _birth_date(cells, regions, sex, raw_born, column)
    nik = nik_in(cells, regions, sex=sex, born=born)
    values = (
        fitted(clean_name(cells.text("name")), "name"),
        sex.value if sex else "",
        fitted(clean_name(place), "birth_place"),
        born.isoformat() if born is not None else None,
        fitted(clean_name(cells.text("mother_name")), "mother_name"),
        fitted(cells.text("marital_status"), "marital_status"),
        fitted(cells.text("education"), "education"),
        fitted(cells.text("occupation"), "occupation"),
        cells.parsed("disability", _bool),
    )
    return member_head(nik, cells.parsed("relationship", relationship) or "", values)


def rt_rw_of(cells: Cells) -> tuple[str, str]:
    """The row's RT and RW: their own columns, else one 'RT/RW' column split (``engine.values.split_rt_rw``); a
    cell that does not split is a warning (``rt_rw.invalid``) and leaves both empty."""
    rt, rw = cells.text("rt"), cells.text("rw")
    if not (rt or rw) and cells.text("rt_rw"):
        rt, rw = split_rt_rw(cells.raw("rt_rw"))
        if not rt:
            cells.issues.append(Issue(cells.line, "rt_rw", "rt_rw.invalid", cells.text("rt_rw")[:200], error=False))
    return rt, rw


def family_in(cells: Cells, village: str, regions: RegionCodes, record: int) -> FamilyIn:
    """Family and housing columns, read from the first row of each family (extracts repeat them per member)."""
    desil = [cells.parsed(name, _desil) for name in ("desil_national", "desil_province", "desil_regency")]
    for index, (name, value) in enumerate(
        zip(("desil_national", "desil_province", "desil_regency"), desil, strict=True)
    ):
        if value is not None and not in_range(name, value):
            cells.issues.append(Issue(cells.line, name, "desil.range", str(value), error=False))
            desil[index] = None
    kk = check_kk(cells.raw("kk"), regions=regions)
    rt, rw = rt_rw_of(cells)
    return FamilyIn(
        record=record,
        kk=NikIn(kk.kk, fitted(kk.raw, "kk_raw"), kk.valid, [str(p) for p in kk.problems]),
        source_key=fitted(cells.text("family_key"), "family_key"),
        household_key=fitted(cells.text("household_key"), "household_key"),
        village=village,
        rt=pad_code(rt, 3),
        rw=pad_code(rw, 3),
        street=fitted(clean_name(cells.text("street")), "street"),
        values={
            "desil_national": desil[0],
            "desil_province": desil[1],
            "desil_regency": desil[2],
            "welfare_date": cells.parsed("welfare_date", _date),
        },
        housing={
            "tenure": fitted(cells.text("tenure"), "tenure"),
            "floor_area_m2": cells.parsed("floor_area_m2", _decimal),
            "floor": fitted(cells.text("floor"), "floor"),
            "wall": fitted(cells.text("wall"), "wall"),
            "roof": fitted(cells.text("roof"), "roof"),
            "drinking_water": fitted(cells.text("drinking_water"), "drinking_water"),
            "sanitation": fitted(cells.text("sanitation"), "sanitation"),
            "electricity": fitted(cells.text("electricity"), "electricity"),
            "cooking_fuel": fitted(cells.text("cooking_fuel"), "cooking_fuel"),
            "owns_car": cells.parsed("owns_car", _bool),
            "motorcycles": count_in(cells, "motorcycles"),
        },
    )


_VILLAGE_PREFIXES = ("kelurahan ", "kel. ", "kel ", "desa ", "ds. ", "ds ")
_DISTRICT_PREFIXES = ("kecamatan ", "kec. ", "kec ", "distrik ")


def _place_key(name: str, prefixes: tuple[str, ...]) -> str:
    text = " ".join(name.lower().replace("-", " ").split())
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.replace(" ", "")


def village_key(name: str) -> str:
    """'KELURAHAN BONTANG KUALA', 'Kel. Bontang Kuala' and 'bontang  kuala' are the same village name."""
    return _place_key(name, _VILLAGE_PREFIXES)


def district_key(name: str) -> str:
    """'KECAMATAN BONTANG UTARA', 'Kec. Bontang Utara' and 'bontang utara' are the same district name."""
    return _place_key(name, _DISTRICT_PREFIXES)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


class VillageNames:
    """The region's villages by name, for lists that name the desa/kelurahan instead of coding it (most agency and
    village lists). A name unique in the region is enough; a name found in several districts (about one village in
    twenty across Indonesia shares its name with another of its regency) needs the district, by name or code."""

    def __init__(self, villages: Iterable[tuple[str, str, str, str]] = ()) -> None:
        # name key (and district key) -> code; None when several villages have it
        self.by_name: dict[str, str | None] = {}
        self.by_district: dict[tuple[str, str], str | None] = {}
        for code, name, district_code, district_name in villages:
            key = village_key(name)
            self.by_name[key] = None if key in self.by_name else code
            for pair in ((district_key(district_name), key), (_digits(district_code), key)):  # 64.74.01 or 647401
                self.by_district[pair] = None if pair in self.by_district else code
        self._found: dict[tuple[str, str], tuple[str, str]] = {}

    def code(self, name: str, district: str = "") -> tuple[str, str]:
        """(village code, "") or ("", issue code): ``village.name_unknown`` or ``village.name_ambiguous``."""
        found = self._found.get((name, district))
        if found is None:
            found = self._found[(name, district)] = self._code(name, district)
        return found

    def _code(self, name: str, district: str) -> tuple[str, str]:
        key = village_key(name)
        # A district that does not hold the name (misspelt, a BPS code, the district before a split) is passed over
        # for the name alone: a name unique in the region still names one village.
        for pair in ((district_key(district), key), (_digits(district), key)) if district else ():
            if pair[0] and pair in self.by_district:
                code = self.by_district[pair]
                return (code, "") if code else ("", "village.name_ambiguous")
        if key not in self.by_name:
            return "", "village.name_unknown"
        unique = self.by_name[key]
        return (unique, "") if unique else ("", "village.name_ambiguous")


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
        # The region's villages by name: given by the pipeline (``services.common._handler``), before a large file's
        # reading process is forked, so that process never queries the database.
        self.names = VillageNames()
        self.relationship: Callable[[Any], str] = _relationship  # bare numbers as Dukcapil's SHDK, unless observe
        self.period = ""  # the period given at upload (ImportBatch.period_choice)

    def observe(self, rows: list[list[Any]], lines: list[int], mapping: dict[str, int]) -> list[Issue]:
        """Look at the list's first rows before any is taken: a relationship column whose numbers follow BPS's
        numbering (DTKS, Regsosek, Susenas: 3 a child, not a wife) is read so, with a warning on the first row with a
        number. Returns the warnings."""
        index = mapping.get("relationship")
        if index is None:
            return []
        cells = [row[index] if index < len(row) else None for row in rows]
        if relationship_numbering(cells) != BPS:
            return []
        self.relationship = _relationship_bps
        numbered = (i for i, cell in enumerate(cells) if cell_text(cell).removesuffix(".0").isdigit())
        first = next(numbered, 0)
        return [Issue(lines[first], "relationship", "relationship.bps_numbering", cell_text(cells[first]), error=False)]

    def check(self, cells: Cells) -> None:
        """Add rejections for rows this kind cannot use."""

    def check_village(self, cells: Cells) -> str:
        """The row's village code, normalised into the row; rejected when missing or not one of the region's. A row
        without a known code is placed by its village's name (and district's, when the name is not unique); a code
        the name replaced ('-', a BPS or an old code) is a warning."""
        village = normalise_village_code(cells.text("village"))
        name = cells.text("village_name")
        if name and village not in self.villages:
            found, problem = self.names.code(name, cells.text("district_name"))
            if not problem:
                if village:
                    cells.issues.append(Issue(cells.line, "village", "village.unknown", village, error=False))
                village = found
            elif not village:
                cells.row["village"] = ""
                cells.reject("village_name", problem, name)
                return ""
        cells.row["village"] = village
        if not village:
            cells.reject("village", "village.missing")
        elif village not in self.villages:
            cells.reject("village", "village.unknown", village)
        return village

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
