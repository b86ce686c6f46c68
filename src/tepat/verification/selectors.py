"""Reads of village proposals, scoped by the acting user's area and role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.selectors import within_q
from tepat.engine.identity import mask_nik
from tepat.verification.models import FieldVisit, Proposal, ProposalAction, ProposalStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User


def proposals_visible(user: User | AnonymousUser) -> QuerySet[Proposal]:
    """Proposals in the user's area; none for roles that may not see persons."""
    scope = scope_code(user)
    if scope is None or not has_permission(user, Permission.VIEW_PERSONS):
        return Proposal.objects.none()
    return Proposal.objects.filter(within_q(scope, field="village__code"))


@dataclass
class ProposalRow:
    proposal: Proposal
    nik: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.proposal, name)


def proposal_list(
    *, actor: User | AnonymousUser, status: str = "", action: str = "", village: str = ""
) -> tuple[QuerySet[Proposal], dict[str, int]]:
    """The filtered proposals (newest first) and the count per status within the other filters."""
    qs = proposals_visible(actor).select_related("village")
    if action in ProposalAction.values:
        qs = qs.filter(action=action)
    if village:
        qs = qs.filter(within_q(village, field="village__code"))
    counts = dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    if status in ProposalStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id"), counts


def proposal_rows(actor: User | AnonymousUser, proposals: list[Proposal]) -> list[ProposalRow]:
    """Rows for the screen and exports: the NIK masked for those who may not see it in full."""
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    return [ProposalRow(p, (p.nik or p.nik_raw) if full else mask_nik(p.nik or p.nik_raw)) for p in proposals]


@dataclass
class VisitRow:
    visit: FieldVisit
    recorded_by: str
    geotag: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.visit, name)


def family_visits(*, actor: User | AnonymousUser, family_id: int) -> list[VisitRow]:
    """The family's field visits, newest first, when the actor may see the family.

    Coordinates of the house are as sensitive as its address: only roles seeing sensitive data get them.
    """
    from tepat.registry.models import Family

    if not Family.objects.visible_to(actor).filter(pk=family_id).exists():
        return []
    exact = has_permission(actor, Permission.VIEW_SENSITIVE)
    rows = []
    for v in (
        FieldVisit.objects.filter(family_id=family_id).select_related("recorded_by").order_by("-visited_on", "-id")
    ):
        geotag = ""
        if v.latitude is not None and v.longitude is not None:
            geotag = f"{v.latitude}, {v.longitude}" if exact else "✓"
        rows.append(VisitRow(v, v.recorded_by.get_username() if v.recorded_by else "", geotag))
    return rows
