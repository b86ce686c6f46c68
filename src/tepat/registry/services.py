"""Writes to the registry outside imports, and the personal-data access log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tepat.accounts.models import AuditAction
from tepat.accounts.services import audit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from tepat.accounts.models import User


def personal_data_viewed(
    *,
    actor: User | AnonymousUser,
    target: Any,
    purpose: str,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Log a view of personal data (UU 27/2022: every access to specific personal data is recorded)."""
    audit(actor, AuditAction.PERSONAL_VIEW, target=target, purpose=purpose, detail=detail, request=request)


def personal_data_searched(
    *, actor: User | AnonymousUser, query: dict[str, Any], results: int, request: HttpRequest | None = None
) -> None:
    audit(
        actor,
        AuditAction.PERSONAL_SEARCH,
        target_type="registry.family",
        detail={"query": query, "results": results},
        request=request,
    )
