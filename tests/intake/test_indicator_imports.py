"""BPS series and RPJMD targets through the import pipeline: row errors named, values upserted, rollback."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tepat.accounts.models import Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import import_file, import_rollback
from tepat.monitoring.models import SeriesValue, Target

# As a regency's statistics office writes it: undotted codes, names for indicators, Indonesian decimal commas.
SERIES = """\
Kode Kabupaten,Indikator,Tahun,Nilai
6474,Persentase penduduk miskin,2026,"3,05"
64.74,p0_pct,2025,3.40
6474,kemiskinan ekstrem,2025,"0,41"
9999,p0_pct,2025,3.1
6474,indeks kebahagiaan,2025,70
6474,p0_pct,dua ribu,3.1
6474,p0_pct,2024,
"""

TARGETS = """\
Kode Wilayah,Indikator,Tahun,Target,Dokumen
61.07,p0_pct,2026,"< 5,62",RPJMD 2021-2026
61.07,kemiskinan ekstrem,2026,0,RPJMD 2021-2026
61.07,p0_pct,2026,lima,RPJMD 2021-2026
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_series_file_names_its_bad_rows_and_saves_the_rest(db: None, admin: User, tmp_path: Path) -> None:
    outcome = import_file(actor=admin, path=_write(tmp_path, "bps.csv", SERIES), kind="bps", source_name="BPS Bontang")
    issues = {(i.row_number, i.column, i.code) for i in outcome.issues(errors_only=True)}
    assert issues == {(5, "area", "area.unknown"), (6, "indicator", "indicator.unknown"),
                      (7, "year", "year.invalid"), (8, "value", "value.missing")}  # fmt: skip
    assert outcome.counts["values_new"] == 3
    saved = {(v.area_id, v.indicator.code, v.year): v.value for v in SeriesValue.objects.filter(source="BPS Bontang")}
    assert saved == {("64.74", "p0_pct", 2026): Decimal("3.05"), ("64.74", "p0_pct", 2025): Decimal("3.40"),
                     ("64.74", "extreme_poor_pct", 2025): Decimal("0.41")}  # fmt: skip
    again = import_file(actor=admin, path=_write(tmp_path, "bps2.csv", SERIES.replace('"3,05"', '"3,01"')),
                        kind="bps", source_name="BPS Bontang")  # fmt: skip
    assert (again.counts["values_new"], again.counts["values_changed"], again.counts["values_unchanged"]) == (0, 1, 2)
    import_rollback(actor=admin, batch=again.batch)
    assert SeriesValue.objects.get(source="BPS Bontang", year=2026).value == Decimal("3.05")
    import_rollback(actor=admin, batch=outcome.batch)
    assert not SeriesValue.objects.filter(source="BPS Bontang").exists()


def test_targets_keep_their_sign_and_only_planners_may_import_them(
    db: None, admin: User, tmp_path: Path, make_user: Callable[..., User]
) -> None:
    path = _write(tmp_path, "target.csv", TARGETS)
    operator = make_user("opd", Role.AGENCY_OPERATOR, area="61.07")
    with pytest.raises(PermissionDenied):
        import_file(actor=operator, path=path, kind="targets", source_name="Bappeda")
    outcome = import_file(actor=admin, path=path, kind="targets", source_name="Bappeda")
    assert [(i.row_number, i.code) for i in outcome.issues(errors_only=True)] == [(4, "number.invalid")]
    p0 = Target.objects.get(area_id="61.07", indicator__code="p0_pct")
    assert (p0.year, p0.value, p0.comparison, p0.document) == (2026, Decimal("5.62"), "<", "RPJMD 2021-2026")
    extreme = Target.objects.get(area_id="61.07", indicator__code="extreme_poor_pct")
    assert (extreme.value, extreme.comparison) == (Decimal("0"), "<=")  # lower is better: a ceiling
