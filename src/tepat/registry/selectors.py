"""Reads of the registry. Every function takes the acting user and returns only what role and area allow.

NIK and KK numbers leave this module already masked for users without VIEW_FULL_NIK, and sensitive fields
(mother's maiden name, disability, exact birth date) already removed for users without VIEW_SENSITIVE, so no
template or export can show them by mistake.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tepat.accounts.models import AuditAction, AuditEvent
from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area, Kind, Level, ancestor_codes
from tepat.areas.selectors import area_path, within_q
from tepat.engine.identity import mask_nik
from tepat.intake.models import ImportBatch
from tepat.programs.models import Benefit
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


T = TypeVar("T")


# -- lists -------------------------------------------------------------------------------------------------------
POOR_DESIL = 4  # desil 1–4: the PKH line (Kepmensos 79/HUK/2025), the dashboard's "poor families"


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


# -- figures per village, kept under a stamp of the data ------------------------------------------------------------
DESIL_SLOTS = 11  # [0] no (or no valid) national desil, [1]–[10] desil 1–10


@dataclass(frozen=True)
class VillageFigures:
    """Active families of one village by national desil slot (see DESIL_SLOTS), and their active members.

    ``flagged``: families with a finding (`flagged_families_q`); ``served``: families any of whose active members
    is in the benefit ledger (`served_families_q`). Counted per desil slot so that the family list's filters (desil,
    flagged, unserved poor) have their counts here; flagged *and* unserved is `flagged_served_figures`.
    """

    families: tuple[int, ...]
    flagged: tuple[int, ...]
    served: tuple[int, ...]
    persons: int = 0

    @property
    def poor(self) -> int:
        return sum(self.families[1 : POOR_DESIL + 1])

    @property
    def poor_served(self) -> int:
        return sum(self.served[1 : POOR_DESIL + 1])


def data_stamp() -> tuple[Any, ...]:
    """Changes whenever anything the village figures count may have changed; one query over indexed maxima.

    New rows raise an id (families, persons, memberships, flags, exclusions, ledger rows, changes); imports are
    committed or rolled back with a time; linkage merges and other edits write Change rows; findings are resolved
    and links made by services that write an audit row (import, registry change, field visit, proposal decision).
    """
    quote = connection.ops.quote_name

    def last(model: Any, column: str = "id", where: str = "") -> str:
        return f"(SELECT MAX({quote(column)}) FROM {quote(model._meta.db_table)}{where})"

    writes = [AuditAction.IMPORT_COMMIT, AuditAction.IMPORT_ROLLBACK, AuditAction.REGISTRY_CHANGE,
              AuditAction.FIELD_VISIT, AuditAction.PROPOSAL_DECIDE]  # fmt: skip
    parts = [
        last(ImportBatch),
        last(ImportBatch, "committed_at"),
        last(ImportBatch, "rolled_back_at"),
        *(last(model) for model in (Family, Person, Membership, Change, RegistryFlag, Exclusion, Benefit)),
        last(AuditEvent, where=f" WHERE {quote('action')} IN ({', '.join(['%s'] * len(writes))})"),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), [str(w) for w in writes])
        row = cursor.fetchone()
    return (connection.alias, *(str(v) for v in row))


NONE = (0,) * DESIL_SLOTS
_kept: dict[str, tuple[tuple[Any, ...], Any]] = {}
_kept_lock = threading.Lock()
_generation = 0


def _kept_count(name: str, count: Callable[[str], T]) -> T:
    return _kept_with_stamp(name, count)[1]


def _kept_with_stamp(name: str, count: Callable[[str], T]) -> tuple[str, T]:
    """``count(region)``, counted once per `data_stamp` and kept in the process.

    The first page after an import pays for a few GROUP BYs over the registry; every other dashboard, map or list
    page sums the villages it covers. The lock makes concurrent first requests wait for one count rather than each
    starting their own.
    """
    stamp = (settings.TEPAT_REGION, data_stamp())
    found = _kept.get(name)
    if found is None or found[0] != stamp:
        with _kept_lock:
            found = _kept.get(name)
            if found is None or found[0] != stamp:
                found = (stamp, count(settings.TEPAT_REGION))
                _kept[name] = found
    digest = hashlib.sha1(repr((stamp, _generation)).encode(), usedforsecurity=False).hexdigest()[:16]
    return digest, cast(T, found[1])


def village_figures() -> dict[str, VillageFigures]:
    """The figures of every village of the deployment region that has active families (no acting user: callers
    cut them to the actor's area before anything is shown)."""
    return _kept_count("villages", _count_villages)


def village_figures_stamped() -> tuple[str, dict[str, VillageFigures]]:
    """`village_figures` with a short digest of the data stamp they were counted at, for what is kept from them."""
    return _kept_with_stamp("villages", _count_villages)


def flagged_served_figures() -> dict[str, tuple[int, ...]]:
    """Families both flagged and served, per village and desil slot: only the family list filtered on flagged
    *and* unserved poor needs them, so they are counted when first asked for rather than after every import."""
    return _kept_count("flagged_served", _count_flagged_served)


def forget_figures() -> None:
    """Drop the kept figures (tests that write rows behind the services' back, e.g. by direct ORM updates)."""
    global _generation
    with _kept_lock:
        _kept.clear()
        _trees.clear()
        _generation += 1  # and what pages kept under the old stamps' digests is not found again


def _flagged_and_served(region: str) -> tuple[QuerySet[Family], QuerySet[Any], QuerySet[Any]]:
    """The region's active families, and the ids of flagged and of served families as subqueries (one set each,
    joined once: a semi-join, not EXISTS per family)."""
    active = Family.objects.filter(within_q(region, field="village__code"), status=FamilyStatus.ACTIVE)
    open_flags = RegistryFlag.objects.filter(resolved_at__isnull=True)
    members = Membership.objects.filter(active=True)
    # One pass over the memberships for every kind of flagged person, then the families with their own finding.
    flagged_persons = (
        open_flags.filter(person__isnull=False).values("person_id").order_by()
        .union(Exclusion.objects.filter(person__isnull=False).values("person_id").order_by(),
               Person.objects.filter(vital_status=VitalStatus.DECEASED).values("id").order_by())
    )  # fmt: skip
    flagged_ids = (
        members.filter(person_id__in=flagged_persons).values("family_id").order_by()
        .union(open_flags.filter(family__isnull=False).values("family_id").order_by())
    )  # fmt: skip
    served_ids = members.filter(person_id__in=Benefit.objects.filter(person__isnull=False).values("person_id"))
    return active, flagged_ids, served_ids.values("family_id")


def _by_slot(families: QuerySet[Family]) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * DESIL_SLOTS)
    for village, desil, n in families.values_list("village_id", "desil_national").annotate(n=Count("*")).order_by():
        counts[village][desil if desil is not None and 1 <= desil <= 10 else 0] += n
    return counts


def _count_flagged_served(region: str) -> dict[str, tuple[int, ...]]:
    active, flagged_ids, served_ids = _flagged_and_served(region)
    return {village: tuple(slots) for village, slots in _by_slot(active.filter(pk__in=flagged_ids).filter(
        pk__in=served_ids)).items()}  # fmt: skip


def _count_villages(region: str) -> dict[str, VillageFigures]:
    """Three GROUP BYs by (village, desil) over the region's active families (all, flagged, served) and one
    by village over their active members."""
    active, flagged_ids, served_ids = _flagged_and_served(region)
    families = _by_slot(active)
    flagged = _by_slot(active.filter(pk__in=flagged_ids))
    served = _by_slot(active.filter(pk__in=served_ids))
    persons = dict(
        Membership.objects.filter(
            within_q(region, field="family__village__code"), active=True, family__status=FamilyStatus.ACTIVE
        )
        .values_list("family__village_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    return {
        village: VillageFigures(
            families=tuple(slots),
            flagged=tuple(flagged.get(village, NONE)),
            served=tuple(served.get(village, NONE)),
            persons=persons.get(village, 0),
        )
        for village, slots in families.items()
    }


# -- the region dashboard ---------------------------------------------------------------------------------------------
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
    stamp: str = ""  # the data stamp the figures were counted at: pages keep what they render from them under it

    @property
    def desil_1_4(self) -> int:
        return sum(self.desil_families[:POOR_DESIL])

    @property
    def poor_unserved(self) -> int:
        return self.desil_1_4 - self.poor_served

    @property
    def coverage_pct(self) -> float | None:
        return 100 * self.poor_served / self.desil_1_4 if self.desil_1_4 else None

    def add(self, figures: VillageFigures) -> None:
        self.families += sum(figures.families)
        self.persons += figures.persons
        self.no_desil += figures.families[0]
        for d in range(1, DESIL_SLOTS):
            self.desil_families[d - 1] += figures.families[d]
        self.flagged += sum(figures.flagged)
        self.poor_served += figures.poor_served


_trees: OrderedDict[tuple[str, str], AreaCounts] = OrderedDict()
KEEP_TREES = 64


def region_overview(*, actor: Actor) -> AreaCounts | None:
    """Families, persons and families by national desil for each district and village in the actor's area.

    Sums of the kept `village_figures` over the areas inside the actor's scope (found through the parent links),
    kept per scope and data stamp: a dashboard costs the data stamp however large the registry is. The tree is
    shared between requests and must not be changed by its readers.
    """
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        return None
    stamp, figures = village_figures_stamped()
    key = (scope, stamp)
    with _kept_lock:
        tree = _trees.get(key)
        if tree is not None:
            _trees.move_to_end(key)
            return tree
    tree = _area_tree(scope, figures)
    if tree is None:
        return None
    tree.stamp = stamp
    with _kept_lock:
        _trees[key] = tree
        while len(_trees) > KEEP_TREES:
            _trees.popitem(last=False)
    return tree


def _area_tree(scope: str, figures: dict[str, VillageFigures]) -> AreaCounts | None:
    root = Area.objects.filter(code=scope).first()
    if root is None:
        return None
    areas = {root.code: AreaCounts(root)}
    level = [root.code]
    while level and root.level < Level.VILLAGE:
        found = list(Area.objects.filter(parent_id__in=level).order_by("code"))
        areas.update((a.code, AreaCounts(a)) for a in found)
        level = [a.code for a in found if a.level < Level.VILLAGE]
    for code, village in figures.items():
        for ancestor in ancestor_codes(code):
            if ancestor in areas:
                areas[ancestor].add(village)
    for code, counts in sorted(areas.items()):
        parent = counts.area.parent_id
        if parent in areas and code != scope:
            areas[parent].children.append(counts)
    return areas[scope]
