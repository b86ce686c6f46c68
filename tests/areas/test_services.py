from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tepat.areas.models import Area, Boundary, Kind, Level
from tepat.areas.selectors import areas_within
from tepat.areas.services import AreaDataError, area_kind, areas_load

pytestmark = pytest.mark.django_db


def test_the_whole_code_list_is_loaded_with_exact_counts() -> None:
    counts = {level: Area.objects.filter(level=level).count() for level in Level}
    assert counts == {Level.PROVINCE: 38, Level.REGENCY: 514, Level.DISTRICT: 7285, Level.VILLAGE: 83762}


def test_every_area_below_a_province_has_its_parent() -> None:
    orphans = Area.objects.exclude(level=Level.PROVINCE).filter(parent__isnull=True).count()
    mismatched = [
        a.code
        for a in Area.objects.exclude(level=Level.PROVINCE).select_related("parent")[:5000]
        if not a.code.startswith(a.parent.code + ".")
    ]
    assert orphans == 0 and mismatched == []


@pytest.mark.parametrize(
    "code, kind",
    [
        ("64.74", Kind.CITY),  # Kota Bontang: regency number 71+
        ("64.01", Kind.REGENCY),  # Kabupaten Paser
        ("64.74.03.1002", Kind.KELURAHAN),  # Gunung Telihan: village number starting 1
        ("11.01.01.2001", Kind.DESA),  # Keude Bakongan: starting 2
    ],
)
def test_kind_follows_from_the_code(code: str, kind: Kind) -> None:
    assert Area.objects.get(code=code).kind == kind


def test_bontang_has_three_districts_and_fifteen_kelurahan() -> None:
    assert areas_within("64.74", level=Level.DISTRICT).count() == 3
    villages = areas_within("64.74", level=Level.VILLAGE)
    assert villages.count() == 15 and set(villages.values_list("kind", flat=True)) == {Kind.KELURAHAN}


def test_region_boundaries_have_a_point_inside_and_a_plausible_area() -> None:
    bontang = Boundary.objects.get(area_id="64.74")
    assert bontang.min_lon < bontang.point_lon < bontang.max_lon
    assert bontang.min_lat < bontang.point_lat < bontang.max_lat
    # Kota Bontang covers about 160 km² of land (BPS); the boundary includes some coastal water.
    assert 100 < bontang.area_km2 < 500
    village_area = sum(
        Boundary.objects.filter(area__code__startswith="64.74.", area__level=Level.VILLAGE).values_list(
            "area_km2", flat=True
        )
    )
    assert Boundary.objects.filter(area__code__startswith="64.74.", area__level=Level.VILLAGE).count() == 15
    assert village_area == pytest.approx(bontang.area_km2, rel=0.15)


def test_reloading_is_idempotent_and_keeps_references() -> None:
    before = Area.objects.count()
    areas_load(data_dir=Path(settings.DATA_DIR), boundaries=False)
    assert Area.objects.count() == before


def test_a_broken_reference_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "provinces.csv").write_text("kode,nama\n64,Kaltim\n", encoding="utf-8")
    with pytest.raises(AreaDataError, match="expected columns code,name"):
        areas_load(data_dir=tmp_path, boundaries=False)


def test_area_kind_for_codes() -> None:
    assert area_kind("91.71", Level.REGENCY) == Kind.CITY
    assert area_kind("91.03.01.2001", Level.VILLAGE) == Kind.DESA
