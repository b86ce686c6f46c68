"""What the targeting pages share: the signed-in user, the "no access" page, htmx detection."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

if TYPE_CHECKING:
    from tepat.accounts.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def actor(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast("User", request.user)


def no_access(request: HttpRequest) -> HttpResponse:
    return render(request, "web/no_access.html", status=403)


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))
