"""The column-wise path gives exactly what the per-cell and per-row functions give (engine.columnar, and the
family-list handler's prepare/accept against check/add), on generated cells of every kind lists really hold."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tepat.engine import columnar
from tepat.engine.identity import RegionCodes, Sex, build_nik, check_kk, check_nik
from tepat.engine.values import parse_bool, parse_date, parse_int
from tepat.intake.columns import COLUMN_VARIANTS
from tepat.intake.kinds import KINDS, Cells
from tepat.intake.kinds.base import VillageNames

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
REGIONS = RegionCodes.from_reference_dir(REFERENCE)
DISTRICTS = [*sorted(REGIONS.districts)[:40], "64.74.01", "64.74.03", "64.74.02"]
VILLAGES = {"64.74.03.1002", "64.74.01.1001"}
TODAY = date(2026, 11, 22)

births = st.dates(min_value=date(1890, 1, 1), max_value=date(2030, 12, 31))
sexes = st.sampled_from([Sex.MALE, Sex.FEMALE, None])


@st.composite
def niks(draw: st.DrawFn) -> Any:
    """Clean NIKs (most of a real list) and every kind of damage."""
    born, sex = draw(births), draw(st.sampled_from([Sex.MALE, Sex.FEMALE]))
    district = draw(st.sampled_from([*DISTRICTS, "99.99.99", "91.04.06"]))
    nik = build_nik(district, born, sex, draw(st.integers(1, 9999)))
    return draw(
        st.sampled_from(
            [
                nik,
                nik,
                nik[:12] + "0000",
                nik[:15],
                " " + nik,
                nik + ".0",
                "6.47403E+15",
                "1234567890123456",
                "6474030000000000",
                "",
                None,
                int(nik),
                float(nik),
                nik[:6] + "320190" + nik[12:],
                nik[:6] + "311390" + nik[12:],
                nik[:15] + "\u0663",  # an Arabic-Indic digit: isdigit(), not ASCII
                "'" + nik[:15],  # sixteen characters, the first no digit: its "district" was past the table's end
                "A" + nik[1:],
                nik[:6] + "0123456789"[:10],
                "9876543210987654",
                nik[:2] * 8,
            ]
        )
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(niks(), sexes, st.one_of(st.none(), births)), min_size=1, max_size=30))
def test_a_nik_passed_column_wise_is_what_check_nik_finds_clean(rows: list[tuple[Any, Sex | None, Any]]) -> None:
    raws, row_sexes, borns = zip(*rows, strict=True)
    clean = columnar.niks_without_findings(list(raws), list(row_sexes), list(borns), regions=REGIONS, today=TODAY)
    districts = columnar._districts(REGIONS)
    assert clean == [columnar.nik_without_findings(raw, sex, born, districts=districts, today=TODAY)
                     for raw, sex, born in rows]  # fmt: skip  # the whole-column proof is the one-row proof
    for (raw, sex, born), passed in zip(rows, clean, strict=True):
        check = check_nik(raw, regions=REGIONS, sex=sex, born=born, today=TODAY)
        if passed:
            assert check.valid and not check.problems and check.nik == raw and check.raw == raw


def test_sixteen_characters_that_do_not_start_with_digits_are_not_looked_up_as_a_district() -> None:
    """ "'647403120785000" (an apostrophe kept before a NIK one digit short) read as digits starts past the district
    table's end: it stopped every import that held one."""
    cells = ["'647403120785000", "A474031207850001", "6474031203150001"]
    assert columnar.kks_without_findings(cells, regions=REGIONS, today=TODAY) == [False, False, True]
    assert columnar.niks_without_findings(cells, [None] * 3, [None] * 3, regions=REGIONS, today=TODAY)[:2] == [
        False, False]  # fmt: skip


def test_a_clean_nik_with_its_own_birth_date_and_sex_passes_column_wise() -> None:
    born = date(1988, 8, 15)
    nik = build_nik("64.74.03", born, Sex.FEMALE, 2)
    assert columnar.niks_without_findings([nik, nik, nik], [Sex.FEMALE, None, Sex.MALE], [born, None, born],
                                          regions=REGIONS, today=TODAY) == [True, True, False]  # fmt: skip


def test_cells_the_parsers_never_give_are_proven_row_by_row() -> None:
    """ "L" as text equals Sex.MALE and a datetime is not a date to the check: the whole-column proof must not
    take one for the other through a dict key."""
    born = date(1988, 8, 15)
    nik = build_nik("64.74.03", born, Sex.MALE, 2)
    proven = columnar.niks_without_findings([nik, nik, nik, nik], [Sex.MALE, "L", None, None],
                                            [born, born, datetime(1988, 8, 15), born],
                                            regions=REGIONS, today=TODAY)  # fmt: skip
    assert proven == [True, False, False, True]


@settings(max_examples=400, deadline=None)
@given(niks())
def test_a_kk_passed_quickly_is_what_check_kk_finds_clean(raw: Any) -> None:
    """A KK is a NIK's shape: district, a date (without the 40 added for women) and a serial."""
    check = check_kk(raw, regions=REGIONS, today=TODAY)
    assert columnar.kks_without_findings([raw], regions=REGIONS, today=TODAY) == [
        columnar.kk_without_findings(raw, regions=REGIONS, today=TODAY)
    ]  # the whole-column proof is the one-cell proof
    if columnar.kk_without_findings(raw, regions=REGIONS, today=TODAY):
        assert check.valid and not check.problems and check.kk == raw and check.raw == raw


def test_a_clean_kk_passes_quickly() -> None:
    kk = build_nik("64.74.03", date(2015, 3, 12), Sex.MALE, 1)
    assert check_kk(kk, regions=REGIONS, today=TODAY).problems == ()
    assert columnar.kk_without_findings(kk, regions=REGIONS, today=TODAY)
    assert not columnar.kk_without_findings(kk[:6] + "310215" + kk[12:], regions=REGIONS, today=TODAY)  # 31 Feb
    assert not columnar.kk_without_findings("9999" + kk[4:], regions=REGIONS, today=TODAY)  # no such district
    leap = build_nik("64.74.03", date(2024, 2, 29), Sex.MALE, 1)
    cells = [
        kk,
        kk[:6] + "310215" + kk[12:],
        "9999" + kk[4:],
        leap,
        leap[:6] + "290223" + leap[12:],
        None,
        6474031203150001,
    ]
    assert columnar.kks_without_findings(cells, regions=REGIONS, today=TODAY) == [
        True,
        False,
        False,
        True,
        False,
        False,
        False,
    ]


cells = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["  1 ", "1.0", "ya", "Tidak", "-", "0", "2024-02-30", "15/08/1990", "1 Maret 2024", "44000"]),
    st.integers(-3, 12),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=50_000),
    st.booleans(),
    st.dates(),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(cells, max_size=40))
def test_columns_read_as_their_cells(values: list[Any]) -> None:
    assert columnar.texts(values) == [columnar.cell_text(v) for v in values]
    assert columnar.raws(values) == [columnar.cell_raw(v) for v in values]
    for parser in (parse_date, parse_bool, parse_int):
        raws = columnar.raws(values)
        assert columnar.parse_column(raws, parser) == [columnar.parse_cell(v, parser) for v in raws]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.one_of(st.none(), st.sampled_from(["1", " ya", "15/08/1990", "2024-02-30", "x", ""]))),
        st.lists(st.text(max_size=4)),
        st.lists(st.floats(min_value=-5, max_value=50_000)),
        st.lists(st.integers(-3, 12)),
        st.lists(st.dates()),
    )
)
def test_columns_of_one_kind_read_as_their_cells(values: list[Any]) -> None:
    """Cells of one type (or text and None) are parsed once per value and spread back."""
    for parser in (parse_date, parse_bool, parse_int):
        assert columnar.parse_column(values, parser) == [columnar.parse_cell(v, parser) for v in values]

    # Compared by value: -0.0 and 0.0 are one value to a dict, as they always were here (their reprs differ).
    def typed(value: Any) -> tuple[str, Any]:
        return type(value).__name__, value

    assert columnar.map_distinct(values, typed) == [typed(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cells, max_size=12), max_size=6), st.integers(1, 30))
@example(chunks=[[None], [None, ""]], limit=1)  # the cache full: the chunk's values it held go with it
def test_a_cache_kept_across_chunks_gives_what_each_cell_gives(chunks: list[list[Any]], limit: int) -> None:
    """Chunks of any types through one cache (map_cached): 1, 1.0 and True in later chunks never take what an
    earlier chunk's equal value gave; past the limit the cache starts again."""

    def typed(value: Any) -> tuple[str, Any]:
        return type(value).__name__, value

    cache: dict[Any, Any] = {}
    longest = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(columnar, "CACHE_LIMIT", limit)
        for values in chunks:
            assert columnar.map_cached(values, typed, cache) == [typed(v) for v in values]
            longest = max(longest, len(values))
            assert len(cache) <= max(limit, longest)  # over the limit only by one chunk's values


HEADER = ["nik", "kk", "name", "sex", "birth_date", "relationship", "village", "desil_national", "rt", "street",
          "floor_area_m2", "owns_car", "birth_place", "mother_name", "marital_status", "education", "occupation",
          "disability"]  # fmt: skip
MAPPING = {name: index for index, name in enumerate(HEADER)}
row_cells = st.tuples(
    niks(),
    st.sampled_from(["6474031203150001", "6474031203150002", "6.47403E+15", "", None, "6474030000000000"]),
    st.sampled_from(["Ahmad  Fauzi", " Nur Aisyah", "", None, "ahmad fauzi", "Ahmad  " * 60]),  # past the column
    st.sampled_from(["L", "P", "Perempuan", "", None, "X", 1, 2.0]),
    st.one_of(births.map(date.isoformat), births, st.sampled_from(["", "15/08/1990", "31/02/1990", "44000", None])),
    st.sampled_from(["Kepala Keluarga", "Istri", "anak", "3", "Tetangga", "", None, 4]),
    st.sampled_from(["64.74.03.1002", "6474011001", "99.99.99.9999", "", None, " 64.74.01.1001 "]),
    st.sampled_from(["1", "10", "11", "x", "", None, 3, 3.0]),
    st.sampled_from(["1", "001", "", None, "A"]),
    st.sampled_from(["Jl.  Mawar", "", None, "Jl.  Mawar " * 40]),
    st.sampled_from(["36", "1.250,5", "x", "", None, 36.5]),
    st.sampled_from(["Ya", "tidak", "mungkin", "", None, True]),
    st.sampled_from(["Bontang", " Samarinda  Kota", "", None]),
    st.sampled_from(["Siti  Aminah", "Wati", "", None, "Siti  " * 70]),
    st.sampled_from(["Kawin", "Belum Kawin", "", None]),
    st.sampled_from(["SD", "SMA", "", None]),
    st.sampled_from(["Nelayan", "Petani", "", None]),
    st.sampled_from(["Ya", "tidak", "mungkin", "", None, True, False]),
)


@st.composite
def clean_rows(draw: st.DrawFn) -> tuple[Any, ...]:
    """A row as most rows of a real list are: the NIK agrees with the birth date and sex, every cell reads."""
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31)))
    sex = draw(st.sampled_from([Sex.MALE, Sex.FEMALE]))
    nik = build_nik(draw(st.sampled_from(["64.74.01", "64.74.03"])), born, sex, draw(st.integers(1, 9999)))
    kk = draw(st.sampled_from(["6474031203150001", "6474031203150002", "6474011505060001"]))
    pick = st.sampled_from
    return (nik, kk, draw(pick(["Ahmad Fauzi", "Nur  Aisyah ", "Nur  " * 90])), sex.value,
            draw(pick([born.isoformat(), born])),
            draw(pick(["Kepala Keluarga", "Anak", ""])), draw(pick(["64.74.03.1002", "6474011001"])),
            draw(pick(["2", "", None])), "1", draw(pick(["Jl. Mawar", "Jl.  Mawar " * 40])),
            draw(pick(["36", "", None])),
            draw(pick(["Ya", "", None])), draw(pick(["Bontang", "", None])), draw(pick(["Siti  Aminah", ""])),
            draw(pick(["Kawin", ""])), draw(pick(["SMA", ""])), draw(pick(["Nelayan", ""])),
            draw(pick(["Ya", "tidak", "", None, False])))  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(clean_rows(), row_cells), min_size=1, max_size=25), st.sampled_from(["person", "dtsen"]))
def test_family_lists_read_column_wise_as_row_by_row(rows: list[tuple[Any, ...]], kind: str) -> None:
    """The same families, members, record indexes and report as check/add row by row."""
    _both_ways(kind, rows, MAPPING, VILLAGES, VillageNames())


def _both_ways(
    kind: str, rows: list[tuple[Any, ...]], mapping: dict[str, int], villages: set[str], names: VillageNames
) -> None:
    """check/add row by row against prepare/accept in chunks of 7: the same records, report and families."""
    lines = list(range(2, len(rows) + 2))
    raw_rows = [list(row) for row in rows]
    outcomes = []
    for chunk in (len(raw_rows), 7):
        handler = KINDS[kind].handler(REGIONS, villages)
        handler.names = names
        issues, records = [], []
        for start in range(0, len(raw_rows), chunk):
            part, part_lines = raw_rows[start : start + chunk], lines[start : start + chunk]
            ready = handler.prepare(part, part_lines, mapping) if chunk == 7 else [None] * len(part)
            for line, raw, prepared in zip(part_lines, part, ready, strict=True):
                if prepared is not None and handler.accept(prepared, len(records)):
                    records.append(line)
                    continue
                cells = Cells({name: raw[i] for name, i in mapping.items()}, line)
                handler.check(cells)
                if not cells.rejected:
                    handler.add(cells, len(records))
                    records.append(line)
                issues.extend(cells.issues)
        outcomes.append((records, issues, handler.families))  # type: ignore[attr-defined]
    assert outcomes[0] == outcomes[1]


# Lists as agencies write them: no village code (or a '-' or BPS one) but the village's name and district, one
# RT/RW column, one birth place/date column. Two Kanaan in two districts; two Sukamaju in one district.
NAMED = ["nik", "kk", "name", "village", "village_name", "district_name", "rt_rw", "birth_place_date", "rt",
         "birth_date", "birth_place", "sex", "sex_male_mark", "sex_female_mark"]  # fmt: skip
NAMED_MAPPING = {name: index for index, name in enumerate(NAMED)}
NAMES = VillageNames([("64.74.03.1002", "Gunung Telihan", "64.74.03", "Bontang Barat"),
                      ("64.74.03.1003", "Kanaan", "64.74.03", "Bontang Barat"),
                      ("64.74.02.1099", "Kanaan", "64.74.02", "Bontang Selatan"),
                      ("64.74.02.1004", "Sukamaju", "64.74.02", "Bontang Selatan"),
                      ("64.74.02.1005", "Sukamaju", "64.74.02", "Bontang Selatan")])  # fmt: skip
NAMED_VILLAGES = {"64.74.03.1002", "64.74.03.1003", "64.74.02.1099", "64.74.02.1004", "64.74.02.1005"}
named_rows = st.tuples(
    niks(),
    st.sampled_from(["6474031203150001", "6474031203150002", "", None]),
    st.sampled_from(["Ahmad Fauzi", "Nur Aisyah", "", None]),
    st.sampled_from(["", None, "-", "64.74.03.1003", "010", "99.99.99.9999"]),
    st.sampled_from(["Kel. Gunung Telihan", "KANAAN", "Sukamaju", "Gunung Tembak", "", None]),
    st.sampled_from(["Bontang Barat", "Kec. Bontang Selatan", "647402", "Bontang Utara", "", None]),
    st.sampled_from(["003/005", "RT 3 RW 12", "RT 3", 3.1, date(2026, 3, 5), "", None]),
    st.sampled_from(
        [
            "Bontang, 12-07-1985",
            "SAMARINDA 1 Juli 1980",
            "Bontang, 1985",
            "BONTANG 12 JULI 85",
            "07/25/1985",
            "Bontang",
            "",
            None,
            datetime(1985, 7, 12),
        ]
    ),
    st.sampled_from(["", None, "7"]),
    st.sampled_from(["", None, "03/04/1985", "1985-07-12"]),
    st.sampled_from(["", None, "Tenggarong"]),
    st.sampled_from(["", None, "L", "Perempuan"]),
    st.sampled_from(["", None, "√", "v", 1, 0, "-", "X", True, False]),  # tick columns (forms: L | P under JK)
    st.sampled_from(["", None, "√", "1", 0.0, "tidak"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(named_rows, min_size=1, max_size=25), st.sampled_from(["person", "dtsen"]))
def test_lists_with_village_names_and_combined_columns_read_column_wise_as_row_by_row(
    rows: list[tuple[Any, ...]], kind: str
) -> None:
    _both_ways(kind, rows, NAMED_MAPPING, NAMED_VILLAGES, NAMES)


def test_the_ticked_one_of_two_sex_columns_is_the_sex() -> None:
    mapping = {"nik": 0, "name": 1, "village": 2, "sex_male_mark": 3, "sex_female_mark": 4}
    handler = KINDS["person"].handler(REGIONS, VILLAGES)
    rows = [["", "Ani", "64.74.03.1002", "", "√"], ["", "Budi", "64.74.03.1002", "v", ""],
            ["", "Cici", "64.74.03.1002", "√", "√"]]  # fmt: skip
    sexes, codes = [], []
    for line, row in enumerate(rows, 2):
        cells = Cells({name: row[i] for name, i in mapping.items()}, line)
        handler.check(cells)
        handler.add(cells, line)
        codes.append([issue.code for issue in cells.issues if issue.column == "sex_male_mark"])
    for family in handler.families.values():  # type: ignore[attr-defined]
        sexes.extend(member[6] for member in family.members)
    assert sexes == ["P", "L", ""] and codes == [[], [], ["sex.both_marked"]]


def test_village_names_place_what_they_can_and_name_the_problem_otherwise() -> None:
    assert NAMES.code("Kel. Gunung Telihan") == ("64.74.03.1002", "")
    assert NAMES.code("kanaan") == ("", "village.name_ambiguous")
    assert NAMES.code("KANAAN", "Kec. Bontang Selatan") == ("64.74.02.1099", "")
    assert NAMES.code("Kanaan", "64.74.03") == ("64.74.03.1003", "")
    assert NAMES.code("Gunung Telihan", "Bontang Utara") == ("64.74.03.1002", "")  # a name unique in the region
    assert NAMES.code("Sukamaju", "Bontang Selatan") == ("", "village.name_ambiguous")  # twice in one district
    assert NAMES.code("Gunung Tembak") == ("", "village.name_unknown")


_ANY_FIELDS = sorted(COLUMN_VARIANTS)
_ODD = st.sampled_from(list("0123456789'  .-/,:()EeOlLpP√²_aiknrstuv"))
_ANY_CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**17), 10**17), st.floats(), st.dates(), st.datetimes(),
    st.text(max_size=8), st.text(alphabet=_ODD, max_size=20), st.text(alphabet=_ODD, min_size=15, max_size=17),
    st.sampled_from(["6474031207850001", "64.74.03.1002", "3", "2", "Desil 2", "Triwulan III 2026", "Rp 1.000,-",
                     "√", "tambah", "keluar", "pindah", "ASN", "Kanaan", "'647403120785000"]),
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(sorted(set(KINDS) - {"bps", "targets"})),  # those two read the database as they check
    st.lists(st.lists(_ANY_CELL, min_size=len(_ANY_FIELDS), max_size=len(_ANY_FIELDS)), min_size=1, max_size=10),
)
@example(kind="person", rows=[["'647403120785000"] * len(_ANY_FIELDS)])  # stopped every import that held one
@example(kind="dtsen", rows=[["²"] * len(_ANY_FIELDS)])
def test_whatever_the_cells_hold_a_chunk_is_taken_and_reported_never_raised(kind: str, rows: list[list[Any]]) -> None:
    """Every field mapped, every cell anything a file can hold: the rows are taken or rejected with a code, both
    ways of reading (column-wise and row by row); an exception here stops the user's import."""
    from tepat.intake.parsing import Parsed, take_chunk

    mapping = {name: index for index, name in enumerate(_ANY_FIELDS)}
    handler = KINDS[kind].handler(REGIONS, VILLAGES, program="")
    parsed = Parsed(handler=handler)
    take_chunk(parsed, [(i, i + 2, list(row)) for i, row in enumerate(rows)], mapping)
    assert parsed.rows == len(rows)
    assert len(parsed.record_ids) + len(parsed.rejected_rows) + sum(i.code in ("row.hint", "row.footer")
                                                                    for i in parsed.issues) == len(rows)  # fmt: skip
