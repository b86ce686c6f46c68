"""Reads of import batches, scoped: TKPK staff and auditors see all batches; others see their own organisation's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from tepat.accounts.models import Role
from tepat.accounts.permissions import Permission, has_permission
from tepat.intake.models import ImportBatch, RowIssue, Severity

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User


def batch_list(*, actor: User | AnonymousUser) -> QuerySet[ImportBatch]:
    if not (has_permission(actor, Permission.IMPORT_DATA) or has_permission(actor, Permission.VIEW_AUDIT)):
        return ImportBatch.objects.none()
    batches = ImportBatch.objects.select_related("source", "created_by")
    role: str = getattr(actor, "role", "")
    if role in {Role.TKPK_ADMIN, Role.TKPK_ANALYST, Role.AUDITOR}:
        return batches
    mine = Q(created_by=actor)
    organisation = getattr(actor, "organisation_id", None)
    if organisation:
        mine |= Q(created_by__organisation_id=organisation)
    return batches.filter(mine)


def batch_issues(*, actor: User | AnonymousUser, batch: ImportBatch, severity: str = "") -> QuerySet[RowIssue]:
    if not batch_list(actor=actor).filter(pk=batch.pk).exists():
        return RowIssue.objects.none()
    issues = RowIssue.objects.filter(batch=batch)
    if severity in (Severity.ERROR, Severity.WARNING):
        issues = issues.filter(severity=severity)
    return issues.order_by("row_number", "id")
