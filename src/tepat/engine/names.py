"""Indonesian personal names, normalised for matching.

One person is written many ways across the lists a regency receives: "H. Muh. Syamsuddin, S.Pd." in one,
"MUHAMMAD SYAMSUDIN" in another, "Moch. Syamsuddin bin Abdullah" in a third. Exact comparison of such strings
finds neither the duplicates nor the people under several NIKs that the audits count, so linkage compares names
in two forms:

- ``name``: what is left of the person's own name once titles, degrees and honorifics (before or after, with or
  without dots and commas), the patronymic after ``bin``/``binti`` and punctuation are taken off, and the
  abbreviations and whole-word spellings that stand for the same name are written one way (Muh./Moh./M./Mhd. and
  Muhamad/Mohammad/Mochammad → muhammad; Abd. → abdul; Noor/Nor → nur; St. → siti). Lower case ASCII, single spaces.
- ``key``: a phonetic-ish key of ``name`` for blocking and as a comparison level: old (pre-1972) spelling
  (oe→u, dj→j, tj→c, sj→sy, nj→ny, ch→kh), j/y, kh/h, dh/d, sy/sh/s, f/v/p, q/k, doubled letters, a final h,
  "ae"→"ai" and the Arabic article before sun letters (Abdul Rahman = Abdurrahman) are folded, and the spaces
  dropped (Nur Haliza = Nurhaliza). The key deliberately confuses some different names: it only links together
  with a birth date and an area, or as one piece of evidence among several.

The father's name after ``bin``/``binti`` is kept apart (``father``): it is evidence about the person, not part
of their name, and lists write it inconsistently.

This runs on millions of names: the regular expressions are compiled once, words are folded once (cached), and
``parse_names`` works on the distinct values of a column only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

__all__ = ["PersonName", "name_key", "normalise_name", "parse_name", "parse_names"]


class PersonName(NamedTuple):  # a tuple, not a frozen dataclass: built millions of times
    name: str  # normalised words of the person's own name, "" when there is none
    key: str  # phonetic-ish key of ``name`` without spaces
    father: str  # normalised father's name after bin/binti, "" when not written
    first_key: str  # key of the first word and of the last word: blocking when the other words vary
    last_key: str


EMPTY = PersonName("", "", "", "", "")


def _wordset(text: str) -> frozenset[str]:
    """Word lists are written as text: compact to read, one place to add a word."""
    return frozenset(text.split())


# Academic degrees written after the name, in their compact form (dots and spaces removed). Indonesian usage
# (Permendikbud 154/2014 and older forms still printed on cards): S.Pd., S.Pd.I., M.Pd., A.Md.Kep., Dr., Ph.D.
_DEGREES = _wordset(
    """
    spd spdi spdsd spdk sag sak sap sars sds sb se sei seak sfarm sfil sfili sgz sh shi shum shut sik sikom sip
    sked skeb skel skep skes skg skh skm skom sos spsi spt ssi ssit ssn ssos sst stp sth stt str strkes strkeb
    strkep sts sy ssy sgeo sstat smat sbio sfis skim slp spi st ss sp
    mpd mpdi mag mak map mars mb mba mbiomed mcom md me mei meng mh mhum mhi mkes mkeb mkom mkn mm mp mpsi msc msi
    msos msp mt mtp mth mfarm mkm mph mip ma mhkes mstat mpa mpp mtr
    amd amdkep amdkeb amdkes amdkom amdak amdfarm amdgz amdtek amdpar amdtrans amdrad amdanak ama amapd amk
    dipl bsc ba bed llb llm lc ak cpa phd spa spb spog sppd sppk spkk spm sprad spjp spkj spn spp spbs
    dr drg drh drs dra ir ns apt
    """
)
# Short forms that could be initials ("Budi S.T." or "Budi ST"): without a dot, only after two words of name.
_SHORT_DEGREES = frozenset({"se", "sh", "st", "ss", "mm", "mh", "mt", "mp", "ak", "lc", "ba", "sp", "sy", "sb", "md"})
# Degrees that are also name words or forms of address (Mei, Ama, Mak, Sei, Ir): only with a dot or after a comma.
_NAMELIKE_DEGREES = frozenset(
    {"ma", "me", "mei", "sei", "shi", "ama", "amk", "mak", "map", "mars", "bed", "mba", "sap", "sak", "sip", "spa"}
    | {"mip", "sos", "ir", "dr", "apt", "ns", "mb", "str", "sts"}
)

# Honorifics, forms of address and titles written before the name.
_PREFIXES = _wordset(
    """
    h hj hajah hajjah haji hji kh kyai kiai ust ustadz ustaz ustadzah ustazah dr drg drh drs dra ir prof ns apt
    ny nyonya tn tuan nn nona sdr sdri saudara saudari bpk bapak bp ibu alm almh almarhum almarhumah
    """
)
# Whole-word spellings of one name, and abbreviations that are never names themselves.
_SYNONYMS = {
    **dict.fromkeys(
        _wordset(
            """
        muhammad muhamad muhammed muhamed mohammad mohamad mohammed mohamed mochammad mochamad muchammad muchamad
        mukhammad mukhamad mohamat muhamat muhammat mahammad mohd muhd mhd moch much mch muh moh mhmd mmd
        """
        ),
        "muhammad",
    ),
    "abd": "abdul",
    "abdoel": "abdul",
    "noor": "nur",
    "nor": "nur",
    "sitti": "siti",
    "achmad": "ahmad",
    "akhmad": "ahmad",
    "achmat": "ahmad",
    "ahmat": "ahmad",
}
# Abbreviations that only stand for a name in first place: "M. Yusuf", "St. Aminah"; elsewhere they are initials.
_FIRST_ONLY = {"m": "muhammad", "md": "muhammad", "st": "siti"}
_PATRONYMIC = frozenset({"bin", "binti", "bt", "bte", "binte", "bint"})
_HAS_SYNONYM = frozenset(_SYNONYMS).intersection
_SPECIAL_WORDS = _PREFIXES | frozenset(_SYNONYMS) | frozenset(_FIRST_ONLY) | _PATRONYMIC
_NEW = tuple.__new__  # builds a PersonName without NamedTuple's Python-level __new__

_APOSTROPHES = re.compile(r"['`´‘’ʼʻ]")
_SEPARATORS = re.compile(r"[^a-z0-9.,]+")  # everything but letters, digits, dots and commas splits words
_TOKEN = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)*\.?")
_DIGITS = re.compile(r"[0-9]+")
_PLAIN = re.compile(r"[A-Za-z ]+")
# Words that may end a name as (part of) a degree: a name ending in one of these takes the careful path.
_DEGREE_PARTS = _DEGREES | {"s", "m", "a", "d", "pd", "kom", "i", "sos", "ag", "kes", "kep", "keb", "md", "si", "hum"}

# Ordered spelling folds for the key. Old spelling first (EYD 1972: oe→u, dj→j, tj→c, sj→sy, nj→ny, ch→kh), then
# sounds Indonesian spelling writes several ways.
_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"oe", "u"),
        (r"dj", "j"),
        (r"tj", "c"),
        (r"sj", "sy"),
        (r"nj", "ny"),
        (r"ch", "kh"),
        (r"kh", "h"),
        (r"dh", "d"),
        (r"th", "t"),
        (r"ph", "f"),
        (r"sh|sy|ts", "s"),
        (r"j", "y"),
        (r"q", "k"),
        (r"x", "ks"),
        (r"[vf]", "p"),
        (r"oo", "u"),
        (r"ie", "i"),
        (r"ae", "ai"),
        (r"(.)\1+", r"\1"),  # doubled letters: Sitti, Nurjannah, Abdullah
        (r"^nor", "nur"),  # Banjar Nor-/Noor- compounds: Norjannah = Nurjannah
        (r"(?<=[aeiou])h$", ""),  # Fatimah/Fatima, Salmah/Salma
    )
)
# The Arabic article assimilates to a following sun letter: Abdul Rahman = Abdurrahman = Abdurahman.
_SUN_LETTER = re.compile(r"(?<=abd)ul(?=[tdrzsnl])|(?<=abd)u(?=[tdrzsnl])")


_FOLDED: dict[str, str] = {}  # word -> folded word; bounded by the vocabulary of names, a few hundred thousand


def _fold_word(word: str) -> str:
    folded = _FOLDED.get(word)
    if folded is None:
        folded = word
        for pattern, replacement in _FOLDS:
            folded = pattern.sub(replacement, folded)
        if len(_FOLDED) < 1 << 20:
            _FOLDED[word] = folded
    return folded


def _sun(folded: str) -> str:
    return _SUN_LETTER.sub("u", folded) if "abd" in folded else folded


def _key(words: Sequence[str]) -> str:
    cache = _FOLDED
    return _sun("".join([cache.get(word) or _fold_word(word) for word in words]))


def _ascii(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.lower()


def _words(segment: str) -> list[tuple[str, bool]]:
    """Words of one comma-separated segment as (compact text, written with a dot).

    "s.pd.i." stays one word "spdi" when it is a degree; other dotted runs ("m.yusuf", "abd.rahman") are split into
    their parts so that each part can be read as an abbreviation.
    """
    found: list[tuple[str, bool]] = []
    for token in _TOKEN.findall(segment):
        dotted = "." in token
        compact = token.replace(".", "")
        if dotted and token.count(".") > (1 if token.endswith(".") else 0) and compact not in _DEGREES:
            parts = token.split(".")
            for index, part in enumerate(parts):
                if part:
                    found.append((part, index < len(parts) - 1))
            continue
        found.append((compact, dotted))
    return [(_DIGITS.sub("", word), dotted) for word, dotted in found if _DIGITS.sub("", word)]


def _strip_degrees(words: list[tuple[str, bool]], *, after_comma: bool, relaxed: bool = False) -> None:
    """Drop degrees from the end ("Budi Santoso S.Pd M.Pd", "Budi S Pd"), in place; keep at least one word.

    ``relaxed``: degrees follow after a comma too ("Budi Santoso ST, MT"), so short undotted forms are degrees.
    """
    while len(words) > 1:
        for size in (3, 2, 1):
            if size >= len(words):
                continue
            tail = words[-size:]
            compact = "".join([word for word, _ in tail])
            if compact in _DEGREES and (
                after_comma
                or any(dotted for _, dotted in tail)
                or (
                    compact not in _NAMELIKE_DEGREES
                    and (relaxed or compact not in _SHORT_DEGREES or len(words) - size >= 2)
                )
            ):
                del words[-size:]
                break
        else:
            return


def _is_degree_segment(words: list[tuple[str, bool]]) -> bool:
    """A segment after a comma that is nothing but degrees: ", S.Pd., M.Pd." or ", SE, MM"."""
    remaining = list(words)
    while remaining:
        for size in (3, 2, 1):
            if size <= len(remaining) and "".join(word for word, _ in remaining[:size]) in _DEGREES:
                del remaining[:size]
                break
        else:
            return False
    return True


def _own_words(words: list[str]) -> list[str]:
    """Take titles off the front, then write abbreviations and spellings of one name one way."""
    start, count = 0, len(words)
    while start < count - 1 and words[start] in _PREFIXES:
        start += 1
    own = [_SYNONYMS.get(word, word) for word in words[start:]] if start or _HAS_SYNONYM(words) else words
    if len(own) > 1 and own[0] in _FIRST_ONLY:
        own = [_FIRST_ONLY[own[0]], *own[1:]]
    return own


@lru_cache(maxsize=1 << 18)
def parse_name(raw: object) -> PersonName:
    """The normalised name, its key and the father's name (after bin/binti) of one name as lists write it."""
    return _parse(raw if isinstance(raw, str) else "" if raw is None else str(raw))


def _parse(raw: str) -> PersonName:
    if not raw:
        return EMPTY
    if raw.isascii() and _PLAIN.fullmatch(raw):
        words = raw.lower().split()  # most names: letters and spaces only
        if words and _SPECIAL_WORDS.isdisjoint(words) and _DEGREE_PARTS.isdisjoint(words[-3:]):
            # ...and no title, abbreviation or patronymic either: only the key to compute (the hot path)
            cache = _FOLDED
            folded = [cache.get(word) or _fold_word(word) for word in words]
            key = "".join(folded)
            if "abd" not in key:
                return _NEW(PersonName, (" ".join(words), key, "", folded[0], folded[-1]))
        if _DEGREE_PARTS.isdisjoint(words[-3:]):
            return _finish(words)
    text = _APOSTROPHES.sub("", _ascii(raw))
    segments = _SEPARATORS.sub(" ", text).split(",")
    parsed = [_words(segment) for segment in segments]
    head = parsed[0]
    later = [segment for segment in parsed[1:] if segment]
    degrees = [_is_degree_segment(segment) for segment in later]
    _strip_degrees(head, after_comma=False, relaxed=any(degrees))
    for segment, is_degree in zip(later, degrees, strict=True):  # after a comma: degrees or, rarely, more name
        if not is_degree:
            _strip_degrees(segment, after_comma=True)
            head += segment
    return _finish([word for word, _ in head])


def _finish(words: list[str]) -> PersonName:
    father: list[str] = []
    if not _PATRONYMIC.isdisjoint(words):
        for index, word in enumerate(words):
            if 0 < index < len(words) - 1 and word in _PATRONYMIC:
                words, father = words[:index], words[index + 1 :]
                break
    own = _own_words(words)
    if not own:
        return EMPTY
    cache = _FOLDED
    folded = [cache.get(word) or _fold_word(word) for word in own]
    return PersonName(
        " ".join(own),
        _sun("".join(folded)),
        " ".join(_own_words(father)) if father else "",
        _sun(folded[0]),
        _sun(folded[-1]),
    )


def normalise_name(raw: object) -> str:
    """The person's own name in normalised words (see the module docstring); "" for an empty cell."""
    return parse_name(raw).name


def name_key(raw: object) -> str:
    """The phonetic-ish key of a name, for blocking and as a comparison level."""
    return parse_name(raw).key


def parse_names(values: Iterable[object]) -> list[PersonName]:
    """Parse many names without filling the per-value cache: for the distinct values of a column in bulk work."""
    return [_parse(value if isinstance(value, str) else "" if value is None else str(value)) for value in values]
