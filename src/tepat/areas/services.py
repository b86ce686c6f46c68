"""Loading the Kemendagri code list and the boundaries into the database."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from tepat.areas.models import CODE_LENGTHS, Area, Boundary, Kind, Level
from tepat.engine.geo import summarise
from tepat.errors import UserError

REFERENCE_FILES = (
    (Level.PROVINCE, "provinces.csv", ("code", "name")),
    (Level.REGENCY, "regencies.csv", ("code", "province_code", "name")),
    (Level.DISTRICT, "districts.csv", ("code", "regency_code", "name")),
    (Level.VILLAGE, "villages.csv", ("code", "district_code", "name")),
)
BOUNDARY_FILES = (
    "indonesia_provinces.geojson.gz",
    "indonesia_regencies.geojson.gz",
    "indonesia_districts.geojson.gz",
    "kalimantan_villages.geojson.gz",
)
BOUNDARY_SOURCE = "cahyadsn/wilayah_boundaries (MIT), Kepmendagri 300.2.2-2430/2025"

Progress = Callable[[str, int, int], None]


class AreaDataError(UserError):
    """The shipped reference files are missing or malformed (a broken installation, not user input)."""


@dataclass
class AreaLoadResult:
    counts: dict[str, int] = field(default_factory=dict)
    boundaries: int = 0


def area_kind(code: str, level: int) -> Kind:
    """Kinds follow from the code: regency numbers 71+ are cities; village numbers starting 1 are kelurahan."""
    if level == Level.PROVINCE:
        return Kind.PROVINCE
    if level == Level.REGENCY:
        return Kind.CITY if int(code[3:5]) >= 71 else Kind.REGENCY
    if level == Level.DISTRICT:
        return Kind.DISTRICT
    return Kind.KELURAHAN if code[9] == "1" else Kind.DESA


def _read_reference(path: Path, columns: tuple[str, ...], level: Level) -> list[Area]:
    if not path.exists():
        raise AreaDataError(f"reference file missing: {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = tuple(next(reader, ()))
        if header != columns:
            raise AreaDataError(f"{path.name}: expected columns {','.join(columns)}, found {','.join(header)}")
        areas = []
        expected_len = CODE_LENGTHS[level]
        for line, row in enumerate(reader, start=2):
            code = row[0].strip()
            if len(code) != expected_len:
                raise AreaDataError(f"{path.name} line {line}: code {code!r} is not a {level.label} code")
            parent = row[1].strip() if level != Level.PROVINCE else None
            areas.append(
                Area(code=code, parent_id=parent, level=level, kind=area_kind(code, level), name=row[-1].strip())
            )
    return areas


@transaction.atomic
def areas_load(
    *, data_dir: Path, boundaries: bool = True, within: str = "", progress: Progress | None = None
) -> AreaLoadResult:
    """Load (or refresh) all of Indonesia's areas; optionally boundaries, all or only those inside ``within``.

    Idempotent: re-running updates names and parents in place, so addresses that point at areas are kept.
    """
    result = AreaLoadResult()
    for level, filename, columns in REFERENCE_FILES:
        areas = _read_reference(data_dir / "reference" / filename, columns, level)
        Area.objects.bulk_create(
            areas,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["parent", "level", "kind", "name"],
        )
        result.counts[level.name.lower()] = len(areas)
        if progress:
            progress(f"areas.{level.name.lower()}", len(areas), len(areas))
    if boundaries:
        result.boundaries = boundaries_load(data_dir=data_dir, within=within, progress=progress)
    return result


def boundaries_load(*, data_dir: Path, within: str = "", progress: Progress | None = None) -> int:
    known = set(Area.objects.values_list("code", flat=True))
    loaded = 0
    for filename in BOUNDARY_FILES:
        path = data_dir / "boundaries" / filename
        if not path.exists():
            raise AreaDataError(f"boundary file missing: {path}")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        rows = []
        for feature in features:
            code = feature["properties"]["code"]
            if within and not (code == within or code.startswith(within + ".") or within.startswith(code + ".")):
                continue
            if code not in known:
                continue
            summary = summarise(feature["geometry"])
            rows.append(
                Boundary(
                    area_id=code,
                    geojson=json.dumps(feature["geometry"], separators=(",", ":")),
                    source=BOUNDARY_SOURCE,
                    **summary.__dict__,
                )
            )
        Boundary.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["area"],
            update_fields=[
                "geojson",
                "min_lon",
                "min_lat",
                "max_lon",
                "max_lat",
                "point_lon",
                "point_lat",
                "area_km2",
                "source",
            ],
        )
        loaded += len(rows)
        if progress:
            progress(f"boundaries.{filename.split('_')[1].split('.')[0]}", len(rows), len(features))
    return loaded
