"""The engine's family table, built from the registry: one row per active family, the FAMILY_FIELDS columns.

Scorecards, eligibility rules, dry runs and scenarios all read this one table, so a rule means the same on every
page. It is built with a handful of ``values_list`` queries (families with their dwelling in one join, active
members in one, exclusion findings and local scores in one each) and numpy/pyarrow column operations — never a
query per family — because a regency has hundreds of thousands of persons and a dry run should answer while the
analyst waits.

Member counts follow the engine's family_table (tepat.engine.scorecard), with ages in whole years on the given day,
as people state them ("anak usia 7–18 tahun"): under 5 = 0–4, school age = 7–18, elderly = 60+. Only living
members of the active KK count; someone recorded dead or moved out no longer lives in the family.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, QuerySet
from django.db.models.functions import Cast

from tepat.areas.selectors import within_q
from tepat.engine.rules import FieldRef, Rule, RuleError, RuleProblem, compile_rule
from tepat.engine.scorecard import (
    DEFAULT_SCORECARD,
    EDUCATION_LEVELS,
    EXCLUSION_FLAGS,
    FAMILY_SCHEMA,
    NOT_EARNING,
    NOT_WORKING,
)
from tepat.registry.models import (
    HOUSING_FIELDS,
    Exclusion,
    Family,
    FamilyStatus,
    Membership,
    Relationship,
    Sex,
    VitalStatus,
)

Progress = Callable[[str, int, int], None]

HOUSING = HOUSING_FIELDS
FLAG_COLUMNS = (*EXCLUSION_FLAGS.values(), "flag.any")
# Every column this module fills. A rule naming anything else (food_share, homeless …: survey data the registry does
# not hold) is refused when saved, rather than silently matching nobody when a list is drawn up.
REGISTRY_FIELDS: frozenset[str] = frozenset(
    (
        "family_id",
        "kode_desa",
        "kode_kecamatan",
        "kode_kabupaten",
        "desil",
        "desil_provinsi",
        "desil_kabupaten",
        "extreme_poor",
        "local_score",
        "local_desil",
        "members",
        "household_members",
        "children_under_5",
        "school_age_children",
        "children_out_of_school",
        "elderly",
        "disabled_members",
        "working_members",
        "max_education_level",
        "female_head",
        "head_age",
        "head_education",
        "head_education_level",
        "head_occupation",
        "head_not_working",
        *HOUSING,
        "floor_area_per_person",
        *FLAG_COLUMNS,
    )
)


def local_method() -> str:
    """The method behind ``local_score``/``local_desil`` in rules: one fixed scorecard, so that computing another
    scorecard for comparison never changes what an existing rule means."""
    card = getattr(settings, "TEPAT_LOCAL_SCORECARD", DEFAULT_SCORECARD)
    return f"scorecard:{card}"


def compile_registry_rule(text: str) -> Rule:
    """Parse a rule and check that every field it names is one the registry supplies; RuleError points at it."""
    rule = compile_rule(text, FAMILY_SCHEMA)
    for node in rule.nodes:
        if isinstance(node, FieldRef) and node.name not in REGISTRY_FIELDS:
            raise RuleError(RuleProblem.MISSING_COLUMN, node.start, node.end, names=node.written)
    return rule


@dataclass(frozen=True)
class RegistryFamilies:
    """The family table and the registry ids of its rows (ascending, aligned with the table)."""

    ids: np.ndarray  # int64 family pks
    table: pa.Table

    def __len__(self) -> int:
        return len(self.ids)

    def rows_of(self, family_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row index of each family id, -1 where the family is not in the table."""
        wanted = np.asarray(family_ids, dtype=np.int64)
        if not len(self.ids):
            return np.full(len(wanted), -1, dtype=np.int64)
        position = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        return np.where(self.ids[position] == wanted, position, -1)


def region_families() -> QuerySet[Family]:
    """Active families of the deployment region: what a region-wide run (local scores) ranks."""
    return Family.objects.filter(within_q(settings.TEPAT_REGION, field="village__code"), status=FamilyStatus.ACTIVE)


def family_table_from_registry(
    *,
    families: QuerySet[Family] | None = None,
    on: date | None = None,
    method: str | None = None,
    progress: Progress | None = None,
) -> RegistryFamilies:
    """The family table for ``families`` (already scoped by the caller; default: the whole region's active ones).

    ``method`` names the assessment whose score and desil fill ``local_score``/``local_desil`` (default: the
    region's local scorecard).
    """
    today = on or date.today()
    report = progress or (lambda stage, done, total: None)
    base = (region_families() if families is None else families).filter(status=FamilyStatus.ACTIVE)
    report("families", 0, 4)
    rows = _fetch(
        base.order_by("pk").values_list(
            "pk",
            "village_id",
            "desil_national",
            "desil_province",
            "desil_regency",
            "household_id",
            *(f"household__{name}" for name in HOUSING),
        )
    )
    n = len(rows)
    columns_raw = list(zip(*rows, strict=True)) if rows else [()] * (6 + len(HOUSING))
    ids = np.fromiter(columns_raw[0], dtype=np.int64, count=n)
    villages = pa.array(columns_raw[1], pa.string())
    desil = _numbers(columns_raw[2])
    columns: dict[str, Any] = {
        "family_id": pa.array([str(i) for i in ids.tolist()], pa.string()),
        "kode_desa": villages.dictionary_encode(),
        "kode_kecamatan": pc.utf8_slice_codeunits(villages, 0, 8).dictionary_encode(),
        "kode_kabupaten": pc.utf8_slice_codeunits(villages, 0, 5).dictionary_encode(),
        "desil": desil,
        "desil_provinsi": _numbers(columns_raw[3]),
        "desil_kabupaten": _numbers(columns_raw[4]),
        # Desil 1 is how P3KE practice names the extreme poor; the registry holds no separate flag yet.
        "extreme_poor": pc.equal(desil, 1.0),
    }
    report("members", 1, 4)
    members = _member_columns(base, ids, today)
    columns.update(members.columns)
    households = np.fromiter((h if h is not None else -1 for h in columns_raw[5]), dtype=np.int64, count=n)
    household_members = _household_members(base, households, np.asarray(members.columns["members"], dtype=np.float64))
    for offset, name in enumerate(HOUSING, start=6):
        values = columns_raw[offset]
        kind = FAMILY_SCHEMA.fields[name].type
        if kind == "text":
            columns[name] = pa.array([v or None for v in values], pa.string()).dictionary_encode()
        elif kind == "bool":
            columns[name] = pa.array(values, pa.bool_())
        else:
            columns[name] = pa.array(values, pa.float64())
    area = np.asarray(columns["floor_area_m2"].to_numpy(zero_copy_only=False), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = area / household_members
    columns["household_members"] = pa.array(household_members)
    columns["floor_area_per_person"] = pa.array(per_person, mask=~np.isfinite(per_person))
    report("flags", 2, 4)
    columns.update(_flag_columns(n, members))
    report("local", 3, 4)
    columns.update(_local_columns(ids, method or local_method()))
    report("local", 4, 4)
    return RegistryFamilies(ids=ids, table=pa.table(columns))


def _fetch(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """Rows of a ``values_list`` queryset straight from the cursor. The ORM's per-value converters cost more than
    the query itself at this size (~2 µs a value); the database driver already returns dates, booleans and
    numbers as Python values on SQLite (Django registers the converters) and on PostgreSQL."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _numbers(values: Sequence[Any]) -> pa.Array:
    return pa.array(values, pa.float64())


def _index(ids: np.ndarray, family_ids: np.ndarray) -> np.ndarray:
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    return np.searchsorted(ids, family_ids)


def _ages(born: Sequence[str | None], today: date) -> np.ndarray:
    """Whole years on ``today`` (NaN where the birth date is unknown), column-wise.

    Birth dates arrive as ISO text (cast in SQL) and are parsed by pyarrow in C: the database driver's date
    objects, and numpy's conversion of them, cost more than the query at this size.
    """
    parsed = pc.cast(pa.array(born, pa.string()), pa.date32(), safe=False) if len(born) else pa.array([], pa.date32())
    known = ~np.asarray(pc.is_null(parsed).to_numpy(zero_copy_only=False), dtype=bool)
    days = np.asarray(pc.fill_null(parsed, 0).cast(pa.int32()).to_numpy(zero_copy_only=False)).astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = days.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (days - month_start).astype(np.int64) + 1
    before_birthday = (today.month * 100 + today.day) < (month * 100 + day)
    age = (today.year - year - before_birthday).astype(np.float64)
    return np.where(known, age, np.nan)


def _levels(values: Sequence[str]) -> np.ndarray:
    """Education text → 0 (none) … 5 (degree), NaN when empty or not recognised."""
    encoded = pa.array(values, pa.string()).dictionary_encode()
    lookup = np.array(
        [EDUCATION_LEVELS.get((v or "").strip().lower(), np.nan) for v in encoded.dictionary.to_pylist()] + [np.nan],
        dtype=np.float64,
    )
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    return lookup[indices.astype(np.int64)] if len(indices) else np.zeros(0)


def _in(values: Sequence[str], options: frozenset[str] | set[str]) -> np.ndarray:
    encoded = pa.array(values, pa.string()).dictionary_encode()
    member = np.array([(v or "").strip().lower() in options for v in encoded.dictionary.to_pylist()] + [False])
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    return member[indices.astype(np.int64)] if len(indices) else np.zeros(0, dtype=bool)


@dataclass(frozen=True)
class _Members:
    columns: dict[str, Any]
    persons: np.ndarray  # person id of each member row
    rows: np.ndarray  # the table row (family) of each member row


def _member_columns(families: QuerySet[Family], ids: np.ndarray, today: date) -> _Members:
    n = len(ids)
    rows = _fetch(
        Membership.objects.filter(active=True, family__in=families.values("pk"), person__vital_status=VitalStatus.ALIVE)
        .annotate(born=Cast("person__birth_date", CharField()))
        .order_by("family_id", "position", "pk")
        .values_list(
            "family_id",
            "person_id",
            "relationship",
            "person__sex",
            "born",
            "person__education",
            "person__occupation",
            "person__disability",
        )
    )
    m = len(rows)
    family_ids, person_ids, relation, sex, born, education, occupation, disability = (
        zip(*rows, strict=True) if rows else ((), (), (), (), (), (), (), ())
    )
    row = _index(ids, np.fromiter(family_ids, dtype=np.int64, count=m))
    age = _ages(born, today)
    known = ~np.isnan(age)
    level = _levels(education)
    occupied = np.array([bool((o or "").strip()) for o in occupation], dtype=bool)
    not_earning = _in(occupation, NOT_EARNING)
    student = _in(occupation, {"pelajar/mahasiswa"})
    school_age = known & (age >= 7) & (age <= 18)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(row, weights=mask.astype(np.float64), minlength=n).astype(np.int64)

    edu15 = np.where(known & (age >= 15), level, np.nan)
    best = np.full(n, -1.0)
    valid = ~np.isnan(edu15)
    np.maximum.at(best, row[valid], edu15[valid])
    head = np.array([r == Relationship.HEAD for r in relation], dtype=bool)
    head_rows = np.flatnonzero(head)
    first_family, first_at = np.unique(row[head_rows], return_index=True)  # rows are ordered by position
    heads = head_rows[first_at]
    has_head = np.zeros(n, dtype=bool)
    has_head[first_family] = True

    head_female = np.zeros(n, dtype=bool)
    head_female[first_family] = np.array([sex[i] == Sex.FEMALE for i in heads], dtype=bool)
    head_age = np.full(n, np.nan)
    head_age[first_family] = age[heads]
    head_level = np.full(n, np.nan)
    head_level[first_family] = level[heads]
    head_education: list[str | None] = [None] * n
    head_occupation: list[str | None] = [None] * n
    for family_row, i in zip(first_family.tolist(), heads.tolist(), strict=True):
        head_education[family_row] = education[i] or None
        head_occupation[family_row] = occupation[i] or None
    head_not_working = np.zeros(n, dtype=bool)
    head_not_working[first_family] = _in([occupation[i] for i in heads], NOT_WORKING)
    head_known_work = np.zeros(n, dtype=bool)
    head_known_work[first_family] = occupied[heads]
    columns = {
        "members": pa.array(count(np.ones(m, dtype=bool))),
        "children_under_5": pa.array(count(known & (age < 5))),
        "school_age_children": pa.array(count(school_age)),
        "children_out_of_school": pa.array(count(school_age & ~student)),
        "elderly": pa.array(count(known & (age >= 60))),
        "disabled_members": pa.array(count(np.array([d is True for d in disability], dtype=bool))),
        "working_members": pa.array(count(occupied & ~not_earning)),
        "max_education_level": pa.array(best, mask=best < 0),
        "female_head": pa.array(head_female, mask=~has_head),
        "head_age": pa.array(head_age, mask=np.isnan(head_age)),
        "head_education": pa.array(head_education, pa.string()).dictionary_encode(),
        "head_education_level": pa.array(head_level, mask=np.isnan(head_level)),
        "head_occupation": pa.array(head_occupation, pa.string()).dictionary_encode(),
        "head_not_working": pa.array(head_not_working, mask=~head_known_work),
    }
    return _Members(columns, np.fromiter(person_ids, dtype=np.int64, count=m), row)


def _household_members(families: QuerySet[Family], households: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Everyone under the roof: a dwelling can hold several KKs. Summed over the table's families, and counted in
    the registry only for dwellings that also hold KKs outside the table (another village's operator's view, a
    single-family check), which a region-wide table never has."""
    out = members.copy()
    shared = households >= 0
    if not shared.any():
        return out
    codes, inverse = np.unique(households[shared], return_inverse=True)
    totals = np.bincount(inverse, weights=members[shared], minlength=len(codes))
    outside = list(
        Family.objects.filter(
            status=FamilyStatus.ACTIVE,
            household_id__in=families.filter(household__isnull=False).values("household_id"),
        )
        .exclude(pk__in=families.values("pk"))
        .values_list("household_id", flat=True)
        .distinct()
    )
    if outside:
        counted = (
            Membership.objects.filter(
                active=True,
                person__vital_status=VitalStatus.ALIVE,
                family__status=FamilyStatus.ACTIVE,
                family__household_id__in=outside,
            )
            .values_list("family__household_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for household, count in counted:
            at = int(np.searchsorted(codes, household))
            if at < len(codes) and codes[at] == household:
                totals[at] = count
    out[shared] = totals[inverse]
    return out


def _flag_columns(n: int, members: _Members) -> dict[str, pa.Array]:
    """The custodians' exclusion findings on any living member of the active KK; no finding is "no".

    The findings of the whole registry are read (a short table) and matched to the members already read, which
    costs far less than joining them to memberships and families in the database.
    """
    out = {name: np.zeros(n, dtype=bool) for name in FLAG_COLUMNS}
    findings = _fetch(Exclusion.objects.filter(person__isnull=False).values_list("person_id", "kind"))
    if findings and len(members.persons):
        order = np.argsort(members.persons)
        persons = members.persons[order]
        for person_id, kind in findings:
            column = EXCLUSION_FLAGS.get(kind)
            at = int(np.searchsorted(persons, person_id))
            if column is not None and at < len(persons) and persons[at] == person_id:
                row = members.rows[order[at]]
                out[column][row] = True
                out["flag.any"][row] = True
    return {name: pa.array(values) for name, values in out.items()}


def _local_columns(ids: np.ndarray, method: str) -> dict[str, pa.Array]:
    from tepat.targeting.models import WelfareAssessment

    n = len(ids)
    score = np.full(n, np.nan)
    desil = np.full(n, np.nan)
    rows = _fetch(WelfareAssessment.objects.filter(method=method).values_list("family_id", "score", "desil"))
    if rows and n:
        family_ids, scores, desils = zip(*rows, strict=True)
        wanted = np.asarray(family_ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(ids, wanted), n - 1)
        here = ids[at] == wanted  # the method covers the region; the table may be one village
        score[at[here]] = np.array([np.nan if v is None else v for v in scores], dtype=np.float64)[here]
        desil[at[here]] = np.array([np.nan if v is None else v for v in desils], dtype=np.float64)[here]
    return {
        "local_score": pa.array(score, mask=np.isnan(score)),
        "local_desil": pa.array(desil, mask=np.isnan(desil)),
    }
