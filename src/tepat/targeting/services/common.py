"""What every writer of the targeting app shares: its error, JSON-safe values, and the personal-data export log."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from tepat.accounts.models import AuditAction, AuditEvent
from tepat.accounts.permissions import Permission, PermissionDenied, require, scope_code
from tepat.accounts.services import audit
from tepat.errors import UserError

if TYPE_CHECKING:
    from tepat.accounts.models import User


class TargetingError(UserError):
    def __init__(self, message: str, code: str = "targeting.invalid") -> None:
        super().__init__(message)
        self.code = code


def json_safe(value: Any) -> Any:
    """JSON-safe: NaN/inf become null (PostgreSQL's jsonb refuses them), numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def require_area(actor: User, area: str) -> None:
    """Writes about an area (a scenario's scope) only by someone whose own area contains it."""
    scope = scope_code(actor)
    if scope is None or not (area == scope or area.startswith(scope + ".")):
        raise PermissionDenied(Permission.EDIT_TARGETS)


def personal_export_logged(
    *,
    actor: User,
    target: Any = None,
    target_type: str = "",
    purpose: str,
    rows: int,
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> None:
    """Every export of personal data is logged with its purpose and size (UU 27/2022)."""
    require(actor, Permission.EXPORT_PERSONS)
    audit(
        actor,
        AuditAction.PERSONAL_EXPORT,
        target=target,
        target_type=target_type,
        purpose=purpose,
        detail={**(detail or {}), "rows": rows},
        request=request,
    )


def was_exported(target: Any) -> bool:
    """Whether families drawn from this rule or scenario ever left the application (an export's audit row)."""
    return AuditEvent.objects.filter(
        action=AuditAction.PERSONAL_EXPORT, target_type=target._meta.label_lower, target_id=str(target.pk)
    ).exists()
