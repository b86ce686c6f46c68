from __future__ import annotations

import csv
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from tepat.accounts.models import AuditEvent, Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.models import ImportBatch, Source, SourceKind
from tepat.monitoring.models import Indicator, SeriesValue, Target, ValueChange
from tepat.monitoring.services import (
    BPS_FILE,
    SHIPPED_SOURCE,
    MonitoringError,
    Problem,
    SeriesValueIn,
    TargetIn,
    bps_series_load,
    indicator_codes,
    monitoring_batch_rollback,
    series_values_save,
    target_save,
    targets_save,
)

pytestmark = pytest.mark.django_db
DATA_DIR = Path(settings.DATA_DIR)


def csv_counts() -> tuple[int, int]:
    """Rows of the shipped CSV and its non-empty value cells, counted independently of the loader."""
    with (DATA_DIR / "bps" / BPS_FILE).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return len(rows), sum(1 for r in rows for c in ("p0_pct", "poor_thousand") if r[c].strip())


def value(code: str, indicator: str, year: int) -> Decimal:
    return SeriesValue.objects.get(area_id=code, indicator_id=indicator, year=year, source=SHIPPED_SOURCE).value


def make_batch(admin: User, name: str = "bps.csv") -> ImportBatch:
    source, _ = Source.objects.get_or_create(name="BPS Kabupaten", defaults={"kind": SourceKind.BPS})
    return ImportBatch.objects.create(source=source, kind=SourceKind.BPS, file_name=name, sha256=name, created_by=admin)


def test_the_shipped_series_loads_every_csv_value_once() -> None:
    rows, cells = csv_counts()
    assert rows == 11_553
    result = bps_series_load(data_dir=DATA_DIR)
    assert (result.rows, result.values, result.skipped_areas) == (rows, cells, [])
    assert result.counts.as_dict() == {"created": cells, "changed": 0, "unchanged": 0}
    assert SeriesValue.objects.count() == cells
    assert value("61.07", "p0_pct", 2018) == Decimal("7.17")
    assert value("61.07", "p0_pct", 2022) == Decimal("6.03")
    assert value("64.74", "poor_thousand", 2023) == Decimal("7.71")
    assert value("64", "p0_pct", 2024) == Decimal("5.78")  # provinces have series too
    again = bps_series_load(data_dir=DATA_DIR)
    assert again.counts.as_dict() == {"created": 0, "changed": 0, "unchanged": cells}
    assert SeriesValue.objects.count() == cells and not ValueChange.objects.exists()


def test_loading_needs_the_areas_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(MonitoringError) as missing:
        bps_series_load(data_dir=tmp_path)
    assert missing.value.code == Problem.DATA_MISSING


def test_imported_values_upsert_by_area_indicator_year_and_source(admin: User) -> None:
    batch = make_batch(admin)
    rows = [
        SeriesValueIn("61.07", "p0_pct", 2024, Decimal("6.00")),
        SeriesValueIn("61.07", "extreme_poor_pct", 2024, Decimal("0.85")),
    ]
    first = series_values_save(values=rows, batch_id=batch.pk, source="BPS Kabupaten Bengkayang")
    assert first.as_dict() == {"created": 2, "changed": 0, "unchanged": 0}
    same = series_values_save(values=rows, batch_id=batch.pk, source="BPS Kabupaten Bengkayang")
    assert same.as_dict() == {"created": 0, "changed": 0, "unchanged": 2}
    revised = [SeriesValueIn("61.07", "extreme_poor_pct", 2024, Decimal("0.8"))]
    assert series_values_save(values=revised, batch_id=None, source="BPS Kabupaten Bengkayang").changed == 1
    row = SeriesValue.objects.get(indicator_id="extreme_poor_pct")
    assert row.value == Decimal("0.8") and row.batch_id is None
    change = ValueChange.objects.get()
    assert (change.old, change.new, change.old_batch_id) == ({"value": "0.8500"}, {"value": "0.8000"}, batch.pk)
    other = series_values_save(values=rows[:1], batch_id=None, source="Bappeda")
    assert other.created == 1  # another source keeps its own figure beside BPS'


@pytest.mark.parametrize(
    "row, problem",
    [
        (SeriesValueIn("61.07", "p1_index", 2024, Decimal(1)), Problem.UNKNOWN_INDICATOR),
        (SeriesValueIn("99.99", "p0_pct", 2024, Decimal(1)), Problem.UNKNOWN_AREA),
        (SeriesValueIn("61.07", "p0_pct", 224, Decimal(1)), Problem.BAD_YEAR),
        (SeriesValueIn("61.07", "p0_pct", 2024, Decimal("NaN")), Problem.BAD_VALUE),
    ],
)
def test_bad_values_refuse_the_whole_list(row: SeriesValueIn, problem: Problem) -> None:
    good = SeriesValueIn("61.07", "p0_pct", 2023, Decimal("6.28"))
    with pytest.raises(MonitoringError) as refused:
        series_values_save(values=[good, row], batch_id=None, source="uji")
    assert refused.value.code == problem
    assert not SeriesValue.objects.exists()


def test_conflicting_duplicates_are_refused() -> None:
    rows = [SeriesValueIn("61.07", "p0_pct", 2023, Decimal("6.28")), SeriesValueIn("61.07", "p0_pct", 2023, Decimal(6))]
    with pytest.raises(MonitoringError) as refused:
        series_values_save(values=rows, batch_id=None, source="uji")
    assert refused.value.code == Problem.CONFLICT
    assert series_values_save(values=rows[:1] * 2, batch_id=None, source="uji").created == 1


def test_the_shipped_loader_leaves_imported_values_alone(admin: User) -> None:
    bps_series_load(data_dir=DATA_DIR)
    batch = make_batch(admin)
    revised = [SeriesValueIn("61.07", "p0_pct", 2025, Decimal("5.80"))]
    assert series_values_save(values=revised, batch_id=batch.pk, source=SHIPPED_SOURCE).changed == 1
    assert bps_series_load(data_dir=DATA_DIR).counts.changed == 0
    assert value("61.07", "p0_pct", 2025) == Decimal("5.80")


def test_rollback_restores_changed_values_and_deletes_created_ones(admin: User) -> None:
    bps_series_load(data_dir=DATA_DIR)
    first, second = make_batch(admin, "a.csv"), make_batch(admin, "b.csv")
    series_values_save(
        values=[
            SeriesValueIn("61.07", "p0_pct", 2025, Decimal("5.80")),  # changes a shipped figure
            SeriesValueIn("61.07", "extreme_poor_pct", 2024, Decimal("0.85")),  # new
        ],
        batch_id=first.pk,
        source=SHIPPED_SOURCE,
    )
    targets_save(
        targets=[TargetIn("61.07", "p0_pct", 2026, Decimal("5.62"), "<", "RPJMD 2021–2026")],
        batch_id=first.pk,
        actor=admin,
    )
    series_values_save(
        values=[SeriesValueIn("61.07", "p0_pct", 2025, Decimal("5.81"))], batch_id=second.pk, source=SHIPPED_SOURCE
    )
    with pytest.raises(MonitoringError) as blocked:
        monitoring_batch_rollback(batch_id=first.pk)
    assert blocked.value.code == Problem.ROLLBACK_BLOCKED and f"#{second.pk}" in str(blocked.value)
    assert monitoring_batch_rollback(batch_id=second.pk) == {"restored": 1, "series_deleted": 0, "targets_deleted": 0}
    assert value("61.07", "p0_pct", 2025) == Decimal("5.80")
    assert monitoring_batch_rollback(batch_id=first.pk) == {"restored": 1, "series_deleted": 1, "targets_deleted": 1}
    restored = SeriesValue.objects.get(area_id="61.07", indicator_id="p0_pct", year=2025)
    assert (restored.value, restored.batch_id) == (Decimal("5.83"), None)
    assert not SeriesValue.objects.filter(indicator_id="extreme_poor_pct").exists() and not Target.objects.exists()


def test_deleting_the_batch_cascades_to_its_rows(admin: User) -> None:
    batch = make_batch(admin)
    series_values_save(values=[SeriesValueIn("64.74", "p0_pct", 2025, Decimal("3.21"))], batch_id=batch.pk, source="x")
    batch.delete()
    assert not SeriesValue.objects.exists()


def test_targets_upsert_by_document_and_keep_their_history(admin: User) -> None:
    target = TargetIn("61.07", "p0_pct", 2026, Decimal("5.62"), "<", "RPJMD 2021–2026", 2020, Decimal("6.62"))
    assert targets_save(targets=[target], batch_id=None, actor=admin).created == 1
    assert targets_save(targets=[target], batch_id=None, actor=admin).unchanged == 1
    lower = TargetIn("61.07", "p0_pct", 2026, Decimal("5.5"), "<=", "RPJMD 2021–2026", 2020, Decimal("6.62"))
    assert targets_save(targets=[lower], batch_id=None, actor=admin).changed == 1
    saved = Target.objects.get()
    assert (saved.value, saved.comparison, saved.created_by) == (Decimal("5.5"), "<=", admin)
    change = ValueChange.objects.get(entity=ValueChange.Entity.TARGET)
    assert change.old["value"] == "5.6200" and change.old["comparison"] == "<" and change.new["comparison"] == "<="
    with pytest.raises(MonitoringError) as bad:
        targets_save(targets=[TargetIn("61.07", "p0_pct", 2026, Decimal(5), "=<", "RPJMD")], batch_id=None, actor=None)
    assert bad.value.code == Problem.BAD_COMPARISON


def test_only_tkpk_roles_enter_targets_by_hand(admin: User, make_user: Callable[..., User]) -> None:
    target = TargetIn("64.74", "p0_pct", 2026, Decimal("3.75"), "<=", "RPJMD 2021–2026")
    for role in (Role.AGENCY_OPERATOR, Role.VILLAGE_OPERATOR, Role.PARTNER, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            target_save(actor=make_user(f"u-{role}", role), target=target)
    analyst = make_user("analis", Role.TKPK_ANALYST)
    saved = target_save(actor=analyst, target=target)
    assert saved.created_by == analyst
    assert AuditEvent.objects.filter(actor=analyst, target_id=str(saved.pk)).exists()


def test_indicator_codes_include_the_built_in_ones() -> None:
    assert {"p0_pct", "poor_thousand", "extreme_poor_pct"} <= indicator_codes()
    series_values_save(values=[SeriesValueIn("64.74", "p0_pct", 2025, Decimal("3.21"))], batch_id=None, source="x")
    assert Indicator.objects.get(code="p0_pct").symbol == "%"


def test_a_target_edited_by_hand_survives_the_rollback_of_its_import(admin: User) -> None:
    batch = make_batch(admin, "targets.csv")
    imported = TargetIn("64.74", "p0_pct", 2026, Decimal("3.75"), "<=", "RPJMD 2021–2026")
    targets_save(targets=[imported], batch_id=batch.pk, actor=admin)
    target_save(actor=admin, target=TargetIn("64.74", "p0_pct", 2026, Decimal("3.5"), "<=", "RPJMD 2021–2026"))
    assert monitoring_batch_rollback(batch_id=batch.pk) == {"restored": 0, "series_deleted": 0, "targets_deleted": 0}
    kept = Target.objects.get()
    assert (kept.value, kept.batch_id) == (Decimal("3.5"), None)
