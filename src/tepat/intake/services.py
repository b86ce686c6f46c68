"""Imports. This module holds the DTSEN/DTKS family-and-member extract import; others follow the same path:
read → map columns → parse and validate each row → commit in one transaction through the registry writer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import AuditAction, User
from tepat.accounts.services import audit
from tepat.areas.selectors import region_codes, village_codes
from tepat.engine.batch import gc_paused
from tepat.engine.identity import RegionCodes, check_kk, check_nik, parse_sex
from tepat.engine.values import (
    ValueError_,
    clean_name,
    normalise_village_code,
    pad_code,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
    parse_relationship,
)
from tepat.intake.columns import map_columns
from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.models import BatchStatus, ImportBatch, Source, SourceKind
from tepat.intake.readers import open_text_table
from tepat.registry.bulk import BulkTable
from tepat.registry.models import SourceRecord
from tepat.registry.writer import FamilyIn, NikIn, PersonIn, RegistryWriter, chunks

Progress = Callable[[str, int, int], None]
DTSEN_REQUIRED = ("nik", "name", "village")


@dataclass
class RowProblem:
    row: int
    column: str
    code: str
    value: str = ""


@dataclass
class ImportResult:
    batch: ImportBatch
    rows: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    unchanged_file: bool = False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _row(cells: list[str], mapping: dict[str, int]) -> dict[str, str]:
    """The mapped cells of one row, stripped; missing columns read as empty."""
    width = len(cells)
    return {name: cells[index].strip() if index < width else "" for name, index in mapping.items()}


def import_dtsen_extract(
    *,
    actor: User | None,
    path: Path,
    source_name: str = "DTSEN Kemensos",
    kind: SourceKind = SourceKind.DTSEN,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a family-and-member extract (one row per person, family columns repeated on each row).

    Rows without a usable village code are rejected (a family that cannot be placed cannot be scoped or served);
    invalid NIKs and KKs are kept and flagged, because the person exists even when the number is wrong.
    """
    with gc_paused():
        return _import_dtsen_extract(actor=actor, path=path, source_name=source_name, kind=kind, progress=progress)


def _import_dtsen_extract(
    *,
    actor: User | None,
    path: Path,
    source_name: str = "DTSEN Kemensos",
    kind: SourceKind = SourceKind.DTSEN,
    progress: Progress | None = None,
) -> ImportResult:
    table = open_text_table(path)
    mapping = map_columns(table.header)
    missing = [c for c in DTSEN_REQUIRED if c not in mapping]
    if "family_key" not in mapping and "kk" not in mapping:
        missing.append("kk")
    if missing:
        raise IntakeError(FileProblem.MISSING_COLUMNS, columns=", ".join(missing))
    sha = file_sha256(path)
    previous = ImportBatch.objects.filter(source__name=source_name, sha256=sha, status=BatchStatus.COMMITTED).first()
    if previous is not None:
        return ImportResult(batch=previous, counts=previous.counts, unchanged_file=True)

    regions = region_codes()
    villages = village_codes()
    rows = list(table.rows())
    if not rows:
        raise IntakeError(FileProblem.NO_ROWS)
    total = len(rows)
    families: dict[str, FamilyIn] = {}
    rejected: list[RowProblem] = []
    kept: list[tuple[int, list[str]]] = []
    warnings: list[RowProblem] = []
    for line, raw_cells in rows:
        problems: list[RowProblem] = []
        cells = _Cells(_row(raw_cells, mapping), line, problems)
        village = normalise_village_code(cells.text("village"))
        if village not in villages:
            rejected.append(RowProblem(line, "village", "village.unknown", village))
            continue
        record_index = len(kept)
        kept.append((line, raw_cells))
        person = _parse_person(cells, regions)
        person.record = record_index
        family_key = cells.text("family_key") or cells.text("kk")
        fam = families.get(family_key)
        if fam is None:
            fam = families[family_key] = _parse_family(cells, village, regions, record_index)
        person.position = len(fam.members) + 1
        fam.members.append(person)
        warnings.extend(problems)
        if progress and line % 10_000 == 0:
            progress("parse", line, total)
    if not kept:
        raise IntakeError(FileProblem.UNKNOWN_REGION)

    with transaction.atomic():
        source, _ = Source.objects.get_or_create(name=source_name, defaults={"kind": kind})
        batch = ImportBatch.objects.create(
            source=source,
            kind=kind,
            file_name=path.name,
            sha256=sha,
            columns=table.header,
            status=BatchStatus.COMMITTING,
            created_by=actor,
        )
        records = BulkTable(SourceRecord)
        first = records.reserve(len(kept))
        record_ids = list(range(first, first + len(kept)))
        done = 0
        for part in chunks(kept, 10_000):
            records.insert(
                {"id": first + done + i, "batch_id": batch.pk, "row_number": line, "values": cells}
                for i, (line, cells) in enumerate(part)
            )
            done += len(part)
            if progress:
                progress("records", done, len(kept))
        records.finish()
        committed = [0]

        def on_persons(n: int) -> None:
            committed[0] += n
            if progress:
                progress("persons", committed[0], len(kept))

        writer = RegistryWriter(batch, record_ids, progress=on_persons)
        counts = writer.commit(list(families.values())).as_dict()
        counts.update(rows=total, accepted=len(kept), rejected_rows=len({p.row for p in rejected}))
        batch.counts = counts
        batch.status = BatchStatus.COMMITTED
        batch.committed_at = timezone.now()
        batch.save(update_fields=["counts", "status", "committed_at"])
        audit(actor, AuditAction.IMPORT_COMMIT, target=batch, detail={"file": path.name, **counts})
    return ImportResult(batch=batch, rows=total, rejected=rejected, warnings=warnings, counts=counts)


# Cell parsers are pure and lists repeat values (dates, codes, categories) thousands of times.
_date = lru_cache(maxsize=1 << 16)(parse_date)
_int = lru_cache(maxsize=1 << 12)(parse_int)
_bool = lru_cache(maxsize=1 << 8)(parse_bool)
_decimal = lru_cache(maxsize=1 << 12)(parse_decimal)
_relationship = lru_cache(maxsize=1 << 8)(parse_relationship)
_sex = lru_cache(maxsize=1 << 8)(parse_sex)


class _Cells:
    """One row's cells with the problems found while reading them (row, column, code, value)."""

    __slots__ = ("line", "problems", "row")

    def __init__(self, row: dict[str, str], line: int, problems: list[RowProblem]) -> None:
        self.row, self.line, self.problems = row, line, problems

    def text(self, name: str) -> str:
        return self.row.get(name, "")

    def parsed(self, name: str, parser: Callable[[str], Any]) -> Any:
        raw = self.row.get(name, "")
        if not raw:
            return None
        try:
            return parser(raw)
        except ValueError_ as exc:
            self.problems.append(RowProblem(self.line, name, exc.code, raw))
            return None


def _parse_person(cells: _Cells, regions: RegionCodes) -> PersonIn:
    sex = _sex(cells.text("sex"))
    born = cells.parsed("birth_date", _date)
    nik_check = check_nik(cells.text("nik"), regions=regions, sex=sex, born=born)
    return PersonIn(
        record=0,
        nik=NikIn(nik_check.nik, nik_check.raw, nik_check.valid, [str(p) for p in nik_check.problems]),
        values={
            "name": clean_name(cells.text("name")),
            "sex": sex.value if sex else "",
            "birth_place": clean_name(cells.text("birth_place")),
            "birth_date": born,
            "mother_name": clean_name(cells.text("mother_name")),
            "marital_status": cells.text("marital_status"),
            "education": cells.text("education"),
            "occupation": cells.text("occupation"),
            "disability": cells.parsed("disability", _bool),
        },
        relationship=cells.parsed("relationship", _relationship) or "",
    )


def _parse_family(cells: _Cells, village: str, regions: RegionCodes, record: int) -> FamilyIn:
    """Family and housing columns, read from the first row of each family (extracts repeat them per member)."""
    desil = [cells.parsed(name, _int) for name in ("desil_national", "desil_province", "desil_regency")]
    for index, value in enumerate(desil):
        if value is not None and not 1 <= value <= 10:
            cells.problems.append(RowProblem(cells.line, "desil_national", "desil.range", str(value)))
            desil[index] = None
    kk_check = check_kk(cells.text("kk"), regions=regions)
    return FamilyIn(
        record=record,
        kk=NikIn(kk_check.kk, kk_check.raw, kk_check.valid, [str(p) for p in kk_check.problems]),
        source_key=cells.text("family_key"),
        household_key=cells.text("household_key"),
        village=village,
        rt=pad_code(cells.text("rt"), 3),
        rw=pad_code(cells.text("rw"), 3),
        street=clean_name(cells.text("street")),
        values={
            "desil_national": desil[0],
            "desil_province": desil[1],
            "desil_regency": desil[2],
            "welfare_date": cells.parsed("welfare_date", _date),
        },
        housing={
            "tenure": cells.text("tenure"),
            "floor_area_m2": cells.parsed("floor_area_m2", _decimal),
            "floor": cells.text("floor"),
            "wall": cells.text("wall"),
            "roof": cells.text("roof"),
            "drinking_water": cells.text("drinking_water"),
            "sanitation": cells.text("sanitation"),
            "electricity": cells.text("electricity"),
            "cooking_fuel": cells.text("cooking_fuel"),
            "owns_car": cells.parsed("owns_car", _bool),
            "motorcycles": cells.parsed("motorcycles", _int),
        },
    )
