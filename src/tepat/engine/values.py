"""Cell values as they arrive in regency spreadsheets: dates, yes/no, numbers, codes, names."""

from __future__ import annotations

import contextlib
import math
import re
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta

_EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (it wrongly counts 1900-02-29, hence the 30th)
_ISO = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T].*)?$")
# A database export adds the time of day to a date: '12-07-1985 00:00:00'.
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?)?$")
_COMPACT = re.compile(r"^\d{8}$")  # 19850712 (BDT and database exports) or 12071985
# Month names as lists write them: Indonesian (with the older Pebruari, Nopember), English and Dutch (Maart), and
# any abbreviation of three letters or more that starts only one month's names (Agu, Agus, Agust, Sept, Okto, Pebr…);
# plus the abbreviations that are not prefixes (Mrt, Agt, Ags, Agst, Spt).
_MONTH_NAMES = (
    ("januari", "january"), ("februari", "pebruari", "february", "febuari"), ("maret", "march", "maart"),
    ("april",), ("mei", "may"), ("juni", "june"), ("juli", "july"), ("agustus", "august", "augustus"), ("september",),
    ("oktober", "october"), ("november", "nopember"), ("desember", "december"),
)  # fmt: skip


def _month_table() -> dict[str, int]:
    months: dict[str, set[int]] = {}
    for number, names in enumerate(_MONTH_NAMES, start=1):
        for name in names:
            for end in range(3, len(name) + 1):
                months.setdefault(name[:end], set()).add(number)
    table = {prefix: next(iter(numbers)) for prefix, numbers in months.items() if len(numbers) == 1}
    return table | {"mrt": 3, "agt": 8, "ags": 8, "agst": 8, "agts": 8, "spt": 9, "sep": 9, "okt": 10, "nop": 11}


_MONTHS_ID = _month_table()
_TEXT_MONTH = re.compile(
    r"^(?:(?:senin|selasa|rabu|kamis|jum.?at|sabtu|minggu|ahad|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday),?\s+)?(\d{1,2})[\s\-/.]+([A-Za-z]+)\.?[\s\-/.,]+(\d{2}|\d{4})$",
    re.IGNORECASE,
)


class ValueError_(ValueError):
    """A cell that cannot be read as the type its column needs; ``code`` is stable for reports."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_date(value: object, *, day_first: bool = True) -> date | None:
    """Read a date written the ways Indonesian lists write it; None for an empty cell.

    ISO ``2024-03-01``, ``01/03/2024`` and ``01-03-2024`` (day first, the Indonesian order, unless the caller
    found the column to be month-first), ``1 Maret 2024``, Excel serial numbers, and Python dates.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value >= 1_000_000 and float(value).is_integer():  # no Excel serial (9999-12-31 is 2,958,465)
            if value >= 100_000_000:  # more than eight digits (a NIK in the wrong column): no date
                raise ValueError_("date.invalid")
            return _compact(str(int(value)).zfill(8))
        return _from_serial(float(value))
    text = str(value).strip()
    if not text or text in {"-", "0"}:
        return None
    if m := _ISO.match(text):
        return _make(int(m[1]), int(m[3]), int(m[4]))
    if m := _DMY.match(text):
        a, b, year = int(m[1]), int(m[2]), _full_year(int(m[3]), m[3])
        day, month = (a, b) if day_first else (b, a)
        return _make(year, month, day)
    if m := _TEXT_MONTH.match(text):
        named_month = _MONTHS_ID.get(m[2].lower())
        if named_month is None:
            raise ValueError_("date.invalid")
        return _make(_full_year(int(m[3]), m[3]), named_month, int(m[1]))
    if _COMPACT.match(text):
        return _compact(text)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _from_serial(float(text))
    raise ValueError_("date.invalid")


def _full_year(year: int, written: str) -> int:
    """A year as written: two digits are this century's up to this year, else the last century's."""
    if len(written) > 2:
        return year
    return year + (2000 if year <= date.today().year % 100 else 1900)


def _compact(text: str) -> date:
    """Eight digits: YYYYMMDD of a year 1900-2099, else DDMMYYYY (never both: see the tests)."""
    if text[:2] in ("19", "20"):
        with contextlib.suppress(ValueError):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    return _make(int(text[4:]), int(text[2:4]), int(text[:2]))


def month_first_date(value: object) -> date | None:
    """The date a ``dd/mm/yyyy``-shaped text gives read month first (``07/12/1985`` → 12 July 1985), as a list saved
    by a computer set to American English writes it; None for other values and for texts that give no date so."""
    if not isinstance(value, str) or not _DMY.match(value.strip()):
        return None
    try:
        return parse_date(value, day_first=False)
    except ValueError_:
        return None


def _from_serial(serial: float) -> date:
    if not 1 <= serial < 2_958_466:  # Excel's range: 1900-01-01 .. 9999-12-31
        raise ValueError_("date.invalid")
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def _make(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        raise ValueError_("date.invalid") from None


# Tick marks (√ ✓ v) are how checklists say yes; "belum" (not yet) is a no.
_YES = {"ya", "y", "yes", "iya", "1", "true", "ada", "punya", "memiliki", "mempunyai", "benar", "√", "✓", "✔", "☑", "v"}
_NO = {"tidak", "t", "tdk", "tak", "no", "n", "0", "false", "tidak ada", "tdk ada", "tidak punya", "tdk punya",
       "tidak memiliki", "tdk memiliki", "tidak mempunyai", "belum", "belum ada", "belum punya", "bukan"}  # fmt: skip


def parse_bool(value: object) -> bool | None:
    if value is None:
        return None
    if type(value) is float and value.is_integer():  # 1.0 from a number cell
        value = int(value)
    text = " ".join(str(value).lower().split()).rstrip(".")  # "Tdk.", "tidak  ada"
    if not text or text == "-":
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError_("bool.invalid")


def parse_int(value: object) -> int | None:
    if value is None:
        return None
    text = str(value).strip().replace(" ", "")
    if not text or text == "-":
        return None
    text = text.removesuffix(".0")
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError_("number.invalid")
    return int(text)


_CURRENCY = re.compile(r"^(?:rp|idr)\s*[.:]?\s*")  # Rp 600.000, Rp. 600.000, IDR 600000
# Rp 1.500.000,-  and the area units of house data: 36 m2, 36 m², 36 meter persegi
_AFTER_NUMBER = re.compile(r"(?<=\d)\s*(?:[.,]?-+|m2|m²|m\^2|meter persegi|meter|m)$")


_DESIL = re.compile(
    r"^(?:desil|d)?\s*[-:.]?\s*(\d{1,2})(?:\.0)?(?:\s*[-.:)/(]\s*[^\W\d].*|\s+[^\W\d].*)?$", re.IGNORECASE
)


def parse_desil(value: object) -> int | None:
    """A desil as extracts and dashboards write it: ``1``, ``01``, ``Desil 1``, ``D1``, ``1 - Sangat Miskin``; the
    range (1-10) is the caller's to check."""
    if value is None or isinstance(value, int | float):
        return parse_int(value)
    text = " ".join(str(value).split())
    if not text or text == "-":
        return None
    match = _DESIL.match(text)
    if match is None:
        raise ValueError_("number.invalid")
    return int(match[1])


def parse_decimal(value: object) -> float | None:
    """Numbers with Indonesian separators: ``1.250.000`` and ``1.250.000,50`` and ``Rp 20.000.000``, with the
    ``Rp``/``IDR`` before them, the ``,-`` after an amount, and an area's unit (``36 m2``)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _finite(float(value))
    text = _AFTER_NUMBER.sub("", _CURRENCY.sub("", str(value).strip().lower())).replace(" ", "")
    if not text or text == "-" or text == "nan":  # "nan": a missing value as pandas writes it
        return None
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+(,\d+)?", text):
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d+,\d+", text):
        text = text.replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    try:
        return _finite(float(text))
    except (ValueError, OverflowError):
        raise ValueError_("number.invalid") from None


def _finite(number: float) -> float | None:
    """A number a ledger can sum: NaN is a missing value; infinity (or a number past float's range) is no amount."""
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise ValueError_("number.invalid")
    return number


# A distribution period as recipient lists write it, in the ledger's form: the year, then a dash and what part of it
# (programs.analysis._period_like), so that a year's analysis (``LIKE '2026%'``) finds every period of it. Quarter
# (triwulan, TW, kuartal, Q), semester, phase (tahap, termin) and month, before or after the year.
_ROMAN = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
    "xi": 11,
    "xii": 12,
}
_PERIOD_PARTS = {
    "q": "Q", "t": "Q", "tw": "Q", "triwulan": "Q", "kuartal": "Q", "kwartal": "Q", "quarter": "Q", "trimester": "Q",
    "s": "S", "smt": "S", "sem": "S", "semester": "S",
    "tahap": "Tahap", "thp": "Tahap", "termin": "Tahap", "fase": "Tahap", "gelombang": "Tahap", "batch": "Tahap",
}  # fmt: skip
_PART_LIMITS = {"Q": 4, "S": 2, "Tahap": 12}
_MONTH_SPANS = {(1, 3): "Q1", (4, 6): "Q2", (7, 9): "Q3", (10, 12): "Q4", (1, 6): "S1", (7, 12): "S2"}
_YEAR = r"((?:19|20)\d\d)"
_PART = r"([a-z]+)\.?\s*(?:ke\s*-?\s*)?(\d{1,2}|[ivx]{1,4})"
_PERIOD_FORMS = (
    (re.compile(rf"^{_YEAR}$"), "year"),
    (re.compile(rf"^{_YEAR}\s*[-/. ]?\s*{_PART}$"), "year part"),
    (
        re.compile(rf"^([a-z]+)\.?\s*(?:-|s\.?d\.?|sd|sampai|hingga|/)\s*([a-z]+)\.?\s*[-/,. ]?\s*{_YEAR}$"),
        "months year",
    ),
    (re.compile(rf"^{_PART}\s*[-/,. ]?\s*(?:tahun|th\.?|thn\.?)?\s*{_YEAR}$"), "part year"),
    (re.compile(rf"^{_YEAR}\s*[-/.]\s*(\d{{1,2}})$"), "year month"),
    (re.compile(rf"^(\d{{1,2}})\s*[-/.]\s*{_YEAR}$"), "month year"),
    (re.compile(rf"^([a-z]+)\.?\s*[-/,. ]?\s*{_YEAR}$"), "name year"),
    (re.compile(r"^([a-z]+)\.?\s*[-/. ]\s*(\d\d)$"), "name yy"),
)


def parse_period(value: object, *, year: str = "") -> str:
    """A period in the ledger's form: ``2026``, ``2026-09``, ``2026-Q3``, ``2026-S1``, ``2026-Tahap2``; '' for an
    empty cell. Read from ``2026-Q3``, ``Triwulan III 2026``, ``TW 3/2026``, ``Q3 2026``, ``Semester I 2026``,
    ``Tahap 2 2026``, ``September 2026``, ``Sep-26``, ``09/2026``, ``2026-09``, a date (its month) or a year. A
    quarter, semester, phase or month without a year takes ``year`` (the year the uploader gave); without one it is
    ``period.no_year``; anything else ``period.invalid``."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value.year}-{value.month:02d}"
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        value = int(value)
    text = " ".join(str(value).strip().lower().split())
    if not text or text == "-":
        return ""
    with contextlib.suppress(ValueError_):
        if _ISO.match(text) or _DMY.match(text):
            day = parse_date(text)
            if day is not None:
                return f"{day.year}-{day.month:02d}"
    for pattern, form in _PERIOD_FORMS:
        match = pattern.match(text)
        if match is None:
            continue
        if form == "year":
            return match[1]
        if form == "year part":
            return _period_part(match[1], match[2], match[3])
        if form == "part year":
            return _period_part(match[3], match[1], match[2])
        if form == "months year":  # Januari-Maret 2026: a quarter or a semester
            span = _MONTH_SPANS.get((_MONTHS_ID.get(match[1], 0), _MONTHS_ID.get(match[2], 0)))
            if span is None:
                raise ValueError_("period.invalid")
            return f"{match[3]}-{span}"
        if form in ("year month", "month year"):
            y, m = (match[1], match[2]) if form == "year month" else (match[2], match[1])
            if 1 <= int(m) <= 12:
                return f"{y}-{int(m):02d}"
            raise ValueError_("period.invalid")
        month = _MONTHS_ID.get(match[1])
        if month is None:
            if form == "name year" and match[1] in _PERIOD_PARTS:  # "Semester 2026"? no number: unreadable
                raise ValueError_("period.invalid")
            continue
        y = match[2] if form == "name year" else str(_full_year(int(match[2]), match[2]))
        return f"{y}-{month:02d}"
    # No year: a quarter, semester, phase or month alone takes the uploader's year.
    part = re.match(rf"^{_PART}$", text)
    month = _MONTHS_ID.get(text.rstrip("."))
    if (part is not None and part[1] in _PERIOD_PARTS) or month is not None:
        if not year:
            raise ValueError_("period.no_year")
        if month is not None:
            return f"{year}-{month:02d}"
        assert part is not None
        return _period_part(year, part[1], part[2])
    raise ValueError_("period.invalid")


def _period_part(year: str, word: str, number: str) -> str:
    kind = _PERIOD_PARTS.get(word)
    n = _ROMAN.get(number) if not number.isdigit() else int(number)
    if kind is None or n is None or not 1 <= n <= _PART_LIMITS[kind]:
        raise ValueError_("period.invalid")
    return f"{year}-{kind}{n}"


_PLACE_THEN_DATE = re.compile(
    r"^(.*?)[\s,/;]*("
    r"\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*(?:\d{4}|\d{2})"  # 12/07/1985, 12 - 07 - 85
    r"|\d{4}-\d{1,2}-\d{1,2}"  # 1985-07-12
    r"|\d{1,2}[\s\-/]+[^\W\d]+\.?[\s\-/]+\d{4}"  # 12 Juli 1985, 12-Jul-1985
    r")$"
)


def split_place_date(value: object) -> tuple[str, object]:
    """One 'Tempat/Tgl Lahir' cell as (place, date as written): ``Bontang, 12-07-1985``, ``BONTANG 12/07/1985``,
    ``Samarinda, 1 Juli 1980``; a cell that holds only a date gives ("", it); text with no digit, (it, None).

    A cell with digits but no date ``parse_date`` reads (``Bontang, 1985``, ``BONTANG 12 JULI 85``) gives the whole
    cell as the date, so that reading it reports ``date.invalid`` with what was written, rather than taking the year
    for an Excel day number or the date for part of the place."""
    if value is None or isinstance(value, (date, datetime, int, float)):
        return "", value
    text = " ".join(str(value).split())
    if "," in text:
        place, _, when = text.rpartition(",")
    elif m := _PLACE_THEN_DATE.match(text):
        place, when = m[1], m[2]
    elif digit := re.search(r"\d", text):
        return text[: digit.start()].strip(" ,/-"), text
    else:
        return text, None
    place, when = place.strip(" /-"), re.sub(r"\s*([/.\-])\s*", r"\1", when.strip())  # 05 - 06 - 1990
    if not when:
        return place, None
    if _ISO.match(when) or _DMY.match(when) or _TEXT_MONTH.match(when):
        return place, when
    return place, text


def split_rt_rw(value: object) -> tuple[str, str]:
    """One 'RT/RW' cell as (rt, rw) texts: ``003/005``, ``3/5``, ``RT 03 RW 05``, ``003-005``, ``003005``; ("", "")
    for anything else (Excel turned ``3/5`` into a date or ``03.10`` into 3.1: which RT and RW cannot be known)."""
    if value is None or isinstance(value, (date, datetime, float)):  # 3.1: was it 03.10 or 3.01? unknown
        return "", ""
    numbers = re.findall(r"\d+", str(value))
    if len(numbers) == 2 and all(len(n) <= 3 for n in numbers):
        return numbers[0], numbers[1]
    if len(numbers) == 1 and len(numbers[0]) == 6:
        return numbers[0][:3], numbers[0][3:]
    return "", ""


def pad_code(value: object, width: int) -> str:
    """RT/RW as three digits: ``1`` → ``001``; text that is not a number is kept as written."""
    if value is None:
        return ""
    text = str(value).strip().removesuffix(".0")
    if text.isascii() and text.isdigit():  # "²" is a digit to isdigit, not to int
        return text.zfill(width)[-width:] if int(text) else ""
    return text[:width]


def clean_name(value: object) -> str:
    """Collapse white space and strip; the case is kept as the source wrote it."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def normalise_village_code(value: object) -> str:
    """``6474031002``, ``64.74.03.1002``, ``64 74 03 1002`` or ``64.74.3.1002`` → ``64.74.03.1002``; anything else is
    returned stripped."""
    text = str(value or "").strip().removesuffix(".0")
    digits = _CODE_SEPARATORS.sub("", text)
    if len(digits) == 10 and digits.isdigit():
        return f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}.{digits[6:]}"
    parts = _CODE_PARTS.split(text)
    if len(parts) == 4 and all(map(str.isdigit, parts)) and len(parts[3]) == 4 and max(map(len, parts[:3])) <= 2:
        return ".".join([*(part.zfill(2) for part in parts[:3]), parts[3]])
    return text


_CODE_PARTS = re.compile(r"\s*[.\-\s]\s*")
_CODE_SEPARATORS = re.compile(r"[.\-\s]")


# Dukcapil's SHDK numbering (status hubungan dalam keluarga) as printed on the KK, and the words lists use.
_SHDK_NUMBERS = {
    "1": "kepala",
    "2": "suami",
    "3": "istri",
    "4": "anak",
    "5": "menantu",
    "6": "cucu",
    "7": "orang_tua",
    "8": "mertua",
    "9": "famili_lain",
    "10": "lainnya",
    "11": "lainnya",
}
_RELATIONSHIP_WORDS = {
    "kepala keluarga": "kepala",
    "kepala": "kepala",
    "kk": "kepala",
    "kepala rumah tangga": "kepala",
    "suami": "suami",
    "istri": "istri",
    "isteri": "istri",
    "istri/suami": "istri",
    "suami/istri": "istri",
    "pasangan": "istri",
    "anak": "anak",
    "anak kandung": "anak",
    "anak tiri": "anak",
    "anak angkat": "anak",
    "menantu": "menantu",
    "cucu": "cucu",
    "orang tua": "orang_tua",
    "orangtua": "orang_tua",
    "ayah": "orang_tua",
    "ibu": "orang_tua",
    "mertua": "mertua",
    "famili lain": "famili_lain",
    "famili": "famili_lain",
    "keluarga lain": "famili_lain",
    "saudara": "famili_lain",
    "pembantu": "lainnya",
    "lainnya": "lainnya",
    "lain-lain": "lainnya",
    "lain lain": "lainnya",
    "krt": "kepala",
    "kepala rt": "kepala",
    "suami/isteri": "istri",
    "isteri/suami": "istri",
    "orang tua/mertua": "orang_tua",
    "mertua/orang tua": "orang_tua",
    "ortu": "orang_tua",
    "family lain": "famili_lain",
    "saudara kandung": "famili_lain",
    "adik": "famili_lain",
    "kakak": "famili_lain",
    "keponakan": "famili_lain",
    "anak tiri/angkat": "anak",
    "pembantu rumah tangga": "lainnya",
    "pembantu ruta": "lainnya",
}
# '1. Kepala Keluarga', '4 - Anak': the words decide (DTKS and Dukcapil number the relationships differently).
_NUMBERED_WORDS = re.compile(r"^\d{1,2}(?:\s*[.\-:)]\s*|\s+)(\D.*)$")


# BPS numbers the relationship to the head its own way in DTKS, Regsosek and Susenas: 2 the spouse, 3 a child,
# 4 a son- or daughter-in-law, 5 a grandchild, 6 a parent or parent-in-law, then other relatives, helpers, others
# (7-9 differ between its surveys). Dukcapil's SHDK (above) has 2 husband, 3 wife, 4 child.
_BPS_NUMBERS = {"1": "kepala", "2": "istri", "3": "anak", "4": "menantu", "5": "cucu", "6": "orang_tua",
                "7": "lainnya", "8": "lainnya", "9": "lainnya"}  # fmt: skip
SHDK, BPS = "shdk", "bps"  # the numberings of relationship codes


def _relationship_text(value: object) -> str:
    return " ".join(str(value or "").strip().lower().replace("_", " ").split()).removesuffix(".0")


def relationship_numbering(values: Iterable[object]) -> str:
    """Which numbering a relationship column's bare numbers follow: BPS's when 3 is more frequent than 4 and so is
    2, else Dukcapil's SHDK. After the head, children are the most frequent members (SHDK 4, BPS 3), then spouses
    (SHDK 3 for a wife, BPS 2); SHDK's 2 (a husband under a woman head) and BPS's 4 (in-laws) are rare. A list of
    couples only (3 without 4 nor 2) stays SHDK."""
    counts = Counter(text.lstrip("0") for text in map(_relationship_text, values) if text.isdigit())
    return BPS if counts["3"] > counts["4"] and counts["2"] > counts["4"] else SHDK


def parse_relationship(value: object, numbering: str = SHDK) -> str:
    """Relationship to the head of family as a stable code (``kepala``, ``istri``, ``anak`` …); '' if empty. A bare
    number is read in ``numbering`` (``SHDK`` or ``BPS``: see ``relationship_numbering``)."""
    text = _relationship_text(value)
    if not text or text == "-":
        return ""
    if text.isdigit():
        numbers = _BPS_NUMBERS if numbering == BPS else _SHDK_NUMBERS
        if text.lstrip("0") in numbers:
            return numbers[text.lstrip("0")]
    if text in _RELATIONSHIP_WORDS:
        return _RELATIONSHIP_WORDS[text]
    words = _NUMBERED_WORDS.match(text)
    if words and words[1].strip() in _RELATIONSHIP_WORDS:
        return _RELATIONSHIP_WORDS[words[1].strip()]
    found = _relationship_by_words(text)
    if found:
        return found
    raise ValueError_("relationship.invalid")


# Words that say the relationship whatever else the cell says ("Anak Kandung Laki-laki", "Kep. Keluarga (KK)",
# "Ibu Mertua", "Adik Ipar"), tried in this order: "anak menantu" is an in-law, "ibu mertua" a parent-in-law.
_RELATIONSHIP_KEYWORDS = (
    ({"kepala", "kep", "krt"}, "kepala"),
    ({"menantu"}, "menantu"),
    ({"mertua"}, "mertua"),
    ({"cucu"}, "cucu"),
    ({"anak"}, "anak"),
    ({"istri", "isteri", "istrinya"}, "istri"),
    ({"suami"}, "suami"),
    ({"ortu", "ayah", "ibu", "bapak", "ayahanda", "ibunda"}, "orang_tua"),
    ({"famili", "family", "keluarga", "saudara", "ipar", "adik", "kakak", "keponakan", "paman", "bibi", "sepupu",
      "kakek", "nenek", "cicit", "om", "tante"}, "famili_lain"),
    ({"pembantu", "sopir", "supir", "lainnya", "lain", "kos", "indekos", "teman"}, "lainnya"),
)  # fmt: skip


_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]")


def without_brackets(text: str) -> str:
    """The text without what it says in brackets: 'Laki-laki (L)', 'Famili Lain [FL]'."""
    return _BRACKETED.sub(" ", text)


def _relationship_by_words(text: str) -> str:
    words = set(re.findall(r"[a-z]+", without_brackets(text)))
    if "orang" in words and "tua" in words:
        words.add("ortu")
    return next((code for keys, code in _RELATIONSHIP_KEYWORDS if words & keys), "")
