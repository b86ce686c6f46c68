from __future__ import annotations

import contextlib
import math
from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tepat.engine.values import (
    BPS,
    SHDK,
    ValueError_,
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


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1985-07-12", date(1985, 7, 12)),
        ("12/07/1985", date(1985, 7, 12)),  # Indonesian order: day first
        ("12-07-1985", date(1985, 7, 12)),
        ("12 Juli 1985", date(1985, 7, 12)),
        ("1 Agustus 2024", date(2024, 8, 1)),
        ("31240", date(1985, 7, 12)),  # an Excel serial number kept as text
        (31240, date(1985, 7, 12)),
        ("12-Agu-85", date(1985, 8, 12)),  # a month's name with a two-digit year
        ("12 Agustus 85", date(1985, 8, 12)),
        ("17-Agust-1945", date(1945, 8, 17)),  # the abbreviations lists use: any that starts only one month
        ("17 Agst 1945", date(1945, 8, 17)),
        ("1 Mrt 2020", date(2020, 3, 1)),
        ("3 Sept. 2001", date(2001, 9, 3)),
        ("2 Pebr 1980", date(1980, 2, 2)),
        ("9 Okto 1999", date(1999, 10, 9)),
        ("30 Nopember 1960", date(1960, 11, 30)),
        ("1 March 2000", date(2000, 3, 1)),
        ("12 Januari, 1980", date(1980, 1, 12)),
        ("Jumat, 12 Juli 1985", date(1985, 7, 12)),  # with the weekday, as a letter writes a date
        ("1985/07/12", date(1985, 7, 12)),  # year first with slashes
        ("12-07-1985 00:00:00", date(1985, 7, 12)),  # a database export's date-time
        ("12/07/1985 13.45", date(1985, 7, 12)),
        ("19850712", date(1985, 7, 12)),  # BDT's compact form
        ("12071985", date(1985, 7, 12)),  # ... and the day-first compact one
        (19850712, date(1985, 7, 12)),
        (1071985.0, date(1985, 7, 1)),  # 01071985 typed into a number cell: Excel dropped the leading zero
        ("", None),
        ("-", None),
        (None, None),
    ],
)
def test_dates_as_lists_write_them(raw: object, expected: date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "31/02/1990",
        "1985-13-01",
        "kemarin",
        "32 Maret 2020",
        "Bontang 12 Juli 1985",
        "1985-07/12",
        "19851312",
        "1 Ju 2000",
        "1 Ma 2000",
        "4 Juno 1990",
    ],  # Ju, Ma: June or July, March or May; Juno: no month
)
def test_impossible_dates_are_named(raw: str) -> None:
    with pytest.raises(ValueError_) as err:
        parse_date(raw)
    assert err.value.code == "date.invalid"


def test_eight_digits_never_read_both_as_year_first_and_as_day_first() -> None:
    """YYYYMMDD of 19xx/20xx needs its month in digits 5-6, which DDMMYYYY would need to be 19 or 20: no text is
    a valid date both ways, so the order tried decides nothing."""
    from datetime import timedelta

    day = date(1900, 1, 1)
    while day < date(2100, 1, 1):
        ddmmyyyy = day.strftime("%d%m%Y")
        assert parse_date(ddmmyyyy) == day, ddmmyyyy
        day += timedelta(days=1)


def test_month_first_when_the_column_says_so() -> None:
    assert parse_date("07/12/1985", day_first=False) == date(1985, 7, 12)
    assert month_first_date("07/25/1985") == date(1985, 7, 25) and month_first_date(" 7-12-85 ") == date(1985, 7, 12)
    assert month_first_date("25/07/1985") is None and month_first_date("1985-07-12") is None
    assert month_first_date(date(1985, 7, 12)) is None and month_first_date(31240) is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Rp 20.000.000", 20_000_000.0),
        ("1.250.000,50", 1_250_000.5),
        ("2,5", 2.5),
        ("1,250,000", 1_250_000.0),
        ("36", 36.0),
        ("", None),
        ("Rp. 600.000", 600_000.0),  # amounts as agencies type them
        ("Rp 1.500.000,-", 1_500_000.0),
        ("IDR 600000", 600_000.0),
        ("Rp -", None),
        ("36 m2", 36.0),  # a floor area with its unit
        ("12,5 m²", 12.5),
        ("-5", -5.0),
        ("nan", None),  # a missing value as pandas writes it
        (float("nan"), None),
    ],
)
def test_indonesian_numbers(raw: str, expected: float | None) -> None:
    assert parse_decimal(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Kepala Keluarga", "kepala"),
        ("ISTRI", "istri"),
        ("1", "kepala"),
        ("4", "anak"),
        ("Anak Angkat", "anak"),
        ("famili lain", "famili_lain"),
        ("", ""),
        ("1. Kepala Keluarga", "kepala"),
        ("3 - Anak", "anak"),  # DTKS numbers Anak 3, Dukcapil 4: the words decide
        ("Orang Tua/Mertua", "orang_tua"),
        ("KRT", "kepala"),
        ("Keponakan", "famili_lain"),
        ("Kep. Keluarga (KK)", "kepala"),  # the words that say it, whatever else the cell says
        ("Anak Kandung Laki-laki", "anak"),
        ("Anak Menantu", "menantu"),
        ("Ibu Mertua", "mertua"),
        ("Orang tua kandung", "orang_tua"),
        ("Adik Ipar", "famili_lain"),
        ("Sopir", "lainnya"),
    ],
)
def test_relationships(raw: str, expected: str) -> None:
    assert parse_relationship(raw) == expected


def test_bare_relationship_numbers_are_read_in_the_lists_numbering() -> None:
    """Dukcapil's SHDK numbers a wife 3 and a child 4; BPS (DTKS, Regsosek, Susenas) a spouse 2 and a child 3. A
    column's numbers say which: children outnumber spouses, and 4 is a child only in SHDK."""
    bps = ["1", "2", "3", "3", "1", "2", "3", "01", "5", "4"]
    shdk = ["1", "3", "4", "4", "1", "3", "4", "2", "7"]
    assert relationship_numbering(bps) == BPS and relationship_numbering([1.0, 2.0, 3.0, 3.0]) == BPS
    assert relationship_numbering(shdk) == SHDK
    assert relationship_numbering(["1", "3", "1", "3", "Anak"]) == SHDK  # couples only: SHDK's wife
    assert relationship_numbering(["Kepala Keluarga", "Istri", "Anak"]) == SHDK
    assert [parse_relationship(code, BPS) for code in ("1", "2", "3", "4", "6", "03")] == [
        "kepala", "istri", "anak", "menantu", "orang_tua", "anak"]  # fmt: skip
    assert [parse_relationship(code) for code in ("1", "2", "3", "4", "03")] == ["kepala", "suami", "istri", "anak",
                                                                               "istri"]  # fmt: skip
    assert parse_relationship("4 - Anak", BPS) == "anak" and parse_relationship("3. Anak") == "anak"  # words decide


@pytest.mark.parametrize(
    "raw, expected",
    [("1", 1), ("01", 1), (4.0, 4), ("Desil 1", 1), ("DESIL 10", 10), ("D3", 3), ("Desil-2", 2),
     ("1 - Sangat Miskin", 1), ("DESIL 3 (Miskin)", 3), ("", None), ("-", None), ("12", 12)],
)  # fmt: skip
def test_desil_as_extracts_and_dashboards_write_it(raw: object, expected: int | None) -> None:
    assert parse_desil(raw) == expected  # 12: read, and reported out of range by the import


@pytest.mark.parametrize("raw", ["Desil", "Desil 1-4", "dua", "1,5"])
def test_a_desil_that_is_not_one_is_named(raw: str) -> None:
    with pytest.raises(ValueError_) as err:
        parse_desil(raw)
    assert err.value.code == "number.invalid"


@pytest.mark.parametrize(
    "raw, expected",
    [("2026", "2026"), (2026, "2026"), ("2026-Q3", "2026-Q3"), ("2026-T3", "2026-Q3"), ("Triwulan III 2026", "2026-Q3"),
     ("TW 3/2026", "2026-Q3"), ("Q3 2026", "2026-Q3"), ("Kuartal ke-3 Tahun 2026", "2026-Q3"),
     ("Semester I 2026", "2026-S1"), ("Smt 2 2026", "2026-S2"), ("Tahap 2 2026", "2026-Tahap2"),
     ("Termin 1 2026", "2026-Tahap1"), ("September 2026", "2026-09"), ("Sep-26", "2026-09"), ("09/2026", "2026-09"),
     ("2026/9", "2026-09"), ("15/09/2026", "2026-09"), (date(2026, 9, 15), "2026-09"),
     ("Januari-Maret 2026", "2026-Q1"), ("Juli s.d. Desember 2026", "2026-S2"), ("", ""), ("-", ""), (None, "")],
)  # fmt: skip
def test_periods_as_agencies_write_them(raw: object, expected: str) -> None:
    assert parse_period(raw) == expected


def test_a_period_without_a_year_takes_the_one_given() -> None:
    assert [parse_period(p, year="2026") for p in ("Tahap 3", "Triwulan II", "September", "TW IV")] == [
        "2026-Tahap3", "2026-Q2", "2026-09", "2026-Q4"]  # fmt: skip
    for raw, code in (("Tahap 3", "period.no_year"), ("Triwulan V 2026", "period.invalid"),
                      ("13/2026", "period.invalid"), ("Jan-Feb 2026", "period.invalid"),
                      ("kemarin", "period.invalid")):  # fmt: skip
        with pytest.raises(ValueError_) as err:
            parse_period(raw)
        assert err.value.code == code, raw


def test_small_codes() -> None:
    assert pad_code("3", 3) == "003" and pad_code("3.0", 3) == "003" and pad_code("0", 3) == ""
    assert normalise_village_code("6474031002") == "64.74.03.1002"
    assert normalise_village_code(" 64.74.03.1002 ") == "64.74.03.1002"
    assert parse_bool("Ya") is True and parse_bool("tidak") is False and parse_bool("") is None
    # village codes typed with spaces, dashes or an unpadded district
    for typed in ("64 74 03 1002", "64-74-03-1002", "647403-1002", "64.74.3.1002", "6474031002.0"):
        assert normalise_village_code(typed) == "64.74.03.1002", typed
    assert normalise_village_code("64.74.03") == "64.74.03" and normalise_village_code("Loktuan") == "Loktuan"


@pytest.mark.parametrize(
    "raw, expected",
    [("√", True), ("v", True), ("Memiliki", True), (1.0, True), ("Tidak Punya", False), ("TIDAK  MEMILIKI", False),
     ("Tdk.", False), ("belum", False), (0.0, False), ("-", None)],
)  # fmt: skip
def test_yes_no_as_checklists_write_it(raw: object, expected: bool | None) -> None:
    assert parse_bool(raw) is expected


@pytest.mark.parametrize("raw", ["inf", "-Infinity", "1e400"])
def test_an_amount_past_any_sum_is_named(raw: str) -> None:
    with pytest.raises(ValueError_) as err:
        parse_decimal(raw)
    assert err.value.code == "number.invalid"


@pytest.mark.parametrize("raw", ["x", "2", 2.0, "mungkin"])
def test_unreadable_yes_no_is_named(raw: object) -> None:
    with pytest.raises(ValueError_) as err:
        parse_bool(raw)
    assert err.value.code == "bool.invalid"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("003/005", ("003", "005")), ("3/5", ("3", "5")), ("RT 03 RW 05", ("03", "05")), ("003 - 005", ("003", "005")),
        ("rt.3/rw.12", ("3", "12")), ("003005", ("003", "005")), (" 12 / 7 ", ("12", "7")),
        (date(2026, 3, 5), ("", "")),  # Excel made '3/5' a date: which is RT and which RW is lost
        ("2026-03-05", ("", "")), ("5", ("", "")), ("", ("", "")), (None, ("", "")), ("1234/5", ("", "")),
    ],
)  # fmt: skip
def test_one_rt_rw_cell_is_split_or_left_alone(raw: object, expected: tuple[str, str]) -> None:
    assert split_rt_rw(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Bontang, 12-07-1985", ("Bontang", "12-07-1985")), ("BONTANG 12/07/1985", ("BONTANG", "12/07/1985")),
        ("Samarinda, 1 Juli 1980", ("Samarinda", "1 Juli 1980")),
        ("Kota Bontang 1 Juli 1980", ("Kota Bontang", "1 Juli 1980")),
        ("Tana Toraja,  05 - 06 - 1990", ("Tana Toraja", "05-06-1990")),
        ("Bontang/12-07-1985", ("Bontang", "12-07-1985")),
        ("12-07-1985", ("", "12-07-1985")), ("Bontang", ("Bontang", None)), ("Bontang,", ("Bontang", None)),
        (date(1985, 7, 12), ("", date(1985, 7, 12))), (None, ("", None)),
    ],
)  # fmt: skip
def test_one_birth_place_and_date_cell_is_split(raw: object, expected: tuple[str, object]) -> None:
    assert split_place_date(raw) == expected


_CELL_TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789 -/.,:()abdegijklmnopqrstuvwxyzAGJLMPTV√_'")), max_size=30
)


@settings(max_examples=400, deadline=None)
@given(_CELL_TEXT | st.text(max_size=20) | st.integers(-(10**20), 10**20) | st.floats() | st.none() | st.booleans()
       | st.dates())  # fmt: skip
@example(10502147483648.0)  # a NIK typed into a workbook's birth date column: was an OverflowError
@example(99999999.0)
@example("²")  # an RT cell: isdigit, but not int(): stopped the import
def test_a_cell_parser_says_invalid_and_never_raises_anything_else(cell: object) -> None:
    """Whatever a cell holds, a parser gives a value or a ValueError_ with a code (which the import reports on the
    row): any other exception would stop the import. An amount is always one a ledger can sum."""
    from tepat.engine.identity import check_kk, check_nik, parse_sex

    parsers = (parse_date, parse_decimal, parse_bool, parse_desil, parse_period, parse_relationship, parse_sex,
               normalise_village_code, split_rt_rw, split_place_date, month_first_date, check_nik, check_kk,
               parse_int, clean_name, lambda value: pad_code(value, 3))  # fmt: skip
    for parser in parsers:
        try:
            parser(cell)  # type: ignore[operator]
        except ValueError_ as exc:
            assert exc.code, parser
    with contextlib.suppress(ValueError_):
        amount = parse_decimal(cell)
        assert amount is None or math.isfinite(amount)
    with contextlib.suppress(ValueError_):  # a period in the ledger's form reads as itself, and analyses take it
        from tepat.programs.analysis import _period_like

        for given in ("Tahap 2 2026", "Triwulan III 2026", "September 2026", "Semester 1 2026", "2026", cell):
            period = parse_period(given)
            assert parse_period(period) == period and _period_like(period), (given, period)
