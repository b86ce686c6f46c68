"""Logins and logouts are audited like everything else."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from tepat.accounts.models import AuditAction
from tepat.accounts.services import audit


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit(user, AuditAction.LOGIN, target=user, request=request)


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit(user, AuditAction.LOGOUT, target=user, request=request)


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    audit(
        None, AuditAction.LOGIN_FAILED, detail={"username": str(credentials.get("username", ""))[:150]}, request=request
    )
