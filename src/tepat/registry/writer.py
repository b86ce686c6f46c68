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

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tepat.intake.models import ImportBatch
from tepat.registry import bulk
from tepat.registry.bulk import BulkTable
from tepat.registry.models import (
    Change,
    Exclusion,
    FlagKind,
    Person,
    RegistryFlag,
    source_of,
)
from tepat.registry.stream import (  # noqa: F401  # the members' format (Member): the importers build them
    CHUNK,
    FamilyStream,
    Member,
    chunks,
    member_head,
)


@dataclass(slots=True)
class NikIn:
    nik: str | None
    raw: str
    valid: bool
    problems: list[str]


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
    members: list[Member] = field(default_factory=list)  # not written yet (see RegistryWriter.write)
    size: int = 0  # members taken so far: the next one's position is size + 1


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


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


class RegistryWriter:
    """One batch's commit. Call inside a transaction; the caller owns atomicity and progress."""

    def __init__(
        self,
        batch: ImportBatch,
        record_ids: list[int],
        progress: Callable[[int], None] | None = None,
        examples: int = 0,
        expected_rows: int = 0,
        dry_run: bool = False,
    ):
        self.batch = batch
        # A preview: the caller rolls everything back, so what only a kept commit needs (indexes built again,
        # late links, the changes and flags themselves) is skipped; the counts are the same.
        self.dry_run = dry_run
        self.max_examples = examples
        self.examples: dict[str, list[dict[str, Any]]] = {"new_persons": [], "changes": []}
        self.record_ids = record_ids
        self.progress = progress or (lambda n: None)
        self.counts = CommitCounts()
        self.changes: list[dict[str, Any]] = []
        self.flags: list[dict[str, Any]] = []
        self.stream: FamilyStream | None = None
        self.unmatched: list[int] = []  # lines whose person is not in the registry
        self.expected_rows = expected_rows  # the file's rows, about: a large batch writes differently (FamilyStream)

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
            previous = source_of(obj.lineage, name, old)  # the record that had set the old value
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
        """All the families of a batch at once (see ``write`` and ``close`` for a part at a time)."""
        with bulk.background_writes():
            self.write(families)
            return self.close()

    def write(self, families: list[FamilyIn]) -> None:
        """Families with members not written yet (new families, or members added to ones handed over before).

        Inside ``bulk.background_writes()``; the members written are dropped from ``FamilyIn.members``.
        """
        if self.stream is None:
            self.stream = FamilyStream(self)
        self.stream.write(families)

    def close(self) -> CommitCounts:
        """After the last ``write``: finish the batch's writes and record its changes and flags."""
        if self.stream is not None:
            self.stream.close()
            # The stream and this writer refer to each other: without this, what the stream held (a million persons
            # matched by NIK) would wait for the cyclic garbage collector, seconds of work once it is switched on.
            self.stream = None
        if not self.dry_run:
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
