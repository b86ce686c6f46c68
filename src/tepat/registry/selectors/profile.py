"""The family page: members, values with their sources, changes, benefits, scoped and masked for the actor."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tepat.accounts.permissions import Permission, has_permission
from tepat.areas.models import Area
from tepat.areas.selectors import area_path
from tepat.registry.labels import labels
from tepat.registry.models import (
    HOUSING_FIELDS,
    Change,
    Exclusion,
    Family,
    Household,
    Membership,
    Person,
    RegistryFlag,
    SourceRecord,
)
from tepat.registry.selectors.lists import _shown_number

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


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
HOUSING_LABELS = labels(*HOUSING_FIELDS)


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
            out.append(FieldValue(name, label, value, records.get(obj.source_record_id(name))))
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
    member_flags: dict[int, list[RegistryFlag]] = defaultdict(list)
    for f in RegistryFlag.objects.filter(family=family, person_id__in=person_ids).order_by("pk"):
        member_flags[f.person_id].append(f)  # type: ignore[index]
    for m in memberships:
        flags.extend(
            {
                "kind": f.get_kind_display(),
                "detail": {"nama": m.person.name},
                "at": f.created_at,
                "resolved": f.resolved_at is not None,
            }
            for f in member_flags.get(m.person_id, [])
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
