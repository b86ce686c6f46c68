"""Reads of the registry. Every function takes the acting user and returns only what role and area allow.

NIK and KK numbers leave this module already masked for users without VIEW_FULL_NIK, and sensitive fields
(mother's maiden name, disability, exact birth date) already removed for users without VIEW_SENSITIVE, so no
template or export can show them by mistake.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area, Level, ancestor_codes
from tepat.areas.selectors import area_path, within_q
from tepat.engine.identity import mask_nik
from tepat.registry.labels import labels
from tepat.registry.models import (
    Change,
    Exclusion,
    Family,
    FamilyStatus,
    Household,
    Membership,
    Person,
    RegistryFlag,
    Relationship,
    SourceRecord,
    VitalStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


def _shown_number(actor: Actor, number: str | None, raw: str) -> str:
    value = number or raw
    if not value:
        return ""
    return value if has_permission(actor, Permission.VIEW_FULL_NIK) else mask_nik(value)


# -- lists -------------------------------------------------------------------------------------------------------
POOR_DESIL = 4  # desil 1–4: the PKH line (Kepmensos 79/HUK/2025), the dashboard's "poor families"


def flagged_families_q() -> Q:
    """Families with an open data-quality finding, a member with an exclusion match, or a member recorded dead.

    Written as IN-subqueries (not joins) so counts per village stay one pass over families on both databases.
    """
    open_flags = RegistryFlag.objects.filter(resolved_at__isnull=True)
    members = Membership.objects.filter(active=True)
    return (
        Q(pk__in=open_flags.filter(family__isnull=False).values("family_id"))
        | Q(pk__in=members.filter(person__in=open_flags.filter(person__isnull=False).values("person_id")).values(
            "family_id"))
        | Q(pk__in=members.filter(person__in=Exclusion.objects.filter(person__isnull=False).values("person_id"))
            .values("family_id"))
        | Q(pk__in=members.filter(person__vital_status=VitalStatus.DECEASED).values("family_id"))
    )  # fmt: skip


def served_families_q() -> Q:
    """Families where any active member appears in the benefit ledger (any program, any period)."""
    return Q(pk__in=Membership.objects.filter(active=True, person__benefits__isnull=False).values("family_id"))


def family_list(
    *,
    actor: Actor,
    village: str = "",
    query: str = "",
    desil: int | None = None,
    flagged: bool = False,
    poor_unserved: bool = False,
) -> QuerySet[Family]:
    """Active families in the actor's area, with the head's name and the member count, newest KK first.

    ``flagged``: only families with a finding; ``poor_unserved``: desil 1–4 families nobody's ledger reaches.
    """
    families = Family.objects.visible_to(actor).filter(status=FamilyStatus.ACTIVE)
    if village:
        families = families.filter(within_q(village, field="village__code"))
    if desil is not None:
        families = families.filter(desil_national=desil)
    if flagged:
        families = families.filter(flagged_families_q())
    if poor_unserved:
        families = families.filter(desil_national__lte=POOR_DESIL).exclude(served_families_q())
    if query:
        text = query.strip()
        digits = text.replace(" ", "")
        if digits.isdigit() and len(digits) == 16:
            families = families.filter(Q(kk=digits) | Q(memberships__person__nik=digits)).distinct()
        else:
            families = families.filter(memberships__person__name__icontains=text).distinct()
    head = Membership.objects.filter(family=OuterRef("pk"), relationship=Relationship.HEAD).order_by("position")
    return (
        families.select_related("village", "address")
        .annotate(
            head_name=Subquery(head.values("person__name")[:1]),
            members=Count("memberships", filter=Q(memberships__active=True), distinct=True),
        )
        .order_by("village_id", "pk")
    )


def family_rows(*, actor: Actor, families: list[Family]) -> list[dict[str, Any]]:
    """The rows a family list shows, with the KK number masked as the actor's role requires."""
    return [
        {
            "pk": f.pk,
            "kk": _shown_number(actor, f.kk, f.kk_raw),
            "head_name": getattr(f, "head_name", "") or "",
            "members": getattr(f, "members", 0),
            "village": f.village.name,
            "address": str(f.address) if f.address else "",
            "desil": f.desil_national,
        }
        for f in families
    ]


def family_get(*, actor: Actor, pk: int) -> Family:
    """Raises Family.DoesNotExist both when it does not exist and when the actor may not see it."""
    return Family.objects.visible_to(actor).select_related("village__parent", "address", "household").get(pk=pk)


# -- the family page ----------------------------------------------------------------------------------------------
@dataclass
class Provenance:
    source: str
    file_name: str
    row: int
    batch_id: int
    imported: Any


@dataclass
class FieldValue:
    name: str
    label: str
    value: Any
    provenance: Provenance | None


@dataclass
class MemberView:
    person_id: int
    nik: str
    nik_valid: bool
    nik_problems: list[str]
    name: str
    sex: str
    relationship: str
    birth_date: date | None
    age: int | None
    active: bool
    conflict: bool
    vital_status: str
    fields: list[FieldValue]


@dataclass
class FamilyProfile:
    family: Family
    kk: str
    kk_problems: list[str]
    area_path: list[Area]
    members: list[MemberView]
    family_fields: list[FieldValue]
    housing: list[FieldValue]
    history: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    benefits: list[dict[str, Any]] = field(default_factory=list)


PERSON_LABELS = labels(
    "name",
    "nik",
    "sex",
    "birth_place",
    "birth_date",
    "mother_name",
    "marital_status",
    "education",
    "occupation",
    "disability",
)
SENSITIVE = {"mother_name", "disability", "birth_date", "birth_place"}
FAMILY_LABELS = labels("kk", "desil_national", "desil_province", "desil_regency", "welfare_date", "address")
HOUSING_LABELS = labels(
    "tenure",
    "floor_area_m2",
    "floor",
    "wall",
    "roof",
    "drinking_water",
    "sanitation",
    "electricity",
    "cooking_fuel",
    "owns_car",
    "motorcycles",
)


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def family_profile(*, actor: Actor, family: Family, today: date | None = None) -> FamilyProfile:
    """Everything the family page shows, each value with the file and row it came from."""
    today = today or date.today()
    sensitive = has_permission(actor, Permission.VIEW_SENSITIVE)
    memberships = list(
        Membership.objects.filter(family=family).select_related("person").order_by("-active", "position", "pk")
    )
    household: Household | None = family.household
    record_ids: set[int] = set(family.lineage.values())
    for m in memberships:
        record_ids.update(m.person.lineage.values())
    if household is not None:
        record_ids.update(household.lineage.values())
    records = {
        r.pk: Provenance(r.batch.source.name, r.batch.file_name, r.row_number, r.batch_id, r.batch.created_at)
        for r in SourceRecord.objects.filter(pk__in=record_ids)
        .select_related("batch__source")
        .only("pk", "row_number", "batch_id", "batch__file_name", "batch__created_at", "batch__source__name")
    }

    def values(obj: Any, labels: dict[str, Any], hide: set[str] = frozenset()) -> list[FieldValue]:  # type: ignore[assignment]
        out = []
        for name, label in labels.items():
            if name in hide:
                continue
            value = getattr(obj, name, None)
            if name == "nik":
                value = _shown_number(actor, obj.nik, obj.nik_raw)
            elif name == "kk":
                value = _shown_number(actor, obj.kk, obj.kk_raw)
            elif name == "address":
                value = str(obj.address) if obj.address else ""
            elif hasattr(obj, f"get_{name}_display"):
                value = getattr(obj, f"get_{name}_display")()
            out.append(FieldValue(name, label, value, records.get(obj.lineage.get(name))))
        return out

    members = []
    for m in memberships:
        p: Person = m.person
        members.append(
            MemberView(
                person_id=p.pk,
                nik=_shown_number(actor, p.nik, p.nik_raw),
                nik_valid=p.nik_valid,
                nik_problems=list(p.nik_problems),
                name=p.name,
                sex=p.get_sex_display() if p.sex else "",
                relationship=m.get_relationship_display() if m.relationship else "",
                birth_date=p.birth_date if sensitive else None,
                age=_age(p.birth_date, today),
                active=m.active,
                conflict=m.conflict,
                vital_status=p.get_vital_status_display(),
                fields=values(p, PERSON_LABELS, set() if sensitive else SENSITIVE),
            )
        )
    person_ids = [m.person_id for m in memberships]
    changes = Change.objects.filter(
        Q(entity="family", entity_id=family.pk)
        | Q(entity="person", entity_id__in=person_ids)
        | Q(entity="membership", entity_id__in=[m.pk for m in memberships])
        | Q(entity="household", entity_id=household.pk if household else -1)
    ).select_related("batch", "actor")[:200]
    history = [
        {
            "at": c.at,
            "entity": c.entity,
            "field": c.field,
            "old": c.old if c.field not in SENSITIVE or sensitive else "•••",
            "new": c.new if c.field not in SENSITIVE or sensitive else "•••",
            "by": c.actor.get_username() if c.actor else (c.batch.file_name if c.batch else ""),
        }
        for c in changes
    ]
    flags = [
        {"kind": f.get_kind_display(), "detail": f.detail, "at": f.created_at, "resolved": f.resolved_at is not None}
        for f in family.flags.all().order_by("-created_at")
    ]
    for exclusion in Exclusion.objects.filter(person_id__in=person_ids).select_related("person"):
        flags.append({"kind": f"{_('Pengecualian')}: {exclusion.get_kind_display()}",
                      "detail": {"nama": exclusion.person.name if exclusion.person else "", "sumber": exclusion.issuer},
                      "at": exclusion.created_at, "resolved": False})  # fmt: skip
    for m in memberships:
        flags.extend(
            {
                "kind": f.get_kind_display(),
                "detail": {"nama": m.person.name},
                "at": f.created_at,
                "resolved": f.resolved_at is not None,
            }
            for f in m.person.flags.filter(family=family)
        )
    from tepat.programs.selectors import family_benefit_timeline  # programs reads the registry: import late

    benefits = family_benefit_timeline(actor=actor, family=family)
    return FamilyProfile(
        benefits=benefits,
        family=family,
        kk=_shown_number(actor, family.kk, family.kk_raw),
        kk_problems=list(family.kk_problems),
        area_path=area_path(family.village),
        members=members,
        family_fields=values(family, FAMILY_LABELS),
        housing=values(household, HOUSING_LABELS) if household else [],
        history=history,
        flags=flags,
    )


# -- aggregates ---------------------------------------------------------------------------------------------------
@dataclass
class AreaCounts:
    area: Area
    families: int = 0
    persons: int = 0
    desil_families: list[int] = field(default_factory=lambda: [0] * 10)
    no_desil: int = 0
    flagged: int = 0  # families with a finding (flag, exclusion match, dead member)
    poor_served: int = 0  # desil 1–4 families reached by at least one program
    children: list[AreaCounts] = field(default_factory=list)

    @property
    def desil_1_4(self) -> int:
        return sum(self.desil_families[:POOR_DESIL])

    @property
    def poor_unserved(self) -> int:
        return self.desil_1_4 - self.poor_served

    @property
    def coverage_pct(self) -> float | None:
        return 100 * self.poor_served / self.desil_1_4 if self.desil_1_4 else None


def region_overview(*, actor: Actor) -> AreaCounts | None:
    """Families, persons and families by national desil for each district and village in the actor's area."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        return None
    root = Area.objects.filter(code=scope).first()
    if root is None:
        return None
    areas = {a.code: AreaCounts(a) for a in Area.objects.filter(within_q(scope)).filter(level__gte=root.level)}
    families = (
        Family.objects.filter(within_q(scope, field="village__code"), status=FamilyStatus.ACTIVE)
        .values("village_id", "desil_national")
        .annotate(n=Count("id"))
    )
    persons = (
        Membership.objects.filter(
            within_q(scope, field="family__village__code"), active=True, family__status=FamilyStatus.ACTIVE
        )
        .values("family__village_id")
        .annotate(n=Count("id"))
    )
    active = Family.objects.filter(within_q(scope, field="village__code"), status=FamilyStatus.ACTIVE)
    flagged = dict(active.filter(flagged_families_q()).values_list("village_id").annotate(n=Count("id")))
    served = dict(
        active.filter(served_families_q(), desil_national__lte=POOR_DESIL)
        .values_list("village_id")
        .annotate(n=Count("id"))
    )
    village_families: dict[str, list[tuple[int | None, int]]] = defaultdict(list)
    for row in families:
        village_families[row["village_id"]].append((row["desil_national"], row["n"]))
    village_persons = {row["family__village_id"]: row["n"] for row in persons}
    for code, counts in areas.items():
        if counts.area.level != Level.VILLAGE:
            continue
        for desil, n in village_families.get(code, []):
            for ancestor in set(ancestor_codes(code)) & areas.keys():
                target = areas[ancestor]
                target.families += n
                if desil and 1 <= desil <= 10:
                    target.desil_families[desil - 1] += n
                else:
                    target.no_desil += n
        for ancestor in set(ancestor_codes(code)) & areas.keys():
            areas[ancestor].persons += village_persons.get(code, 0)
            areas[ancestor].flagged += flagged.get(code, 0)
            areas[ancestor].poor_served += served.get(code, 0)
    for code, counts in sorted(areas.items()):
        parent = counts.area.parent_id
        if parent in areas and code != scope:
            areas[parent].children.append(counts)
    return areas[scope]
