"""Commit parsed families and members into the registry in bulk, with lineage, history and flags.

Every importer (DTSEN extracts, person lists, field submissions) ends here, so the rules live once:
- a family is the same family when its valid KK number (or the source's family id) matches;
- a person is the same person when the valid NIK matches; without a valid NIK, when name and birth date match
  inside the same family — never across families, where that would merge strangers;
- a changed value is written with a Change row (old, new, source row), never silently overwritten;
- a NIK already active in another KK is kept as an inactive, conflicting membership and flagged.

New rows are written through ``bulk.BulkTable`` (plain tuples, reserved ids, columns that are the same for the
whole batch written once per statement) on a second thread (``bulk.background_writes``) while this one goes on
matching; the few existing rows that change go through the ORM, after ``bulk.sync()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import orjson
from django.db import connection
from django.db.models import DateField, Model, OuterRef, Subquery

from tepat.intake.models import ImportBatch
from tepat.registry import bulk
from tepat.registry.bulk import BulkTable
from tepat.registry.models import (
    Address,
    Change,
    Exclusion,
    Family,
    FlagKind,
    Household,
    Membership,
    Person,
    RegistryFlag,
)

PERSON_FIELDS = (
    "name", "sex", "birth_place", "birth_date", "mother_name", "marital_status", "education", "occupation",
    "disability", "moved_date",
)  # fmt: skip
FAMILY_FIELDS = ("desil_national", "desil_province", "desil_regency", "welfare_date")
HOUSING_FIELDS = (
    "tenure", "floor_area_m2", "floor", "wall", "roof", "drinking_water", "sanitation", "electricity",
    "cooking_fuel", "owns_car", "motorcycles",
)  # fmt: skip
CHUNK = 2000
FLUSH = 10_000
T = TypeVar("T")


@dataclass(slots=True)
class NikIn:
    nik: str | None
    raw: str
    valid: bool
    problems: list[str]


@dataclass(slots=True)
class PersonIn:
    record: int  # index into the batch's source records
    nik: NikIn
    values: dict[str, Any]
    relationship: str = ""
    position: int = 0


@dataclass(slots=True)
class FamilyIn:
    record: int
    kk: NikIn
    source_key: str
    village: str
    rt: str = ""
    rw: str = ""
    street: str = ""
    household_key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    housing: dict[str, Any] = field(default_factory=dict)
    members: list[PersonIn] = field(default_factory=list)


@dataclass(slots=True)
class PersonUpdate:
    """New values for a person known by NIK (a death record, a field verification)."""

    record: int
    nik: str
    values: dict[str, Any]
    name: str = ""
    line: int = 0


@dataclass(slots=True)
class ExclusionIn:
    record: int
    nik: str
    kind: str
    note: str = ""
    issuer: str = ""


@dataclass(slots=True)
class BenefitIn:
    record: int
    program: str
    period: str
    amount: float | None
    nik: NikIn
    name: str
    village: str | None
    line: int = 0


@dataclass
class CommitCounts:
    families_new: int = 0
    families_changed: int = 0
    persons_new: int = 0
    persons_changed: int = 0
    persons_unchanged: int = 0
    families_unchanged: int = 0
    memberships_new: int = 0
    persons_not_found: int = 0
    exclusions_new: int = 0
    benefits_new: int = 0
    proposals_new: int = 0
    values_new: int = 0
    values_changed: int = 0
    values_unchanged: int = 0
    moved_within_region: int = 0
    programs_new: int = 0
    conflicts: int = 0
    flags: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _name_key(name: str, born: date | None) -> tuple[str, date | None]:
    return (" ".join(name.upper().split()), born)


def _matching_ids(model: type[Model], column: str, values: list[str], condition: str = "") -> list[int]:
    """Ids of the rows whose ``column`` is one of ``values``: plain SQL, because the ORM spends microseconds per
    value preparing an IN list, and a million-row import asks about every NIK of the file (almost none match)."""
    ids: list[int] = []
    with connection.cursor() as cursor:
        for part in chunks(values):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f'SELECT "id" FROM "{model._meta.db_table}" WHERE "{column}" IN ({marks}) {condition}', part)
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _given(rows: Iterable[dict[str, Any]]) -> set[str]:
    """The value names filled in at least one row: the others are the column's default in every new row, written
    once into the insert statement instead of once per row (see bulk.BulkTable.shape)."""
    given: set[str] = set()
    for values in rows:
        for name, value in values.items():
            if name not in given and value is not None and value != "":
                given.add(name)
    return given


def _json_list(items: list[str]) -> str:
    return orjson.dumps(items).decode()


def _filled(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(slots=True)
class _NewPerson:
    """A person created by this batch: enough to match later rows of the same file against it."""

    id: int
    name: str
    nik: str | None


class RegistryWriter:
    """One batch's commit. Call inside a transaction; the caller owns atomicity and progress."""

    def __init__(
        self,
        batch: ImportBatch,
        record_ids: list[int],
        progress: Callable[[int], None] | None = None,
        examples: int = 0,
    ):
        self.batch = batch
        self.max_examples = examples
        self.examples: dict[str, list[dict[str, Any]]] = {"new_persons": [], "changes": []}
        self.record_ids = record_ids
        self.progress = progress or (lambda n: None)
        self.counts = CommitCounts()
        self.changes: list[dict[str, Any]] = []
        self.flags: list[dict[str, Any]] = []
        self.existing_family_ids: set[int] = set()
        self.unmatched: list[int] = []  # lines whose person is not in the registry

    # -- helpers -------------------------------------------------------------------------------------------------
    def _apply(self, obj: Any, entity: str, values: dict[str, Any], record: int) -> bool:
        """Set changed values on an existing row, recording each change; True when anything changed."""
        changed = False
        src = self.record_ids[record]
        for name, new in values.items():
            old = getattr(obj, name)
            if new in (None, "") or old == new:
                continue
            setattr(obj, name, new)
            previous = obj.lineage.get(name)
            obj.lineage[name] = src
            self.changes.append(
                {"entity": entity, "entity_id": obj.pk, "field": name, "old": _json_value(old),
                 "new": _json_value(new), "source_record_id": src, "old_source_record_id": previous,
                 "batch_id": self.batch.pk}
            )  # fmt: skip
            if len(self.examples["changes"]) < self.max_examples:
                self.examples["changes"].append(
                    {"entity": entity, "id": obj.pk, "field": name, "old": _json_value(old), "new": _json_value(new)}
                )
            changed = True
        return changed

    def _flag(self, kind: FlagKind, *, record: int, person: int | None = None, family: int | None = None,
              **detail: Any) -> None:  # fmt: skip
        self.flags.append(
            {"kind": kind.value, "person_id": person, "family_id": family, "detail": detail,
             "source_record_id": self.record_ids[record], "batch_id": self.batch.pk}
        )  # fmt: skip

    # -- the commit ----------------------------------------------------------------------------------------------
    def commit(self, families: list[FamilyIn]) -> CommitCounts:
        with bulk.background_writes():
            existing_families = self._existing_families(families)
            family_ids = self._families(families, existing_families)
            self._members(families, family_ids)
            BulkTable(Change, assign_ids=False).insert(self.changes)
            BulkTable(RegistryFlag, assign_ids=False).insert(self.flags)
        self.counts.flags = len(self.flags)
        return self.counts

    def update_persons(self, updates: list[PersonUpdate]) -> CommitCounts:
        """Apply values to persons matched by valid NIK; unmatched NIKs are counted (and kept as source rows)."""
        niks = sorted({u.nik for u in updates})
        persons: dict[str, Person] = {}
        for part in chunks(niks):
            for known in Person.objects.filter(nik__in=part, nik_valid=True).order_by("pk"):
                persons.setdefault(known.nik or "", known)
        changed: dict[int, Person] = {}
        for update in updates:
            found = persons.get(update.nik)
            if found is None:
                self.counts.persons_not_found += 1
                self.unmatched.append(update.line)
                continue
            if self._apply(found, "person", update.values, update.record):
                changed[found.pk] = found
            else:
                self.counts.persons_unchanged += 1
        fields = sorted({name for u in updates for name in u.values})
        Person.objects.bulk_update(list(changed.values()), [*fields, "lineage", "updated_at"], batch_size=CHUNK)
        self.counts.persons_changed = len(changed)
        BulkTable(Change, assign_ids=False).insert(self.changes)
        return self.counts

    def record_exclusions(self, findings: list[ExclusionIn]) -> CommitCounts:
        """Exclusion findings by NIK, linked to the registry person when there is one (BPK's exclusion flags)."""
        niks = sorted({f.nik for f in findings})
        person_ids: dict[str, int] = {}
        for part in chunks(niks):
            for pk, nik in Person.objects.filter(nik__in=part, nik_valid=True).values_list("pk", "nik"):
                person_ids.setdefault(nik or "", pk)
        rows = []
        for finding in findings:
            person_id = person_ids.get(finding.nik)
            if person_id is None:
                self.counts.persons_not_found += 1
            rows.append(
                {"nik": finding.nik, "person_id": person_id, "kind": finding.kind, "note": finding.note,
                 "issuer": finding.issuer, "source_record_id": self.record_ids[finding.record],
                 "batch_id": self.batch.pk}
            )  # fmt: skip
        BulkTable(Exclusion, assign_ids=False).insert(rows)
        self.counts.exclusions_new = len(rows)
        return self.counts

    def record_benefits(self, benefits: list[BenefitIn]) -> CommitCounts:
        """Ledger rows per program and period, linked to registry persons by valid NIK."""
        from tepat.programs.models import Benefit
        from tepat.programs.services import program_ids_for_codes

        # Codes as lists write them; aliases ("Sembako (BPNT)") attach to the preloaded national program.
        programs, created = program_ids_for_codes(b.program for b in benefits)
        self.counts.programs_new += created
        niks = sorted({b.nik.nik for b in benefits if b.nik.valid and b.nik.nik})
        person_ids: dict[str, int] = {}
        for part in chunks(niks):
            for pk, nik in Person.objects.filter(nik__in=part, nik_valid=True).order_by("pk").values_list("pk", "nik"):
                person_ids.setdefault(nik or "", pk)
        rows = []
        for benefit in benefits:
            person_id = person_ids.get(benefit.nik.nik or "") if benefit.nik.valid else None
            if person_id is None:
                self.counts.persons_not_found += 1
                self.unmatched.append(benefit.line)
            rows.append(
                {"program_id": programs[benefit.program], "period": benefit.period, "amount": benefit.amount,
                 "nik": benefit.nik.nik or "", "nik_raw": benefit.nik.raw[:64], "name": benefit.name[:200],
                 "village_id": benefit.village, "person_id": person_id,
                 "source_record_id": self.record_ids[benefit.record], "batch_id": self.batch.pk}
            )  # fmt: skip
        BulkTable(Benefit, assign_ids=False).insert(rows)
        self.counts.benefits_new = len(rows)
        return self.counts

    def _existing_families(self, families: list[FamilyIn]) -> dict[str, Family]:
        kks = sorted({f.kk.nik for f in families if f.kk.valid and f.kk.nik})
        keys = sorted({f.source_key for f in families if f.source_key})
        found: dict[str, Family] = {}
        for part in chunks(_matching_ids(Family, "kk", kks, "AND status = 'active'")):
            for fam in Family.objects.filter(pk__in=part):
                found[fam.kk or ""] = fam
        for part in chunks(_matching_ids(Family, "source_key", keys, "AND status = 'active'")):
            for fam in Family.objects.filter(pk__in=part):
                found["key:" + fam.source_key] = fam
        return found

    def _families(self, families: list[FamilyIn], existing: dict[str, Family]) -> dict[int, int]:
        """Create or update families and their households; returns id(FamilyIn) -> family id."""
        households = self._households(families)
        family_table = BulkTable(Family)
        value_names = family_table.order(_given(f.values for f in families))
        shape = family_table.shape(
            family_table.order({"id", "lineage", "kk", "kk_raw", "kk_valid", "kk_problems", "source_key",
                                "household_id", "address_id", "village_id", *value_names}),
            {"created_batch_id": self.batch.pk},
        )  # fmt: skip
        positions = [shape.variable.index(name) for name in value_names]
        defaults = [family_table.defaults[name] for name in value_names]
        adapt = family_table.adapt
        new_rows: list[tuple[Any, ...]] = []
        changed: list[Family] = []
        ids: dict[int, int] = {}
        base: list[Any] = [None] * len(shape.variable)
        at = {name: shape.variable.index(name) for name in shape.variable}
        for fam_in in families:
            fam = existing.get(fam_in.kk.nik or "") if fam_in.kk.valid else None
            fam = fam or (existing.get("key:" + fam_in.source_key) if fam_in.source_key else None)
            if fam is not None:
                if fam.pk not in self.existing_family_ids:
                    if self._apply(fam, "family", fam_in.values, fam_in.record):
                        changed.append(fam)
                    else:
                        self.counts.families_unchanged += 1
                self.existing_family_ids.add(fam.pk)
                ids[id(fam_in)] = fam.pk
                continue
            src = self.record_ids[fam_in.record]
            household_id, address_id = households[self._household_key(fam_in)]
            family_id = family_table.reserve(1)
            row = list(base)
            row[at["id"]], row[at["kk"]], row[at["kk_raw"]] = family_id, fam_in.kk.nik, fam_in.kk.raw
            row[at["kk_valid"]], row[at["kk_problems"]] = int(fam_in.kk.valid), _json_list(fam_in.kk.problems)
            row[at["source_key"]], row[at["household_id"]] = fam_in.source_key, household_id
            row[at["address_id"]], row[at["village_id"]] = address_id, fam_in.village
            lineage: dict[str, int] = {}
            values = fam_in.values
            for name, position, default in zip(value_names, positions, defaults, strict=True):
                value = values.get(name)
                if value is None or value == "":
                    row[position] = default
                else:
                    row[position] = adapt(name, value)
            for name, value in values.items():
                if value is not None and value != "":
                    lineage[name] = src
            lineage["kk"] = lineage["address"] = src
            row[at["lineage"]] = orjson.dumps(lineage).decode()
            new_rows.append(tuple(row))
            ids[id(fam_in)] = family_id
            if not fam_in.kk.valid:
                self._flag(FlagKind.KK_INVALID, family=family_id, record=fam_in.record, kk=fam_in.kk.raw,
                           reasons=fam_in.kk.problems)  # fmt: skip
        family_table.insert_tuples(shape, new_rows)
        family_table.finish()
        if changed:
            bulk.sync()
            Family.objects.bulk_update(changed, [*FAMILY_FIELDS, "lineage", "updated_at"], batch_size=CHUNK)
        self.counts.families_new = len(new_rows)
        self.counts.families_changed = len(changed)
        return ids

    @staticmethod
    def _household_key(fam_in: FamilyIn) -> str:
        return fam_in.household_key or f"kk:{fam_in.source_key or fam_in.kk.nik or fam_in.kk.raw or fam_in.record}"

    def _households(self, families: list[FamilyIn]) -> dict[str, tuple[int, int | None]]:
        """household key -> (household id, address id), creating what is new and recording changes."""
        keys = sorted({self._household_key(f) for f in families})
        found: dict[str, tuple[int, int | None]] = {}
        existing: dict[str, Household] = {}
        for part in chunks(_matching_ids(Household, "source_key", keys)):
            for hh in Household.objects.filter(pk__in=part):
                existing[hh.source_key] = hh
                found[hh.source_key] = (hh.pk, hh.address_id)
        households, addresses = BulkTable(Household), BulkTable(Address)
        housing_names = households.order(_given(f.housing for f in families))
        household_shape = households.shape(
            households.order({"id", "lineage", "source_key", "address_id", *housing_names}),
            {"created_batch_id": self.batch.pk},
        )
        address_shape = addresses.shape(("id", "village_id", "rt", "rw", "street"))
        housing_defaults = [households.defaults[name] for name in housing_names]
        adapt = households.adapt
        new_households: list[tuple[Any, ...]] = []
        new_addresses: list[tuple[Any, ...]] = []
        changed: dict[int, Household] = {}
        for fam_in in families:
            key = self._household_key(fam_in)
            if key in existing:
                hh = existing[key]
                if self._apply(hh, "household", fam_in.housing, fam_in.record):
                    changed[hh.pk] = hh
                continue
            if key in found:
                continue
            src = self.record_ids[fam_in.record]
            address_id = addresses.reserve(1)
            new_addresses.append((address_id, fam_in.village, fam_in.rt, fam_in.rw, fam_in.street))
            housing = fam_in.housing
            household_id = households.reserve(1)
            lineage = {name: src for name, value in housing.items() if value is not None and value != ""}
            row: list[Any] = [household_id, orjson.dumps(lineage).decode(), key, address_id]
            for name, default in zip(housing_names, housing_defaults, strict=True):
                value = housing.get(name)
                row.append(default if value is None or value == "" else adapt(name, value))
            new_households.append(tuple(row))
            found[key] = (household_id, address_id)
        addresses.insert_tuples(address_shape, new_addresses)
        addresses.finish()
        households.insert_tuples(household_shape, new_households)
        households.finish()
        if changed:
            bulk.sync()
            Household.objects.bulk_update(
                list(changed.values()), [*HOUSING_FIELDS, "lineage", "updated_at"], batch_size=CHUNK
            )
        return found

    def _members(self, families: list[FamilyIn], family_ids: dict[int, int]) -> None:
        bulk.sync()
        niks = sorted({m.nik.nik for f in families for m in f.members if m.nik.valid and m.nik.nik})
        by_nik: dict[str, Person | _NewPerson] = {}
        # Highest id first, so that of two persons with one NIK the first created is the one kept.
        for person_part in chunks(sorted(_matching_ids(Person, "nik", niks, "AND nik_valid"), reverse=True)):
            for known in Person.objects.filter(pk__in=person_part).order_by("-pk"):
                by_nik[known.nik or ""] = known
        # Members of families that already existed: to match persons without a valid NIK and to see known links.
        by_name: dict[tuple[int, tuple[str, date | None]], Person] = {}
        linked: dict[tuple[int, int], Membership] = {}
        active_in: dict[int, int] = {}
        existing_family_ids = sorted(self.existing_family_ids)
        for family_part in chunks(existing_family_ids):
            for m in Membership.objects.filter(family_id__in=family_part).select_related("person"):
                linked[(m.family_id, m.person_id)] = m
                by_name[(m.family_id, _name_key(m.person.name, m.person.birth_date))] = m.person
        person_ids = sorted(p.pk for p in by_nik.values() if isinstance(p, Person))
        for person_part in chunks(person_ids):
            for m in Membership.objects.filter(person_id__in=person_part, active=True):
                active_in[m.person_id] = m.family_id

        persons, memberships = BulkTable(Person), BulkTable(Membership)
        value_names = persons.order(_given(m.values for f in families for m in f.members))
        person_shape = persons.shape(
            persons.order({"id", "lineage", "nik", "nik_raw", "nik_valid", "nik_problems", *value_names}),
            {"created_batch_id": self.batch.pk},
        )
        # The tuple follows the table's column order: the NIK columns come before every person value column.
        if person_shape.variable[:6] != ("id", "lineage", "nik", "nik_raw", "nik_valid", "nik_problems"):
            raise RuntimeError(f"unexpected person columns {person_shape.variable}")
        value_defaults = [persons.defaults[name] for name in value_names]
        adapt_date = {name for name in value_names if isinstance(Person._meta.get_field(name), DateField)}
        membership_shape = memberships.shape(
            ("id", "lineage", "family_id", "person_id", "relationship", "position", "active", "conflict"),
            {"created_batch_id": self.batch.pk},
        )
        # Written every FLUSH rows rather than at the end: a million-row list stays a bounded amount of memory.
        new_persons: list[tuple[Any, ...]] = []
        new_memberships: list[tuple[Any, ...]] = []
        persons_new = memberships_new = 0
        first_new: int | None = None
        changed_persons: dict[int, Person] = {}
        changed_memberships: list[Membership] = []
        examples = self.examples["new_persons"]
        no_problems = _json_list([])
        record_ids, existing_families = self.record_ids, self.existing_family_ids
        converters = [
            (key, default, key in adapt_date) for key, default in zip(value_names, value_defaults, strict=True)
        ]
        dumps = orjson.dumps
        next_person, next_membership = persons.reserve(0), memberships.reserve(0)
        for fam_in in families:
            family_id = family_ids[id(fam_in)]
            # Only families that were in the registry before have members to match by name or links to keep.
            known_family = family_id in existing_families
            seen_here: set[int] = set()
            for p_in in fam_in.members:
                src = record_ids[p_in.record]
                values = p_in.values
                name = str(values.get("name") or "")
                nik = p_in.nik
                person: Person | _NewPerson | None = by_nik.get(nik.nik or "") if nik.valid else None
                if person is None and known_family:
                    person = by_name.get((family_id, _name_key(name, values.get("birth_date"))))
                if person is None:
                    person_id, next_person = next_person, next_person + 1
                    first_new = person_id if first_new is None else first_new
                    row: list[Any] = [person_id, None, nik.nik, nik.raw, int(nik.valid),
                                      _json_list(nik.problems) if nik.problems else no_problems]  # fmt: skip
                    lineage: dict[str, int] = {}
                    for key, value in values.items():
                        if value is not None and value != "":
                            lineage[key] = src
                    lineage["nik"] = src
                    row[1] = dumps(lineage).decode()
                    for key, default, is_date in converters:
                        value = values.get(key)
                        if value is None or value == "":
                            row.append(default)
                        elif is_date:
                            row.append(value.isoformat() if isinstance(value, date) else value)
                        else:
                            row.append(int(value) if type(value) is bool else value)
                    new_persons.append(tuple(row))
                    person = _NewPerson(person_id, name, nik.nik)
                    if len(examples) < self.max_examples:
                        examples.append({"name": name, "nik": nik.nik or nik.raw, "family": family_id})
                    if nik.valid and nik.nik:
                        by_nik[nik.nik] = person
                elif isinstance(person, Person):
                    if self._apply(person, "person", values, p_in.record):
                        changed_persons[person.pk] = person
                    elif person.pk not in changed_persons:
                        self.counts.persons_unchanged += 1
                elif name and _name_key(person.name, None) != _name_key(name, None):
                    # The same NIK twice in one file under different names: keep the first, flag the second.
                    self._flag(FlagKind.NIK_NAME_CONFLICT, record=p_in.record, person=person.id, family=family_id,
                               nik=nik.nik, names=[person.name, name])  # fmt: skip
                person_id = person.pk if isinstance(person, Person) else person.id
                if person_id in seen_here:
                    continue
                seen_here.add(person_id)
                if known_family:
                    current = linked.get((family_id, person_id))
                    if current is not None:
                        if self._apply(current, "membership", {"relationship": p_in.relationship}, p_in.record):
                            changed_memberships.append(current)
                        continue
                if not nik.valid:
                    self._flag(FlagKind.NIK_INVALID, person=person_id, family=family_id, record=p_in.record,
                               nik=nik.raw, reasons=nik.problems)  # fmt: skip
                if not name:
                    self._flag(FlagKind.NAME_EMPTY, person=person_id, family=family_id, record=p_in.record)
                other = active_in.get(person_id)
                conflict = other is not None and other != family_id
                if conflict:
                    self.counts.conflicts += 1
                    self._flag(FlagKind.NIK_TWO_FAMILIES, person=person_id, family=family_id, record=p_in.record,
                               nik=nik.nik, active_family=other)  # fmt: skip
                else:
                    active_in[person_id] = family_id
                new_memberships.append(
                    (next_membership, f'{{"relationship":{src},"family":{src}}}', family_id, person_id,
                     p_in.relationship, p_in.position, 0 if conflict else 1, 1 if conflict else 0)
                )  # fmt: skip
                next_membership += 1
            if len(new_persons) >= FLUSH or len(new_memberships) >= FLUSH:
                persons_new += persons.insert_tuples(person_shape, new_persons)
                memberships_new += memberships.insert_tuples(membership_shape, new_memberships)
                self.progress(len(new_persons))
                new_persons, new_memberships = [], []
        persons_new += persons.insert_tuples(person_shape, new_persons)
        memberships_new += memberships.insert_tuples(membership_shape, new_memberships)
        self.progress(len(new_persons))
        persons.reserve(next_person - persons.reserve(0))  # the ids handed out above
        memberships.reserve(next_membership - memberships.reserve(0))
        persons.finish()
        memberships.finish()
        bulk.sync()
        if first_new is not None:
            # Exclusion findings that arrived before the person did are linked now.
            arrived = Person.objects.filter(pk__gte=first_new, nik_valid=True).values("nik")
            first_person = Person.objects.filter(nik=OuterRef("nik"), nik_valid=True).order_by("pk").values("pk")[:1]
            Exclusion.objects.filter(person__isnull=True, nik__in=arrived).update(person_id=Subquery(first_person))
        Person.objects.bulk_update(
            list(changed_persons.values()), [*PERSON_FIELDS, "lineage", "updated_at"], batch_size=CHUNK
        )
        Membership.objects.bulk_update(changed_memberships, ["relationship", "lineage", "updated_at"], batch_size=CHUNK)
        self.counts.persons_new = persons_new
        self.counts.persons_changed = len(changed_persons)
        self.counts.memberships_new = memberships_new
