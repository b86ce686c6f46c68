"""Writes of the monitoring app: the shipped BPS series, imported series and targets, target edits, rollback.

The intake pipeline parses BPS and target files and calls :func:`series_values_save` and :func:`targets_save`
(inside its own commit transaction, also for the dry-run preview); :func:`monitoring_batch_rollback` undoes what
a batch wrote. Upserts are keyed like the unique constraints: (area, indicator, year, source) for series values,
(area, indicator, year, document) for targets; re-saving the same figures changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import AuditAction, User
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.areas.models import Area
from tepat.errors import UserError
from tepat.monitoring.indicators import BUILTIN_INDICATORS
from tepat.monitoring.models import Comparison, Indicator, SeriesValue, Target, ValueChange
from tepat.registry.bulk import BulkTable

# Who may enter or change a target on the monitoring page. TKPK admins and analysts hold it; agency and village
# operators do not. (A dedicated Permission.EDIT_TARGETS would say it better: see the monitoring report.)
TARGET_PERMISSION = Permission.EDIT_TARGETS
TARGET_SAVE_ACTION = AuditAction.TARGET_CHANGE

ATTRIBUTION = "Sumber: Badan Pusat Statistik (BPS)"
SHIPPED_SOURCE = "BPS"
BPS_DIR = "bps"
BPS_FILE = "poverty_regency_2004_2025.csv"
BPS_COLUMNS = {"p0_pct": "p0_pct", "poor_thousand": "poor_thousand"}  # CSV column -> indicator code
YEARS = range(1945, 2101)
_PLACES = Decimal("0.0001")  # the columns' decimal places


class Problem(StrEnum):
    UNKNOWN_INDICATOR = "monitoring.unknown_indicator"
    UNKNOWN_AREA = "monitoring.unknown_area"
    BAD_YEAR = "monitoring.bad_year"
    BAD_VALUE = "monitoring.bad_value"
    BAD_COMPARISON = "monitoring.bad_comparison"
    CONFLICT = "monitoring.conflicting_duplicate"
    NO_AREAS = "monitoring.no_areas"
    DATA_MISSING = "monitoring.data_missing"
    ROLLBACK_BLOCKED = "monitoring.rollback_blocked"


class MonitoringError(UserError):
    """Input the monitoring services refuse, with a stable code; nothing is written when it is raised."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.code = problem.value
        self.problem = problem


@dataclass(frozen=True)
class SeriesValueIn:
    area_code: str  # Kemendagri code, dotted: "61.07"; provinces "61"
    indicator: str  # Indicator.code
    year: int
    value: Decimal


@dataclass(frozen=True)
class TargetIn:
    area_code: str
    indicator: str
    year: int
    value: Decimal
    comparison: str  # "<", "<=", ">=", ">"
    document: str  # e.g. "RPJMD 2021–2026"
    baseline_year: int | None = None
    baseline_value: Decimal | None = None


@dataclass
class SaveCounts:
    created: int = 0
    changed: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class LoadResult:
    rows: int = 0  # CSV rows read
    values: int = 0  # non-empty cells (one series value each)
    skipped_areas: list[str] = field(default_factory=list)  # codes not in the areas table
    counts: SaveCounts = field(default_factory=SaveCounts)


def indicator_codes() -> set[str]:
    """The indicator codes a BPS or target file may use (intake validates against these)."""
    return set(Indicator.objects.values_list("code", flat=True)) | {row["code"] for row in BUILTIN_INDICATORS}


def indicators_ensure() -> None:
    """Create the built-in indicators if missing (the data migration does it; test databases skip migrations)."""
    codes = [row["code"] for row in BUILTIN_INDICATORS]
    if Indicator.objects.filter(code__in=codes).count() < len(codes):
        for row in BUILTIN_INDICATORS:
            Indicator.objects.get_or_create(code=row["code"], defaults=row)


def _q(value: Decimal) -> Decimal:
    return value.quantize(_PLACES)


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _check_common(rows: Iterable[SeriesValueIn | TargetIn]) -> None:
    rows = list(rows)
    indicators_ensure()
    known = indicator_codes()
    bad_indicators = sorted({r.indicator for r in rows} - known)
    if bad_indicators:
        raise MonitoringError(
            Problem.UNKNOWN_INDICATOR,
            f"indikator tidak dikenal: {', '.join(bad_indicators)} (yang dikenal: {', '.join(sorted(known))})",
        )
    codes = {r.area_code for r in rows}
    found = set(Area.objects.filter(code__in=codes).values_list("code", flat=True))
    if codes - found:
        raise MonitoringError(Problem.UNKNOWN_AREA, f"kode wilayah tidak dikenal: {', '.join(sorted(codes - found))}")
    for r in rows:
        if r.year not in YEARS:
            raise MonitoringError(Problem.BAD_YEAR, f"tahun di luar rentang: {r.year}")
        if not isinstance(r.value, Decimal) or not r.value.is_finite() or abs(r.value) >= Decimal(10) ** 10:
            raise MonitoringError(Problem.BAD_VALUE, f"nilai bukan angka yang wajar: {r.value!r}")


# -- series values ----------------------------------------------------------------------------------------------------
@transaction.atomic
def series_values_save(*, values: list[SeriesValueIn], batch_id: int | None, source: str) -> SaveCounts:
    """Upsert series values of one source. Unknown areas or indicators refuse the whole list (nothing written)."""
    _check_common(values)
    return _series_upsert(values, batch_id=batch_id, source=source, keep_imported=False)


def _series_upsert(
    values: list[SeriesValueIn], *, batch_id: int | None, source: str, keep_imported: bool
) -> SaveCounts:
    """``keep_imported``: leave rows an import has written alone (the shipped loader must not undo an import)."""
    wanted: dict[tuple[str, str, int], Decimal] = {}
    for v in values:
        key = (v.area_code, v.indicator, v.year)
        value = _q(v.value)
        if wanted.setdefault(key, value) != value:
            raise MonitoringError(
                Problem.CONFLICT,
                f"nilai ganda berbeda untuk {v.area_code} {v.indicator} {v.year}: {wanted[key]}, {value}",
            )
    existing = {
        (area, indicator, year): (pk, value, batch)
        for pk, area, indicator, year, value, batch in SeriesValue.objects.filter(
            source=source, indicator_id__in={k[1] for k in wanted}
        ).values_list("pk", "area_id", "indicator_id", "year", "value", "batch_id")
    }
    counts = SaveCounts()
    new: list[dict[str, Any]] = []
    changed: list[SeriesValue] = []
    changes: list[ValueChange] = []
    now = timezone.now()
    for (area, indicator, year), value in wanted.items():
        old = existing.get((area, indicator, year))
        if old is None:
            new.append({"area_id": area, "indicator_id": indicator, "year": year, "value": value, "source": source,
                        "batch_id": batch_id})  # fmt: skip
            continue
        pk, old_value, old_batch = old
        if _q(old_value) == value or (keep_imported and old_batch is not None):
            counts.unchanged += 1
            continue
        changed.append(SeriesValue(pk=pk, value=value, batch_id=batch_id, updated_at=now))
        changes.append(
            ValueChange(entity=ValueChange.Entity.SERIES, entity_id=pk, old={"value": str(old_value)},
                        new={"value": str(value)}, old_batch_id=old_batch, batch_id=batch_id)
        )  # fmt: skip
    if new:  # tuples, not model instances: the shipped series is ~23k values and loads in every demo build
        BulkTable(SeriesValue, assign_ids=False).insert(new)
    SeriesValue.objects.bulk_update(changed, ["value", "batch_id", "updated_at"], batch_size=1000)
    ValueChange.objects.bulk_create(changes, batch_size=2000)
    counts.created, counts.changed = len(new), len(changed)
    return counts


def read_bps_csv(path: Path) -> tuple[int, list[SeriesValueIn]]:
    """The shipped long CSV (kemendagri_code, …, year, p0_pct, poor_thousand) as series values; empty cells skipped."""
    if not path.exists():
        raise MonitoringError(Problem.DATA_MISSING, f"berkas data BPS tidak ditemukan: {path}")
    values: list[SeriesValueIn] = []
    rows = 0
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"kemendagri_code", "year", *BPS_COLUMNS} - set(reader.fieldnames or [])
        if missing:
            raise MonitoringError(Problem.DATA_MISSING, f"kolom tidak ada di {path.name}: {', '.join(sorted(missing))}")
        for row in reader:
            rows += 1
            for column, indicator in BPS_COLUMNS.items():
                cell = (row[column] or "").strip()
                if not cell:
                    continue  # BPS shows "-"
                try:
                    value = Decimal(cell)
                except InvalidOperation:
                    raise MonitoringError(
                        Problem.BAD_VALUE, f"{path.name} baris {rows + 1}: {column} bukan angka ({cell!r})"
                    ) from None
                values.append(SeriesValueIn(row["kemendagri_code"], indicator, int(row["year"]), value))
    return rows, values


@transaction.atomic
def bps_series_load(*, data_dir: Path) -> LoadResult:
    """Load the BPS series shipped in ``data_dir/bps`` (P0 and number of poor, 38 provinces and 514 regencies).

    Idempotent: a second run finds every value unchanged. Values an import has since written are left alone.
    Areas missing from the areas table (a partial `areas load`) are skipped and reported, not an error.
    """
    if not Area.objects.exists():
        raise MonitoringError(Problem.NO_AREAS, "kode wilayah belum dimuat; jalankan `tepat areas load` dulu")
    rows, values = read_bps_csv(Path(data_dir) / BPS_DIR / BPS_FILE)
    indicators_ensure()
    codes = set(Area.objects.filter(code__in={v.area_code for v in values}).values_list("code", flat=True))
    result = LoadResult(rows=rows, values=len(values))
    result.skipped_areas = sorted({v.area_code for v in values} - codes)
    kept = [v for v in values if v.area_code in codes]
    result.counts = _series_upsert(kept, batch_id=None, source=SHIPPED_SOURCE, keep_imported=True)
    return result


# -- targets ----------------------------------------------------------------------------------------------------------
_TARGET_FIELDS = ("value", "comparison", "baseline_year", "baseline_value")


def _target_fields(t: TargetIn) -> dict[str, Any]:
    return {
        "value": _q(t.value),
        "comparison": t.comparison,
        "baseline_year": t.baseline_year,
        "baseline_value": _q(t.baseline_value) if t.baseline_value is not None else None,
    }


def _check_targets(targets: list[TargetIn]) -> None:
    _check_common(targets)
    for t in targets:
        if t.comparison not in Comparison.values:
            raise MonitoringError(
                Problem.BAD_COMPARISON, f"pembanding tidak dikenal: {t.comparison!r} (pakai <, <=, >= atau >)"
            )
        if not t.document.strip():
            raise MonitoringError(Problem.BAD_VALUE, "dokumen sumber target wajib diisi (mis. RPJMD 2021–2026)")
        if t.baseline_year is not None and t.baseline_year not in YEARS:
            raise MonitoringError(Problem.BAD_YEAR, f"tahun dasar di luar rentang: {t.baseline_year}")


def _targets_upsert(
    targets: list[TargetIn], *, batch_id: int | None, actor: User | None
) -> tuple[SaveCounts, list[Target]]:
    counts = SaveCounts()
    saved: list[Target] = []
    for t in targets:
        fields = _target_fields(t)
        document = t.document.strip()
        current = (
            Target.objects.select_for_update()
            .filter(area_id=t.area_code, indicator_id=t.indicator, year=t.year, document=document)
            .first()
        )
        if current is None:
            saved.append(
                Target.objects.create(area_id=t.area_code, indicator_id=t.indicator, year=t.year, document=document,
                                      batch_id=batch_id, created_by=actor, **fields)
            )  # fmt: skip
            counts.created += 1
            continue
        old = {name: getattr(current, name) for name in _TARGET_FIELDS}
        if all((_q(old[n]) if isinstance(old[n], Decimal) else old[n]) == fields[n] for n in _TARGET_FIELDS):
            counts.unchanged += 1
            saved.append(current)
            continue
        ValueChange.objects.create(
            entity=ValueChange.Entity.TARGET, entity_id=current.pk,
            old={n: _json(v) for n, v in old.items()}, new={n: _json(v) for n, v in fields.items()},
            old_batch_id=current.batch_id, batch_id=batch_id, actor=actor,
        )  # fmt: skip
        for name, value in fields.items():
            setattr(current, name, value)
        current.batch_id = batch_id  # a form edit (no batch) makes the target the user's: a rollback keeps it
        current.save()
        counts.changed += 1
        saved.append(current)
    return counts, saved


@transaction.atomic
def targets_save(*, targets: list[TargetIn], batch_id: int | None, actor: User | None) -> SaveCounts:
    """Upsert targets (the intake `targets` kind). The caller checks the actor's permission to import."""
    _check_targets(targets)
    counts, _ = _targets_upsert(targets, batch_id=batch_id, actor=actor)
    return counts


@transaction.atomic
def target_save(*, actor: User, target: TargetIn) -> Target:
    """One target entered or changed on the monitoring page."""
    require(actor, TARGET_PERMISSION)
    _check_targets([target])
    counts, (saved,) = _targets_upsert([target], batch_id=None, actor=actor)
    if counts.created or counts.changed:
        detail = {n: _json(v) for n, v in _target_fields(target).items()}
        audit(actor, TARGET_SAVE_ACTION, target=saved, detail={"created": bool(counts.created), **detail})
    return saved


@transaction.atomic
def target_delete(*, actor: User, target: Target) -> None:
    require(actor, TARGET_PERMISSION)
    old = {n: _json(getattr(target, n)) for n in ("area_id", "indicator_id", "year", "document", *_TARGET_FIELDS)}
    ValueChange.objects.create(
        entity=ValueChange.Entity.TARGET, entity_id=target.pk, old=old, new={}, old_batch_id=target.batch_id,
        actor=actor,
    )  # fmt: skip
    audit(actor, TARGET_SAVE_ACTION, target=target, detail={"deleted": old})
    target.delete()


# -- rollback ---------------------------------------------------------------------------------------------------------
@transaction.atomic
def monitoring_batch_rollback(*, batch_id: int) -> dict[str, int]:
    """Undo what an import batch wrote here: values it changed get their old value back, values it created go.

    Refused (MonitoringError, nothing written) when a later batch changed a value this batch wrote: roll that one
    back first. Edits made by hand on the page since then are kept (the value is the user's now).
    """
    later = (
        ValueChange.objects.filter(old_batch_id=batch_id, reverted_at__isnull=True, batch__isnull=False)
        .exclude(batch_id=batch_id)
        .values_list("batch_id", flat=True)
        .first()
    )
    if later is not None:
        raise MonitoringError(
            Problem.ROLLBACK_BLOCKED,
            f"batch #{batch_id} sudah diubah oleh impor #{later}; batalkan impor #{later} dulu",
        )
    restored = 0
    changes = ValueChange.objects.filter(batch_id=batch_id, reverted_at__isnull=True).order_by("-id")
    for change in changes:
        model: type[SeriesValue] | type[Target] = SeriesValue if change.entity == ValueChange.Entity.SERIES else Target
        obj = model.objects.filter(pk=change.entity_id, batch_id=batch_id).first()
        if obj is None:
            continue  # deleted or edited by hand since
        for name, value in change.old.items():
            if name in ("value", "baseline_value"):
                value = Decimal(value) if value is not None else None
            setattr(obj, name, value)
        obj.batch_id = change.old_batch_id
        obj.save()
        restored += 1
    changes.update(reverted_at=timezone.now())
    deleted_values, _ = SeriesValue.objects.filter(batch_id=batch_id).delete()
    deleted_targets, _ = Target.objects.filter(batch_id=batch_id).delete()
    return {"restored": restored, "series_deleted": deleted_values, "targets_deleted": deleted_targets}
