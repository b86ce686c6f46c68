"""Area- and role-scoped querysets: the first step of every registry selector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.selectors import within_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User


class FamilyQuerySet(models.QuerySet[Any]):
    def visible_to(
        self, user: User | AnonymousUser, *, permission: Permission = Permission.VIEW_PERSONS
    ) -> FamilyQuerySet:
        scope = scope_code(user)
        if scope is None or not has_permission(user, permission):
            return self.none()
        return self.filter(within_q(scope, field="village__code"))


class PersonQuerySet(models.QuerySet[Any]):
    def visible_to(
        self, user: User | AnonymousUser, *, permission: Permission = Permission.VIEW_PERSONS
    ) -> PersonQuerySet:
        """Persons listed in a family inside the user's area (any membership, so conflicting listings count)."""
        scope = scope_code(user)
        if scope is None or not has_permission(user, permission):
            return self.none()
        return self.filter(within_q(scope, field="memberships__family__village__code")).distinct()
