"""Per-village figures kept under a stamp of the data, and the region dashboard summed from them."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet

from tepat.accounts.models import AuditAction, AuditEvent
from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area, Level, ancestor_codes
from tepat.areas.selectors import within_q
from tepat.intake.models import ImportBatch
from tepat.programs.models import Benefit
from tepat.registry.models import (
    Change,
    Exclusion,
    Family,
    FamilyStatus,
    Membership,
    Person,
    RegistryFlag,
    VitalStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


T = TypeVar("T")
POOR_DESIL = 4  # desil 1–4: the PKH line (Kepmensos 79/HUK/2025), the dashboard's "poor families"


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
