"""Budget scenarios as the pages show them: the list of the actor's area, and a run's figures and families."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area
from tepat.areas.selectors import within_q
from tepat.targeting.models import Scenario
from tepat.targeting.selectors.families import FamilyLine, family_lines

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


def scenario_list(*, actor: Actor, archived: bool | None = False) -> QuerySet[Scenario]:
    """Scenarios made inside the actor's area (or made for exactly that area or a part of it): every figure of
    such a scenario is about families the actor may count. ``archived`` None for both current and archived."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        return Scenario.objects.none()
    scenarios = Scenario.objects.filter(within_q(scope, field="scope"))
    if archived is not None:
        scenarios = scenarios.filter(archived_at__isnull=not archived)
    return scenarios.select_related("program", "rule_a", "rule_b", "created_by")


def scenario_get(*, actor: Actor, pk: int) -> Scenario:
    return scenario_list(actor=actor, archived=None).get(pk=pk)


@dataclass
class ScenarioView:
    scenario: Scenario
    results: dict[str, Any]
    by_area: list[dict[str, Any]]
    columns: list[tuple[str, str]]  # key in by_area rows, heading
    list_a: list[FamilyLine]
    list_b: list[FamilyLine]
    assigned: list[tuple[FamilyLine, list[str]]]
    shown: int
    personal: bool


def scenario_view(*, actor: Actor, scenario: Scenario, shown: int = 50) -> ScenarioView:
    """The figures of a run, its villages with names, and the first families of each list (if the actor may)."""
    results = scenario.results or {}
    rows = results.get("by_area", [])
    names = dict(Area.objects.filter(code__in=[r["area"] for r in rows if r.get("area")]).values_list("code", "name"))
    by_area = [{**r, "label": names.get(r["area"], r["area"] or "—")} for r in rows]
    headings = {"families": _("Keluarga"), "covered_a": _("Tercakup aturan A"), "covered_b": _("Tercakup aturan B"),
                "both": _("Tercakup keduanya"), "any": _("Menerima program apa pun")}  # fmt: skip
    keys = [k for k in (rows[0] if rows else {}) if k != "area"]
    if not results.get("b"):
        keys = [k for k in keys if k not in ("covered_b", "both")]
    columns = [(k, str(headings.get(k, k))) for k in keys]
    personal = has_permission(actor, Permission.VIEW_PERSONS)
    list_a: list[FamilyLine] = []
    list_b: list[FamilyLine] = []
    assigned: list[tuple[FamilyLine, list[str]]] = []
    if personal:
        if results.get("a"):
            list_a = family_lines(actor=actor, family_ids=results["a"]["order"][:shown])
        if results.get("b"):
            list_b = family_lines(actor=actor, family_ids=results["b"]["order"][:shown])
        if results.get("assigned"):
            first = results["assigned"][:shown]
            lines = {line.pk: line for line in family_lines(actor=actor, family_ids=[pk for pk, _ in first])}
            assigned = [(lines[pk], codes) for pk, codes in first if pk in lines]
    return ScenarioView(scenario, results, by_area, columns, list_a, list_b, assigned, shown, personal)
