from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from tepat.accounts.permissions import Permission, has_permission
from tepat.areas.models import Area
from tepat.programs.access import can_view_evaluation


def deployment(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    region = Area.objects.filter(code=settings.TEPAT_REGION).only("code", "name").first()
    return {
        "TEPAT_REGION": settings.TEPAT_REGION,
        "deployment_region": region,
        "nav": {
            "persons": user is not None and has_permission(user, Permission.VIEW_PERSONS),
            "audit": user is not None and has_permission(user, Permission.VIEW_AUDIT),
            "imports": user is not None and has_permission(user, Permission.IMPORT_DATA),
            "evaluation": user is not None and can_view_evaluation(user),
        },
    }
