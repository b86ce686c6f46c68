"""Named families as the targeting pages list them (masked by role), and the family table as a file."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv
from django.db.models import OuterRef, Subquery

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.engine.identity import mask_nik
from tepat.registry.models import Family, Membership, Relationship
from tepat.targeting.cache import cached_family_table

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


def initials(name: str) -> str:
    """ "Ahmad Fauzi" → "A. F.": enough to confirm a family in the field, not to look a person up."""
    return " ".join(f"{part[0]}." for part in name.split() if part[:1].isalpha()).upper()


@dataclass
class FamilyLine:
    pk: int
    kk: str
    head: str
    head_nik: str
    village: str
    village_code: str
    desil: int | None
    members: int | None = None


def family_lines(*, actor: Actor, family_ids: Sequence[int]) -> list[FamilyLine]:
    """The families of ``family_ids`` the actor may see, in the order given, masked as the role requires."""
    if not has_permission(actor, Permission.VIEW_PERSONS):
        return []
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    head = Membership.objects.filter(family=OuterRef("pk"), relationship=Relationship.HEAD, active=True).order_by(
        "position"
    )
    found: dict[int, FamilyLine] = {}
    wanted = [int(i) for i in family_ids]
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        families = (
            Family.objects.visible_to(actor)
            .filter(pk__in=chunk)
            .select_related("village")
            .annotate(
                head_name=Subquery(head.values("person__name")[:1]),
                head_nik=Subquery(head.values("person__nik")[:1]),
                head_nik_raw=Subquery(head.values("person__nik_raw")[:1]),
            )
        )
        for f in families:
            number = f.kk or f.kk_raw or ""
            nik = f.head_nik or f.head_nik_raw or ""
            found[f.pk] = FamilyLine(
                pk=f.pk,
                kk=(number if full else mask_nik(number)) if number else "",
                head=(f.head_name or "") if full else initials(f.head_name or ""),
                head_nik=(nik if full else mask_nik(nik)) if nik else "",
                village=f.village.label,
                village_code=f.village_id,
                desil=f.desil_national,
            )
    return [found[i] for i in wanted if i in found]


def family_by_kk(*, actor: Actor, kk: str) -> Family | None:
    digits = "".join(ch for ch in kk if ch.isdigit())
    if not digits:
        return None
    return Family.objects.visible_to(actor).filter(kk=digits).first()


def family_table_csv(*, actor: Actor, on: date | None = None) -> tuple[bytes, int]:
    """The family table of the actor's area as CSV: one row per family, ``household_id`` = Tepat's family number,
    no names or NIK/KK (pseudonymous), for scoring with a PMT outside the web application."""
    if not has_permission(actor, Permission.VIEW_PERSONS):
        return b"", 0
    scope = scope_code(actor)
    if scope is None:
        return b"", 0
    data = cached_family_table(scope, on=on)
    table = data.table.drop_columns(["family_id"])
    columns = {"household_id": pa.array(data.ids)} | {
        name: table.column(name).cast(table.column(name).type.value_type)
        if pa.types.is_dictionary(table.column(name).type)
        else table.column(name)
        for name in table.column_names
    }
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out)
    return out.getvalue(), len(data)
