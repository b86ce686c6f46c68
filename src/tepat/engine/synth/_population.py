"""Household and family structure, names and identity numbers of the true population.

Structure first, welfare afterwards (_welfare): family size and headship drive poverty, not the other way round.
Shares follow Susenas/Dukcapil patterns for an Indonesian city: mean family size about 3.5, ~14% female-headed
families (mostly widows), ~8% single-person families (mostly elderly), ~6% of dwellings holding a married child's
family next to the parents'. About three quarters of people were first registered in the region itself; the rest
carry NIKs from the provinces East Kalimantan draws migrants from (South Sulawesi, East and Central Java, South
Kalimantan, the rest of East Kalimantan, East Nusa Tenggara).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable
from datetime import date
from itertools import accumulate

from tepat.engine.identity import Sex, build_nik
from tepat.engine.synth import _names as names
from tepat.engine.synth._model import NORMAL, NORMAL_STEPS, Family, Household, Person, Population
from tepat.engine.synth._places import Geography
from tepat.engine.synth._reference import Atlas, Region, short_regency_name

YEAR = 365.2425
_ORDINAL_1970 = date(1970, 1, 1).toordinal()
_DAYS_45 = 45 * YEAR
_ORDINAL_2005 = date(2005, 1, 1).toordinal()  # KK numbers in today's format are not older than this
_MIGRANT_OWN_ORIGIN = frozenset(("Kepala Keluarga", "Orang Tua", "Famili Lain"))
_MIGRANT_SPOUSE_ORIGIN = frozenset(("Istri", "Suami", "Menantu", "Mertua"))

P_SINGLE = 0.08
P_FEMALE_HEAD = 0.09  # with children; with elderly widows living alone the total is ~14%
P_TWO_FAMILY = 0.06
P_MIGRANT_HEAD = 0.28
P_RECENT_ARRIVAL = 0.03  # of migrant families: came in the last two years (pindah datang)
# Members of a settled family who were nevertheless first registered elsewhere (married in, parents who followed).
_BORN_ELSEWHERE = {
    "Kepala Keluarga": 0.15,
    "Istri": 0.15,
    "Suami": 0.15,
    "Menantu": 0.15,
    "Orang Tua": 0.5,
    "Mertua": 0.5,
}
P_HAJJ_TITLE = 0.04  # legacy records of Muslims over 45 still carry H./Hj.

# (from age, to age, weight) of husbands heading a couple family
_HEAD_AGES = (
    (20, 25, 3),
    (25, 30, 11),
    (30, 35, 14),
    (35, 40, 13),
    (40, 45, 13),
    (45, 50, 12),
    (50, 55, 11),
    (55, 60, 9),
    (60, 65, 7),
    (65, 70, 5),
    (70, 75, 3),
    (75, 85, 2),
)
_HEAD_CUM = tuple(accumulate(band[2] for band in _HEAD_AGES))

# children ever born (0..7) by the mother's birth cohort: fertility fell from ~5 to ~2.2
_BIRTHS = (
    (1960, tuple(accumulate((3, 5, 10, 15, 18, 17, 14, 18)))),
    (1975, tuple(accumulate((4, 8, 20, 25, 20, 12, 6, 5)))),
    (1990, tuple(accumulate((4, 10, 30, 28, 16, 7, 3, 2)))),
    (9999, tuple(accumulate((7, 18, 38, 25, 9, 3, 0, 0)))),
)


def _marital_couple(rng: random.Random) -> str:
    # About one marriage in ten is unregistered (nikah siri); Dukcapil records it apart since 2021.
    return "Kawin Tercatat" if rng.random() < 0.9 else "Kawin Belum Tercatat"


class PopulationBuilder:
    """Builds households until the requested number of persons is reached, exactly."""

    def __init__(
        self,
        *,
        rng: random.Random,
        region: Region,
        atlas: Atlas,
        snapshot: date,
        persons: int,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.rng = rng
        self.region = region
        self.atlas = atlas
        self.today = snapshot.toordinal()
        self.target = persons
        self.progress = progress
        self.kk_serials: dict[str, int] = {}
        self.population = Population(households=[], families=[], persons=[])
        self.count = 0
        self.places = Geography(rng=rng, region=region, atlas=atlas, persons=persons)

    def _head_age(self) -> float:
        low, high, _ = _HEAD_AGES[bisect(_HEAD_CUM, self.rng.random() * _HEAD_CUM[-1])]
        return low + self.rng.random() * (high - low)

    def _born(self, age: float) -> int:
        return self.today - int(age * YEAR) - 1

    def _name(self, group: names.Group, male: bool, born: int, christian: bool, clan: str) -> str:
        year = int((born - _ORDINAL_1970) / YEAR) + 1970
        given = names.given_name(self.rng, group, male, year, christian)
        name = f"{given} {clan}" if clan else given
        if not christian and self.today - born > _DAYS_45 and self.rng.random() < P_HAJJ_TITLE:
            name = f"{'H.' if male else 'Hj.'} {name}"
        return name

    def _clan(self, group: names.Group) -> str:
        return names.pick(self.rng, group.clan_names) if group.clan_names else ""

    def _mother_name(self, group: names.Group, child_born: int, christian: bool) -> str:
        """The mother of someone whose mother is not in the registry: same group, a generation older."""
        born = child_born - int((20 + self.rng.random() * 15) * YEAR)
        return self._name(group, False, born, christian, self._clan(group))

    def _births(self, mother_born: int) -> list[int]:
        """Birth dates of all children a woman has had by today: mother aged 18-42 at each birth."""
        rng = self.rng
        year = int((mother_born - _ORDINAL_1970) / YEAR) + 1970
        cum = (
            _BIRTHS[0][1]
            if year < 1960
            else _BIRTHS[1][1]
            if year < 1975
            else _BIRTHS[2][1]
            if year < 1990
            else _BIRTHS[3][1]
        )
        wanted = bisect(cum, rng.random() * cum[-1])
        age = 18.5 + rng.random() * 7.5
        births: list[int] = []
        for _ in range(wanted):
            if age > 42:
                break
            born = mother_born + int(age * YEAR) + int(rng.random() * 200)
            if born >= self.today:
                break
            births.append(born)
            age += 1.5 + rng.random() * 3.2
        return births

    def _at_home(self, born: int, male: bool) -> bool:
        age = (self.today - born) / YEAR
        if age < 17:
            return True
        leave = (20 + self.rng.random() * 13) if male else (19 + self.rng.random() * 10)
        return age < leave

    # --- identity ---------------------------------------------------------------------------------------------

    def issue_niks(self, persons: list[Person]) -> None:
        """Issue every NIK in the district of first registration; serials count per district, DDMMYY and sex.

        One tight pass at the end rather than per family: the dates repeat a lot, so they are decoded once.
        """
        serials: dict[tuple[str, tuple[int, int, int], bool], int] = {}
        places: dict[str, str] = {}
        dates: dict[int, tuple[date, tuple[int, int, int]]] = {}
        regency_names = self.atlas.regency_names
        male_sex, female_sex = Sex.MALE, Sex.FEMALE
        for person in persons:
            district = person.nik_district
            decoded = dates.get(person.born)
            if decoded is None:
                day = date.fromordinal(person.born)
                decoded = dates[person.born] = (day, (day.day, day.month, day.year % 100))
            key = (district, decoded[1], person.male)
            serial = serials.get(key, 0) + 1
            serials[key] = serial
            person.nik = build_nik(district, decoded[0], male_sex if person.male else female_sex, serial)
            place = places.get(district)
            if place is None:
                place = places[district] = short_regency_name(regency_names.get(district[:5], district[:5]))
            person.birthplace = place

    def issue_kk(self, family: Family, district: str, issued: int) -> None:
        """KK number: issuing district, DDMMYY of issuance, a serial per district and day."""
        day = date.fromordinal(issued)
        prefix = f"{district.replace('.', '')}{day.day:02d}{day.month:02d}{day.year % 100:02d}"
        serial = self.kk_serials.get(prefix, 0) + 1
        self.kk_serials[prefix] = serial
        family.kk = prefix + f"{serial:04d}"
        family.issued = issued

    # --- families -----------------------------------------------------------------------------------------------

    def build(self) -> Population:
        step = 5000
        next_report = step
        while self.count < self.target:
            remaining = self.target - self.count
            household = self._household(remaining)
            self.population.households.append(household)
            self.count += sum(len(family.members) for family in household.families)
            if self.progress is not None and self.count >= next_report and self.count < self.target:
                self.progress(self.count, self.target)
                next_report = (self.count // step + 1) * step
        return self.population

    def _household(self, remaining: int) -> Household:
        rng = self.rng
        household = Household(self.places.village())
        household.order = len(self.population.households)
        self.places.address(household)
        if remaining >= 7 and rng.random() < P_TWO_FAMILY:
            parents, child_family = self._two_families(household, remaining)
            families = [parents, child_family]
        else:
            families = [self._family(household, remaining)]
        household.families = families
        for family in families:
            family.household = household
            self.population.families.append(family)
        return household

    def finish(self) -> Population:
        """Order as the extract is ordered (village, RT) and hand out the stable ids."""
        population = self.population
        population.households.sort(key=lambda h: (h.village.code, h.rt, h.order))
        persons: list[Person] = []
        families: list[Family] = []
        for h_index, household in enumerate(population.households, start=1):
            household.hid = f"RUTA-{h_index:07d}"
            household.order = h_index
            for family in household.families:
                families.append(family)
                family.fid = f"KEL-{len(families):07d}"
                for person in family.members:
                    persons.append(person)
                    person.pid = f"P{len(persons):07d}"
                    person.family = family
        population.families = families
        population.persons = persons
        self.issue_niks(persons)
        return population

    def _family(self, household: Household, room: int) -> Family:
        rng = self.rng
        group = names.pick_group(rng)
        family = Family(group.key, rng.random() < group.christian)
        r = rng.random()
        if room == 1 or r < P_SINGLE:
            self._single(family, group)
        elif r < P_SINGLE + P_FEMALE_HEAD:
            self._female_headed(family, group, room)
        else:
            self._couple(family, group, room, self._head_age())
        self._settle(family, household, group)
        return family

    def _single(self, family: Family, group: names.Group) -> None:
        rng = self.rng
        if rng.random() < 0.8:  # elderly, mostly widows
            male = rng.random() < 0.3
            born = self._born(60 + rng.random() * 30)
            marital = "Cerai Mati" if rng.random() < 0.85 else "Cerai Hidup"
        else:  # young worker living alone
            male = rng.random() < 0.7
            born = self._born(20 + rng.random() * 20)
            marital = "Belum Kawin" if rng.random() < 0.8 else "Cerai Hidup"
        clan = self._clan(group)
        person = Person(
            self._name(group, male, born, family.christian, clan),
            male,
            born,
            "Kepala Keluarga",
            self._mother_name(group, born, family.christian),
            marital,
        )
        family.members.append(person)

    def _female_headed(self, family: Family, group: names.Group, room: int) -> None:
        rng = self.rng
        born = self._born(self._head_age() + 2)
        christian = family.christian
        head = Person(
            self._name(group, False, born, christian, self._clan(group)),
            False,
            born,
            "Kepala Keluarga",
            self._mother_name(group, born, christian),
            "Cerai Mati" if rng.random() < 0.7 else "Cerai Hidup",
        )
        family.members.append(head)
        births = self._births(born)
        clan = self._clan(group)  # the absent father's
        sexes = [rng.random() < 0.51 for _ in births]
        home = [(b, male) for b, male in zip(births, sexes, strict=True) if self._at_home(b, male)]
        if not home and births:
            home = [(births[-1], sexes[-1])]
        for child_born, male in home[: room - 1]:
            self._child(family, group, child_born, male, head.name, clan)

    def _child(self, family: Family, group: names.Group, born: int, male: bool, mother: str, clan: str) -> Person:
        child = Person(self._name(group, male, born, family.christian, clan), male, born, "Anak", mother, "Belum Kawin")
        family.members.append(child)
        return child

    def _couple(self, family: Family, group: names.Group, room: int, husband_age: float) -> tuple[Person, Person]:
        rng = self.rng
        christian = family.christian
        husband_born = self._born(husband_age)
        wife_age = husband_age - (4.0 + 3.5 * NORMAL[int(rng.random() * NORMAL_STEPS)])
        wife_age = max(17.5, min(husband_age + 6, wife_age))
        wife_born = self._born(wife_age)
        wife_group = group if rng.random() < 0.85 else names.pick_group(rng)
        clan = self._clan(group)
        marital = _marital_couple(rng)
        husband = Person(
            self._name(group, True, husband_born, christian, clan),
            True,
            husband_born,
            "Kepala Keluarga",
            self._mother_name(group, husband_born, christian),
            marital,
        )
        wife = Person(
            self._name(wife_group, False, wife_born, christian, self._clan(wife_group)),
            False,
            wife_born,
            "Istri",
            self._mother_name(wife_group, wife_born, christian),
            marital,
        )
        if rng.random() < 0.015:  # a wife heading the KK, her husband listed as Suami
            wife.relation, husband.relation = "Kepala Keluarga", "Suami"
            family.members.extend((wife, husband))
        else:
            family.members.extend((husband, wife))
        births = self._births(wife_born)
        space = room - 2
        left_home: list[int] = []
        for child_born in births:
            male = rng.random() < 0.51
            if space > 0 and self._at_home(child_born, male):
                self._child(family, group, child_born, male, wife.name, clan)
                space -= 1
            else:
                left_home.append(child_born)
        if space > 0 and 33 < husband_age < 63 and rng.random() < 0.07:
            space -= self._elderly_parent(family, husband, wife, group, wife_group)
        if space >= 3 and husband_age > 48 and rng.random() < 0.12:
            space -= self._married_child_inside(family, group, wife, left_home, clan, space)
        if space > 0 and rng.random() < 0.05:
            age = 6 + rng.random() * 24
            born = self._born(age)
            male = rng.random() < 0.5
            relative = Person(
                self._name(group, male, born, christian, self._clan(group)),
                male,
                born,
                "Famili Lain",
                self._mother_name(group, born, christian),
                "Belum Kawin",
            )
            family.members.append(relative)
        return husband, wife

    def _elderly_parent(
        self, family: Family, husband: Person, wife: Person, group: names.Group, wife_group: names.Group
    ) -> int:
        rng = self.rng
        own = rng.random() < 0.55
        child = husband if own else wife
        parent_group = group if own else wife_group
        age_gap = 20 + rng.random() * 15
        born = child.born - int(age_gap * YEAR)
        if self.today - born > 95 * YEAR:
            return 0
        male = rng.random() < 0.25
        if male:
            clan = child.name.split()[-1] if parent_group.clan_names else ""
            name = self._name(parent_group, True, born, family.christian, clan)
        else:
            name = child.mother
        parent = Person(
            name,
            male,
            born,
            "Orang Tua" if own else "Mertua",
            self._mother_name(parent_group, born, family.christian),
            "Cerai Mati",
        )
        family.members.append(parent)
        return 1

    def _married_child_inside(
        self, family: Family, group: names.Group, wife: Person, left_home: list[int], clan: str, space: int
    ) -> int:
        """A married child (one not already listed) with spouse (Menantu) and grandchildren (Cucu) on the KK."""
        rng = self.rng
        adult = [b for b in left_home if (self.today - b) / YEAR >= 21]
        if not adult:
            return 0
        born = adult[0]
        child_male = rng.random() < 0.5
        christian = family.christian
        child = Person(
            self._name(group, child_male, born, christian, clan), child_male, born, "Anak", wife.name, "Kawin Tercatat"
        )
        spouse_born = born + int(rng.gauss(3.0 if not child_male else -3.0, 2.5) * YEAR)
        spouse_group = group if rng.random() < 0.8 else names.pick_group(rng)
        spouse_clan = self._clan(spouse_group)
        spouse = Person(
            self._name(spouse_group, not child_male, spouse_born, christian, spouse_clan),
            not child_male,
            spouse_born,
            "Menantu",
            self._mother_name(spouse_group, spouse_born, christian),
            "Kawin Tercatat",
        )
        family.members.extend((child, spouse))
        mother = spouse if child_male else child
        grand_clan = clan if child_male else spouse_clan
        added = 2
        for grand_born in self._births(mother.born)[: min(2, space - 2)]:
            male = rng.random() < 0.51
            family.members.append(
                Person(
                    self._name(group, male, grand_born, christian, grand_clan),
                    male,
                    grand_born,
                    "Cucu",
                    mother.name,
                    "Belum Kawin",
                )
            )
            added += 1
        return added

    def _two_families(self, household: Household, room: int) -> tuple[Family, Family]:
        """Parents and a married child's family under one roof: one rumah tangga, two KKs."""
        rng = self.rng
        group = names.pick_group(rng)
        parents = Family(group.key, rng.random() < group.christian)
        husband, wife = self._couple(parents, group, room - 4, 50 + rng.random() * 22)
        clan = husband.name.split()[-1] if group.clan_names else ""
        self._settle(parents, household, group)
        mother = wife
        child_born = min(mother.born + int((19 + rng.random() * 14) * YEAR), self.today - int(20 * YEAR))
        child_family = Family(group.key, parents.christian)
        son = rng.random() < 0.6
        christian = parents.christian
        if son:
            child = Person(
                self._name(group, True, child_born, christian, clan),
                True,
                child_born,
                "Kepala Keluarga",
                mother.name,
                _marital_couple(rng),
            )
            spouse_group = group if rng.random() < 0.8 else names.pick_group(rng)
            spouse_born = child_born + int(rng.gauss(3.0, 2.5) * YEAR)
            spouse = Person(
                self._name(spouse_group, False, spouse_born, christian, self._clan(spouse_group)),
                False,
                spouse_born,
                "Istri",
                self._mother_name(spouse_group, spouse_born, christian),
                child.marital,
            )
            child_family.members.extend((child, spouse))
            young_mother, kid_clan = spouse, clan
        else:
            spouse_group = group if rng.random() < 0.8 else names.pick_group(rng)
            spouse_born = child_born - int(rng.gauss(3.5, 3.0) * YEAR)
            spouse_clan = self._clan(spouse_group)
            spouse = Person(
                self._name(spouse_group, True, spouse_born, christian, spouse_clan),
                True,
                spouse_born,
                "Kepala Keluarga",
                self._mother_name(spouse_group, spouse_born, christian),
                _marital_couple(rng),
            )
            child = Person(
                self._name(group, False, child_born, christian, self._clan(group)),
                False,
                child_born,
                "Istri",
                mother.name,
                spouse.marital,
            )
            child_family.members.extend((spouse, child))
            young_mother, kid_clan = child, spouse_clan
        space = room - len(parents.members) - 2
        for kid_born in self._births(young_mother.born)[: max(0, min(4, space))]:
            self._child(child_family, group, kid_born, rng.random() < 0.51, young_mother.name, kid_clan)
        self.population.married_children.append((child, parents))
        self._settle(child_family, household, group, sibling_of=parents)
        return parents, child_family

    def _settle(
        self, family: Family, household: Household, group: names.Group, sibling_of: Family | None = None
    ) -> None:
        """Districts of first registration (for the NIKs), then the KK issued by the family's current district."""
        u = self.rng.random
        today = self.today
        home = household.village.district
        head = family.members[0]
        migrant = sibling_of is None and u() < P_MIGRANT_HEAD
        arrived = 0
        origin = spouse_origin = ""
        if migrant:
            origin = self.places.origin_district(group.key)
            spouse_origin = origin if u() < 0.6 else self.places.origin_district(group.key)
            if u() < P_RECENT_ARRIVAL:
                arrived = today - 1 - int(u() * 730)
            else:
                arrived = min(today - 800, head.born + int((18 + u() * 22) * YEAR))
            arrived = max(arrived, head.born + int(16 * YEAR))
        latest = 0
        for person in family.members:
            relation = person.relation
            if person.born > latest:
                latest = person.born
            if not migrant:
                if u() < _BORN_ELSEWHERE.get(relation, 0.0):
                    district = self.places.origin_district(group.key)
                else:
                    district = home if u() < 0.8 else self.places.home_district()
            elif relation in _MIGRANT_OWN_ORIGIN:
                district = origin
            elif relation in _MIGRANT_SPOUSE_ORIGIN:
                district = spouse_origin if u() < 0.8 else self.places.home_district()
            else:  # children: born before the family came, or after in the region
                district = spouse_origin if person.born < arrived else home
            person.nik_district = district
        if arrived > today - 730:
            family.arrived = arrived
            issued = arrived + 3 + int(u() * 60)
        else:
            marriage = head.born + int((22 + u() * 6) * YEAR)
            issued = max(latest, marriage) + 7 + int(u() * 150)
        issued = max(_ORDINAL_2005 + int(u() * 900), min(issued, today - 2))
        self.issue_kk(family, home, issued)
        family.data_date = today - 20 - int(u() * 520)
