"""Indonesian names normalised for matching: the variants officers write must meet, different people must not."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tepat.engine.names import name_key, normalise_name, parse_name, parse_names

# --- titles, degrees, abbreviations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, name",
    [
        ("H. Muh. Syamsuddin, S.Pd.", "muhammad syamsuddin"),
        ("Hj. St. Aminah", "siti aminah"),
        ("Drs. H. Ahmad Yani, M.Pd.", "ahmad yani"),
        ("Prof. Dr. Ir. H. Budi Santoso, M.Sc., Ph.D.", "budi santoso"),
        ("Budi Santoso SPd", "budi santoso"),
        ("Budi Santoso S.Pd M.Pd", "budi santoso"),
        ("Budi Santoso S Pd I", "budi santoso"),
        ("Rina Wulandari, S.Pd.I", "rina wulandari"),
        ("Agus Budi Santoso ST, MT", "agus budi santoso"),
        ("Yohanes Paulus SE", "yohanes paulus"),
        ("Dewi Lestari, A.Md.Keb.", "dewi lestari"),
        ("Ns. Fitriani, S.Kep", "fitriani"),
        ("Rahmat, S.Kom., M.Kom.", "rahmat"),
        ("dr. Ratna Sari, Sp.A", "ratna sari"),
        ("NY. SUMARNI", "sumarni"),
        ("Almarhum Paiman", "paiman"),
        ("M. Yusuf", "muhammad yusuf"),
        ("M Yusuf", "muhammad yusuf"),
        ("M.Yusuf", "muhammad yusuf"),
        ("Moch. Ridwan", "muhammad ridwan"),
        ("Mhd Ilham", "muhammad ilham"),
        ("Muhd. Ilham", "muhammad ilham"),
        ("MOHAMMAD ILHAM", "muhammad ilham"),
        ("Mochammad Ilham", "muhammad ilham"),
        ("Abd. Rahman", "abdul rahman"),
        ("Abd.Rahman", "abdul rahman"),
        ("Noor Hasanah", "nur hasanah"),
        ("Sitti Ramlah", "siti ramlah"),
        ("Ma'ruf Amin", "maruf amin"),
        ("  siti   AMINAH  ", "siti aminah"),
        ("Andi Baso", "andi baso"),  # Bugis nobility is part of the name
        ("Budi S", "budi s"),  # an initial, not a degree
        ("Budi ST", "budi st"),  # two words: could be initials
        ("Mei Lina", "mei lina"),  # Mei is a name, not a degree
        ("Ama Koten", "ama koten"),
        ("Yusuf M", "yusuf m"),  # M. is Muhammad only in first place
        ("José Marçal", "jose marcal"),
        ("Paijo 2", "paijo"),
        ("H.", "h"),  # nothing else: the title is all there is
        ("", ""),
        ("  ", ""),
    ],
)
def test_titles_degrees_and_abbreviations(raw: str, name: str) -> None:
    assert normalise_name(raw) == name


@pytest.mark.parametrize(
    "raw, name, father",
    [
        ("Ahmad bin Abdullah", "ahmad", "abdullah"),
        ("Siti Nurjannah binti H. Abdullah", "siti nurjannah", "abdullah"),
        ("Siti bt Ahmad", "siti", "ahmad"),
        ("Siti bt. Ahmad", "siti", "ahmad"),
        ("Ismail Bin. Yusuf", "ismail", "yusuf"),
        ("Moch. Syamsuddin bin Abdullah", "muhammad syamsuddin", "abdullah"),
        ("Bin Laden", "bin laden", ""),  # in first place it is a name
        ("Ahmad bin", "ahmad bin", ""),  # nothing after it: nothing to keep apart
    ],
)
def test_the_fathers_name_is_kept_apart(raw: str, name: str, father: str) -> None:
    parsed = parse_name(raw)
    assert (parsed.name, parsed.father) == (name, father)


# --- the key: spellings of one name meet, different names do not ---------------------------------------------------

SAME_PERSON = [
    ("Muhammad Rizki", "Muhamad Rizki"),
    ("Muhammad Rizki", "Mohammad Rizki"),
    ("Muhammad Rizki", "Mochammad Rizki"),
    ("Muhammad Rizki", "Moh. Rizki"),
    ("Muhammad Rizki", "Muh. Rizki"),
    ("Muhammad Rizki", "M. Rizki"),
    ("Muhammad Rizki", "MUHAMMAD RIZKI"),
    ("Soekarno", "Sukarno"),  # old spelling oe
    ("Soeharto", "Suharto"),
    ("Djoko Tjahjono", "Joko Cahyono"),  # dj/j, tj/c, old j/y
    ("Jusuf", "Yusuf"),
    ("Achmad Chairil", "Ahmad Hairil"),  # ch/kh/h
    ("Khadijah", "Hadijah"),
    ("Ramadhan", "Ramadan"),  # dh/d
    ("Syamsuddin", "Syamsudin"),  # doubled letters
    ("Syamsuddin", "Samsudin"),  # sy/s
    ("Nurjannah", "Nurjanah"),
    ("Sitti Aminah", "Siti Aminah"),
    ("Nur Haliza", "Nurhaliza"),  # spacing
    ("Noor Hasanah", "Norhasanah"),  # Banjar spelling
    ("Abdul Rahman", "Abdurrahman"),  # the article before a sun letter
    ("Abd. Rahman", "Abdurahman"),
    ("Zaenal Arifin", "Zainal Arifin"),
    ("Arief Rahman", "Arif Rahman"),
    ("Taufik", "Taufiq"),
    ("Fitri", "Pitri"),  # f/p
    ("Fatimah", "Fatima"),  # a final h
    ("H. Hasanuddin", "Hasanuddin"),
    ("Hasanuddin, S.E.", "Hasanuddin"),
    ("Ir. H. Joko Widodo", "Djoko Widodo"),
]
DIFFERENT = [
    ("Siti Aminah", "Siti Nurhaliza"),
    ("Hasan", "Husen"),
    ("Rina", "Rini"),
    ("Agus", "Bagus"),
    ("Muhammad Rizki", "Muhammad Rizal"),
    ("Budi Santoso", "Budi Susanto"),
    ("Ahmad", "Ahmad Yani"),  # a word more is another person to the key (the model weighs "words left out")
    ("Suparman", "Suparmi"),
    ("Dewi", "Dedi"),
]


@pytest.mark.parametrize("left, right", SAME_PERSON)
def test_variants_of_one_name_share_the_key(left: str, right: str) -> None:
    assert name_key(left) == name_key(right)


@pytest.mark.parametrize("left, right", DIFFERENT)
def test_different_names_keep_different_keys(left: str, right: str) -> None:
    assert name_key(left) != name_key(right)


def test_first_and_last_word_keys_are_for_blocking() -> None:
    parsed = parse_name("Moch. Abdul Rahman Hakim")
    assert parsed.first_key == name_key("Muhammad") and parsed.last_key == name_key("Hakim")
    assert parse_name("Siti").first_key == parse_name("Siti").last_key == "siti"


def test_bulk_parsing_gives_the_same_answers() -> None:
    raw = [row[0] for row in SAME_PERSON] + ["", "Ahmad bin Yusuf"]
    assert parse_names(raw) == [parse_name(value) for value in raw]


def test_cells_that_are_not_text() -> None:
    assert parse_name(None).name == "" and parse_name(12345).name == ""


# --- properties ------------------------------------------------------------------------------------------------------

WORDS = [
    "siti",
    "aminah",
    "muhammad",
    "rizki",
    "nur",
    "haliza",
    "abdul",
    "rahman",
    "budi",
    "santoso",
    "yohanes",
    "paulus",
    "soekarno",
    "djoko",
    "andi",
    "baso",
    "hasanuddin",
    "dewi",
    "lestari",
    "wayan",
    "made",
    "simanjuntak",
    "kurniawan",
]
TITLES = ["H.", "Hj.", "Dr.", "Ir.", "Drs.", "Prof.", "H", "Hj", "Dra.", "Ny."]
DEGREES = [", S.Pd.", ", S.Kom", ", S.E.", ", S.H.", ", M.Pd.", ", A.Md.", ", S.Pd.I", " S.Pd", ", SE, MM", " S.Sos."]
names_ = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
CLEAN = re.compile(r"([a-z]+( [a-z]+)*)?")


@given(st.text(max_size=60))
def test_any_text_gives_lower_case_words(raw: str) -> None:
    parsed = parse_name(raw)
    assert CLEAN.fullmatch(parsed.name) and CLEAN.fullmatch(parsed.father)
    assert re.fullmatch(r"[a-z]*", parsed.key)


@given(st.text(max_size=60))
def test_normalising_twice_changes_nothing(raw: str) -> None:
    once = normalise_name(raw)
    assert normalise_name(once) == once
    assert name_key(once) == name_key(raw)


@given(names_, st.sampled_from(["upper", "title", "spaces"]))
def test_case_and_spacing_do_not_matter(name: str, change: str) -> None:
    written = {"upper": name.upper(), "title": name.title(), "spaces": "  " + name.replace(" ", "   ") + " "}[change]
    assert parse_name(written) == parse_name(name)


@given(names_, st.sampled_from(TITLES), st.sampled_from(DEGREES))
def test_titles_and_degrees_do_not_matter(name: str, title: str, degree: str) -> None:
    plain = normalise_name(name)
    assert normalise_name(f"{title} {name}") == plain
    assert normalise_name(f"{name}{degree}") == plain
    assert normalise_name(f"{title} {name.upper()}{degree}") == plain


@given(names_, names_)
def test_the_father_never_changes_the_key(name: str, father: str) -> None:
    assert name_key(f"{name} bin {father}") == name_key(name)
