"""Indonesian names by ethnic group, and the ways officers mistype and vary them.

Faker's id_ID provider supplies the general (mostly Javanese) given names; it is read once and sampled with our
own seeded RNG, because calling Faker per person is two orders of magnitude too slow for a 190k-person registry.
The regional pools (Bugis, Banjar, Kutai, Christian and clan names) are written here: East Kalimantan's cities are
Bugis-, Javanese- and Banjar-majority with Toraja, Manado, Batak, Flores and Dayak minorities, and the name variants
that break record linkage (Muhammad/Muh./M., Siti/Sitti, Nurhaliza/Nur Haliza, H./Hj.) come from exactly that mix.
"""

from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from itertools import accumulate

from faker.providers.person.id_ID import Provider as _FakerPerson


def _split(text: str, sep: str | None = None) -> tuple[str, ...]:
    """Name pools are written as text: compact to read, one place to add a name."""
    return tuple(text.split(sep))


_BATAK_CLANS = frozenset(
    _split(
        "Damanik Dongoran Dabukke Hutagalung Hutapea Hutasoit Mangunsong Manullang Marpaung Marbun Nainggolan Nababan "
        "Napitupulu Siregar Sihombing Samosir Saragih Sihotang Simanjuntak Sinaga Simbolon Sitompul Sitorus Sirait "
        "Situmorang Tampubolon Tamba Tarihoran Latupono"
    )
)


def _unique(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


# Read once from Faker: modern given names and Javanese second names.
FAKER_MALE = _unique(_FakerPerson.first_names_male)
FAKER_FEMALE = _unique(_FakerPerson.first_names_female)
JAVANESE_SECOND_MALE = _unique([n for n in _FakerPerson.last_names_male if n not in _BATAK_CLANS])
JAVANESE_SECOND_FEMALE = _unique(_FakerPerson.last_names_female)
BATAK_CLANS = _unique([n for n in _FakerPerson.last_names_male if n in _BATAK_CLANS and n != "Latupono"])

OLD_JAVANESE_MALE = _split(
    "Sutrisno Suparman Sugiyono Slamet Sukardi Suwarno Paiman Poniman Wagiman Karno Sumarno Bambang Joko Agus "
    "Budi Eko Heru Hadi Sukirno Parno Tukiran Sugeng Sumadi Darmaji Suyanto Sutarno Marjuki Tumiran Kasmin "
    "Sukijan Paijo Mulyono Supardi Riyanto Warsito Harjono"
)
OLD_JAVANESE_FEMALE = _split(
    "Suparmi Sumiati Wartini Sulastri Sumarni Painem Tukinem Sarmi Warsini Endang Rini Yuni Wahyuni Suwarni "
    "Sukarti Ngatini Parmi Suyati Marsini Kasiyem Rubiyem Tumini Sriyatun Karsiah Sunarti Sutini Wagiyem"
)
BUGIS_MALE = _split(
    "Baso Mappa Ambo Syamsuddin Hasanuddin Nurdin Jamaluddin Hamzah Arifin Ridwan Syahrir Amiruddin Basri Ilham "
    "Rahmat Irwan Asri Safaruddin Kamaruddin Burhanuddin Mustari Mansyur Saharuddin Najamuddin Muhlis Akbar Fadli "
    "Rusdi Herman Syamsul Bahri Alimuddin Sahabuddin Tajuddin Zainal Asdar Ilyas Mursalim Haeruddin Anwar "
    "Sudirman Darwis Rahman Yusuf Idris Sainal Hamka Wahyu Risal"
)
BUGIS_FEMALE = _split(
    "Hasnah Hasniati Nurhayati Hadijah Rosmiati Hasmawati Jumriah Nurmiati Sumarni Nurjannah Hamsinah Ramlah "
    "Besse Becce Hartini Ratna Haslinda Mardiana Irmawati Nurbaya Salmiah Rahmawati Fitriani Kasmawati Sukmawati "
    "Darmawati Asmawati Nuraeni Hasriani Nurhaliza Megawati Suriani Herlina Marlina Syamsiah Darna Intang Nurul "
    "Sahriani"
)
BANJAR_MALE = _split(
    "Anang Utuh Rahman Fahrurrazi Syahrani Mahyudin Hairil Rusdiansyah Fauzan Juhri Bahrani Fauzi Hamdani "
    "Zainuddin Saberan Jumberi Norhadi Rusmadi Rasyid Syarifuddin Khairil Aspihani Arbain Ahyar Mahlan Jarkasi "
    "Abdurrahman Hamberi Supiani Ridhani"
)
BANJAR_FEMALE = _split(
    "Aluh Galuh Norhasanah Raudah Mahmudah Hamidah Rusmini Fatimah Jamilah Masitah Salasiah Hafsah Norjannah "
    "Rusmilawati Mariam Halimatus Jumiati Khairunnisa Rabiah Nurhidayah Syarifah Rahmah Aslamiah Sadiah"
)
KUTAI_MALE = _split(
    "Awang Jumansyah Syahrudin Hendra Rusdiansyah Ismail Idham Jamrun Ardiansyah Zulkifli Hasbi Junaidi Mahmud "
    "Hasyim Ruslan Saiful"
)
KUTAI_FEMALE = _split("Dayang Nurul Rusnah Aminah Zubaidah Salmah Rahimah Juliana Syamsiah Saodah Hamidah Maimunah")
CHRISTIAN_MALE = _split(
    "Yohanes Paulus Petrus Markus Lukas Yosef Fransiskus Agustinus Stefanus Daniel Samuel Yakobus Andreas Simon "
    "Michael Frengky Jefri Robert Hendrik Albert Alfons Benediktus Kornelius Yulius Marthen Oktavianus Ronald "
    "Steven Christian Yosua Gerson Ferdinand Nikolaus Matius Hendrikus"
)
CHRISTIAN_FEMALE = _split(
    "Maria Yohana Theresia Veronika Fransiska Agustina Margaretha Elisabeth Katarina Magdalena Martha Ruth Debora "
    "Lidia Yuliana Kristina Natalia Grace Meiliana Stefani Olivia Imelda Yosefina Serlina Marlina Priskila "
    "Anjelina Yuni Febriani Novita"
)
TORAJA_CLANS = _split(
    "Tandirerung Palimbong Sampe Rante Pongsibidang Tangdilintin Lembang Pakiding Tandiayu Parinding Sarungallo "
    "Pasang Tangkelayuk Bato Paembonan Tandipau Pabane Sambara"
)
MANADO_CLANS = _split(
    "Wenas Lumentut Rumengan Pangemanan Sondakh Tumbelaka Kalalo Mandagi Rondonuwu Sumampouw Rorimpandey Kaunang "
    "Manoppo Mamahit Lengkong Pontoh Tumewu Supit Wowor Kawengian"
)
NTT_CLANS = _split(
    "da Costa|Pareira|Fernandez|Lewar|Koten|Bataona|Kelen|Making|Laga|Ola|Tukan|Nuban|Bria|Mau|Seran|"
    "Tefa|Lamaweng|Beribe",
    sep="|",
)
DAYAK_NAMES = _split("Lawing Ingan Ajang Lahang Bilung Anyeq Jalung Ubang Lejau Usat Huvang Bit Luhat Apui Ding")

MUHAMMAD_FORMS = ("Muhammad", "Muhamad", "Mohammad", "Mohamad", "Moh.", "Muh.", "M.")
HAJJ_TITLES = ("H.", "Hj.")


@dataclass(frozen=True)
class Group:
    """An ethnic group: how its members are named and where its migrants come from."""

    key: str
    weight: float  # share of families in an East Kalimantan city
    christian: float  # share of Christian families (names, and BAZNAS does not serve them)
    clan_names: tuple[str, ...]  # a family name children inherit from the father (Batak, Toraja, Manado, NTT)
    origin: tuple[tuple[str, float], ...]  # province or regency code prefix -> weight, for migrants


GROUPS: tuple[Group, ...] = (
    Group("bugis", 0.35, 0.0, (), (("73", 0.78), ("76", 0.1), ("74", 0.12))),
    Group("jawa", 0.29, 0.04, (), (("35", 0.55), ("33", 0.33), ("34", 0.05), ("32", 0.07))),
    Group("banjar", 0.11, 0.0, (), (("63", 1.0),)),
    Group("kutai", 0.06, 0.0, (), (("64", 1.0),)),
    Group("toraja", 0.05, 1.0, TORAJA_CLANS, (("73.18", 0.55), ("73.26", 0.45))),
    Group("ntt", 0.04, 1.0, NTT_CLANS, (("53", 1.0),)),
    Group("dayak", 0.04, 0.8, (), (("64", 0.6), ("62", 0.2), ("61", 0.2))),
    Group("manado", 0.03, 1.0, MANADO_CLANS, (("71", 1.0),)),
    Group("batak", 0.02, 0.8, BATAK_CLANS, (("12", 1.0),)),
)
GROUP_CUM = tuple(accumulate(group.weight for group in GROUPS))


def pick_group(rng: random.Random) -> Group:
    return GROUPS[bisect(GROUP_CUM, rng.random() * GROUP_CUM[-1])]


def pick(rng: random.Random, pool: tuple[str, ...]) -> str:
    return pool[int(rng.random() * len(pool))]


def given_name(rng: random.Random, group: Group, male: bool, born_year: int, christian: bool) -> str:
    """A given name (without the clan name) in the naming habits of the group and generation.

    Called ~300k times for a regency, hence the inlined picks (`pool[int(u() * len(pool))]`).
    """
    u = rng.random
    r = u()
    old = born_year < 1975
    modern = FAKER_MALE if male else FAKER_FEMALE
    if christian:
        pool = CHRISTIAN_MALE if male else CHRISTIAN_FEMALE
        first = pool[int(u() * len(pool))]
        if not old and r < 0.35:
            first = modern[int(u() * len(modern))]
        if group.key == "dayak":
            return f"{first} {DAYAK_NAMES[int(u() * len(DAYAK_NAMES))]}"
        if not group.clan_names and u() < 0.6:
            second = JAVANESE_SECOND_MALE if male else JAVANESE_SECOND_FEMALE
            return f"{first} {second[int(u() * len(second))]}"
        return first if u() < 0.7 else f"{first} {pool[int(u() * len(pool))]}"
    key = group.key
    if key == "jawa":
        if old and r < 0.55:
            pool = OLD_JAVANESE_MALE if male else OLD_JAVANESE_FEMALE
            return pool[int(u() * len(pool))]
        first = modern[int(u() * len(modern))]
        prefix = ""
        if male and r > 0.88:
            prefix = "Muhammad " if r > 0.93 else "Ahmad "
        elif not male and r > 0.85:
            prefix = "Siti " if r > 0.93 else "Sri "
        if u() < 0.62:
            second = JAVANESE_SECOND_MALE if male else JAVANESE_SECOND_FEMALE
            return f"{prefix}{first} {second[int(u() * len(second))]}"
        return f"{prefix}{first}"
    if key == "bugis":
        pool = BUGIS_MALE if male else BUGIS_FEMALE
        if male:
            prefix = "Muhammad " if r < 0.2 else "Andi " if r < 0.27 else ""
        else:
            prefix = "Sitti " if r < 0.12 else "Siti " if r < 0.16 else "Andi " if r < 0.22 else ""
        share_own = 0.7
    else:  # Banjar and Kutai: Malay-Muslim naming, "Muhammad"/"Akhmad" very common, Banjar spelling "Noor".
        pool = (BANJAR_MALE if male else BANJAR_FEMALE) if key == "banjar" else (KUTAI_MALE if male else KUTAI_FEMALE)
        if male:
            prefix = "Muhammad " if r < 0.28 else "Akhmad " if r < 0.34 else "Ahmad " if r < 0.4 else ""
        else:
            prefix = "Siti " if r < 0.15 else "Noor " if r < 0.2 else ""
        share_own = 0.6
    first = pool[int(u() * len(pool))] if old or u() < share_own else modern[int(u() * len(modern))]
    if u() < 0.4:
        return f"{prefix}{first} {pool[int(u() * len(pool))]}"
    return f"{prefix}{first}"


# --- variants and typos -------------------------------------------------------------------------------------------


def name_variant(
    rng: random.Random, name: str, *, muslim: bool, male: bool, adult: bool, allow_upper: bool
) -> tuple[str, str] | None:
    """Another way an officer writes the same person's name, with a short label of what changed.

    These are the spellings that are *not* errors to the family but defeat exact matching: Muhammad written five
    ways, Bugis "Sitti", compound names split ("Nur Haliza"), the hajj title added or dropped, the last word left out.
    """
    words = name.split()
    options: list[tuple[str, str]] = []
    if words and words[0] in MUHAMMAD_FORMS:
        other = pick(rng, tuple(form for form in MUHAMMAD_FORMS if form != words[0]))
        options.append((" ".join([other, *words[1:]]), f"{words[0]} -> {other}"))
    if words and words[0] in ("Siti", "Sitti"):
        other = "Sitti" if words[0] == "Siti" else "Siti"
        options.append((" ".join([other, *words[1:]]), f"{words[0]} -> {other}"))
    for i, word in enumerate(words):
        if word.startswith("Nur") and len(word) > 5 and word[3].islower():
            split = [*words[:i], "Nur", word[3].upper() + word[4:], *words[i + 1 :]]
            options.append((" ".join(split), "compound name split"))
            break
        if word == "Nur" and i + 1 < len(words):
            joined = [*words[:i], "Nur" + words[i + 1].lower(), *words[i + 2 :]]
            options.append((" ".join(joined), "compound name joined"))
            break
    if words and words[0] in HAJJ_TITLES:
        options.append((" ".join(words[1:]), "hajj title dropped"))
    elif muslim and adult:
        title = "H." if male else "Hj."
        options.append((f"{title} {name}", "hajj title added"))
    if len(words) >= 2 and words[-1] not in HAJJ_TITLES and words[-2] not in HAJJ_TITLES:
        options.append((" ".join(words[:-1]), "last name missing"))
    for i, word in enumerate(words):
        if word.startswith("Su") and len(word) > 4:
            old = [*words[:i], "Soe" + word[2:], *words[i + 1 :]]
            options.append((" ".join(old), "old spelling oe"))
            break
    if allow_upper:
        options.append((name.upper(), "upper case"))
    if not options:
        return None
    return options[int(rng.random() * len(options))]


_VOWEL_SWAP = {"a": "e", "e": "i", "i": "e", "o": "u", "u": "o"}


def name_typo(rng: random.Random, name: str) -> tuple[str, str] | None:
    """A keying error that changes the letters (not just their case), so it shows in every file format."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return None
    for _ in range(6):
        kind = rng.random()
        i = letters[1 + int(rng.random() * (len(letters) - 2))]
        if kind < 0.35 and i + 1 < len(name) and name[i + 1].isalpha():
            typo, label = name[:i] + name[i + 1] + name[i] + name[i + 2 :], "letters swapped"
        elif kind < 0.6:
            typo, label = name[:i] + name[i + 1 :], "letter dropped"
        elif kind < 0.75:
            typo, label = name[:i] + name[i] + name[i:], "letter doubled"
        else:
            low = name[i].lower()
            if low not in _VOWEL_SWAP:
                continue
            repl = _VOWEL_SWAP[low]
            typo, label = name[:i] + (repl.upper() if name[i].isupper() else repl) + name[i + 1 :], "vowel changed"
        if typo.casefold() != name.casefold():
            return typo, label
    return None


# --- places -------------------------------------------------------------------------------------------------------
# Street names common across Indonesian towns (national heroes, flowers, birds, local words), gang (alley) names and
# housing estates: an address reads "Jl. Cipto Mangunkusumo No. 12" or "Jl. Ahmad Yani Gg. Mawar II No. 3".

STREETS = _split(
    "Cipto Mangunkusumo|Ahmad Yani|Jenderal Sudirman|Diponegoro|MT Haryono|Imam Bonjol|Pattimura|Hasanuddin|"
    "Gatot Subroto|Kartini|Slamet Riyadi|Pangeran Antasari|Mulawarman|Brigjen Katamso|Letjen Suprapto|"
    "DI Panjaitan|S. Parman|Sutomo|Ki Hajar Dewantara|Hayam Wuruk|Gajah Mada|Merdeka|Pelabuhan|Cendrawasih|"
    "Kakatua|Nuri|Merpati|Elang|Rajawali|Manggis|Durian|Rambutan|Mawar|Melati|Anggrek|Kenanga|Flamboyan|"
    "Cempaka|Teratai|Pesut|Selat Makassar|Pierre Tendean|Urip Sumoharjo|Juanda|Soekarno-Hatta|Yos Sudarso|"
    "Bhayangkara|KS Tubun|Awang Long|Pahlawan|Kapten Pierre Tendean|Ir. H. Juanda|Hos Cokroaminoto|Panjaitan|"
    "Wolter Monginsidi|Dr. Soetomo|RE Martadinata|Mayjen Sutoyo|Kesuma Bangsa|Pramuka|Cut Nyak Dien|"
    "Teuku Umar|Sam Ratulangi|Poros|Nelayan|Bukit Indah|Padat Karya|Tanjung|Lembah Permai|Telaga Sari",
    sep="|",
)
GANGS = _split(
    "Mawar|Melati|Anggrek|Kenanga|Cempaka|Flamboyan|Dahlia|Kamboja|Nangka|Mangga|Jambu|Sawo|Kelapa|Pisang|"
    "Nuri|Kenari|Beringin|Damai|Sejahtera|Rukun|Harapan|Amal|Swadaya|Karya Bersama|Al-Ikhlas|Masjid",
    sep="|",
)
ESTATES = _split(
    "Griya Asri|Bukit Sekatup Damai|Korpri|BTN Bumi Permai|Griya Permata|Villa Tamara|Citra Land|Puri Indah|"
    "Bumi Harapan|Taman Sari",
    sep="|",
)
