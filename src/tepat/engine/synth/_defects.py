"""The defect vocabulary and the damage functions that inject defects into cells.

Rates are modest and follow what BPK found in the DTKS audit and what Excel does to 16-digit numbers; the
`defect_rate` of the config multiplies all of them (0 gives clean files, 3 a stress test).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

YEAR = 365.2425


class Defect(StrEnum):
    NIK_INVALID_LENGTH = "nik_invalid_length"
    NIK_SERIAL_ZERO = "nik_serial_zero"
    NIK_PLACEHOLDER = "nik_placeholder"
    NIK_EXCEL_SCIENTIFIC = "nik_excel_scientific"
    NIK_EXCEL_FLOAT = "nik_excel_float"
    NIK_EXCEL_TRUNCATED = "nik_excel_truncated"
    NIK_IN_TWO_KK = "nik_in_two_kk"
    NAME_EMPTY = "name_empty"
    NAME_TYPO = "name_typo"
    NAME_VARIANT = "name_variant"
    BIRTH_DATE_WRONG = "birth_date_wrong"
    BIRTH_DATE_MISSING = "birth_date_missing"
    DUPLICATE_IN_LIST = "duplicate_in_list"
    DEAD_STILL_LISTED = "dead_still_listed"
    DEAD_RECIPIENT = "dead_recipient"
    MOVED_RECIPIENT = "moved_recipient"
    EXCLUDED_RECIPIENT = "excluded_recipient"
    INCLUSION_ERROR_DESIL = "inclusion_error_desil"


# Base rates: per extract row / per list row unless noted.
EXTRACT_RATES = {
    Defect.NIK_INVALID_LENGTH: 0.003,
    Defect.NIK_SERIAL_ZERO: 0.0015,
    Defect.NIK_PLACEHOLDER: 0.0015,
    Defect.NAME_EMPTY: 0.0004,
    Defect.NIK_IN_TWO_KK: 0.10,  # of married children living next to their parents
    Defect.DEAD_STILL_LISTED: 0.5,  # of persons who died in the last three years
}
LIST_RATES = {
    Defect.NIK_INVALID_LENGTH: 0.004,
    Defect.NIK_SERIAL_ZERO: 0.002,
    Defect.NIK_PLACEHOLDER: 0.002,
    Defect.NIK_EXCEL_SCIENTIFIC: 0.002,
    Defect.NIK_EXCEL_FLOAT: 0.002,
    Defect.NIK_EXCEL_TRUNCATED: 0.002,
    Defect.NAME_TYPO: 0.015,
    Defect.NAME_VARIANT: 0.03,
    Defect.BIRTH_DATE_WRONG: 0.01,
    Defect.BIRTH_DATE_MISSING: 0.01,
    Defect.DUPLICATE_IN_LIST: 0.012,
    Defect.DEAD_RECIPIENT: 0.5,  # of recipients who died before the period: the list was not cleaned
    Defect.MOVED_RECIPIENT: 0.5,  # of recipients who moved out before the period
}

NIK_PLACEHOLDERS = ("0000000000000000", "1234567890123456", "9999999999999999", "1111111111111111", "-", "BELUM ADA")
NIK_CELL_DEFECTS = (
    Defect.NIK_INVALID_LENGTH,
    Defect.NIK_SERIAL_ZERO,
    Defect.NIK_PLACEHOLDER,
    Defect.NIK_EXCEL_SCIENTIFIC,
    Defect.NIK_EXCEL_FLOAT,
    Defect.NIK_EXCEL_TRUNCATED,
)


@dataclass(frozen=True, slots=True)
class DefectRow:
    file: str
    row: int  # spreadsheet line number: the header is line 1
    record_id: str
    person_id: str
    defect: Defect
    detail: str


def damage_nik(rng: random.Random, nik: str, defect: Defect) -> tuple[str, str]:
    """The NIK cell as it appears after the defect, and a short detail for the ground truth."""
    if defect is Defect.NIK_INVALID_LENGTH:
        i = int(rng.random() * 16)
        if rng.random() < 0.6:
            return nik[:i] + nik[i + 1 :], "digit dropped"
        return nik[:i] + str(int(rng.random() * 10)) + nik[i:], "digit added"
    if defect is Defect.NIK_SERIAL_ZERO:
        return nik[:12] + "0000", "serial 0000"
    if defect is Defect.NIK_PLACEHOLDER:
        placeholder = NIK_PLACEHOLDERS[int(rng.random() * len(NIK_PLACEHOLDERS))]
        return placeholder, "placeholder"
    return excel_nik(nik, defect, rng)


def excel_nik(nik: str, defect: Defect, rng: random.Random) -> tuple[str, str]:
    """What Excel does to a NIK typed into a General cell and saved as CSV."""
    if defect is Defect.NIK_EXCEL_SCIENTIFIC:
        return f"{int(nik):.5E}", "scientific notation"
    if defect is Defect.NIK_EXCEL_FLOAT:
        return f"{float(nik):.1f}", "float with .0"
    # Excel keeps 15 significant digits: the 16th becomes 0, or is lost when the cell was cut to 15 characters.
    if nik[15] != "0" and rng.random() < 0.6:
        return nik[:15] + "0", "16th digit zeroed"
    return nik[:15], "16th digit dropped"


def wrong_birth(rng: random.Random, born: int) -> tuple[int, str]:
    """A birth date recorded wrongly: day and month swapped, a slipped year, or a legacy default date."""
    day = date.fromordinal(born)
    for _ in range(8):
        r = rng.random()
        try:
            if r < 0.3 and day.day <= 12 and day.day != day.month:
                wrong, label = date(day.year, day.day, day.month), "day and month swapped"
            elif r < 0.55:
                wrong, label = date(day.year + (1 if rng.random() < 0.5 else -1), day.month, day.day), "year off by one"
            elif r < 0.8:
                default = (1, 1) if rng.random() < 0.4 else (7, 1) if rng.random() < 0.5 else (12, 31)
                wrong, label = date(day.year, *default), "legacy default date"
            else:
                wrong = date.fromordinal(born + (1 + int(rng.random() * 3)) * (1 if rng.random() < 0.5 else -1))
                label = "day off"
        except ValueError:  # 29 February in a non-leap year
            continue
        if wrong != day:
            return wrong.toordinal(), label
    return born + 1, "day off"


def scaled(rates: dict[Defect, float], multiplier: float) -> dict[Defect, float]:
    return {defect: min(1.0, rate * multiplier) for defect, rate in rates.items()}
