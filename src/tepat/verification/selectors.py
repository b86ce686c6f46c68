"""Reads of village proposals, scoped by the acting user's area and role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, QuerySet

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.selectors import within_q
from tepat.engine.identity import mask_nik
from tepat.verification.models import Proposal, ProposalAction, ProposalStatus

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
