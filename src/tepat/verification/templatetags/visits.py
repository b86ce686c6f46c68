"""The field-visit card of the family page, rendered from the family page template without its view knowing."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from tepat.accounts.permissions import Permission, has_permission
from tepat.verification.models import VisitOutcome, VisitPurpose
from tepat.verification.selectors import family_visits

register = template.Library()


@register.inclusion_tag("verification/_family_visits.html", takes_context=True)
def visits_card(context: dict[str, Any], family: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "family": family,
        "visits": family_visits(actor=user, family_id=family.pk),
        "can_record": has_permission(user, Permission.RECORD_VISITS),
        "purposes": VisitPurpose.choices,
        "outcomes": VisitOutcome.choices,
        "today": timezone.localdate().isoformat(),
        "csrf_token": context.get("csrf_token"),
    }
