"""From the DTSEN extract's person rows to the family table (for files; the web application reads the registry)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.scorecard.arrays import encode
from tepat.engine.scorecard.fields import EDUCATION_LEVELS, NOT_EARNING, NOT_WORKING
from tepat.engine.scorecard.ranking import area_level


def family_table(persons: pa.Table, *, on: date, family_column: str = "id_keluarga") -> pa.Table:
    """One row per family with the FAMILY_FIELDS columns, from person rows named as in the DTSEN extract.

    Housing columns describe the dwelling and are repeated on every member's row; member columns (age, schooling,
    work, disability) are counted per family. Column-wise (pyarrow group-by), so a regency's extract takes about a
    second. Columns the extract lacks come out empty rather than failing: scorecards skip what is not there.
    """
    n = persons.num_rows
    names = set(persons.column_names)

    def text(name: str) -> pa.Array:
        if name not in names:
            return pa.nulls(n, pa.string())
        column = persons.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        column = column.cast(pa.string())
        return pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), pa.scalar(None, pa.string()), column)

    def number(name: str) -> pa.Array:
        if name not in names:
            return pa.nulls(n, pa.float64())
        column = persons.column(name).combine_chunks()
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            return column.cast(pa.float64())
        return _to_float(text(name))

    family = text(family_column)
    born = pc.strptime(text("tanggal_lahir"), format="%Y-%m-%d", unit="s", error_is_null=True)
    born_days = pc.cast(pc.cast(born, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False)
    today = (on - date(1970, 1, 1)).days
    age = (today - np.asarray(born_days, dtype=np.float64)) / 365.2425
    education = _lookup_levels(text("pendidikan"))
    occupation = pc.utf8_lower(text("pekerjaan"))
    not_earning = _in(occupation, NOT_EARNING)
    student = _in(occupation, {"pelajar/mahasiswa"})
    disabled = _yes(text("disabilitas"))
    relation = pc.utf8_lower(text("hubungan_keluarga"))
    head = pc.fill_null(pc.match_substring(relation, "kepala"), False).to_numpy(zero_copy_only=False)
    female = pc.fill_null(pc.is_in(pc.utf8_upper(text("jenis_kelamin")), pa.array(["P", "PEREMPUAN"])), False)
    known_age = ~np.isnan(age)
    school_age = known_age & (age >= 7) & (age < 19)
    members = pa.table(
        {
            "family": family,
            "one": np.ones(n, dtype=np.int64),
            "under5": (known_age & (age < 5)).astype(np.int64),
            "school_age": school_age.astype(np.int64),
            "out_of_school": (school_age & ~student).astype(np.int64),
            "elderly": (known_age & (age >= 60)).astype(np.int64),
            "disabled": disabled.astype(np.int64),
            "working": (~not_earning & pc.is_valid(occupation).to_numpy(zero_copy_only=False)).astype(np.int64),
            "edu15": pa.array(education, mask=~(known_age & (age >= 15)) | np.isnan(education)),
        }
    )
    housing = {
        "kode_desa": text("kode_desa"),
        "household": text("id_rumah_tangga"),
        "desil": number("desil_nasional"),
        "desil_provinsi": number("desil_provinsi"),
        "desil_kabupaten": number("desil_kabupaten"),
        "tenure": text("status_kepemilikan_rumah"),
        "floor_area_m2": number("luas_lantai_m2"),
        "floor": text("jenis_lantai"),
        "wall": text("jenis_dinding"),
        "roof": text("jenis_atap"),
        "drinking_water": text("sumber_air_minum"),
        "sanitation": text("fasilitas_bab"),
        "electricity": text("daya_listrik"),
        "cooking_fuel": text("bahan_bakar_memasak"),
        "owns_car": pa.array(_yes(text("aset_mobil")), mask=_null(text("aset_mobil"))),
        "motorcycles": number("aset_sepeda_motor"),
    }
    for name, values in housing.items():
        members = members.append_column(name, values)
    counts = members.group_by("family", use_threads=False).aggregate(
        [
            ("one", "sum"),
            ("under5", "sum"),
            ("school_age", "sum"),
            ("out_of_school", "sum"),
            ("elderly", "sum"),
            ("disabled", "sum"),
            ("working", "sum"),
            ("edu15", "max"),
            *[(name, "first") for name in housing],
        ]
    )
    heads = pa.table(
        {
            "family": family,
            "female_head": female,
            "head_age": pa.array(age, mask=~known_age),
            "head_education": text("pendidikan"),
            "head_education_level": pa.array(education, mask=np.isnan(education)),
            "head_occupation": text("pekerjaan"),
        }
    ).filter(pa.array(head))
    heads = heads.group_by("family", use_threads=False).aggregate(
        [(name, "first") for name in heads.column_names if name != "family"]
    )
    heads = heads.rename_columns(["family" if c == "family" else c.removesuffix("_first") for c in heads.column_names])
    rename = {f"{name}_first": name for name in housing}
    rename.update(
        {
            "one_sum": "members",
            "under5_sum": "children_under_5",
            "school_age_sum": "school_age_children",
            "out_of_school_sum": "children_out_of_school",
            "elderly_sum": "elderly",
            "disabled_sum": "disabled_members",
            "working_sum": "working_members",
            "edu15_max": "max_education_level",
        }
    )
    counts = counts.rename_columns([rename.get(c, c) for c in counts.column_names])
    joined = counts.join(heads, "family", join_type="left outer", use_threads=False)
    # Floor area per person counts everyone under the roof: a dwelling can hold several families (KK).
    sizes = counts.group_by("household", use_threads=False).aggregate([("members", "sum")])
    joined = joined.join(sizes, "household", join_type="left outer", use_threads=False)
    joined = joined.take(pc.sort_indices(joined, sort_keys=[("family", "ascending")]))
    household_members = pc.coalesce(joined.column("members_sum"), joined.column("members")).to_numpy().astype(float)
    area = joined.column("floor_area_m2").to_numpy(zero_copy_only=False).astype(np.float64)
    per_person = area / household_members
    occupation_head = pc.utf8_lower(joined.column("head_occupation")).combine_chunks()
    columns: dict[str, Any] = {
        "family_id": joined.column("family"),
        "kode_desa": joined.column("kode_desa"),
        "kode_kecamatan": area_level(joined.column("kode_desa"), "district"),
        "kode_kabupaten": area_level(joined.column("kode_desa"), "regency"),
        "members": joined.column("members"),
        "household_members": pa.array(household_members),
        "floor_area_per_person": pa.array(per_person, mask=np.isnan(per_person)),
        "head_not_working": pa.array(_in(occupation_head, NOT_WORKING), mask=_null(occupation_head)),
    }
    keep = [c for c in joined.column_names if c not in ("family", "household", "kode_desa", "members", "members_sum")]
    for name in keep:
        columns[name] = joined.column(name)
    return pa.table(columns)


def _to_float(values: pa.Array) -> pa.Array:
    numeric = pc.match_substring_regex(values, r"^\s*-?\d+([.,]\d+)?\s*$")
    cleaned = pc.replace_substring(pc.utf8_trim_whitespace(values), ",", ".")
    safe = pc.if_else(numeric, cleaned, pa.scalar(None, pa.string()))
    return pc.cast(safe, pa.float64())


def _lookup_levels(values: pa.Array) -> np.ndarray:
    index, distinct = encode(pc.utf8_lower(pc.utf8_trim_whitespace(values)))
    levels = np.array([EDUCATION_LEVELS.get(v, np.nan) if v else np.nan for v in distinct] + [np.nan])
    return levels[index]


def _null(values: pa.Array) -> np.ndarray:
    return pc.is_null(values).to_numpy(zero_copy_only=False)


def _in(values: pa.Array, options: Iterable[str]) -> np.ndarray:
    return pc.fill_null(pc.is_in(values, pa.array(sorted(options))), False).to_numpy(zero_copy_only=False)


def _yes(values: pa.Array) -> np.ndarray:
    lowered = pc.utf8_lower(values)
    return _in(lowered, {"ya", "y", "1", "true", "ada", "punya", "benar", "yes"})
