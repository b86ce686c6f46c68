"""What each role may do, and where. One table, read by services (writes) and selectors (reads)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tepat.accounts.models import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User


class Permission(StrEnum):
    VIEW_AGGREGATES = "view_aggregates"  # counts by area, no persons
    VIEW_PERSONS = "view_persons"  # by-name lists and family pages
    VIEW_FULL_NIK = "view_full_nik"  # unmasked NIK and KK numbers
    VIEW_SENSITIVE = "view_sensitive"  # mother's maiden name, disability, exact birth date
    EXPORT_PERSONS = "export_persons"
    IMPORT_DATA = "import_data"
    EDIT_REGISTRY = "edit_registry"
    EDIT_TARGETS = "edit_targets"  # RPJMD targets: a planning decision, not an operator's list
    RECORD_VISITS = "record_visits"  # field visits to a family (what an officer saw at the house)
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


_ALL = frozenset(Permission)
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.TKPK_ADMIN: _ALL,
    Role.TKPK_ANALYST: _ALL - {Permission.MANAGE_USERS, Permission.VIEW_AUDIT},
    Role.AGENCY_OPERATOR: frozenset(
        {
            Permission.VIEW_AGGREGATES,
            Permission.VIEW_PERSONS,
            Permission.VIEW_FULL_NIK,
            Permission.IMPORT_DATA,
            Permission.EXPORT_PERSONS,
        }
    ),
    Role.VILLAGE_OPERATOR: frozenset(
        {
            Permission.VIEW_AGGREGATES,
            Permission.VIEW_PERSONS,
            Permission.VIEW_FULL_NIK,
            Permission.VIEW_SENSITIVE,
            Permission.IMPORT_DATA,
            Permission.RECORD_VISITS,
        }
    ),
    Role.ENUMERATOR: frozenset(
        {
            Permission.VIEW_AGGREGATES,
            Permission.VIEW_PERSONS,
            Permission.VIEW_FULL_NIK,
            Permission.VIEW_SENSITIVE,
            Permission.RECORD_VISITS,
        }
    ),
    # Partners (companies, NGOs) see pseudonymised records: masked NIK/KK, no sensitive fields (DOMAIN: personal data).
    Role.PARTNER: frozenset({Permission.VIEW_AGGREGATES, Permission.VIEW_PERSONS}),
    Role.AUDITOR: frozenset({Permission.VIEW_AGGREGATES, Permission.VIEW_PERSONS, Permission.VIEW_AUDIT}),
}


class PermissionDenied(Exception):
    """Raised by services when the actor may not do what it asked; views turn it into 403 (or 404 for reads)."""

    def __init__(self, permission: Permission) -> None:
        super().__init__(str(_("Anda tidak berwenang untuk tindakan ini.")))
        self.permission = permission


def has_permission(user: User | AnonymousUser, permission: Permission) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def require(user: User | AnonymousUser, permission: Permission) -> None:
    if not has_permission(user, permission):
        raise PermissionDenied(permission)


def scope_code(user: User | AnonymousUser) -> str | None:
    """The area code a user may see inside; None means nothing at all.

    A user without an area works for the whole deployment region, never for the whole country.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    area_id: str | None = user.area_id
    if area_id:
        region = settings.TEPAT_REGION
        # An area outside the deployment region gives nothing rather than leaking a foreign region.
        if area_id == region or area_id.startswith(region + ".") or region.startswith(area_id + "."):
            return area_id if len(area_id) >= len(region) else region
        return None
    return str(settings.TEPAT_REGION)
