"""NIK and KK checks: cases from the DTKS audit findings, spreadsheet damage and the 2012/2022 province splits."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tepat.engine.identity import (
    KkProblem,
    NikProblem,
    RegionCodes,
    Severity,
    Sex,
    build_nik,
    check_kk,
    check_nik,
    mask_nik,
    nik_check_stream,
    normalise_nik,
    parse_date,
    parse_sex,
)

REFERENCE = Path(__file__).parents[2] / "data" / "reference"
TODAY = date(2025, 6, 1)
NIK = "6474031207850001"  # Bontang Barat, man born 12 July 1985, serial 0001


@pytest.fixture(scope="module")
def regions() -> RegionCodes:
    return RegionCodes.from_reference_dir(REFERENCE)


@pytest.fixture(scope="module")
def district_codes(regions: RegionCodes) -> list[str]:
    return sorted(regions.districts)


# --- errors: the NIK cannot be used -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, problem",
    [
        (None, NikProblem.EMPTY),
        ("", NikProblem.EMPTY),
        ("-", NikProblem.EMPTY),
        ("0", NikProblem.EMPTY),  # how spreadsheets say "no NIK"
        (0, NikProblem.EMPTY),
        ("647403120785000", NikProblem.LENGTH),  # 15 digits: never invent the missing one
        ("64740312078500012", NikProblem.LENGTH),
        ("64740312078500O1", NikProblem.NON_DIGIT),  # letter O for zero
        ("NIK 6474031207850001", NikProblem.NON_DIGIT),
        ("6.47403E+15", NikProblem.EXCEL_SCIENTIFIC),
        ("6,47403E+15", NikProblem.EXCEL_SCIENTIFIC),  # comma decimal (Indonesian locale)
        ("0000000000000000", NikProblem.PLACEHOLDER),
        ("1111111111111111", NikProblem.PLACEHOLDER),  # structurally valid (11.11.11, 11-11-11), still a dummy
        ("9999999999999999", NikProblem.PLACEHOLDER),
        ("1234567890123456", NikProblem.PLACEHOLDER),
        ("9876543210987654", NikProblem.PLACEHOLDER),
        ("1212121212121212", NikProblem.PLACEHOLDER),
        ("6474000000000000", NikProblem.PLACEHOLDER),  # region prefix + zeros
        ("6474030000000000", NikProblem.PLACEHOLDER),
        ("6474031207850000", NikProblem.SERIAL_ZERO),
        ("1074031207850001", NikProblem.PROVINCE_UNKNOWN),
        ("6499031207850001", NikProblem.REGENCY_UNKNOWN),
        ("6474991207850001", NikProblem.DISTRICT_UNKNOWN),
        ("6474033207850001", NikProblem.BIRTH_DATE),  # day 32
        ("6474031213850001", NikProblem.BIRTH_DATE),  # month 13
        ("6474033102850001", NikProblem.BIRTH_DATE),  # 31 February
        ("6474030007850001", NikProblem.BIRTH_DATE),  # day 00
        ("6474034007850001", NikProblem.BIRTH_DATE),  # woman, day 0
        ("6474037207850001", NikProblem.BIRTH_DATE),  # day field 72
        ("6474032902010001", NikProblem.BIRTH_DATE),  # 29 February 2001
    ],
)
def test_damaged_niks_are_named(raw: object, problem: NikProblem, regions: RegionCodes) -> None:
    check = check_nik(raw, regions=regions, today=TODAY)
    assert problem in check.problems
    assert problem.severity is Severity.ERROR
    assert not check.valid


def test_a_birth_date_after_today_is_an_error_when_the_record_puts_it_there(regions: RegionCodes) -> None:
    check = check_nik("6474031207300001", regions=regions, born="2030-07-12", today=TODAY)
    assert check.problems == (NikProblem.BIRTH_FUTURE,)
    assert not check.valid


def test_province_regency_district_are_checked_top_down(regions: RegionCodes) -> None:
    assert check_nik("1074031207850001", regions=regions, today=TODAY).problems == (NikProblem.PROVINCE_UNKNOWN,)
    check = check_nik("6499031207850001", regions=regions, today=TODAY)
    assert (check.problems, check.province, check.regency) == ((NikProblem.REGENCY_UNKNOWN,), "64", None)


# --- warnings: repaired or disagreeing, still usable ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, recorded, problem",
    [
        ("6474031207850001.0", {}, NikProblem.EXCEL_REPAIRED),
        ("'6474031207850001", {}, NikProblem.EXCEL_REPAIRED),
        ('="6474031207850001"', {}, NikProblem.EXCEL_REPAIRED),  # a CSV written to open as text in Excel
        ('"6474031207850001"', {}, NikProblem.EXCEL_REPAIRED),
        ("6.474031207850001E+15", {}, NikProblem.EXCEL_REPAIRED),  # full mantissa: nothing lost
        (6.474031207850001e15, {}, NikProblem.EXCEL_REPAIRED),
        (" 6474 0312 0785 0001 ", {}, NikProblem.SEPARATORS),
        ("6474.0312.0785.0001", {}, NikProblem.SEPARATORS),
        ("6474-0312-0785-0001", {}, NikProblem.SEPARATORS),
        ("6474_0312_0785_0001", {}, NikProblem.SEPARATORS),
        ("6474\u00a00312\u00a00785\u00a00001", {}, NikProblem.SEPARATORS),
        ("\ufeff6474031207850001\u200b", {}, NikProblem.SEPARATORS),  # pasted from a web page: invisible marks
        ("9101051207850001", {}, NikProblem.FORMER_CODE),  # Merauke before Papua Selatan
        ("6473011207850001", {}, NikProblem.FORMER_CODE),  # Tarakan before Kalimantan Utara
        (NIK, {"sex": "P"}, NikProblem.SEX_MISMATCH),
        ("6474035207850001", {"sex": "Laki-laki"}, NikProblem.SEX_MISMATCH),
        (NIK, {"born": "1985-07-13"}, NikProblem.BIRTH_DATE_MISMATCH),
        (NIK, {"born": "1985-08-12"}, NikProblem.BIRTH_DATE_MISMATCH),
        (NIK, {"born": "1986-07-12"}, NikProblem.BIRTH_DATE_MISMATCH),
        ("6474031207850010.0", {}, NikProblem.EXCEL_TRUNCATED),
        (6474031207850010.0, {}, NikProblem.EXCEL_TRUNCATED),
        (6474031207850010, {}, NikProblem.EXCEL_TRUNCATED),
        (9171011207850003.0, {}, NikProblem.EXCEL_TRUNCATED),  # Kota Jayapura: above 2**53 a float rounds
        ("9171011207850004.0", {}, NikProblem.EXCEL_TRUNCATED),  # pandas writes floats like this
    ],
)
def test_warnings_keep_the_nik_valid(
    raw: object, recorded: dict[str, str], problem: NikProblem, regions: RegionCodes
) -> None:
    check = check_nik(raw, regions=regions, today=TODAY, **recorded)
    assert problem in check.problems
    assert problem.severity is Severity.WARNING
    assert check.valid


@pytest.mark.parametrize(
    "born",
    ["1985-07-12", "12-07-1985", "12/07/1985", "1985-07-12 00:00:00", date(1985, 7, 12)],
)
def test_recorded_birth_dates_in_the_usual_spellings_agree(born: object, regions: RegionCodes) -> None:
    assert check_nik(NIK, regions=regions, born=born, sex="L", today=TODAY).problems == ()


def test_a_legacy_nik_keeps_its_own_birth_date_when_the_record_disagrees(regions: RegionCodes) -> None:
    check = check_nik(NIK, regions=regions, born="1984-01-01", today=TODAY)
    assert (check.valid, check.birth_date) == (True, date(1985, 7, 12))


# --- what a NIK says ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, born, sex",
    [
        ("6474031207850001", date(1985, 7, 12), Sex.MALE),
        ("6474035207850001", date(1985, 7, 12), Sex.FEMALE),  # day + 40 for women
        ("6474037107990001", date(1999, 7, 31), Sex.FEMALE),
        ("6474034101000001", date(2000, 1, 1), Sex.FEMALE),
        ("6474030101000001", date(2000, 1, 1), Sex.MALE),
        ("6474032902000001", date(2000, 2, 29), Sex.MALE),  # 2000 is a leap year
        ("6474036902000001", date(2000, 2, 29), Sex.FEMALE),
        ("6474032902960001", date(1996, 2, 29), Sex.MALE),
    ],
)
def test_birth_date_and_sex_are_read_from_the_nik(raw: str, born: date, sex: Sex, regions: RegionCodes) -> None:
    check = check_nik(raw, regions=regions, today=TODAY)
    assert (check.valid, check.birth_date, check.sex) == (True, born, sex)


@pytest.mark.parametrize(
    "ddmmyy, recorded, year",
    [
        ("120724", None, 2024),
        ("010625", None, 2025),  # today
        ("020625", None, 1925),  # later this year: a 99-year-old, not a future birth
        ("120726", None, 1926),
        ("120700", None, 2000),
        ("120799", None, 1999),
        ("120720", "1920-07-12", 1920),  # the recorded date decides the century
        ("120720", "2020-07-12", 2020),
        ("120799", "2000-01-01", 1999),
    ],
)
def test_two_digit_years_are_resolved_by_plausibility(
    ddmmyy: str, recorded: str | None, year: int, regions: RegionCodes
) -> None:
    check = check_nik(f"647403{ddmmyy}0001", regions=regions, born=recorded, today=TODAY)
    assert check.birth_date is not None and check.birth_date.year == year


@pytest.mark.parametrize(
    "raw, province, regency, district, problems",
    [
        ("6474031207850001", "64", "64.74", "64.74.03", ()),  # Bontang
        ("6571011207850001", "65", "65.71", "65.71.01", ()),  # Tarakan today
        ("6473011207850001", "65", "65.71", "65.71.01", (NikProblem.FORMER_CODE,)),  # Tarakan before 2012
        ("6404011207850001", "65", "65.01", "65.01.01", (NikProblem.FORMER_CODE,)),  # Bulungan before 2012
        ("9103011207850001", "91", "91.03", "91.03.01", ()),  # Jayapura stayed in Papua
        ("9101051207850001", "93", "93.01", "93.01.05", (NikProblem.FORMER_CODE,)),  # Merauke
        ("9104061207850001", "94", "94.01", "94.01.04", (NikProblem.FORMER_CODE,)),  # Uwapa, renumbered
        ("9102451207850001", "95", "95.01", "95.01.17", (NikProblem.FORMER_CODE,)),  # Ibele, renumbered
        ("9271011207850001", "96", "96.71", "96.71.01", (NikProblem.FORMER_CODE,)),  # Kota Sorong
        ("9104081207850001", "94", "94.01", None, (NikProblem.FORMER_CODE, NikProblem.DISTRICT_UNKNOWN)),
        ("6473991207850001", "65", "65.71", None, (NikProblem.FORMER_CODE, NikProblem.DISTRICT_UNKNOWN)),
    ],
)
def test_region_codes_resolve_to_current_codes(
    raw: str,
    province: str,
    regency: str,
    district: str | None,
    problems: tuple[NikProblem, ...],
    regions: RegionCodes,
) -> None:
    check = check_nik(raw, regions=regions, today=TODAY)
    assert (check.province, check.regency, check.district, check.problems) == (province, regency, district, problems)


def test_a_renumbered_regency_is_never_guessed_by_prefix(regions: RegionCodes) -> None:
    # 91.04.08 is in no Kemendagri list; 94.01.08 exists (Teluk Umar) but is not what the NIK meant.
    assert "94.01.08" in regions.districts
    assert check_nik("9104081207850001", regions=regions, today=TODAY).district is None


def test_without_reference_data_only_the_nik_itself_is_checked() -> None:
    check = check_nik("6499991207850001", today=TODAY)
    assert (check.valid, check.province, check.district, check.birth_date) == (True, None, None, date(1985, 7, 12))


# --- spreadsheet damage -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, nik, problems",
    [
        ("6474031207850001", NIK, ()),
        (6474031207850001, NIK, ()),
        ("6474031207850001.0", NIK, (NikProblem.EXCEL_REPAIRED,)),
        ("6474031207850001,0", NIK, (NikProblem.EXCEL_REPAIRED,)),
        ("6.474031207850001E+15", NIK, (NikProblem.EXCEL_REPAIRED,)),
        ("6,474031207850001e15", NIK, (NikProblem.EXCEL_REPAIRED,)),
        (6.474031207850001e15, NIK, (NikProblem.EXCEL_REPAIRED,)),
        ("'6474031207850001", NIK, (NikProblem.EXCEL_REPAIRED,)),
        (" 6474 0312 0785 0001 ", NIK, (NikProblem.SEPARATORS,)),
        ("6474.0312.0785.0001", NIK, (NikProblem.SEPARATORS,)),
        ("6474-0312-0785-0001", NIK, (NikProblem.SEPARATORS,)),
        ("６４７４０３１２０７８５０００１", NIK, ()),  # full-width digits from some Excel IMEs
        ("6.47403E+15", None, (NikProblem.EXCEL_SCIENTIFIC,)),
        ("6,47403E+15", None, (NikProblem.EXCEL_SCIENTIFIC,)),
        (6.47403e15, "6474030000000000", (NikProblem.EXCEL_REPAIRED, NikProblem.EXCEL_TRUNCATED)),
        (None, None, (NikProblem.EMPTY,)),
        ("", None, (NikProblem.EMPTY,)),
        ("-", None, (NikProblem.EMPTY,)),
        ("0", None, (NikProblem.EMPTY,)),
        (float("nan"), None, (NikProblem.NON_DIGIT,)),
        (True, None, (NikProblem.NON_DIGIT,)),
    ],
)
def test_excel_damage_is_repaired_and_reported(raw: object, nik: str | None, problems: tuple[NikProblem, ...]) -> None:
    assert normalise_nik(raw) == (nik, problems)


# --- KK -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, problem, valid",
    [
        ("", KkProblem.EMPTY, False),
        ("647403010120000", KkProblem.LENGTH, False),
        ("647403010120000X", KkProblem.NON_DIGIT, False),
        ("6.47403E+15", KkProblem.EXCEL_SCIENTIFIC, False),
        ("0000000000000000", KkProblem.PLACEHOLDER, False),
        ("6474030101200000", KkProblem.SERIAL_ZERO, False),
        ("6499030101200001", KkProblem.DISTRICT_UNKNOWN, False),
        ("1074030101200001", KkProblem.DISTRICT_UNKNOWN, False),
        ("9104060101200001", KkProblem.FORMER_CODE, True),
        ("6474033213200001", KkProblem.DATE, True),  # the date split is unconfirmed: only a warning
        ("6474034101200001", KkProblem.DATE, True),  # no +40 on a KK
        ("6474030101200001.0", KkProblem.EXCEL_REPAIRED, True),
        ("6474 0301 0120 0001", KkProblem.SEPARATORS, True),
    ],
)
def test_kk_problems_are_named(raw: str, problem: KkProblem, valid: bool, regions: RegionCodes) -> None:
    check = check_kk(raw, regions=regions, today=TODAY)
    assert problem in check.problems
    assert check.valid is valid


def test_a_sound_kk_reports_its_issuing_district_and_date(regions: RegionCodes) -> None:
    assert check_kk("6474030101200001", regions=regions, today=TODAY).to_json() == {
        "kk": "6474030101200001",
        "valid": True,
        "reasons": [],
        "province": "64",
        "regency": "64.74",
        "district": "64.74.03",
        "recorded_on": "2020-01-01",
    }


# --- small parsers, messages, output ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, sex",
    [
        ("L", Sex.MALE),
        ("lk", Sex.MALE),
        ("Laki-laki", Sex.MALE),
        ("LAKI - LAKI", Sex.MALE),
        ("M", Sex.MALE),
        ("male", Sex.MALE),
        (1, Sex.MALE),
        ("1", Sex.MALE),
        (1.0, Sex.MALE),
        ("P", Sex.FEMALE),
        ("PR", Sex.FEMALE),
        ("Perempuan", Sex.FEMALE),
        ("f", Sex.FEMALE),
        ("Female", Sex.FEMALE),
        (2, Sex.FEMALE),
        (Sex.FEMALE, Sex.FEMALE),
        ("Laki-Laki (L)", Sex.MALE),  # the template's own code kept beside the word
        ("Perempuan [P]", Sex.FEMALE),
        ("Lelaki", Sex.MALE),
        ("Laki2", Sex.MALE),
        ("1.0", Sex.MALE),
        ("", None),
        ("x", None),
        (3, None),
        (None, None),
        (True, None),
    ],
)
def test_recorded_sex_is_read_in_every_common_spelling(value: object, sex: Sex | None) -> None:
    assert parse_sex(value) is sex


@pytest.mark.parametrize(
    "value, parsed",
    [("1985-07-12", date(1985, 7, 12)), ("12-07-1985", date(1985, 7, 12)), ("31-02-1985", None), ("", None)],
)
def test_recorded_dates_are_parsed_or_ignored(value: str, parsed: date | None) -> None:
    assert parse_date(value) == parsed


@pytest.mark.parametrize("problem", [*NikProblem, *KkProblem])
def test_every_problem_has_a_severity_and_a_message_in_both_languages(problem: NikProblem | KkProblem) -> None:
    assert problem.severity in (Severity.ERROR, Severity.WARNING)
    assert problem.message() == problem.message_id != problem.message("en") == problem.message_en
    assert problem.value.startswith("nik." if isinstance(problem, NikProblem) else "kk.")


def test_messages_are_indonesian_by_default() -> None:
    assert NikProblem.LENGTH.message() == "NIK harus 16 angka"
    assert NikProblem.LENGTH.message("en") == "NIK must have 16 digits"


def test_json_has_exactly_the_command_contract_keys(regions: RegionCodes) -> None:
    assert check_nik("6474035207850001", regions=regions, today=TODAY).to_json() == {
        "nik": "6474035207850001",
        "valid": True,
        "reasons": [],
        "province": "64",
        "regency": "64.74",
        "district": "64.74.03",
        "birth_date": "1985-07-12",
        "sex": "P",
    }
    assert check_nik("6.47403E+15", regions=regions).to_json() == {
        "nik": None,
        "valid": False,
        "reasons": ["nik.excel_scientific"],
        "province": None,
        "regency": None,
        "district": None,
        "birth_date": None,
        "sex": None,
    }


def test_the_check_stream_reads_bare_niks_and_csv_lines(regions: RegionCodes) -> None:
    lines = [
        "\ufeffNIK,jenis_kelamin,tanggal_lahir\n",
        "\n",
        "6474035207850001,P,1985-07-12\n",
        "6474031207850001,P,1985-07-12\n",
        '"6474 0312 0785 0001",,\n',
        "6,47403E+15\n",
        "6474031207850001,0\n",
        "6474031207850001;L;12-07-1985\n",  # Indonesian-locale Excel CSV
        "9104061207850001\n",
    ]
    out = list(nik_check_stream(lines, regions=regions, today=TODAY))
    assert [row["reasons"] for row in out] == [
        [],
        ["nik.sex_mismatch"],
        ["nik.separators"],
        ["nik.excel_scientific"],
        ["nik.excel_repaired"],
        [],
        ["nik.former_code"],
    ]
    assert out[-1]["district"] == "94.01.04"


def test_reference_data_is_loaded_once_per_directory(regions: RegionCodes) -> None:
    assert RegionCodes.from_reference_dir(str(REFERENCE)) is regions


def test_every_former_code_is_retired_and_points_at_a_current_code(regions: RegionCodes) -> None:
    assert len(regions.former) > 31
    for old, new in regions.former.items():
        assert old not in regions.regencies | regions.districts
        assert new in (regions.regencies if len(new) == 5 else regions.districts)


def test_a_former_code_that_points_nowhere_is_refused(tmp_path: Path) -> None:
    (tmp_path / "provinces.csv").write_text("code,name\n64,Kalimantan Timur\n")
    (tmp_path / "regencies.csv").write_text("code,province_code,name\n64.74,64,Kota Bontang\n")
    (tmp_path / "districts.csv").write_text("code,regency_code,name\n64.74.03,64.74,Bontang Barat\n")
    (tmp_path / "former_codes.csv").write_text("former_code,current_code,name,changed,source\n64.73,65.71,x,2012,x\n")
    with pytest.raises(ValueError, match=r"64\.73"):
        RegionCodes.from_reference_dir(tmp_path)


def test_partners_see_a_masked_nik() -> None:
    assert mask_nik(NIK) == "6474********0001"


# --- properties ---------------------------------------------------------------------------------------------------

births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sexes = st.sampled_from(Sex)
serials = st.integers(min_value=1, max_value=9999)


@given(data=st.data(), born=births, sex=sexes, serial=serials)
def test_any_built_nik_checks_back_to_what_built_it(
    data: st.DataObject, born: date, sex: Sex, serial: int, regions: RegionCodes, district_codes: list[str]
) -> None:
    district = data.draw(st.sampled_from(district_codes))
    nik = build_nik(district, born, sex, serial)
    assume(nik != "1111111111111111")  # 11.11.11, 11-11-(19)11, serial 1111: rejected as a dummy on purpose
    check = check_nik(nik, regions=regions, sex=sex, born=born, today=TODAY)
    assert check.valid and check.problems == ()
    assert (check.birth_date, check.sex, check.district) == (born, sex, district)


@given(data=st.data(), born=st.dates(min_value=TODAY - timedelta(days=99 * 365), max_value=TODAY), sex=sexes)
def test_without_a_recorded_date_the_last_century_reads_back_unchanged(
    data: st.DataObject, born: date, sex: Sex, regions: RegionCodes, district_codes: list[str]
) -> None:
    nik = build_nik(data.draw(st.sampled_from(district_codes)), born, sex, 1)
    assert check_nik(nik, regions=regions, today=TODAY).birth_date == born


FORMATS = [
    lambda nik: " ".join([nik[:4], nik[4:8], nik[8:12], nik[12:]]),
    lambda nik: ".".join([nik[:4], nik[4:8], nik[8:12], nik[12:]]),
    lambda nik: "-".join([nik[:6], nik[6:12], nik[12:]]),
    lambda nik: f"'{nik}",
    lambda nik: f"{nik}.0",
    lambda nik: f"{nik[0]}.{nik[1:]}E+15",
    lambda nik: f"\u00a0{nik}\u00a0",
]


@given(data=st.data(), born=births, sex=sexes, serial=serials, style=st.sampled_from(FORMATS))
def test_formatted_niks_normalise_back_to_the_same_nik(
    data: st.DataObject, born: date, sex: Sex, serial: int, style: object, district_codes: list[str]
) -> None:
    nik = build_nik(data.draw(st.sampled_from(district_codes)), born, sex, serial)
    assert callable(style)
    assert normalise_nik(style(nik))[0] == nik
    if int(nik) < 2**53:  # a float holds every 16-digit integer up to 2**53 exactly
        assert normalise_nik(float(nik))[0] == nik


# A fixed pool of awkward characters instead of st.text(): full Unicode costs Hypothesis ~3 s on a fresh machine.
AWKWARD = "0123456789 .,-_/'\"eE+xO\t\n\u00a0\u2007\u202f\u200b\ufeff０１２９٠١٢۹²½ⅷ①é\u0301😀ߐ"


@given(raw=st.one_of(st.none(), st.text(st.sampled_from(AWKWARD)), st.floats(), st.integers(), st.booleans()))
def test_checks_never_raise_on_any_input(raw: object, regions: RegionCodes) -> None:
    nik_check = check_nik(raw, regions=regions, sex="L", born="1985-07-12")
    kk_check = check_kk(raw, regions=regions)
    for check, number in ((nik_check, nik_check.nik), (kk_check, kk_check.kk)):
        assert not check.valid or (number is not None and len(number) == 16 and number.isdigit())


@given(raw=st.text(alphabet="0123456789 .,-'eE+", max_size=30))
def test_spreadsheet_looking_text_never_raises(raw: str, regions: RegionCodes) -> None:
    check_nik(raw, regions=regions)
    list(nik_check_stream([raw], regions=regions))
