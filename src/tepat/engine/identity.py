"""NIK and KK: parsing, validation and construction as Dukcapil issues them.

No Django here: the same code runs in the web app, the CLI, DuckDB UDFs and Spark.

BPK's audit of DTKS 2020 counted 10.9 M invalid member NIKs and 16.4 M invalid KK numbers, many of them mangled by
spreadsheets (6.47403E+15, a trailing ".0", lost last digits) rather than wrong at the source. So damage that can be
undone is repaired *and reported* (a warning), and only what cannot be undone makes an identifier invalid (an error).
"""

from __future__ import annotations

import csv
import math
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tepat.engine import values


class Sex(StrEnum):
    MALE = "L"  # laki-laki
    FEMALE = "P"  # perempuan


class Severity(StrEnum):
    ERROR = "error"  # the identifier cannot be used as it is: valid=False
    WARNING = "warning"  # usable, but a person should look (repaired input, legacy NIK, disagreeing records)


class _Coded(StrEnum):
    """A stable code for machines and a message for people, as DESIGN.md asks of every domain's errors."""

    @property
    def severity(self) -> Severity:
        return _MESSAGES[self.value][0]

    @property
    def message_id(self) -> str:
        """The Bahasa Indonesia message: what operators read."""
        return _MESSAGES[self.value][1]

    @property
    def message_en(self) -> str:
        return _MESSAGES[self.value][2]

    def message(self, lang: str = "id") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_id


class NikProblem(_Coded):
    EMPTY = "nik.empty"
    LENGTH = "nik.length"
    NON_DIGIT = "nik.non_digit"
    EXCEL_SCIENTIFIC = "nik.excel_scientific"
    PLACEHOLDER = "nik.placeholder"
    SERIAL_ZERO = "nik.serial_zero"
    PROVINCE_UNKNOWN = "nik.province_unknown"
    REGENCY_UNKNOWN = "nik.regency_unknown"
    DISTRICT_UNKNOWN = "nik.district_unknown"
    BIRTH_DATE = "nik.birth_date"
    BIRTH_FUTURE = "nik.birth_future"
    EXCEL_REPAIRED = "nik.excel_repaired"
    SEPARATORS = "nik.separators"
    FORMER_CODE = "nik.former_code"
    SEX_MISMATCH = "nik.sex_mismatch"
    BIRTH_DATE_MISMATCH = "nik.birth_date_mismatch"
    EXCEL_TRUNCATED = "nik.excel_truncated"


class KkProblem(_Coded):
    EMPTY = "kk.empty"
    LENGTH = "kk.length"
    NON_DIGIT = "kk.non_digit"
    EXCEL_SCIENTIFIC = "kk.excel_scientific"
    PLACEHOLDER = "kk.placeholder"
    SERIAL_ZERO = "kk.serial_zero"
    DISTRICT_UNKNOWN = "kk.district_unknown"
    EXCEL_REPAIRED = "kk.excel_repaired"
    SEPARATORS = "kk.separators"
    FORMER_CODE = "kk.former_code"
    EXCEL_TRUNCATED = "kk.excel_truncated"
    DATE = "kk.date"


_E, _W = Severity.ERROR, Severity.WARNING
# Damage that NIK and KK share; "{}" is the identifier's name in each language.
_SHARED: dict[str, tuple[Severity, str, str]] = {
    "empty": (_E, "{} kosong", "{} is empty"),
    "length": (_E, "{} harus 16 angka", "{} must have 16 digits"),
    "non_digit": (_E, "{} hanya boleh berisi angka", "{} may contain digits only"),
    "excel_scientific": (
        _E,
        "{} rusak oleh format ilmiah Excel (mis. 6.47403E+15); angka yang hilang tidak dapat dipulihkan",
        "{} was cut by Excel scientific notation (e.g. 6.47403E+15); the lost digits cannot be recovered",
    ),
    "placeholder": (_E, "{} berisi angka isian/contoh, bukan nomor asli", "{} is a placeholder or dummy number"),
    "serial_zero": (_E, "Nomor urut {} (4 angka terakhir) tidak boleh 0000", "{} serial (last 4 digits) is 0000"),
    "excel_repaired": (
        _W,
        "{} diperbaiki dari format Excel (.0, tanda ', notasi ilmiah lengkap)",
        "{} repaired from Excel formatting (.0, leading ', full scientific notation)",
    ),
    "separators": (_W, "Spasi atau tanda pemisah pada {} dihapus", "Spaces or separators removed from {}"),
    "former_code": (
        _W,
        "{} memakai kode wilayah lama; wilayah diganti dengan kode sekarang",
        "{} uses a former region code; the current code is shown",
    ),
    "excel_truncated": (
        _W,
        "{} berasal dari angka Excel; angka terakhir mungkin hilang (Excel hanya menyimpan 15 digit)",
        "{} came from a spreadsheet number; its last digit may be lost (Excel keeps 15 digits)",
    ),
}
_MESSAGES: dict[str, tuple[Severity, str, str]] = {
    f"{prefix}.{kind}": (severity, text_id.format(name_id), text_en.format(name_en))
    for prefix, name_id, name_en in (("nik", "NIK", "NIK"), ("kk", "Nomor KK", "KK number"))
    for kind, (severity, text_id, text_en) in _SHARED.items()
} | {
    "nik.province_unknown": (_E, "Kode provinsi pada NIK tidak dikenal", "Unknown province code in NIK"),
    "nik.regency_unknown": (_E, "Kode kabupaten/kota pada NIK tidak dikenal", "Unknown regency/city code in NIK"),
    "nik.district_unknown": (_E, "Kode kecamatan pada NIK tidak dikenal", "Unknown district code in NIK"),
    "nik.birth_date": (
        _E,
        "Tanggal lahir pada NIK tidak mungkin (tanggal atau bulan salah)",
        "Impossible birth date in NIK (day or month)",
    ),
    "nik.birth_future": (_E, "Tanggal lahir pada NIK ada di masa depan", "Birth date in NIK is in the future"),
    "nik.sex_mismatch": (
        _W,
        "Jenis kelamin tercatat tidak sesuai dengan NIK (tanggal lahir perempuan ditambah 40)",
        "Recorded sex disagrees with the NIK (women's birth day is +40)",
    ),
    "nik.birth_date_mismatch": (
        _W,
        "Tanggal lahir tercatat tidak sesuai dengan tanggal pada NIK",
        "Recorded birth date disagrees with the NIK",
    ),
    "kk.district_unknown": (_E, "Kode kecamatan penerbit KK tidak dikenal", "Unknown issuing district in KK number"),
    "kk.date": (
        _W,
        "Tanggal pada Nomor KK bukan tanggal yang mungkin",
        "The date digits of the KK number are not a real date",
    ),
}


@dataclass(frozen=True, eq=False)
class RegionCodes:
    """Dotted Kemendagri codes that exist today, plus former codes still printed on NIKs and KKs.

    A NIK keeps the district of first registration for life, so pre-2022 Papua NIKs (91.xx, 92.xx) and pre-2012
    Kalimantan Utara NIKs (64.xx) carry codes that no longer exist: see data/reference/FORMER_CODES.md.
    """

    provinces: frozenset[str]
    regencies: frozenset[str]
    districts: frozenset[str]
    former: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Former regencies whose districts are listed one by one: no guessing by prefix for them (they were renumbered).
    itemised: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "itemised", frozenset(code[:5] for code in self.former if code.count(".") == 2))

    @classmethod
    def from_reference_dir(cls, path: Path | str) -> RegionCodes:
        """Read provinces/regencies/districts.csv (+ former_codes.csv); cached per directory, safe to call per row."""
        return _load_regions(str(Path(path).resolve()))


@lru_cache(maxsize=8)
def _load_regions(directory: str) -> RegionCodes:
    root = Path(directory)

    def rows(name: str) -> list[dict[str, str]]:
        with (root / name).open(newline="", encoding="utf-8-sig") as handle:
            return list(csv.DictReader(handle))

    provinces, regencies, districts = (
        frozenset(row["code"].strip() for row in rows(name))
        for name in ("provinces.csv", "regencies.csv", "districts.csv")
    )
    former: dict[str, str] = {}
    if (root / "former_codes.csv").exists():
        for row in rows("former_codes.csv"):
            old, new = row["former_code"].strip(), row["current_code"].strip()
            # The CSV is meant to be edited by hand; a typo must fail loudly, not relabel people silently.
            if old in regencies or old in districts or new not in (regencies if len(new) == 5 else districts):
                raise ValueError(f"former_codes.csv: {old} -> {new} does not map a retired code to a current one")
            former[old] = new
    return RegionCodes(provinces, regencies, districts, MappingProxyType(former))


@dataclass(frozen=True)
class NikCheck:
    raw: str
    nik: str | None
    valid: bool
    problems: tuple[NikProblem, ...]
    province: str | None = None
    regency: str | None = None
    district: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None

    def to_json(self) -> dict[str, object]:
        """The `tepat nik check` line contract (DESIGN.md, command contracts)."""
        return {
            "nik": self.nik,
            "valid": self.valid,
            "reasons": [problem.value for problem in self.problems],
            "province": self.province,
            "regency": self.regency,
            "district": self.district,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex.value if self.sex else None,
        }


@dataclass(frozen=True)
class KkCheck:
    raw: str
    kk: str | None
    valid: bool
    problems: tuple[KkProblem, ...]
    province: str | None = None
    regency: str | None = None
    district: str | None = None
    recorded_on: date | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "kk": self.kk,
            "valid": self.valid,
            "reasons": [problem.value for problem in self.problems],
            "province": self.province,
            "regency": self.regency,
            "district": self.district,
            "recorded_on": self.recorded_on.isoformat() if self.recorded_on else None,
        }


_LENGTH = 16
_EMPTY_MARKERS = frozenset({"", "-", "--", "–", "—", "null", "none", "nan", "n/a", "na", "#n/a", "tidak ada"})
_SCIENTIFIC = re.compile(r"(\d+)(?:[.,](\d*))?e\+?(\d+)")
_FLOAT_TAIL = re.compile(r"(\d+)[.,]0{1,2}")
_QUOTED = re.compile(r'=?\s*["“”](.*?)["“”]')
# Zero-width characters, direction marks and isolates, word joiners, the BOM, the soft hyphen.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_SEPARATORS = re.compile(r"[\s.,_\-‐‑‒–—―/]+")


def _clean(raw: object) -> tuple[str | None, tuple[str, ...]]:
    """The 16 digits of a NIK or KK and the kinds of damage undone; kinds are the code suffixes both share."""
    if type(raw) is str and len(raw) == _LENGTH and raw.isdigit() and raw.isascii():
        return raw, ()  # the common case, a clean number: skip the repairs (imports check millions of these)
    kinds: list[str] = []
    numeric = floaty = False  # numeric: came through a spreadsheet number; floaty: through a float (53-bit)
    if raw is None:
        return None, ("empty",)
    if isinstance(raw, bool) or (isinstance(raw, int) and raw < 0):
        return None, ("non_digit",)
    if isinstance(raw, int):
        if raw.bit_length() > 64:
            return None, ("length",)
        text, numeric = str(raw), True
    elif isinstance(raw, float):
        if not math.isfinite(raw) or not raw.is_integer() or raw < 0:
            return None, ("non_digit",)
        text, numeric, floaty = str(int(raw)), True, True
        kinds.append("excel_repaired")
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip()  # NFKC: NBSP -> space, full-width digits -> ASCII
        if not text.isascii() and (visible := _INVISIBLE.sub("", text)) != text:  # pasted from a web page or PDF
            text = visible.strip()
            kinds.append("separators")
    if text[:1] in ("'", "`", "‘", "’"):  # Excel's "store as text" prefix
        text = text[1:].strip()
        kinds.append("excel_repaired")
    elif quoted := _QUOTED.fullmatch(text):  # ="6474…" keeps a CSV column as text in Excel; quotes left in a cell
        text = quoted[1].strip()
        kinds.append("excel_repaired")
    if text.casefold() in _EMPTY_MARKERS or (text.isdigit() and not text.strip("0") and len(text) < _LENGTH):
        return None, ("empty",)  # "0" and "-" are how spreadsheets say "no NIK"
    if match := _SCIENTIFIC.fullmatch(text.casefold().replace(" ", "")):
        whole, fraction, exponent = match[1], match[2] or "", match[3]
        if len(exponent) > 3 or len(fraction) != int(exponent):  # 6.47403E+15: the other digits are gone
            return None, (*kinds, "excel_scientific")
        text, numeric, floaty = whole + fraction, True, True  # 6.474031207850001E+15 still has every digit
        kinds.append("excel_repaired")
    elif match := _FLOAT_TAIL.fullmatch(text):
        text, numeric, floaty = match[1], True, True
        kinds.append("excel_repaired")
    joined = _SEPARATORS.sub("", text)
    if joined != text:
        text = joined
        kinds.append("separators")
    if not text:
        return None, ("empty",)
    if not (text.isascii() and text.isdigit()):
        return None, (*kinds, "non_digit")
    if len(text) != _LENGTH:  # 15 digits after Excel ate a leading one: never invent the missing digit
        return None, (*kinds, "length")
    # Excel keeps 15 significant digits (a real last digit became 0); a float rounds every NIK above 2**53 (9007…).
    if numeric and (text.endswith("0") or (floaty and int(text) >= 2**53)):
        kinds.append("excel_truncated")
    return text, tuple(dict.fromkeys(kinds))


def normalise_nik(raw: object) -> tuple[str | None, tuple[NikProblem, ...]]:
    """Repair spreadsheet and typing damage; report what was done, and why it failed when it cannot be repaired."""
    digits, kinds = _clean(raw)
    return digits, tuple(NikProblem(f"nik.{kind}") for kind in kinds)


def normalise_kk(raw: object) -> tuple[str | None, tuple[KkProblem, ...]]:
    digits, kinds = _clean(raw)
    return digits, tuple(KkProblem(f"kk.{kind}") for kind in kinds)


_ASCENDING = "0123456789" * 3
_DESCENDING = "9876543210" * 3


def _is_placeholder(digits: str) -> bool:
    """Numbers typed to get past a mandatory field: 0000…, 9999…, 1234…, 9876…, 1212…, region code + zeros."""
    if digits == digits[0] * _LENGTH or digits in _ASCENDING or digits in _DESCENDING:
        return True
    return digits[2:] == digits[:-2] or not digits[6:].strip("0")


def _locate(regions: RegionCodes, digits: str) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
    """Province, regency and district (dotted, current codes) of the first six digits, with what went wrong."""
    province, regency = digits[:2], f"{digits[:2]}.{digits[2:4]}"
    district = f"{regency}.{digits[4:6]}"
    if district in regions.districts:
        return province, regency, district, ()
    if district in regions.former:  # listed one by one: 91.04.06 Uwapa became 94.01.04, not 94.01.06
        current = regions.former[district]
        return current[:2], current[:5], current, ("former_code",)
    if regency in regions.regencies:
        return province, regency, None, ("district_unknown",)
    if regency in regions.former:
        current = regions.former[regency]
        guess = current + district[5:]  # assumption (FORMER_CODES.md): the district number survived the move
        if regency not in regions.itemised and guess in regions.districts:
            return current[:2], current, guess, ("former_code",)
        return current[:2], current, None, ("former_code", "district_unknown")
    if province in regions.provinces:
        return province, None, None, ("regency_unknown",)
    return None, None, None, ("province_unknown",)


def _year(yy: int, month: int, day: int, today: date, recorded: date | None) -> int:
    """Two-digit year: the recorded birth date's century if there is one, else the latest year not in the future.

    20YY is chosen only when 20YY-MM-DD is not after `today`: a NIK cannot carry a future birth date, so the later
    reading would only turn a 99-year-old (born later in the year, a century ago) into an error.
    """
    if recorded is not None:
        return min(1900 + yy, 2000 + yy, key=lambda year: abs(year - recorded.year))
    return 2000 + yy if (2000 + yy, month, day) <= (today.year, today.month, today.day) else 1900 + yy


@lru_cache(maxsize=1 << 16)  # lists repeat birth dates; the result depends only on the arguments
def _birth(ddmmyy: str, today: date, recorded: date | None) -> tuple[date | None, Sex | None, tuple[str, ...]]:
    """Birth date and sex from DDMMYY, where Dukcapil adds 40 to the day for women."""
    day, month, yy = int(ddmmyy[:2]), int(ddmmyy[2:4]), int(ddmmyy[4:])
    sex = Sex.FEMALE if day > 40 else Sex.MALE
    day -= 40 if sex is Sex.FEMALE else 0
    if not 1 <= day <= 31:  # 00, 32-40, 72+: not even the sex can be read
        return None, None, ("birth_date",)
    try:
        born = date(_year(yy, month, day, today, recorded), month, day)
    except ValueError:  # month 13, 31 Feb, 29 Feb 2001
        return None, sex, ("birth_date",)
    return born, sex, ("birth_future",) if born > today else ()


_day_cache: list[Any] = [0.0, None]


def _today() -> date:
    """date.today(), looked up at most once a minute: checks run per row on lists of millions."""
    now = time.monotonic()
    if now - _day_cache[0] > 60 or _day_cache[1] is None:
        _day_cache[0], _day_cache[1] = now, date.today()
    return _day_cache[1]


def _ddmmyy(day: date) -> tuple[int, int, int]:
    return day.day, day.month, day.year % 100


_MALE = frozenset({"l", "lk", "laki", "lakilaki", "laki2", "lelaki", "pria", "m", "male", "man", "1"})
_FEMALE = frozenset({"p", "pr", "perempuan", "wanita", "w", "f", "female", "woman", "2"})


def parse_sex(value: object) -> Sex | None:
    """Recorded sex as the sources write it: L/P, LK/PR, Laki-laki/Perempuan, M/F, 1/2 (BPS: 1 = male)."""
    if type(value) is str:
        return _sex_text(value)
    if isinstance(value, Sex) or value is None or isinstance(value, bool):
        return value if isinstance(value, Sex) else None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _sex_text(str(value))


@lru_cache(maxsize=256)
def _sex_text(value: str) -> Sex | None:
    key = _NOT_ALNUM.sub("", values.without_brackets(value.casefold()).removesuffix(".0"))
    return Sex.MALE if key in _MALE else Sex.FEMALE if key in _FEMALE else None


_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def parse_date(value: object) -> date | None:
    """A recorded birth date as lists write it (see engine.values.parse_date); None when unreadable or empty."""
    if isinstance(value, bool) or not isinstance(value, str | date):
        return None
    try:
        return values.parse_date(value)
    except values.ValueError_:
        return None


def check_nik(
    raw: object,
    *,
    regions: RegionCodes | None = None,
    sex: Sex | str | None = None,
    born: date | str | None = None,
    today: date | None = None,
) -> NikCheck:
    """Validate a NIK as Dukcapil issues it.

    The birth-date digits are kept even when they disagree with the recorded birth date or sex: legacy NIKs carry
    "wrong" dates and cannot be reissued (DOMAIN.md), so disagreement is a warning, not a rejection.
    """
    nik, found = normalise_nik(raw)
    text = "" if raw is None else str(raw)
    problems = list(found)
    if nik is None:
        return NikCheck(text, None, False, tuple(problems))
    if _is_placeholder(nik):  # a dummy has no region or birth date worth reporting
        return NikCheck(text, nik, False, (*problems, NikProblem.PLACEHOLDER))
    if nik[12:] == "0000":
        problems.append(NikProblem.SERIAL_ZERO)  # serials start at 0001
    province = regency = district = None
    if regions is not None:
        province, regency, district, kinds = _locate(regions, nik)
        problems += [NikProblem(f"nik.{kind}") for kind in kinds]
    recorded = parse_date(born)
    birth_date, nik_sex, kinds = _birth(nik[6:12], today or _today(), recorded)
    problems += [NikProblem(f"nik.{kind}") for kind in kinds]
    recorded_sex = parse_sex(sex)
    if recorded_sex and nik_sex and recorded_sex is not nik_sex:
        problems.append(NikProblem.SEX_MISMATCH)
    if recorded and birth_date and _ddmmyy(recorded) != _ddmmyy(birth_date):  # the NIK only knows the last two
        problems.append(NikProblem.BIRTH_DATE_MISMATCH)
    reasons = tuple(dict.fromkeys(problems))
    valid = all(problem.severity is Severity.WARNING for problem in reasons)
    return NikCheck(text, nik, valid, reasons, province, regency, district, birth_date, nik_sex)


def check_kk(raw: object, *, regions: RegionCodes | None = None, today: date | None = None) -> KkCheck:
    """Validate a KK number: issuing district (6) + recording date DDMMYY + serial (4).

    The split of the last ten digits is not confirmed by Dukcapil, so the date is only a warning when it is
    impossible; the issuing district must exist (or be a known former code).
    """
    kk, found = normalise_kk(raw)
    text = "" if raw is None else str(raw)
    problems = list(found)
    if kk is None:
        return KkCheck(text, None, False, tuple(problems))
    if _is_placeholder(kk):
        return KkCheck(text, kk, False, (*problems, KkProblem.PLACEHOLDER))
    if kk[12:] == "0000":
        problems.append(KkProblem.SERIAL_ZERO)
    province = regency = district = None
    if regions is not None:
        province, regency, district, kinds = _locate(regions, kk)
        problems += [KkProblem.FORMER_CODE if kind == "former_code" else KkProblem.DISTRICT_UNKNOWN for kind in kinds]
    day, month, yy = int(kk[6:8]), int(kk[8:10]), int(kk[10:12])
    now = today or _today()
    try:
        recorded_on: date | None = date(_year(yy, month, day, now, None), month, day)
    except ValueError:
        recorded_on = None
        problems.append(KkProblem.DATE)
    reasons = tuple(dict.fromkeys(problems))
    valid = all(problem.severity is Severity.WARNING for problem in reasons)
    return KkCheck(text, kk, valid, reasons, province, regency, district, recorded_on)


# A bare line that is one spreadsheet number although it contains commas: 6,47403E+15 or 6474031207850001,0.
_ONE_NUMBER = re.compile(r"'?\d,\d+[eE]\+?\d+|'?\d+,0{1,2}|\d{1,3}(?:,\d{3}){2,}")


def nik_check_stream(
    lines: Iterable[str], *, regions: RegionCodes, today: date | None = None
) -> Iterator[dict[str, object]]:
    """`tepat nik check`: one NIK or `NIK,sex,birth_date` CSV line in, one JSON-ready dict out."""
    for line in lines:
        text = line.strip().lstrip("\ufeff")
        if not text:
            continue
        # Indonesian Excel saves CSV with ";" (the comma is the decimal mark); tab comes from copy-paste.
        delimiter = next((mark for mark in (",", ";", "\t") if mark in text), ",")
        fields = [text] if _ONE_NUMBER.fullmatch(text) else next(csv.reader([text], delimiter=delimiter), [])
        if not fields or fields[0].strip().casefold() == "nik":
            continue
        sex = fields[1].strip() if len(fields) > 1 else ""
        born = fields[2].strip() if len(fields) > 2 else ""
        yield check_nik(fields[0], regions=regions, sex=sex or None, born=born or None, today=today).to_json()


def build_nik(district_code: str, born: date, sex: Sex, serial: int) -> str:
    """Compose a NIK: district of first registration (6 digits), DDMMYY with day + 40 for women, serial."""
    district = district_code.replace(".", "")
    if len(district) != 6 or not district.isdigit():
        raise ValueError(f"district code must have 6 digits: {district_code!r}")
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1..9999: {serial}")
    day = born.day + (40 if sex is Sex.FEMALE else 0)
    return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def mask_nik(nik: str) -> str:
    """Partners see the region prefix and the serial only: `6474********0001`."""
    if len(nik) != 16:
        return "*" * len(nik)
    return nik[:4] + "*" * 8 + nik[12:]
