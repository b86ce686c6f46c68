"""The pages' lists kept per area in the snapshot are the first families of the region's lists in that area, and
every level's figures are the sums of the level below: checked on a synthetic city with every program's list."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tepat.accounts.models import User
from tepat.areas.models import Area
from tepat.engine.synth import SynthConfig, generate
from tepat.intake.models import BatchStatus
from tepat.intake.services import import_file
from tepat.programs.analysis import excluded_listed, many_listed, snapshot_state
from tepat.programs.models import NO_VILLAGE, AnalysisArea
from tepat.programs.snapshot import figures as snapshots

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def city(admin: User) -> Iterator[None]:
    """~1,500 persons in every village of Bontang with every program's recipient list (private temp folder: see
    tests/targeting/conftest.py)."""
    with tempfile.TemporaryDirectory(prefix="tepat-programs-") as folder:
        out = Path(folder) / "synth"
        generate(SynthConfig(region="64.74", persons=1500, seed=5),
                 reference_dir=Path(settings.DATA_DIR) / "reference", out_dir=out)  # fmt: skip
        names = [("dtsen_extract.csv", "dtsen"), ("exclusion_list.csv", "exclusion")]
        names += [(p.name, "program") for p in sorted(out.glob("program_*.csv"))]
        for name, kind in names:
            outcome = import_file(actor=admin, path=out / name, kind=kind, source_name=name)
            assert outcome.batch.status == BatchStatus.COMMITTED, outcome.batch.error
        yield


def test_area_lists_are_the_first_families_of_each_area(city: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "LIST_TOP", 3)  # small, so that areas above villages must choose
    monkeypatch.setattr(snapshots.area_lists, "__kwdefaults__", {"limit": 3})
    snapshot = snapshot_state(period="").shown
    assert snapshot is not None
    checked = 0
    for row in AnalysisArea.objects.filter(snapshot=snapshot).exclude(code=NO_VILLAGE):
        area = Area.objects.get(code=row.code)
        lists = row.detail.get("lists", {})
        expected = {"none": [f for f, _ in excluded_listed(snapshot, area, None)[:3]],
                    "many": [f for f, _ in many_listed(snapshot, area)[:3]]}  # fmt: skip
        for p in range(len(snapshot.programs)):
            expected[f"p{p}"] = [f for f, _ in excluded_listed(snapshot, area, p)[:3]]
        for name, ids in expected.items():
            assert [f for f, _received in lists.get(name, [])] == ids, (row.code, name)
            checked += bool(ids)
    assert checked > 50


def test_every_level_sums_the_level_below(city: None) -> None:
    snapshot = snapshot_state(period="").shown
    assert snapshot is not None
    rows = {r.code: r for r in AnalysisArea.objects.filter(snapshot=snapshot)}
    region = rows["64.74"]
    children = [r for r in rows.values() if r.parent == "64.74"]
    for name in ("families", "poor", "extreme_no_help", "reached_any", "many"):
        assert region.totals[name] == sum(c.totals[name] for c in children), name
    assert region.totals["families"] > 300
    for district in (r for r in children if r.code != NO_VILLAGE):
        villages = [r for r in rows.values() if r.parent == district.code]
        assert len(villages) >= 3
        for p in range(len(snapshot.programs)):
            assert district.detail["programs"][p] == [
                round(sum(v.detail["programs"][p][k] for v in villages), 2) for k in range(13)
            ], (district.code, p)
    # ledger rows counted once each, whether the database summed them per family or not
    rows_at = snapshots.ROW_MEASURES.index("rows")
    from tepat.programs.models import Benefit

    counted = sum(values[rows_at] for values in region.detail["programs"])
    assert counted == Benefit.objects.filter(status__in=["delivered", "verified"]).count()
