"""Kemendagri reference data as the generator needs it: the chosen region and the rest of the country.

The rest of the country matters because a quarter of a regency's people were first registered elsewhere: their
NIK carries a real district code from their province of origin, and people who move out go to real villages.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tepat.engine.synth._errors import SynthError


@dataclass(frozen=True, slots=True)
class Village:
    code: str  # dotted, 64.74.03.1002
    district: str  # dotted, 64.74.03
    name: str
    urban: bool  # kelurahan (4-digit part starts with 1) rather than desa


@dataclass(frozen=True)
class Region:
    code: str
    name: str  # "Kota Bontang"
    short_name: str  # "Bontang": what people write as their place of birth
    province_code: str
    province_name: str
    districts: tuple[str, ...]
    district_names: dict[str, str]
    villages: tuple[Village, ...]


@dataclass(frozen=True)
class Atlas:
    """The whole country, indexed for sampling origins and destinations."""

    provinces: dict[str, str]
    regency_names: dict[str, str]
    districts_by_province: dict[str, list[str]]
    districts_by_regency: dict[str, list[str]]
    district_names: dict[str, str]
    villages_by_district: dict[str, list[str]]
    village_rows: dict[str, list[tuple[str, str, str]]]  # regency -> (code, district, name)


def short_regency_name(name: str) -> str:
    """People write "Bone" or "Samarinda" as their place of birth, not "Kabupaten Bone"."""
    for prefix in ("Kabupaten ", "Kota Administrasi ", "Kota "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise SynthError(f"reference file not found: {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return [row for row in reader if row]


def load_atlas(reference_dir: Path) -> Atlas:
    provinces = {code: name for code, name in _rows(reference_dir / "provinces.csv")}
    regency_names = {code: name for code, _province, name in _rows(reference_dir / "regencies.csv")}
    districts_by_province: dict[str, list[str]] = {}
    districts_by_regency: dict[str, list[str]] = {}
    district_names: dict[str, str] = {}
    for code, regency, name in _rows(reference_dir / "districts.csv"):
        districts_by_regency.setdefault(regency, []).append(code)
        districts_by_province.setdefault(code[:2], []).append(code)
        district_names[code] = name
    villages_by_district: dict[str, list[str]] = {}
    village_rows: dict[str, list[tuple[str, str, str]]] = {}
    for code, district, name in _rows(reference_dir / "villages.csv"):
        villages_by_district.setdefault(district, []).append(code)
        village_rows.setdefault(district[:5], []).append((code, district, name))
    return Atlas(
        provinces=provinces,
        regency_names=regency_names,
        districts_by_province=districts_by_province,
        districts_by_regency=districts_by_regency,
        district_names=district_names,
        villages_by_district=villages_by_district,
        village_rows=village_rows,
    )


def normalise_region_code(raw: str) -> str:
    """Accept "64.74" and "6474": both are written in the field."""
    code = raw.strip()
    if len(code) == 4 and code.isdigit():
        code = f"{code[:2]}.{code[2:]}"
    return code


def region_of(atlas: Atlas, raw_code: str) -> Region:
    code = normalise_region_code(raw_code)
    name = atlas.regency_names.get(code)
    if name is None:
        raise SynthError(f"unknown regency/city code: {raw_code!r}")
    villages = tuple(
        Village(code=v_code, district=district, name=v_name, urban=v_code[9] == "1")
        for v_code, district, v_name in sorted(atlas.village_rows.get(code, []))
    )
    if not villages:
        raise SynthError(f"region {code} ({name}) has no villages in the reference data")
    districts = tuple(sorted({village.district for village in villages}))
    return Region(
        code=code,
        name=name,
        short_name=short_regency_name(name),
        province_code=code[:2],
        province_name=atlas.provinces.get(code[:2], code[:2]),
        districts=districts,
        district_names={district: atlas.district_names.get(district, district) for district in districts},
        villages=villages,
    )
