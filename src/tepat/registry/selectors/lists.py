"""Reads of the registry: the family lists, scoped to the actor, NIKs and KKs masked as the role requires."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area, Kind, Level
from tepat.areas.selectors import within_q
from tepat.engine.identity import mask_nik
from tepat.programs.models import Benefit
from tepat.registry.models import (
    Exclusion,
    Family,
    FamilyStatus,
    Membership,
    RegistryFlag,
    Relationship,
    VitalStatus,
)
from tepat.registry.selectors.figures import NONE, POOR_DESIL, flagged_served_figures, village_figures

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


def flagged_families_q() -> Q:
    """Families with an open data-quality finding, a member with an exclusion match, or a member recorded dead.

    Written as IN-subqueries (not joins): each subquery is one set, so a count over many families is one pass.
    `flagged_family_q` says the same family by family, for lists read a page at a time.
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


def flagged_family_q() -> Q:
    """`flagged_families_q` as EXISTS probes of the family's own rows: a list page ordered by village and id stops
    after its 50 families instead of first building the region's sets of flagged persons and families."""
    open_flags = RegistryFlag.objects.filter(resolved_at__isnull=True)
    member_flagged = (
        Q(Exists(open_flags.filter(person_id=OuterRef("person_id"))))
        | Q(Exists(Exclusion.objects.filter(person_id=OuterRef("person_id"))))
        | Q(person__vital_status=VitalStatus.DECEASED)
    )
    members = Membership.objects.filter(family_id=OuterRef("pk"), active=True)
    return Q(Exists(open_flags.filter(family_id=OuterRef("pk")))) | Q(Exists(members.filter(member_flagged)))


def served_family_q() -> Q:
    """`served_families_q` as an EXISTS probe of the family's own members (see `flagged_family_q`)."""
    reached = Benefit.objects.filter(person_id=OuterRef("person_id"))
    return Q(Exists(Membership.objects.filter(family_id=OuterRef("pk"), active=True).filter(Exists(reached))))


def _narrowed(families: QuerySet[Family], code: str) -> QuerySet[Family]:
    """Families within ``code``; below the region also as a list of area codes, which an index on the village
    answers in any collation (a LIKE prefix test on the code cannot use one outside the C collation)."""
    families = families.filter(within_q(code, field="village__code"))
    if len(code) > len(settings.TEPAT_REGION):
        families = families.filter(village_id__in=codes_within(code))
    return families


def area_choices(*, actor: Actor) -> list[tuple[str, str, bool]]:
    """The districts and villages of the actor's area for the family list's filter: (code, label, is a village).

    Labels as `Area.label` writes them, with each kind translated once rather than once per area.
    """
    scope = scope_code(actor)
    if scope is None:
        return []
    kinds = {value: str(label) for value, label in Kind.choices}
    rows = (
        Area.objects.filter(code__in=codes_within(scope), level__in=[Level.DISTRICT, Level.VILLAGE])
        .order_by("code")
        .values_list("code", "kind", "name", "level")
    )
    return [(code, f"{kinds.get(kind, kind)} {name}", level == Level.VILLAGE) for code, kind, name, level in rows]


def codes_within(code: str) -> list[str]:
    """``code`` and every area code below it, found through the parent links (indexed) level by level."""
    codes, level = [code], [code]
    while level and len(level[0]) < 13:
        level = list(Area.objects.filter(parent_id__in=level).values_list("code", flat=True))
        codes.extend(level)
    return codes


def family_list(
    *,
    actor: Actor,
    village: str = "",
    query: str = "",
    desil: int | None = None,
    flagged: bool = False,
    poor_unserved: bool = False,
) -> QuerySet[Family]:
    """Active families in the actor's area, ordered by village and id (`family_rows` adds head and members).

    ``flagged``: only families with a finding; ``poor_unserved``: desil 1–4 families nobody's ledger reaches.
    """
    families: QuerySet[Family] = Family.objects.visible_to(actor).filter(status=FamilyStatus.ACTIVE)
    scope = scope_code(actor) or ""
    if village or len(scope) > len(settings.TEPAT_REGION):
        families = _narrowed(families, village or scope)
    if desil is not None:
        families = families.filter(desil_national=desil)
    if flagged:
        families = families.filter(flagged_family_q())
    if poor_unserved:
        families = families.filter(desil_national__gte=1, desil_national__lte=POOR_DESIL).exclude(served_family_q())
    if query:
        text = query.strip()
        digits = text.replace(" ", "")
        # Semi-joins (IN) rather than joins + DISTINCT: no duplicate rows to remove, so no DISTINCT over whole rows.
        if digits.isdigit() and len(digits) == 16:
            listed = Membership.objects.filter(person__nik=digits).values("family_id").order_by()
            families = families.filter(pk__in=Family.objects.filter(kk=digits).values("pk").order_by().union(listed))
        else:
            families = families.filter(
                pk__in=Membership.objects.filter(person__name__icontains=text).values("family_id")
            )
    return families.select_related("village", "address").order_by("village_id", "pk")


def family_count(
    *,
    actor: Actor,
    village: str = "",
    query: str = "",
    desil: int | None = None,
    flagged: bool = False,
    poor_unserved: bool = False,
) -> int | None:
    """How many families `family_list` finds, from the village figures (no COUNT over the list); None for a text
    search, which only a COUNT can answer."""
    scope = scope_code(actor)
    if query.strip() or scope is None or not has_permission(actor, Permission.VIEW_PERSONS):
        return None if query.strip() else 0
    code = village or scope
    if not (code == scope or code.startswith(scope + ".") or scope.startswith(code + ".")):
        return 0  # a village outside the actor's area: the list is empty
    code = code if len(code) >= len(scope) else scope
    desils = [desil] if desil is not None else list(range(11))
    if poor_unserved:
        desils = [d for d in desils if 1 <= d <= POOR_DESIL]
    total = 0
    both = flagged_served_figures() if flagged and poor_unserved else {}
    for area, figures in village_figures().items():
        if not (area == code or area.startswith(code + ".")):
            continue
        for d in desils:
            if flagged and poor_unserved:
                total += figures.flagged[d] - both.get(area, NONE)[d]
            elif flagged:
                total += figures.flagged[d]
            elif poor_unserved:
                total += figures.families[d] - figures.served[d]
            else:
                total += figures.families[d]
    return total


class KnownCountPaginator(Paginator):
    """Django's paginator given the count (from `family_count`) instead of running a COUNT(*) of the list."""

    def __init__(self, object_list: QuerySet[Family], per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # Paginator.count is a cached_property: this is its cached value


def family_rows(*, actor: Actor, families: list[Family]) -> list[dict[str, Any]]:
    """The rows a family list shows, with the KK number masked as the actor's role requires.

    Head and member count come from one read of these families' memberships (a page's, not the list's).
    """
    heads: dict[int, str] = {}
    members: dict[int, int] = defaultdict(int)
    rows = (
        Membership.objects.filter(family_id__in=[f.pk for f in families])
        .order_by("family_id", "position", "pk")
        .values_list("family_id", "relationship", "active", "person__name")
    )
    for family_id, relationship, active, name in rows:
        members[family_id] += active
        if relationship == Relationship.HEAD and family_id not in heads:
            heads[family_id] = name
    return [
        {
            "pk": f.pk,
            "kk": _shown_number(actor, f.kk, f.kk_raw),
            "head_name": heads.get(f.pk, ""),
            "members": members[f.pk],
            "village": f.village.name,
            "address": str(f.address) if f.address else "",
            "desil": f.desil_national,
        }
        for f in families
    ]


def family_get(*, actor: Actor, pk: int) -> Family:
    """Raises Family.DoesNotExist both when it does not exist and when the actor may not see it."""
    return Family.objects.visible_to(actor).select_related("village__parent", "address", "household").get(pk=pk)
