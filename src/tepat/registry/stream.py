"""Families and their members into the registry, a part at a time: the family lists' side of ``RegistryWriter``.

An import hands over what it has parsed so far (``write``): families seen for the first time, and members added to
families handed over before. The registry rows are built at once and sent to the bulk writer thread, so a
one-pass import (``intake.services.import_file``) writes while it goes on reading the file, and the members
parsed are dropped once written: a million-row list never holds a million parsed persons.

The outcome is the same as handing over the whole file at once (``RegistryWriter.commit``):
- "already in the registry" means there before this batch: every look-up stops at the ids the batch started from,
  so two families of one file with one KK stay two families, as they do when the whole file is matched at once;
- a person is matched once (by NIK across the file, by name and birth date inside a family that was in the
  registry) and the first object found is the one kept, so changes to it accumulate on one object;
- the few existing rows that change are updated through the ORM when the batch closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson
from django.db import connection
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from tepat.registry import bulk
from tepat.registry.bulk import BulkTable
from tepat.registry.models import (
    HOUSING_FIELDS,
    WHOLE_ROW,
    Address,
    Exclusion,
    Family,
    FlagKind,
    Household,
    Membership,
    Person,
)

if TYPE_CHECKING:
    from tepat.registry.writer import FamilyIn, NikIn, RegistryWriter

PERSON_FIELDS = (
    "name", "sex", "birth_place", "birth_date", "mother_name", "marital_status", "education", "occupation",
    "disability", "moved_date",
)  # fmt: skip
FAMILY_FIELDS = ("desil_national", "desil_province", "desil_regency", "welfare_date")

# A member of a family as the family lists hand it over (``FamilyIn.members``): a plain tuple, the cheapest thing to
# build a million of, to send from the reading process to the writing one and to turn into a person row. By position:
# the NIK (as ``NikIn``: nik, raw, valid, problems), the relationship to the head, the person's values in the order
# of MEMBER_VALUES (the person table's column order), the index of its source record and its position in the family.
# Empty values are what the columns hold for nothing ('' for text, None otherwise); the birth date is ISO text.
Member = tuple[Any, ...]
MEMBER_VALUES = ("name", "sex", "birth_place", "birth_date", "mother_name", "marital_status", "education",
                 "occupation", "disability")  # fmt: skip
NIK, NIK_RAW, NIK_VALID, NIK_PROBLEMS, RELATIONSHIP = range(5)
VALUES = 5  # MEMBER_VALUES from here
NAME = VALUES
RECORD = VALUES + len(MEMBER_VALUES)  # index into the batch's source records
POSITION = RECORD + 1


def member_head(nik: NikIn, relationship: str, values: tuple[Any, ...]) -> Member:
    """A member without its record and position (``head + (record, position)`` completes it)."""
    return (nik.nik, nik.raw, nik.valid, tuple(nik.problems), relationship, *values)


def member_values(member: Member) -> dict[str, Any]:
    """The member's values by name, the birth date as a date: to compare with what the registry holds."""
    values = dict(zip(MEMBER_VALUES, member[VALUES:RECORD], strict=True))
    born = values["birth_date"]
    if type(born) is str:
        values["birth_date"] = date.fromisoformat(born)
    return values


CHUNK = 2000
# From this many rows (the file's estimate) a batch into empty tables builds their indexes at the end.
DEFER_INDEXES_ROWS = 50_000


def chunks(items: list[Any], size: int = CHUNK) -> list[list[Any]]:
    """``items`` in lists of ``size``: IN lists and bulk updates stay well under the databases' limits."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def name_key(name: str, born: date | None) -> tuple[str, date | None]:
    return (" ".join(name.upper().split()), born)


def matching_ids(table: str, column: str, values: list[str], condition: str = "") -> list[int]:
    """Ids of the rows whose ``column`` is one of ``values``: plain SQL, because the ORM spends microseconds per
    value preparing an IN list, and a million-row import asks about every NIK of the file (almost none match)."""
    from django.db import connection

    ids: list[int] = []
    with connection.cursor() as cursor:
        for part in chunks(values):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f'SELECT "id" FROM "{table}" WHERE "{column}" IN ({marks}) {condition}', part)
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


def given(rows: list[dict[str, Any]]) -> set[str]:
    """The value names filled in at least one row: the others are the column's default in every new row, written
    once into the insert statement instead of once per row (see bulk.BulkTable.shape)."""
    names: set[str] = set()
    for values in rows:
        if values.keys() <= names:  # once every name is found, a row costs one look
            continue
        for name, value in values.items():
            if name not in names and value is not None and value != "":
                names.add(name)
    return names


_WRITTEN: dict[str, Any] = {}  # the values of a family already written (never changed)


def whole_row(src: int) -> str:
    """The lineage of a row created from one source record: every value came from it (see registry.models)."""
    return f'{{"{WHOLE_ROW}":{src}}}'


def _json_list(items: list[str]) -> str:
    return orjson.dumps(items).decode()


@dataclass(slots=True)
class _NewPerson:
    """A person created by this batch: enough to match later rows of the same file against it."""

    id: int
    name: str
    nik: str | None
    family: int  # the family of its first membership


class _Known:
    """A person or membership that was in the registry before this batch, as read for matching: the values the
    import compares, and its lineage only once one of them changes (most of a re-imported list is unchanged, and
    model instances with their lineage decoded were two thirds of a re-import's time)."""

    __slots__ = ("pk", "nik", "relationship", "_model", "_lineage", *PERSON_FIELDS)
    pk: int
    nik: str | None
    name: str
    birth_date: date | None
    _lineage: dict[str, Any] | None

    def __init__(self, model: type[Any], pk: int, values: dict[str, Any]) -> None:
        self._model, self.pk, self._lineage = model, pk, None
        for name, value in values.items():
            setattr(self, name, value)

    @property
    def lineage(self) -> dict[str, Any]:
        if self._lineage is None:
            bulk.sync()
            stored = self._model.objects.filter(pk=self.pk).values_list("lineage", flat=True).get()
            self._lineage = dict(stored or {})
        return self._lineage

    def instance(self, fields: tuple[str, ...], now: datetime) -> Any:
        """The model instance bulk_update writes back: ``fields``, the lineage and the time of the change."""
        values = {name: getattr(self, name) for name in fields}
        return self._model(pk=self.pk, lineage=self.lineage, updated_at=now, **values)


class FamilyStream:
    """One batch's families and members, written a part at a time; ``close`` finishes the batch's writes."""

    def __init__(self, owner: RegistryWriter) -> None:
        self.owner = owner
        self.tables: dict[type[Any], BulkTable] = {
            model: BulkTable(model) for model in (Family, Household, Address, Person, Membership)
        }
        # Rows this batch writes are never "already in the registry": every look-up stops at these ids, and a table
        # that held nothing before (a regency's first extract) is not asked at all.
        self.bound = {model: table.reserve(0) for model, table in self.tables.items()}
        self.held = {model: model.objects.filter(pk__lt=self.bound[model]).exists() for model in self.tables}
        # A large batch into empty tables (a regency's first extract) builds their indexes once at the end.
        fresh = [model._meta.db_table for model in self.tables if not self.held[model]]
        self.deferred = bulk.DeferredIndexes(fresh if owner.expected_rows >= DEFER_INDEXES_ROWS else [])
        self.deferred.drop()
        if connection.vendor == "postgresql":
            # Foreign keys checked as each COPY ends, by the server, while this process parses the next part (with
            # the bulk writer thread), instead of all at the commit with nothing else going on; back at close.
            bulk.run(lambda cursor: cursor.execute("SET CONSTRAINTS ALL IMMEDIATE"))
        self.family_ids: dict[int, int] = {}  # FamilyIn.record (its first row: one per family) -> family id
        self.existing_family_ids: set[int] = set()
        self.households: dict[str, tuple[int, int | None]] = {}  # household key -> (household id, address id)
        self.changed_families: dict[int, Family] = {}
        self.changed_households: dict[int, Household] = {}
        self.existing_households: dict[str, Household] = {}
        self.by_nik: dict[str, _Known | _NewPerson] = {}
        self.known: dict[int, _Known] = {}  # persons read for matching, by id
        self.by_name: dict[tuple[int, tuple[str, date | None]], _Known] = {}
        self.linked: dict[tuple[int, int], _Known] = {}
        self.active_in: dict[int, int] = {}
        self.looked_up: set[int] = set()  # existing families whose members were read
        self.matched_links: set[tuple[int, int]] = set()  # memberships written for persons found, not created
        self.changed_persons: dict[int, _Known] = {}
        self.changed_memberships: dict[int, _Known] = {}
        self.next_person = self.bound[Person]
        self.next_membership = self.bound[Membership]
        self.persons_new = self.memberships_new = 0

    def _before(self, model: type[Any]) -> str:
        return f'AND "id" < {int(self.bound[model])}'

    # -- families and households -----------------------------------------------------------------------------------
    def write(self, families: list[FamilyIn]) -> None:
        """Families with members not written yet: new ones, and families handed over before with more members."""
        new = [f for f in families if f.record not in self.family_ids]
        if new:
            self._families(new, self._existing_families(new) if self.held[Family] else {})
        self._members(families)

    def _existing_families(self, families: list[FamilyIn]) -> dict[str, Family]:
        bulk.sync()
        kks = sorted({f.kk.nik for f in families if f.kk.valid and f.kk.nik})
        keys = sorted({f.source_key for f in families if f.source_key})
        table, before = Family._meta.db_table, self._before(Family)
        found: dict[str, Family] = {}
        for part in chunks(matching_ids(table, "kk", kks, f"AND status = 'active' {before}")):
            for fam in Family.objects.filter(pk__in=part):
                found[fam.kk or ""] = self.changed_families.get(fam.pk, fam)
        for part in chunks(matching_ids(table, "source_key", keys, f"AND status = 'active' {before}")):
            for fam in Family.objects.filter(pk__in=part):
                found["key:" + fam.source_key] = self.changed_families.get(fam.pk, fam)
        return found

    def _families(self, families: list[FamilyIn], existing: dict[str, Family]) -> None:
        owner = self.owner
        households = self._households(families)
        family_table = self.tables[Family]
        value_names = family_table.order(given([f.values for f in families]))
        shape = family_table.shape(
            family_table.order({"id", "lineage", "kk", "kk_raw", "kk_valid", "kk_problems", "source_key",
                                "household_id", "address_id", "village_id", *value_names}),
            {"created_batch_id": owner.batch.pk},
        )  # fmt: skip
        positions = [shape.variable.index(name) for name in value_names]
        defaults = [family_table.defaults[name] for name in value_names]
        adapt = family_table.adapt
        new_rows: list[tuple[Any, ...]] = []
        base: list[Any] = [None] * len(shape.variable)
        at = {name: shape.variable.index(name) for name in shape.variable}
        for fam_in in families:
            fam = existing.get(fam_in.kk.nik or "") if fam_in.kk.valid else None
            fam = fam or (existing.get("key:" + fam_in.source_key) if fam_in.source_key else None)
            if fam is not None:
                if fam.pk not in self.existing_family_ids:
                    if owner._apply(fam, "family", fam_in.values, fam_in.record):
                        self.changed_families[fam.pk] = fam
                    else:
                        owner.counts.families_unchanged += 1
                self.existing_family_ids.add(fam.pk)
                self.family_ids[fam_in.record] = fam.pk
                continue
            src = owner.record_ids[fam_in.record]
            household_id, address_id = households[household_key(fam_in)]
            family_id = family_table.reserve(1)
            row = list(base)
            row[at["id"]], row[at["kk"]], row[at["kk_raw"]] = family_id, fam_in.kk.nik, fam_in.kk.raw
            row[at["kk_valid"]], row[at["kk_problems"]] = int(fam_in.kk.valid), _json_list(fam_in.kk.problems)
            row[at["source_key"]], row[at["household_id"]] = fam_in.source_key, household_id
            row[at["address_id"]], row[at["village_id"]] = address_id, fam_in.village
            values = fam_in.values
            for name, position, default in zip(value_names, positions, defaults, strict=True):
                value = values.get(name)
                row[position] = default if value is None or value == "" else adapt(name, value)
            row[at["lineage"]] = whole_row(src)
            new_rows.append(tuple(row))
            self.family_ids[fam_in.record] = family_id
            if not fam_in.kk.valid:
                owner._flag(FlagKind.KK_INVALID, family=family_id, record=fam_in.record, kk=fam_in.kk.raw,
                            reasons=fam_in.kk.problems)  # fmt: skip
        family_table.insert_tuples(shape, new_rows)
        owner.counts.families_new += len(new_rows)
        for fam_in in families:  # written: the family's later members need only its id (a third of the memory)
            fam_in.values = fam_in.housing = _WRITTEN

    def _households(self, families: list[FamilyIn]) -> dict[str, tuple[int, int | None]]:
        """household key -> (household id, address id), creating what is new and recording changes."""
        owner, found = self.owner, self.households
        existing = self.existing_households
        if self.held[Household]:
            keys = sorted({household_key(f) for f in families} - found.keys())
            bulk.sync()
            for part in chunks(matching_ids(Household._meta.db_table, "source_key", keys, self._before(Household))):
                for hh in Household.objects.filter(pk__in=part):
                    existing[hh.source_key] = hh
                    found[hh.source_key] = (hh.pk, hh.address_id)
        households, addresses = self.tables[Household], self.tables[Address]
        housing_names = households.order(given([f.housing for f in families]))
        household_shape = households.shape(
            households.order({"id", "lineage", "source_key", "address_id", *housing_names}),
            {"created_batch_id": owner.batch.pk},
        )
        address_shape = addresses.shape(("id", "village_id", "rt", "rw", "street"))
        housing_defaults = [households.defaults[name] for name in housing_names]
        adapt = households.adapt
        new_households: list[tuple[Any, ...]] = []
        new_addresses: list[tuple[Any, ...]] = []
        for fam_in in families:
            key = household_key(fam_in)
            if key in existing:
                hh = existing[key]
                if owner._apply(hh, "household", fam_in.housing, fam_in.record):
                    self.changed_households[hh.pk] = hh
                continue
            if key in found:
                continue
            src = owner.record_ids[fam_in.record]
            address_id = addresses.reserve(1)
            new_addresses.append((address_id, fam_in.village, fam_in.rt, fam_in.rw, fam_in.street))
            housing = fam_in.housing
            household_id = households.reserve(1)
            row: list[Any] = [household_id, whole_row(src), key, address_id]
            for name, default in zip(housing_names, housing_defaults, strict=True):
                value = housing.get(name)
                row.append(default if value is None or value == "" else adapt(name, value))
            new_households.append(tuple(row))
            found[key] = (household_id, address_id)
        addresses.insert_tuples(address_shape, new_addresses)
        households.insert_tuples(household_shape, new_households)
        return found

    # -- persons and memberships -----------------------------------------------------------------------------------
    def _look_up(self, families: list[FamilyIn], new_families: list[int]) -> None:
        """What the registry held before this batch about these members: persons by NIK, the members of families
        that already existed (to match persons without a valid NIK and to see known links), active families."""
        if not self.held[Person]:
            return  # no person before this batch: no family either, and nothing to match
        by_nik = self.by_nik
        niks = sorted({m[NIK] for f in families for m in f.members if m[NIK_VALID] and m[NIK]} - by_nik.keys())
        if not niks and not new_families:
            return
        bulk.sync()
        before = self._before(Person)
        # Highest id first, so that of two persons with one NIK the first created is the one kept.
        ids = sorted(matching_ids(Person._meta.db_table, "nik", niks, f"AND nik_valid {before}"), reverse=True)
        found: dict[str, _Known] = {}
        for person_part in chunks(ids):
            rows = Person.objects.filter(pk__in=person_part).order_by("-pk").values_list("pk", "nik", *PERSON_FIELDS)
            for row in rows:
                known = self._person(row)
                found[known.nik or ""] = known
        by_nik.update(found)
        person_columns = [f"person__{name}" for name in ("nik", *PERSON_FIELDS)]
        for family_part in chunks(new_families):
            memberships = Membership.objects.filter(family_id__in=family_part, pk__lt=self.bound[Membership])
            for pk, family_id, person_id, relationship, *person in memberships.values_list(
                "pk", "family_id", "person_id", "relationship", *person_columns
            ):
                self.linked[(family_id, person_id)] = _Known(Membership, pk, {"relationship": relationship})
                known = self._person((person_id, *person))
                self.by_name[(family_id, name_key(known.name, known.birth_date))] = known
        for person_part in chunks(sorted(p.pk for p in found.values())):
            active = Membership.objects.filter(person_id__in=person_part, active=True, pk__lt=self.bound[Membership])
            for person_id, family_id in active.values_list("person_id", "family_id"):
                self.active_in.setdefault(person_id, family_id)

    def _person(self, row: tuple[Any, ...]) -> _Known:
        """(id, nik, *PERSON_FIELDS) as one object per person, however often it is read."""
        known = self.known.get(row[0])
        if known is None:
            known = self.known[row[0]] = _Known(
                Person, row[0], dict(zip(("nik", *PERSON_FIELDS), row[1:], strict=True))
            )
        return known

    def _members(self, families: list[FamilyIn]) -> None:
        owner = self.owner
        family_ids, existing_families = self.family_ids, self.existing_family_ids
        newly_known = sorted(
            {family_ids[f.record] for f in families if family_ids[f.record] in existing_families} - self.looked_up
        )
        self.looked_up.update(newly_known)
        self._look_up(families, newly_known)
        persons, memberships = self.tables[Person], self.tables[Membership]
        # In the file's order, whatever the parts: of two rows putting one person in two families, the first row's
        # family is the active one, as when the whole file is written at once.
        members = [(m[RECORD], family_ids[fam_in.record], m) for fam_in in families for m in fam_in.members]
        members.sort(key=itemgetter(0))
        for fam_in in families:
            fam_in.members = []
        # The values filled in at least one member are the row's columns; the others are the column's default in
        # every new row, written once into the statement (see bulk.BulkTable.shape).
        filled = [
            name for position, name in enumerate(MEMBER_VALUES, VALUES)
            if any(v is not None and v != "" for v in map(itemgetter(position), map(itemgetter(2), members)))
        ]  # fmt: skip
        value_names = persons.order(filled)
        positions = [VALUES + MEMBER_VALUES.index(name) for name in value_names]
        pick = itemgetter(*positions) if len(positions) > 1 else (lambda m: (m[positions[0]],) if positions else ())
        boolean = value_names.index("disability") if "disability" in value_names else None
        person_shape = persons.shape(
            persons.order({"id", "lineage", "nik", "nik_raw", "nik_valid", "nik_problems", *value_names}),
            {"created_batch_id": owner.batch.pk},
        )
        # The tuple follows the table's column order: the NIK columns come before every person value column.
        if person_shape.variable[:6] != ("id", "lineage", "nik", "nik_raw", "nik_valid", "nik_problems"):
            raise RuntimeError(f"unexpected person columns {person_shape.variable}")
        membership_shape = memberships.shape(
            ("id", "lineage", "family_id", "person_id", "relationship", "position", "active", "conflict"),
            {"created_batch_id": owner.batch.pk},
        )
        new_persons: list[tuple[Any, ...]] = []
        new_memberships: list[tuple[Any, ...]] = []
        examples = owner.examples["new_persons"]
        no_problems = _json_list([])
        record_ids = owner.record_ids
        by_nik, by_name, linked, active_in = self.by_nik, self.by_name, self.linked, self.active_in
        matched_links, changed_persons = self.matched_links, self.changed_persons
        next_person, next_membership = self.next_person, self.next_membership
        for _, family_id, member in members:
            # Only families that were in the registry before have members to match by name or links to keep.
            known_family = family_id in existing_families
            src = record_ids[member[RECORD]]
            lineage = whole_row(src)  # for both the person and the membership
            nik, nik_raw, nik_valid, problems = member[NIK], member[NIK_RAW], member[NIK_VALID], member[NIK_PROBLEMS]
            name = member[NAME]
            person: _Known | _NewPerson | None = by_nik.get(nik or "") if nik_valid else None
            if person is None and known_family:
                person = by_name.get((family_id, name_key(name, member_values(member)["birth_date"])))
            if person is None:
                person_id, next_person = next_person, next_person + 1
                values = pick(member)
                if boolean is not None and type(values[boolean]) is bool:  # bound as int: see bulk.plain
                    values = (*values[:boolean], int(values[boolean]), *values[boolean + 1 :])
                new_persons.append(
                    (person_id, lineage, nik, nik_raw, 1 if nik_valid else 0,
                     _json_list(problems) if problems else no_problems, *values)
                )  # fmt: skip
                if len(examples) < owner.max_examples:
                    examples.append({"name": name, "nik": nik or nik_raw, "family": family_id})
                if nik_valid and nik:
                    by_nik[nik] = _NewPerson(person_id, name, nik, family_id)
            else:
                if isinstance(person, _Known):
                    if owner._apply(person, "person", member_values(member), member[RECORD]):
                        changed_persons[person.pk] = person
                    elif person.pk not in changed_persons:
                        owner.counts.persons_unchanged += 1
                elif name and name_key(person.name, None) != name_key(name, None):
                    # The same NIK twice in one file under different names: keep the first, flag the second.
                    owner._flag(FlagKind.NIK_NAME_CONFLICT, record=member[RECORD], person=person.id,
                                family=family_id, nik=nik, names=[person.name, name])  # fmt: skip
                person_id = person.pk if isinstance(person, _Known) else person.id
                # Once per family: a person listed twice in one family keeps one membership.
                if (family_id, person_id) in matched_links or (
                    isinstance(person, _NewPerson) and person.family == family_id
                ):
                    continue
                matched_links.add((family_id, person_id))
                if known_family:
                    current = linked.get((family_id, person_id))
                    if current is not None:
                        if owner._apply(current, "membership", {"relationship": member[RELATIONSHIP]},
                                        member[RECORD]):  # fmt: skip
                            self.changed_memberships[current.pk] = current
                        continue
            if not nik_valid:
                owner._flag(FlagKind.NIK_INVALID, person=person_id, family=family_id, record=member[RECORD],
                            nik=nik_raw, reasons=list(problems))  # fmt: skip
            if not name:
                owner._flag(FlagKind.NAME_EMPTY, person=person_id, family=family_id, record=member[RECORD])
            other = active_in.get(person_id)
            conflict = other is not None and other != family_id
            if conflict:
                owner.counts.conflicts += 1
                owner._flag(FlagKind.NIK_TWO_FAMILIES, person=person_id, family=family_id, record=member[RECORD],
                            nik=nik, active_family=other)  # fmt: skip
            elif other is None:
                active_in[person_id] = family_id
            new_memberships.append(
                (next_membership, lineage, family_id, person_id,
                 member[RELATIONSHIP], member[POSITION], 0 if conflict else 1, 1 if conflict else 0)
            )  # fmt: skip
            next_membership += 1
        self.persons_new += persons.insert_tuples(person_shape, new_persons)
        self.memberships_new += memberships.insert_tuples(membership_shape, new_memberships)
        self.next_person, self.next_membership = next_person, next_membership
        owner.progress(len(new_persons))

    # -- the end -----------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Finish the batch's writes: ids and sequences, findings that waited for their person, changed rows."""
        owner = self.owner
        persons, memberships = self.tables[Person], self.tables[Membership]
        persons.reserve(self.next_person - persons.reserve(0))  # the ids handed out in _members
        memberships.reserve(self.next_membership - memberships.reserve(0))
        for table in self.tables.values():
            table.finish()
        if connection.vendor == "postgresql":
            bulk.run(lambda cursor: cursor.execute("SET CONSTRAINTS ALL DEFERRED"))
        if owner.dry_run:  # rolled back: the indexes come back with the rollback, and nothing is left to link
            bulk.sync()
        else:
            self.deferred.restore()
        if self.next_person > self.bound[Person] and not owner.dry_run:
            # Exclusion findings that arrived before the person did are linked now (asked from the findings' side:
            # a few unlinked findings, against a million new persons).
            first_person = Person.objects.filter(nik=OuterRef("nik"), nik_valid=True).order_by("pk").values("pk")[:1]
            arrived = Person.objects.filter(nik=OuterRef("nik"), nik_valid=True, pk__gte=self.bound[Person])
            Exclusion.objects.filter(Exists(arrived), person__isnull=True).update(person_id=Subquery(first_person))
        Household.objects.bulk_update(
            list(self.changed_households.values()), [*HOUSING_FIELDS, "lineage", "updated_at"], batch_size=CHUNK
        )
        Family.objects.bulk_update(
            list(self.changed_families.values()), [*FAMILY_FIELDS, "lineage", "updated_at"], batch_size=CHUNK
        )
        now = timezone.now()
        Person.objects.bulk_update(
            [known.instance(PERSON_FIELDS, now) for known in self.changed_persons.values()],
            [*PERSON_FIELDS, "lineage", "updated_at"],
            batch_size=CHUNK,
        )
        Membership.objects.bulk_update(
            [known.instance(("relationship",), now) for known in self.changed_memberships.values()],
            ["relationship", "lineage", "updated_at"],
            batch_size=CHUNK,
        )
        counts = owner.counts
        counts.families_changed = len(self.changed_families)
        counts.persons_new = self.persons_new
        counts.persons_changed = len(self.changed_persons)
        counts.memberships_new = self.memberships_new


def household_key(fam_in: FamilyIn) -> str:
    return fam_in.household_key or f"kk:{fam_in.source_key or fam_in.kk.nik or fam_in.kk.raw or fam_in.record}"
