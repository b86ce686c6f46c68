"""Writes for accounts and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from tepat.accounts.models import AuditAction, AuditEvent, Organisation, Role, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest


def audit(
    actor: User | AnonymousUser | None,
    action: AuditAction,
    *,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Write one audit row. Services call this themselves, inside their own transaction."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    user = actor if actor is not None and actor.is_authenticated else None
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        purpose=purpose[:200],
        detail=detail or {},
        ip=ip,
    )


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: Role,
    area_code: str | None = None,
    organisation: Organisation | None = None,
    full_name: str = "",
) -> User:
    first, _, last = full_name.partition(" ")
    user = User(
        username=username, role=role, area_id=area_code, organisation=organisation, first_name=first, last_name=last
    )
    user.set_password(password)
    user.is_staff = role == Role.TKPK_ADMIN
    user.is_superuser = role == Role.TKPK_ADMIN
    user.save()
    audit(actor, AuditAction.USER_CREATE, target=user, detail={"role": role, "area": area_code})
    return user
